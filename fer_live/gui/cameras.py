"""Which camera indices open, for the source menu."""

from __future__ import annotations

from fer_live.errors import SourceError
from fer_live.pipeline.sources import CameraSource

MAX_CAMERA_INDEX = 4


def available_cameras(skip: set[int] = frozenset(), max_index: int = MAX_CAMERA_INDEX) -> list[int]:
    """Indices 0…max_index-1 (except `skip`, e.g. the one in use) where a camera opens."""
    found = []
    for index in range(max_index):
        if index in skip:
            continue
        try:
            CameraSource(index).close()
        except SourceError:
            continue
        found.append(index)
    return found
