"""The landmarks file of an annotated video (`<stem>.landmarks.npz`): each face's 468 mesh points.

A CSV row of 936 numbers per face is too wide to use, so the points go to a numpy archive with
three arrays, row for row: `frame` (int32), `face_id` (int32) and `landmarks` (N × 468 × 2
float32, frame pixels; MediaPipe's face-mesh point order). Faces without geometry have no row.
The file is written when the video ends, also when it fails or is interrupted (what was measured
is kept), and replaced whole, so it is never half-written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fer_live.errors import OutputError
from fer_live.results import FrameResult


def landmarks_path(out_csv: Path) -> Path:
    return out_csv.with_suffix(".landmarks.npz")


class LandmarksFile:
    def __init__(self, path: Path):
        self.path = path
        self._frames: list[int] = []
        self._face_ids: list[int] = []
        self._points: list[np.ndarray] = []

    def add(self, result: FrameResult) -> None:
        for face in result.faces:
            if face.geometry is not None and face.geometry.landmarks is not None:
                self._frames.append(result.frame)
                self._face_ids.append(face.face_id)
                self._points.append(face.geometry.landmarks.astype(np.float32))

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        points = np.stack(self._points) if self._points else np.zeros((0, 468, 2), np.float32)
        try:
            np.savez_compressed(
                tmp,
                frame=np.asarray(self._frames, np.int32),
                face_id=np.asarray(self._face_ids, np.int32),
                landmarks=points,
            )
            os.replace(tmp, self.path)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None


def read_landmarks(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {name: data[name] for name in ("frame", "face_id", "landmarks")}
