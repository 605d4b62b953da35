"""`fer-live gui` (the default command): the live window on a camera, a video file or the demo.

Qt is imported inside run() only: the CLI imports this module to build its parser for every
command, and headless commands must not pay for (or depend on) Qt.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable

from fer_live import options
from fer_live.gui.settings_location import user_settings_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        help="camera index (0), video file, image folder, 'demo', or a recorded session's folder to review "
        "(default: camera 0, or the bundled demo video when no camera opens)",
    )
    options.add_weights(parser)
    options.add_device(parser, remembered=True)
    options.add_detector(parser, remembered=True)
    options.add_min_confidence(parser, remembered=True)
    options.add_smoothing(parser, remembered=True)
    options.add_lsl(parser, remembered=True)
    options.add_prior(parser, remembered=True)
    parser.add_argument(
        "--settings-file",
        metavar="INI",
        help=f"file to remember the settings in (default: the user's file, {user_settings_file()})",
    )


def check_display() -> None:
    """Qt aborts the whole process when it cannot reach a display; say so in one line instead."""
    from fer_live.errors import FerLiveError

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise FerLiveError(
            "no display to open the window on (DISPLAY is not set); for files without a display use `fer-live annotate`"
        )


def make_application():
    """The QApplication, with fer_live's names (used by QSettings) and a dark theme."""
    import pyqtgraph as pg
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from fer_live.gui.settings import APPLICATION, ORGANISATION

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#1e2026"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#16181d"),
        (QPalette.ColorRole.AlternateBase, "#23262d"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#2a2d35"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
        (QPalette.ColorRole.Highlight, "#3d7bd9"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, "#2a2d35"),
        (QPalette.ColorRole.ToolTipText, "#e6e6e6"),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    # Antialiasing stays off: it doubles the cost of repainting the plots at 30 fps.
    pg.setConfigOptions(background="#16181d", foreground="#cfcfcf", antialias=False)
    return app


def _warn(line: str) -> None:
    print(f"fer-live: warning: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    check_display()
    from PySide6.QtCore import QTimer

    from fer_live.errors import FerLiveError
    from fer_live.gui import settings as gui_settings
    from fer_live.gui.review import is_session_folder
    from fer_live.gui.window import MainWindow, dispose, source_display_name
    from fer_live.inference.engine import Engine
    from fer_live.pipeline.sources import open_source
    from fer_live.sessions.reader import Session

    app = make_application()
    store = gui_settings.open_store(args.settings_file)
    settings = gui_settings.load(store, say=_warn).with_overrides(
        device=args.device,
        detector_range=args.detector_range,
        min_confidence=args.min_confidence,
        smoothing=args.smooth,
        stream_lsl=args.lsl,
        prior=args.prior,
    )
    source = session = None
    try:
        # Weights and an explicit source are checked before any window: a missing or corrupt file
        # is the user's to fix, never replaced by a random model or a different source.
        engine = Engine(args.weights, settings.device, prior=settings.prior)
        if is_session_folder(args.source):
            session = Session.load(args.source)
        elif args.source is not None:
            source = open_source(args.source)
        window = MainWindow(engine, settings, store)
    except FerLiveError as exc:
        if source is not None:
            source.close()
        show_startup_error(app, str(exc))
        raise
    gui_settings.save(store, settings)
    window.show()
    if session is not None:
        window.play_session(session)
    elif source is not None:
        window.play_source(source, source_display_name(args.source), args.source)
    else:
        window.open_default_source()
    restore_signals = close_on_stop_signals(window)
    # Python runs signal handlers only between bytecodes; the timer gives it some while Qt waits.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        return app.exec()
    finally:
        wake.stop()
        restore_signals()
        dispose(window)


STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


def close_on_stop_signals(window) -> Callable[[], None]:
    """Ctrl+C in the terminal and SIGTERM (`kill`, a logout, a session manager) close `window` as its
    close button does, so a recording in progress is finished, not cut off. Returns a function
    that restores the previous handlers."""
    previous = {signum: signal.signal(signum, lambda *_: window.close()) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def show_startup_error(app, message: str) -> None:
    """A dialog for people who started the app from a desktop; the CLI also prints the line."""
    from PySide6.QtWidgets import QMessageBox

    if app.platformName() not in ("offscreen", "minimal"):
        QMessageBox.critical(None, "fer_live", f"fer_live cannot start:\n\n{message}")
