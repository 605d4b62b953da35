"""Screenshot of the real window playing a source, for the README.

    python -m fer_live.gui.tools.screenshot --out assets/screenshot.png --seconds 8

Without a display it re-runs itself under `xvfb-run` (a virtual X server, so the window is a real
X11 window); without xvfb-run it renders offscreen and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from fer_live.errors import FerLiveError
from fer_live.gui.tools import harness
from fer_live.gui.window import dispose
from fer_live.options import greater_than

# Set in the re-run under xvfb-run, so a failing X server cannot cause an endless re-exec.
UNDER_XVFB = "FER_LIVE_SCREENSHOT_UNDER_XVFB"


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, not {text!r}") from None
    return width, height


def relaunch_under_xvfb(argv: list[str]) -> None:
    """Replace this process with itself under xvfb-run when there is no display (and no Qt platform
    was chosen, e.g. QT_QPA_PLATFORM=offscreen); returns otherwise."""
    if any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", UNDER_XVFB)):
        return
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        print("fer-live: note: no display and no xvfb-run; rendering offscreen", file=sys.stderr)
        return
    os.environ[UNDER_XVFB] = "1"
    command = [xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "fer_live.gui.tools.screenshot"]
    os.execv(xvfb_run, command + argv)


def take(args: argparse.Namespace, scratch: Path) -> tuple[int, int, int]:
    from PySide6.QtGui import QGuiApplication

    from fer_live.gui.app import make_application

    app = make_application()
    engine, _ = harness.load_engine(args, scratch)
    window = harness.open_window(engine, args.source, scratch, args.size)
    try:
        harness.run_for(args.seconds)
        if window.last_displayed is None:
            raise FerLiveError(f"no frame was shown in {args.seconds} s: {window.video_view.message or 'no error'}")
        if app.platformName() == "xcb":
            # The pixels the X server shows: the real window, not a re-rendering of its widgets.
            pixmap = QGuiApplication.primaryScreen().grabWindow(window.winId())
        else:
            pixmap = window.grab()
    finally:
        dispose(window)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(args.out), "PNG", 0):  # 0: smallest file
        raise FerLiveError(f"cannot write {args.out}")
    return pixmap.width(), pixmap.height(), args.out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m fer_live.gui.tools.screenshot", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("assets/screenshot.png"))
    parser.add_argument("--seconds", type=greater_than(0), default=8.0, help="play this long before the shot")
    parser.add_argument("--source", default="demo")
    parser.add_argument("--size", type=parse_size, default=(1280, 800), help="window size, e.g. 1280x800")
    harness.add_model_arguments(parser)
    args = parser.parse_args(argv)
    relaunch_under_xvfb(argv)
    harness.ensure_platform()
    try:
        with tempfile.TemporaryDirectory(prefix="fer_live_shot_") as scratch:
            width, height, size = take(args, Path(scratch))
    except FerLiveError as exc:
        print(f"fer-live: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({width}×{height}, {size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
