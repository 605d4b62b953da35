"""The landmarks file of an annotated video (`<stem>.landmarks.npz`): each face's 468 mesh points.

A CSV row of 936 numbers per face is too wide to use, so the points go to a numpy archive with
three arrays, row for row: `frame` (int32), `face_id` (int32) and `landmarks` (N × 468 × 2
float32, frame pixels; MediaPipe's face-mesh point order). Faces without geometry have no row.

The rows are written as they come, each frame's flushed, to `<name>.partial` beside the file, so
memory does not grow with the video (an hour of two faces is ~800 MB of points) and a run killed
outright leaves every whole row readable (`read_landmarks` reads that file too). When the video
ends, also when it fails or is interrupted, the rows are copied a chunk at a time into the .npz,
which replaces any earlier one whole, and the partial file goes.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fer_live.errors import OutputError
from fer_live.results import FrameResult

MESH_POINTS = 468
# One row of the partial file, in the order of the .npz's arrays.
ROW = np.dtype([("frame", "<i4"), ("face_id", "<i4"), ("landmarks", "<f4", (MESH_POINTS, 2))])
PARTIAL_SUFFIX = ".partial"
# The partial file's first bytes; ROW records follow (a kill may cut the last one short).
PARTIAL_HEADER = b"fer_live.landmarks/1\n"
# Rows copied into the .npz at a time (~4 MB): the copy adds ~10 MB to the peak, whatever the
# length of the video (4,096 rows added 54 MB).
ROWS_PER_CHUNK = 1024


def landmarks_path(out_csv: Path) -> Path:
    return out_csv.with_suffix(".landmarks.npz")


def partial_landmarks_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


class LandmarksFile:
    def __init__(self, path: Path):
        self.path = path
        self.partial = partial_landmarks_path(path)
        self.rows = 0
        # Opened at the first row, so a run that measured no face leaves no partial file behind.
        self._handle = None

    def add(self, result: FrameResult) -> None:
        faces = [f for f in result.faces if f.geometry is not None and f.geometry.landmarks is not None]
        if not faces:
            return
        rows = np.empty(len(faces), ROW)
        rows["frame"] = result.frame
        rows["face_id"] = [face.face_id for face in faces]
        rows["landmarks"] = [face.geometry.landmarks for face in faces]
        try:
            if self._handle is None:
                self._handle = open(self.partial, "wb")  # noqa: SIM115 (open until save)
                self._handle.write(PARTIAL_HEADER)
            self._handle.write(rows.tobytes())
            self._handle.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {self.partial}: {exc.strerror or exc}") from None
        self.rows += len(rows)

    def save(self) -> None:
        """The rows written so far as the .npz; the partial file stays when that cannot be written."""
        if self._handle is not None:
            self._handle.close()
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        try:
            _write_npz(tmp, self.partial if self._handle is not None else None)
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            kept = f"; the points are kept in {self.partial}" if self._handle is not None else ""
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}{kept}") from None
        self.partial.unlink(missing_ok=True)  # also one that a run killed earlier left


def _write_npz(path: Path, partial: Path | None) -> None:
    """The .npz of a partial file's whole rows (None: of no rows), as np.savez_compressed writes it,
    each array copied a chunk at a time."""
    rows = _whole_rows(partial) if partial is not None else 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ROW.names:
            field = ROW.fields[name][0]
            header = {"descr": np.lib.format.dtype_to_descr(field.base), "fortran_order": False}
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, {**header, "shape": (rows, *field.shape)})
                if partial is not None:
                    for chunk in _chunks(partial, rows):
                        member.write(np.ascontiguousarray(chunk[name]))


def _whole_rows(partial: Path) -> int:
    return (partial.stat().st_size - len(PARTIAL_HEADER)) // ROW.itemsize


def _chunks(partial: Path, rows: int) -> Iterator[np.ndarray]:
    """The first `rows` rows of a partial file, ROWS_PER_CHUNK at a time."""
    with open(partial, "rb") as handle:
        handle.seek(len(PARTIAL_HEADER))
        while rows > 0:
            count = min(rows, ROWS_PER_CHUNK)
            yield np.frombuffer(handle.read(count * ROW.itemsize), ROW)
            rows -= count


def read_landmarks(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a landmarks file: the .npz, or the partial file that a run killed outright left
    (its whole rows)."""
    path = Path(path)
    with open(path, "rb") as handle:
        is_partial = handle.read(len(PARTIAL_HEADER)) == PARTIAL_HEADER
    if is_partial:
        rows = np.concatenate([np.zeros(0, ROW), *_chunks(path, _whole_rows(path))])
        return {name: np.ascontiguousarray(rows[name]) for name in ROW.names}
    with np.load(path) as data:
        return {name: data[name] for name in ROW.names}
