"""Which face the side panels (bars, circumplex highlight, timeline) show, chosen once per frame.

Following "the largest face" frame by frame made the panels jump whenever two faces were about the
same size; a followed face is kept until it has been out of view for a while.
"""

from __future__ import annotations

from fer_live.results import FaceResult, FrameResult

# A followed face missing for longer than this (a detection gap, a head turned away) is let go.
LEAVE_AFTER_S = 1.0


class FaceFollower:
    """The clicked face, else the face already followed, else the largest one in view.

    A followed face (clicked or not) is kept until it has been out of view for `leave_after_s`;
    while it is briefly away the panels name it and show nothing, rather than another face.
    Qt-free, so the rule is tested without a window.
    """

    def __init__(self, leave_after_s: float = LEAVE_AFTER_S):
        self.leave_after_s = leave_after_s
        self.face_id: int | None = None  # the face the panels show
        self.clicked = False  # the user chose face_id (it is not dropped for a larger face)
        self._seen_at = 0.0

    def follow(self, result: FrameResult) -> FaceResult | None:
        """The followed face's result in `result` (None while it is out of view or no face is followed)."""
        if self.face_id is not None:
            face = result.face(self.face_id)
            if face is not None:
                self._seen_at = result.time_s
                return face
            if 0.0 <= result.time_s - self._seen_at <= self.leave_after_s:
                return None
        largest = result.largest_face()
        self.face_id = largest.face_id if largest is not None else None
        self.clicked = False
        self._seen_at = result.time_s
        return largest

    def select(self, face_id: int | None, result: FrameResult | None) -> FaceResult | None:
        """Follow `face_id` (a click; None: back to automatic) from `result` on."""
        self.face_id, self.clicked = face_id, face_id is not None
        if result is None:
            return None
        self._seen_at = result.time_s
        return self.follow(result)

    def reset(self) -> None:
        """A new source, loop or seek: time starts afresh and so does the choice."""
        self.face_id, self.clicked, self._seen_at = None, False, 0.0
