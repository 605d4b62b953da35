"""Colours that are not expression colours: one per face in view, and the timeline's two lines.

Face colours are bright, saturated tones so they stand apart from the muted expression colours
of labels.COLOURS that they are drawn next to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from PySide6.QtGui import QColor

from fer_live.labels import COLOURS

# Twelve light colours at least 35 CIELAB ΔE apart (the closest pair: the two oranges), all light
# enough for black text on the video's ID chips and to show on the plots' dark background.
FACE_COLOURS = (
    "#00e5ff", "#ff4081", "#c6ff00", "#ffab40", "#b388ff", "#1de9b6",
    "#ffffff", "#ff6e40", "#ffff8d", "#ef9a9a", "#82b1ff", "#00c853",
)  # fmt: skip
VALENCE_COLOUR = "#4fc3f7"
AROUSAL_COLOUR = "#f06292"
# A face unseen this long gives its colour back (longer than the circumplex's trails last).
COLOUR_HOLD_S = 5.0


class FaceColours:
    """A colour per face ID that no other face in view has, while the palette lasts; among those,
    one that no face seen in the last `hold_s` seconds has (with more faces in view than colours,
    the least used colour is shared).

    Colouring by `ID mod palette size` gave faces in view the same colour, as IDs only grow. Faces
    in view come first, before faces seen lately: a face the tracker lost and numbered anew (it
    moved further than a track follows between two processed frames) makes a 13th ID among 12
    faces, and it takes the colour of the ID it replaced rather than that of a face beside it.
    The video's ID chips and the circumplex's points take their colours from the same instance.
    """

    def __init__(self, hold_s: float = COLOUR_HOLD_S):
        self.hold_s = hold_s
        self._index: dict[int, int] = {}
        self._seen_at: dict[int, float] = {}

    def update(self, face_ids: Iterable[int], time_s: float) -> None:
        """Faces in view at `time_s`: new ones get a free colour, long-gone ones free theirs."""
        face_ids = sorted(face_ids)
        for face_id in face_ids:
            self._seen_at[face_id] = time_s
        for face_id, seen_at in list(self._seen_at.items()):
            if time_s - seen_at > self.hold_s:
                del self._seen_at[face_id]
                self._index.pop(face_id, None)
        for face_id in face_ids:
            if face_id not in self._index:
                in_view = Counter(self._index[other] for other in face_ids if other in self._index)
                held = Counter(self._index.values())
                self._index[face_id] = min(
                    range(len(FACE_COLOURS)), key=lambda index: (in_view[index], held[index], index)
                )

    def colour(self, face_id: int) -> QColor:
        index = self._index.get(face_id)
        return QColor(FACE_COLOURS[(face_id - 1) % len(FACE_COLOURS) if index is None else index])

    def reset(self) -> None:
        """A new source, loop or seek: the clock starts again."""
        self._index.clear()
        self._seen_at.clear()


def expression_colour(name: str) -> QColor:
    return QColor(COLOURS[name])
