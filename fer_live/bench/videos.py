"""Videos of real faces from ../shared/data pasted over a textured background and moving: the
benchmark's inputs and the tests' (tests/videos.py re-exports this module).

`make_face_video` writes a file; `SyntheticFaceSource` draws frames on the fly, so a soak run of
an hour needs no hour-long file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_live.pipeline.sources import Frame, Source

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".webm": "VP80"}

# diffusionfer (CC0) faces that the full-range detector finds reliably.
DEFAULT_FACES = (
    "diffusionfer/images/aaaaaaaa_6.jpg",
    "diffusionfer/images/aawkxnwq_6.jpg",
    "diffusionfer/images/aajwceye_1.jpg",
    "diffusionfer/images/aeehboqf_0.jpg",
)
# Four faces (anger, happy, sad, surprise) that both detectors find in every frame of the
# benchmark's 2×2 layout at 160 px; DEFAULT_FACES[3] is missed there by the full-range one.
BENCH_FACES = (
    "diffusionfer/images/aaaaaaaa_6.jpg",
    "diffusionfer/images/aajwceye_1.jpg",
    "diffusionfer/images/erejzejf_6.jpg",
    "diffusionfer/images/afyyhcow_6.jpg",
)


@dataclass(frozen=True)
class PlacedFace:
    """Where face `face` is in frame `frame`: top-left corner and side in pixels."""

    frame: int
    face: int
    x: int
    y: int
    side: int


def load_face(relative: str, side: int, data: Path = SHARED_DATA) -> np.ndarray:
    image = cv2.imread(str(data / relative), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(data / relative)
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def face_path(
    face: int, n_faces: int, frame: int, n_frames: int, size: tuple[int, int], side: int, crossing: bool
) -> tuple[int, int]:
    """Top-left corner of `face` at `frame`: faces drift and bob; with `crossing`, two faces
    swap sides horizontally (passing each other at mid-video, vertically offset). Without
    `crossing` the motion repeats every n_frames − 1 frames, so frames past the end are valid."""
    width, height = size
    t = frame / max(n_frames - 1, 1)
    if crossing and n_faces == 2:
        x0, x1 = (20, width - side - 20) if face == 0 else (width - side - 20, 20)
        x = x0 + (x1 - x0) * t
        y = 20 + face * (height - side - 40)
        return int(x), int(y)
    columns = max(1, math.ceil(math.sqrt(n_faces)))
    rows = math.ceil(n_faces / columns)
    cell_w, cell_h = width / columns, height / rows
    cx = (face % columns + 0.5) * cell_w + 0.15 * cell_w * math.sin(2 * math.pi * t + face)
    cy = (face // columns + 0.5) * cell_h + 0.1 * cell_h * math.cos(2 * math.pi * t + face)
    return int(cx - side / 2), int(cy - side / 2)


class FaceScene:
    """Faces moving over a fixed textured background; `draw(frame)` paints one frame."""

    def __init__(
        self,
        faces: tuple[str, ...],
        n_frames: int,
        size: tuple[int, int] = (640, 480),
        side: int = 200,
        crossing: bool = False,
        data: Path = SHARED_DATA,
    ):
        self.images = [load_face(f, side, data) for f in faces]
        self.n_frames, self.size, self.side, self.crossing = n_frames, size, side, crossing
        rng = np.random.default_rng(0)
        noise = rng.integers(60, 160, (size[1], size[0], 3), dtype=np.uint8)
        self.background = cv2.GaussianBlur(noise, (0, 0), 9)

    def draw(self, frame: int, hidden: frozenset[int] = frozenset()) -> tuple[np.ndarray, list[PlacedFace]]:
        """Frame `frame` as BGR, and where its faces are; faces in `hidden` are left out."""
        canvas = self.background.copy()
        width, height = self.size
        placed = []
        for face, image in enumerate(self.images):
            if face in hidden:
                continue
            x, y = face_path(face, len(self.images), frame, self.n_frames, self.size, self.side, self.crossing)
            x = min(max(x, 0), width - self.side)
            y = min(max(y, 0), height - self.side)
            canvas[y : y + self.side, x : x + self.side] = image
            placed.append(PlacedFace(frame, face, x, y, self.side))
        return canvas, placed


def make_face_video(
    path: Path,
    faces: tuple[str, ...] = DEFAULT_FACES[:1],
    n_frames: int = 60,
    fps: float = 30.0,
    size: tuple[int, int] = (640, 480),
    side: int = 200,
    crossing: bool = False,
    grey: bool = False,
    data: Path = SHARED_DATA,
    cycle_frames: int | None = None,
) -> list[PlacedFace]:
    """Write a video of `faces` moving over a textured background; returns where each face was.
    The faces' drift repeats every `cycle_frames` frames (default: over the video's length)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC[path.suffix]), fps, size, not grey)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write test video {path}")
    scene = FaceScene(faces, cycle_frames or n_frames, size, side, crossing, data)
    placed = []
    for frame in range(n_frames):
        canvas, where = scene.draw(frame)
        placed.extend(where)
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY) if grey else canvas)
    writer.release()
    return placed


class SyntheticFaceSource(Source):
    """`n_frames` frames drawn on demand, as fast as they are read (no file, no pacing).

    Faces circle every `period` frames, and in every fourth period one face (each in turn) is
    away, so a long run keeps retiring and creating face IDs as a real recording does.
    """

    def __init__(
        self,
        faces: tuple[str, ...],
        n_frames: int,
        fps: float = 30.0,
        size: tuple[int, int] = (640, 480),
        side: int = 160,
        period: int = 300,
        data: Path = SHARED_DATA,
    ):
        self.scene = FaceScene(faces, period + 1, size, side, data=data)
        self.description = f"synthetic video, {len(faces)} faces, {n_frames} frames"
        self.fps, self.frame_count, self.size, self.period = fps, n_frames, size, period

    def __iter__(self) -> Iterator[Frame]:
        n_faces = len(self.scene.images)
        for index in range(self.frame_count):
            cycle = index // self.period
            away = frozenset({cycle // 4 % n_faces}) if cycle % 4 == 3 else frozenset()
            yield Frame(index, index / self.fps, self.scene.draw(index, away)[0])
