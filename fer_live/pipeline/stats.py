"""Playback counters for the status bar and the benchmark: frame rates and capture-to-display latency."""

from __future__ import annotations

import statistics
import time
from collections import deque

# Latencies kept for percentiles: ~10 minutes at 30 fps, bounded so memory stays flat.
MAX_LATENCIES = 20_000


class PlaybackStats:
    """Counts displayed frames and their latencies; rates come from counter deltas between samples."""

    def __init__(self) -> None:
        self.displayed = 0
        self.latencies: deque[float] = deque(maxlen=MAX_LATENCIES)  # seconds
        self._last_sample: tuple[float, dict[str, int]] | None = None
        self._latency_mark = 0

    def frame_displayed(self, captured_at: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.displayed += 1
        self.latencies.append(now - captured_at)

    def reset(self) -> None:
        self.displayed = 0
        self.latencies.clear()
        self._last_sample = None
        self._latency_mark = 0

    def sample(self, counters: dict[str, int], now: float | None = None) -> dict[str, float]:
        """Per-second rates of each counter since the previous sample, plus the median latency (ms)
        of frames displayed since then (absent when none were)."""
        now = time.monotonic() if now is None else now
        counters = {**counters, "displayed": self.displayed}
        rates: dict[str, float] = {}
        if self._last_sample is not None:
            then, previous = self._last_sample
            elapsed = max(now - then, 1e-6)
            # A new source restarts its counters; a negative delta means "since the switch", not a rate.
            rates = {name: max(0, value - previous.get(name, 0)) / elapsed for name, value in counters.items()}
        fresh = min(self.displayed - self._latency_mark, len(self.latencies))
        if fresh > 0:
            recent = list(self.latencies)[-fresh:]
            rates["latency_ms"] = 1000 * statistics.median(recent)
        self._last_sample = (now, counters)
        self._latency_mark = self.displayed
        return rates
