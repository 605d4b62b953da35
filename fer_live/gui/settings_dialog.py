"""The settings dialog: device, detector range and confidence, smoothing, face geometry, overlays, playback."""

from __future__ import annotations

import torch
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from fer_live.gui.settings import CALIBRATION_SECONDS_RANGE, TIMELINE_SECONDS_RANGE, TRAIL_SECONDS_RANGE, GuiSettings
from fer_live.options import DETECTOR_RANGES, DEVICES

# The expected-expression prior in a non-expert's words (fer_live.inference.operating_point).
PRIOR_LABELS = {
    "recommended": "Everyday video (recommended)",
    "natural": "Everyday video, strict (names rare expressions least often)",
    "balanced": "Posed / lab / demo (every expression equally likely)",
}
PRIOR_EXPLANATION = (
    "Everyday video: expressions as common as in daily life, mostly neutral and happy. "
    "Posed / lab / demo: people act out every expression, so fear, disgust and contempt are named more readily."
)
DETECTOR_LABELS = {
    "full": "full range (faces down to ~60 px, slower)",
    "short": "short range (faces near the camera, faster)",
}


class SettingsDialog(QDialog):
    def __init__(self, settings: GuiSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("fer_live settings")
        self._device = QComboBox()
        self._device.addItems([d for d in DEVICES if d != "cuda" or torch.cuda.is_available()])
        self._device.setCurrentText(settings.device)
        self._detector = QComboBox()
        for name in DETECTOR_RANGES:
            self._detector.addItem(DETECTOR_LABELS[name], name)
        self._detector.setCurrentIndex(DETECTOR_RANGES.index(settings.detector_range))
        self._confidence = _spin(0.05, 0.95, 0.05, settings.min_confidence)
        self._smoothing = _spin(0.0, 0.95, 0.05, settings.smoothing)
        self._smoothing.setToolTip("0 = raw per-frame predictions; 0.9 averages over about 10 frames")
        self._trail = _spin(*TRAIL_SECONDS_RANGE, 0.5, settings.trail_seconds, suffix=" s")
        self._timeline = _spin(*TIMELINE_SECONDS_RANGE, 5.0, settings.timeline_seconds, suffix=" s")
        self._boxes = _check("face boxes", settings.show_boxes)
        self._labels = _check("expression labels and IDs", settings.show_labels)
        self._va = _check("valence/arousal readout", settings.show_va)
        self._loop = _check("loop video files", settings.loop_video)
        self._geometry = _check("head pose, eyes, gaze, mouth (~14 CPU-ms per face)", settings.geometry)
        self._mesh = _check("face mesh and head-pose axes", settings.show_mesh)
        self._pose_limit = _spin(5.0, 90.0, 5.0, settings.pose_limit, suffix="°")
        self._pose_limit.setToolTip("expressions of faces turned further than this (|yaw| or |pitch|) are greyed out")
        self._lsl = _check("Stream to LSL", settings.stream_lsl)
        self._lsl.setToolTip("Send readings and markers as Lab Streaming Layer streams (e.g. for LabRecorder)")
        self._prior = QComboBox()
        for name, text in PRIOR_LABELS.items():
            self._prior.addItem(text, name)
        if settings.prior not in PRIOR_LABELS:  # a number given with --prior stays selectable
            self._prior.addItem(f"Custom (prior strength {settings.prior})", settings.prior)
        self._prior.setCurrentIndex(self._prior.findData(settings.prior))
        prior_help = QLabel(PRIOR_EXPLANATION)
        prior_help.setWordWrap(True)
        self._calibration = _spin(*CALIBRATION_SECONDS_RANGE, 0.5, settings.calibration_seconds, suffix=" s")
        self._calibration.setToolTip("How long a face holds still and neutral when you press Calibrate (K)")

        form = QFormLayout(self)
        form.addRow("Expected expressions", self._prior)
        form.addRow("", prior_help)
        form.addRow("Calibration time", self._calibration)
        form.addRow("Device", self._device)
        form.addRow("Face detector", self._detector)
        form.addRow("Minimum detection confidence", self._confidence)
        form.addRow("Smoothing strength", self._smoothing)
        form.addRow("Circumplex trail", self._trail)
        form.addRow("Timeline span", self._timeline)
        form.addRow("Face geometry", self._geometry)
        form.addRow("Grey out beyond", self._pose_limit)
        form.addRow("Overlays", self._boxes)
        form.addRow("", self._labels)
        form.addRow("", self._va)
        form.addRow("", self._mesh)
        form.addRow("Playback", self._loop)
        form.addRow("Lab Streaming Layer", self._lsl)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def settings(self) -> GuiSettings:
        return GuiSettings(
            device=self._device.currentText(),
            detector_range=self._detector.currentData(),
            min_confidence=round(self._confidence.value(), 2),
            smoothing=round(self._smoothing.value(), 2),
            show_boxes=self._boxes.isChecked(),
            show_labels=self._labels.isChecked(),
            show_va=self._va.isChecked(),
            geometry=self._geometry.isChecked(),
            show_mesh=self._mesh.isChecked(),
            pose_limit=self._pose_limit.value(),
            loop_video=self._loop.isChecked(),
            trail_seconds=self._trail.value(),
            timeline_seconds=self._timeline.value(),
            stream_lsl=self._lsl.isChecked(),
            prior=self._prior.currentData(),
            calibration_seconds=round(self._calibration.value(), 2),
        )


def _spin(low: float, high: float, step: float, value: float, suffix: str = "") -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(2)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin


def _check(text: str, checked: bool) -> QCheckBox:
    box = QCheckBox(text)
    box.setChecked(checked)
    return box
