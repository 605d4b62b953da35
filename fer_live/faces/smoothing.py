"""Per-track temporal smoothing of probabilities and valence/arousal (exponential moving average)."""

from __future__ import annotations

import numpy as np


class Smoother:
    """EMA per face ID. `strength` in [0, 1): 0 returns raw values, 0.9 averages over ~10 frames.

    State of IDs that stop appearing is dropped by `retain`, so memory stays flat however many
    faces come and go.
    """

    def __init__(self, strength: float = 0.0):
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"smoothing strength must be within [0, 1), not {strength}")
        self.strength = strength
        self._state: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def smooth(self, face_id: int, probs: np.ndarray, va: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.strength == 0.0:
            return probs, va
        previous = self._state.get(face_id)
        if previous is not None:
            keep = self.strength
            probs = keep * previous[0] + (1 - keep) * probs
            va = keep * previous[1] + (1 - keep) * va
        self._state[face_id] = (probs, va)
        return probs, va

    def retain(self, face_ids: set[int]) -> None:
        for face_id in list(self._state):
            if face_id not in face_ids:
                del self._state[face_id]

    def reset(self) -> None:
        self._state.clear()
