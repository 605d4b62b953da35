"""Broken inputs for the bad-input tests: damaged videos, wrong files, odd formats."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fer_live.errors import SourceError
from fer_live.pipeline.sources import Frame, Source

JPEG_START = b"\xff\xd8\xff"


def damage_mjpeg_frame(path: Path, frame: int) -> None:
    """Zero the JPEG data of one frame of an MJPG .avi in place, so the decoder cannot read it;
    the container (chunk headers, index) stays intact, as with a bad sector or a broken copy."""
    data = bytearray(path.read_bytes())
    starts = []
    at = data.find(JPEG_START)
    while at != -1:
        starts.append(at)
        at = data.find(JPEG_START, at + 1)
    if frame + 1 >= len(starts):
        raise ValueError(f"{path} has {len(starts)} JPEG frames, cannot damage frame {frame} in the middle")
    # Stop short of the next frame's 8-byte AVI chunk header ("00dc" + size).
    begin, end = starts[frame], starts[frame + 1] - 8
    data[begin:end] = bytes(end - begin)
    path.write_bytes(bytes(data))


def write_random_bytes(path: Path, size: int = 64_000) -> Path:
    path.write_bytes(np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def write_text(path: Path) -> Path:
    path.write_text("frame,time_s\nthis is a text file, not a video\n" * 50)
    return path


def write_truncated(source: Path, path: Path) -> Path:
    """The first half of a real video, as left by an interrupted copy."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_FILES = ("missing", "zero-bytes", "directory", "random-bytes", "text", "truncated")


def make_bad_file(kind: str, folder: Path, good_video: Path) -> Path:
    """A file of kind `kind` (one of BAD_FILES) named like a video, in `folder`."""
    path = folder / f"{kind}.mp4"
    if kind == "zero-bytes":
        path.touch()
    elif kind == "directory":
        path.mkdir()
    elif kind == "random-bytes":
        write_random_bytes(path)
    elif kind == "text":
        write_text(path)
    elif kind == "truncated":
        write_truncated(good_video, path)
    elif kind != "missing":
        raise ValueError(f"unknown bad file kind {kind!r}")
    return path


class VanishingCamera(Source):
    """A live source that delivers a few frames and then fails, as an unplugged webcam does."""

    is_live = True
    description = "camera 7"

    def __init__(self, images: list[np.ndarray]):
        self.images = images
        self.closed = False

    def __iter__(self):
        for index, image in enumerate(self.images):
            time.sleep(1 / 30)
            yield Frame(index, index / 30, image)
        raise SourceError("camera 7 stopped delivering frames (disconnected?)")

    def close(self) -> None:
        self.closed = True
