"""Playing a file at its own frame rate, as a camera would deliver it (the live window, `record --realtime`)."""

from __future__ import annotations

import time

# A file source that falls this far behind its schedule (slow decoding, a paused debugger)
# restarts its clock instead of rushing through frames to catch up.
MAX_LAG_S = 0.25


class FramePacer:
    """Maps media time to wall-clock time: `delay(time_s)` is how long to wait before the frame at `time_s`."""

    def __init__(self, max_lag_s: float = MAX_LAG_S):
        self.max_lag_s = max_lag_s
        self._clock_start: float | None = None
        self._media_start = 0.0

    def restart(self) -> None:
        """The next frame starts a new schedule (after a seek, a loop or a pause)."""
        self._clock_start = None

    def delay(self, time_s: float, now: float | None = None) -> float:
        """Seconds to wait before the frame at media time `time_s`; ≤ 0 means it is due."""
        now = time.monotonic() if now is None else now
        if self._clock_start is None or now - (self._clock_start + time_s - self._media_start) > self.max_lag_s:
            self._clock_start, self._media_start = now, time_s
        return self._clock_start + time_s - self._media_start - now
