import sys

from fer_live.cli import main

sys.exit(main())
