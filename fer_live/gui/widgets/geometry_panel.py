"""The followed face's head pose, eyes, gaze and mouth, as text under the expression bars."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel

from fer_live.results import FaceResult

OFF = "Face geometry is off (Settings → Face geometry)."


class GeometryPanel(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.enabled = False  # whether the pipeline measures geometry
        self.set_face(None)

    def set_face(self, face: FaceResult | None) -> None:
        text = self.describe(face)
        if text != self.text():  # a label relayouts when set
            self.setText(text)

    def describe(self, face: FaceResult | None) -> str:
        """Geometry wherever a face carries it (a reviewed session may, whatever the setting)."""
        geometry = face.geometry if face is not None else None
        if geometry is None:
            if not self.enabled:
                return OFF
            return "no face" if face is None else f"face #{face.face_id}: too small or unclear for the face mesh"
        pose = f"head yaw {_deg(geometry.yaw)}  pitch {_deg(geometry.pitch)}  roll {_deg(geometry.roll)}"
        if not geometry.pose_ok:
            pose += "  (turned beyond the limit: expression greyed out)"
        eyes = f"eyes open L {geometry.eye_open_l:.2f}  R {geometry.eye_open_r:.2f}" + (
            "  · blink" if geometry.blink else ""
        )
        gaze = f"gaze yaw {_deg(geometry.gaze_yaw)}  pitch {_deg(geometry.gaze_pitch)}"
        return f"face #{face.face_id}: {pose}\n{eyes}\n{gaze}  · mouth open {geometry.mouth_open:.2f}"


def _deg(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:+.0f}°"
