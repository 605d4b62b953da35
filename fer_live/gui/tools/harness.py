"""Shared by the benchmark and the screenshot tool: a real window on a source, driven for a while,
with settings kept in a temporary file (never the user's)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fer_live import options
from fer_live.errors import FerLiveError
from fer_live.inference.engine import Engine


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", help="fer_live model weights file (.pt; default: the bundled model)")
    weights.add_argument(
        "--random-weights",
        action="store_true",
        help="a randomly initialised model of the default size: timing and looks only, predictions are noise",
    )
    options.add_device(parser)


def load_engine(args: argparse.Namespace, scratch: Path) -> tuple[Engine, str]:
    """The engine and a description of its weights for reports."""
    if args.random_weights:
        import torch

        from fer_live.model import ModelConfig, SEResNet, save_weights

        torch.manual_seed(0)
        path = scratch / "random_default_size.pt"
        save_weights(path, SEResNet(ModelConfig()), {"random": True})
        return Engine(path, args.device), "random, default ModelConfig() (not trained)"
    engine = Engine(args.weights, args.device)
    return engine, str(engine.weights_path)


def ensure_platform() -> None:
    """Without a display, render offscreen (the window still paints, just not to a screen)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def open_window(engine: Engine, source: str, scratch: Path, size: tuple[int, int] = (1280, 800), settings=None):
    """A shown window of `size`, playing `source` (paced like a camera, looping)."""
    from fer_live.gui.settings import GuiSettings, open_store
    from fer_live.gui.window import MainWindow

    window = MainWindow(engine, settings or GuiSettings(loop_video=True), open_store(scratch / "gui.ini"))
    window.resize(*size)
    window.show()
    if not window.open_source_spec(source):
        window.close()
        raise FerLiveError(window.video_view.message)
    return window


def run_for(seconds: float) -> None:
    """Run the Qt event loop for `seconds`."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
