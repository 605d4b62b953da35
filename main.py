"""Start fer_live: `python main.py` opens the live window (camera 0, or the bundled demo video
when no camera is available); `python main.py --source 0|PATH|demo` chooses the source."""

import sys

from fer_live.cli import main

if __name__ == "__main__":
    sys.exit(main(["gui", *sys.argv[1:]]))
