"""Test videos made from real faces in ../shared/data: faces pasted into frames and moved.

The builder lives in fer_live.bench.videos, which the benchmark shares; this module keeps the
tests' imports as they were.
"""

from fer_live.bench.videos import (
    DEFAULT_FACES,
    FOURCC,
    REPO,
    SHARED_DATA,
    PlacedFace,
    face_path,
    load_face,
    make_face_video,
)

__all__ = ["DEFAULT_FACES", "FOURCC", "REPO", "SHARED_DATA", "PlacedFace", "face_path", "load_face", "make_face_video"]
