"""The window's settings and their persistence in QSettings (last used values come back next start)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings

from fer_live import options
from fer_live.gui.settings_location import APPLICATION, ORGANISATION
from fer_live.pipeline.frames import PipelineSettings


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


def load(store: QSettings) -> GuiSettings:
    """Stored settings; unknown or out-of-range values fall back to the defaults."""
    defaults = GuiSettings()
    values = {}
    for spec in fields(GuiSettings):
        default = getattr(defaults, spec.name)
        raw = store.value(f"settings/{spec.name}")
        if raw is None:
            continue
        try:
            values[spec.name] = _parse(raw, type(default))
        except ValueError:
            continue
    settings = replace(defaults, **values)
    return settings if _valid(settings) else defaults


def save(store: QSettings, settings: GuiSettings) -> None:
    for spec in fields(GuiSettings):
        store.setValue(f"settings/{spec.name}", getattr(settings, spec.name))
    store.sync()


def _parse(raw, kind: type):
    if kind is bool:
        # INI files give booleans back as the strings "true"/"false".
        text = str(raw).lower()
        if text not in ("true", "false"):
            raise ValueError(text)
        return text == "true"
    return kind(raw)


def _valid(settings: GuiSettings) -> bool:
    return (
        settings.device in options.DEVICES
        and settings.detector_range in options.DETECTOR_RANGES
        and 0.0 <= settings.min_confidence <= 1.0
        and 0.0 <= settings.smoothing < 1.0
        and 0.0 <= settings.pose_limit <= 90.0
        and settings.trail_seconds > 0
        and settings.timeline_seconds > 0
        and settings.calibration_seconds > 0
        and _valid_prior(settings.prior)
    )


def _valid_prior(text: str) -> bool:
    try:
        options.parse_prior(text)
    except ValueError:
        return False
    return True
