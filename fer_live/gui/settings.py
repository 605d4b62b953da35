"""The window's settings and their persistence in QSettings (last used values come back next start)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings

from fer_live import options
from fer_live.gui.settings_location import APPLICATION, ORGANISATION
from fer_live.pipeline.frames import PipelineSettings

# What the settings dialog offers for the values the command line does not take.
TRAIL_SECONDS_RANGE = (0.5, 30.0)
TIMELINE_SECONDS_RANGE = (5.0, 300.0)
CALIBRATION_SECONDS_RANGE = (1.0, 30.0)


@dataclass(frozen=True)
class GuiSettings:
    device: str = options.DEFAULT_DEVICE
    detector_range: str = options.DEFAULT_DETECTOR
    min_confidence: float = options.DEFAULT_MIN_CONFIDENCE
    # Light smoothing by default: raw per-frame predictions flicker, which reads as noise on screen.
    smoothing: float = options.DEFAULT_GUI_SMOOTHING
    show_boxes: bool = True
    show_labels: bool = True
    show_va: bool = True
    # Face geometry (head pose, eyes, gaze, mouth): off by default, as it costs ~14 CPU-ms per face.
    geometry: bool = options.DEFAULT_GEOMETRY
    show_mesh: bool = True  # with geometry: draw the face mesh and head-pose axes
    pose_limit: float = options.DEFAULT_POSE_LIMIT  # grey out expressions beyond this |yaw| or |pitch|
    loop_video: bool = True
    trail_seconds: float = 3.0
    timeline_seconds: float = 20.0
    stream_lsl: bool = False  # Lab Streaming Layer output (gui/lsl.py)
    prior: str = options.DEFAULT_PRIOR  # expected-expression prior (fer_live.inference.operating_point)
    calibration_seconds: float = options.DEFAULT_CALIBRATION_SECONDS  # how long Calibrate collects

    def pipeline_settings(self) -> PipelineSettings:
        return PipelineSettings(
            detector_range=self.detector_range,
            min_confidence=self.min_confidence,
            smoothing=self.smoothing,
            device=self.device,
            threads=options.inference_threads(),
            geometry=self.geometry,
            pose_limit=self.pose_limit,
            prior=self.prior,
        )

    def with_overrides(self, **values) -> GuiSettings:
        """A copy with every non-None value of `values` replaced (e.g. command-line options)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def open_store(path: str | Path | None = None) -> QSettings:
    """The user's settings, or an INI file at `path` (tests and tools use one so they never touch the user's)."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def load(store: QSettings, say: Callable[[str], None] | None = None) -> GuiSettings:
    """Stored settings, each read like the command-line value it is (a hand-edited file may hold
    anything); a value that is not usable falls back to its default, and `say` gets one line
    naming every such value."""
    values, problems = {}, []
    for spec in fields(GuiSettings):
        raw = store.value(f"settings/{spec.name}")
        if raw is None:
            continue
        # QSettings reads an INI value with a comma in it (a decimal comma, say) as a list.
        text = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw)
        try:
            values[spec.name] = _READERS[spec.name](text)
        except argparse.ArgumentTypeError as exc:
            problems.append(f"{spec.name}: {exc}")
    if problems and say is not None:
        say(f"settings file {store.fileName()}: " + "; ".join(problems) + "; their defaults are used instead")
    return replace(GuiSettings(), **values)


def save(store: QSettings, settings: GuiSettings) -> None:
    for spec in fields(GuiSettings):
        store.setValue(f"settings/{spec.name}", getattr(settings, spec.name))
    store.sync()


def _choice(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(allowed)}, not {text!r}")
        return text

    return parse


def _boolean(text: str) -> bool:
    """QSettings writes booleans to an INI file as "true"/"false"."""
    if text.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"must be true or false, not {text!r}")
    return text.lower() == "true"


# Every setting's reader: the command line's number types and choices, so a stored value is
# refused where the same value given as an option would be.
_READERS: dict[str, Callable[[str], object]] = {
    "device": _choice(options.DEVICES),
    "detector_range": _choice(options.DETECTOR_RANGES),
    "min_confidence": options.bounded(0.0, 1.0),
    "smoothing": options.bounded(0.0, 1.0, high_open=True),
    "show_boxes": _boolean,
    "show_labels": _boolean,
    "show_va": _boolean,
    "geometry": _boolean,
    "show_mesh": _boolean,
    "pose_limit": options.bounded(0.0, 90.0),
    "loop_video": _boolean,
    "trail_seconds": options.bounded(*TRAIL_SECONDS_RANGE),
    "timeline_seconds": options.bounded(*TIMELINE_SECONDS_RANGE),
    "stream_lsl": _boolean,
    "prior": options.prior,
    "calibration_seconds": options.bounded(*CALIBRATION_SECONDS_RANGE),
}
