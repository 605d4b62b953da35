"""The window's settings and their persistence in QSettings (last used values come back next start)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings

from fer_live.pipeline import PipelineSettings

ORGANISATION = "fer_live"
APPLICATION = "fer_live"
DEVICES = ("auto", "cpu", "cuda")
DETECTOR_RANGES = ("full", "short")


@dataclass(frozen=True)
class GuiSettings:
    device: str = "auto"
    detector_range: str = "full"
    min_confidence: float = 0.5
    # Light smoothing by default: raw per-frame predictions flicker, which reads as noise on screen.
    smoothing: float = 0.5
    show_boxes: bool = True
    show_labels: bool = True
    show_va: bool = True
    loop_video: bool = True
    trail_seconds: float = 3.0
    timeline_seconds: float = 20.0

    def pipeline_settings(self) -> PipelineSettings:
        return PipelineSettings(
            detector_range=self.detector_range,
            min_confidence=self.min_confidence,
            smoothing=self.smoothing,
            device=self.device,
            threads=inference_threads(),
        )

    def with_overrides(self, **values) -> GuiSettings:
        """A copy with every non-None value of `values` replaced (e.g. command-line options)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def inference_threads() -> int:
    """Torch threads for inference: half the cores, so capture, detection and drawing keep the rest.
    On 2 cores one thread is also faster outright: two contend with everything else for both cores."""
    return max(1, (os.cpu_count() or 2) // 2)


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
        settings.device in DEVICES
        and settings.detector_range in DETECTOR_RANGES
        and 0.0 <= settings.min_confidence <= 1.0
        and 0.0 <= settings.smoothing < 1.0
        and settings.trail_seconds > 0
        and settings.timeline_seconds > 0
    )
