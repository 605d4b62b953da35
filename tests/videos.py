"""Test videos made from real faces in ../shared/data: faces pasted into frames and moved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".webm": "VP80"}

# diffusionfer (CC0) faces that the full-range detector finds reliably.
DEFAULT_FACES = (
    "diffusionfer/images/aaaaaaaa_6.jpg",
    "diffusionfer/images/aawkxnwq_6.jpg",
    "diffusionfer/images/aajwceye_1.jpg",
    "diffusionfer/images/aeehboqf_0.jpg",
)


@dataclass(frozen=True)
class PlacedFace:
    """Where face `face` is in frame `frame`: top-left corner and side in pixels."""

    frame: int
    face: int
    x: int
    y: int
    side: int


def load_face(relative: str, side: int) -> np.ndarray:
    image = cv2.imread(str(SHARED_DATA / relative), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(SHARED_DATA / relative)
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def face_path(face: int, n_faces: int, frame: int, n_frames: int, size: tuple[int, int], side: int,
              crossing: bool) -> tuple[int, int]:
    """Top-left corner of `face` at `frame`: faces drift and bob; with `crossing`, two faces
    swap sides horizontally (passing each other at mid-video, vertically offset)."""
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


def make_face_video(
    path: Path,
    faces: tuple[str, ...] = DEFAULT_FACES[:1],
    n_frames: int = 60,
    fps: float = 30.0,
    size: tuple[int, int] = (640, 480),
    side: int = 200,
    crossing: bool = False,
    grey: bool = False,
) -> list[PlacedFace]:
    """Write a video of `faces` moving over a textured background; returns where each face was."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC[path.suffix]), fps, size, not grey)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write test video {path}")
    images = [load_face(f, side) for f in faces]
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(60, 160, (size[1], size[0], 3), dtype=np.uint8), (0, 0), 9)
    placed = []
    for frame in range(n_frames):
        canvas = background.copy()
        for face, image in enumerate(images):
            x, y = face_path(face, len(images), frame, n_frames, size, side, crossing)
            x = min(max(x, 0), size[0] - side)
            y = min(max(y, 0), size[1] - side)
            canvas[y : y + side, x : x + side] = image
            placed.append(PlacedFace(frame, face, x, y, side))
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY) if grey else canvas)
    writer.release()
    return placed
