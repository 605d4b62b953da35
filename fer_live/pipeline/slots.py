"""A one-item mailbox between threads where the newest item wins, so a slow consumer drops
stale frames instead of queueing them (latency stays bounded by one item)."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._item: T | None = None
        self._closed = False

    def put(self, item: T) -> bool:
        """Store `item`, replacing an untaken one; True when the slot was empty (consumer needs a nudge)."""
        with self._condition:
            was_empty = self._item is None
            self._item = item
            self._condition.notify_all()
            return was_empty

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item (emptying the slot), waiting up to `timeout` s; None on timeout or close."""
        with self._condition:
            self._condition.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
            return item

    def clear(self) -> None:
        with self._condition:
            self._item = None

    def close(self) -> None:
        """Wake every waiting consumer; later takes return at once."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
