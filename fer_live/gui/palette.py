"""Colours that are not expression colours: one per tracked face ID, and the timeline's two lines.

Face colours are bright, saturated tones so they stand apart from the muted expression colours
of labels.COLOURS that they are drawn next to.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from fer_live.labels import COLOURS

FACE_COLOURS = ("#00e5ff", "#ff4081", "#c6ff00", "#ffab40", "#b388ff", "#1de9b6", "#ffffff", "#ff6e40")
VALENCE_COLOUR = "#4fc3f7"
AROUSAL_COLOUR = "#f06292"


def face_colour(face_id: int) -> QColor:
    return QColor(FACE_COLOURS[(face_id - 1) % len(FACE_COLOURS)])


def expression_colour(name: str) -> QColor:
    return QColor(COLOURS[name])
