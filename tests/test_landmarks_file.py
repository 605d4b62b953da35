"""The landmarks file (`--landmarks`): rows go to disk as they come (memory does not grow with the
video, a kill leaves them readable), and the .npz made of them at the end holds the same rows."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from fer_live.errors import OutputError
from fer_live.landmarks_file import LandmarksFile, partial_landmarks_path, read_landmarks
from fer_live.results import FaceGeometry, FaceResult, FrameResult


def points(frame: int, face_id: int) -> np.ndarray:
    """A face's 468 points, each (frame, face ID + its index / 1000): every row is told apart."""
    return np.stack([np.full(468, float(frame)), face_id + np.arange(468) / 1000], axis=1)


def faces_at(frame: int, face_ids: tuple[int, ...]) -> FrameResult:
    def face(face_id: int) -> FaceResult:
        geometry = FaceGeometry(0.0, 0.0, 0.0, 1.0, 1.0, False, 0.0, 0.0, 0.1, True, points(frame, face_id))
        return FaceResult(face_id, (0.0, 0.0, 10.0, 10.0), 0.9, np.full(8, 0.125, np.float32), 0.0, 0.0, geometry)

    return FrameResult(frame, frame / 30, tuple(face(face_id) for face_id in face_ids))


def test_rows_are_on_disk_as_they_come_and_memory_does_not_grow_with_them(tmp_path):
    path = tmp_path / "video.landmarks.npz"
    landmarks = LandmarksFile(path)
    landmarks.add(faces_at(0, (1, 2)))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for frame in range(1, 1001):  # 2,000 faces: 7.5 MB of points
            landmarks.add(faces_at(frame, (1, 2)))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000  # kept all in memory until the end, they were 7.5 MB (881 MB for 10 min of 2 faces)

    # What a kill leaves: the partial file, every row flushed, a row cut short by the kill left out.
    partial = partial_landmarks_path(path)
    assert not path.exists() and partial.is_file()
    killed = tmp_path / "killed.landmarks.npz.partial"
    killed.write_bytes(partial.read_bytes()[:-100])
    read = read_landmarks(killed)
    assert list(read["frame"]) == [f for f in range(1001) for _ in (1, 2)][:-1]
    assert list(read["face_id"][:4]) == [1, 2, 1, 2] and read["landmarks"].shape == (2001, 468, 2)
    np.testing.assert_array_equal(read["landmarks"][2000], points(1000, 1).astype(np.float32))

    landmarks.save()
    saved = read_landmarks(path)
    assert not partial.exists()
    assert {name: (a.dtype, a.shape) for name, a in saved.items()} == {
        "frame": (np.int32, (2002,)),
        "face_id": (np.int32, (2002,)),
        "landmarks": (np.float32, (2002, 468, 2)),
    }
    np.testing.assert_array_equal(saved["landmarks"][:2001], read["landmarks"])
    with np.load(path) as archive:  # a plain .npz, as np.savez_compressed writes
        assert sorted(archive.files) == ["face_id", "frame", "landmarks"]


def test_a_run_without_measured_faces_saves_an_empty_file_and_leaves_no_partial(tmp_path):
    path = tmp_path / "video.landmarks.npz"
    landmarks = LandmarksFile(path)
    landmarks.add(FrameResult(0, 0.0))
    assert not partial_landmarks_path(path).exists()
    landmarks.save()
    saved = read_landmarks(path)
    assert [saved[name].shape for name in ("frame", "face_id", "landmarks")] == [(0,), (0,), (0, 468, 2)]


def test_when_the_npz_cannot_be_written_the_points_stay_in_the_partial_file(tmp_path):
    path = tmp_path / "video.landmarks.npz"
    path.mkdir()  # something in the way that cannot be replaced
    landmarks = LandmarksFile(path)
    landmarks.add(faces_at(0, (1,)))
    partial = partial_landmarks_path(path)
    with pytest.raises(OutputError, match=f"cannot write {path}: .*; the points are kept in {partial}$"):
        landmarks.save()
    assert list(read_landmarks(partial)["face_id"]) == [1]
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [partial.name]  # no temporary file left
