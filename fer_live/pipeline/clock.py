"""Wall-clock time stamps of frames (ISO 8601, local time with its UTC offset), for every output file."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


def wall_clock_iso(moment: datetime | None = None) -> str:
    """Local time, ISO 8601 with milliseconds and UTC offset, e.g. 2025-03-01T14:02:03.250+01:00."""
    return (moment or datetime.now()).astimezone().isoformat(timespec="milliseconds")


def wall_clock_iso_at(monotonic_s: float) -> str:
    """`wall_clock_iso` of an earlier `time.monotonic()` reading, e.g. when a frame was captured."""
    return wall_clock_iso(datetime.now() - timedelta(seconds=time.monotonic() - monotonic_s))
