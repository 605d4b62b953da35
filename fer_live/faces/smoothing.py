"""Per-track temporal smoothing of probabilities, valence/arousal and action units (exponential moving average)."""

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
        self._state: dict[int, tuple[np.ndarray, ...]] = {}

    def smooth(self, face_id: int, *readings: np.ndarray) -> tuple[np.ndarray, ...]:
        """The face's readings (e.g. probabilities, V/A, AUs), each averaged with its own past."""
        if self.strength == 0.0:
            return readings
        previous = self._state.get(face_id)
        if previous is not None and len(previous) == len(readings):
            keep = self.strength
            readings = tuple(keep * old + (1 - keep) * new for old, new in zip(previous, readings, strict=True))
        self._state[face_id] = readings
        return readings

    def retain(self, face_ids: set[int]) -> None:
        for face_id in list(self._state):
            if face_id not in face_ids:
                del self._state[face_id]

    def reset(self) -> None:
        self._state.clear()
