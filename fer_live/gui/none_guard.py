"""Keeps Python alive under PySide6 6.12.0 on Python 3.11.

That PySide6 release drops one reference to None on every call of a Qt method that returns
nothing (fillRect, setPen, setText, update, …), and one to True on some calls returning a bool.
Before Python 3.12 these singletons are reference counted like any object, so at ~140 (None) and
~15 (True) such calls per drawn frame a count reaches zero within minutes and CPython aborts
("none_dealloc: deallocating None", "bool_dealloc"). PySide6 6.11.3 does not have the bug.

When a probe shows the leak, the singletons' counts are topped up far above anything the leak can
use up between checks. Extra references to them are harmless: they are never freed while Python runs.
"""

from __future__ import annotations

import ctypes
import functools
import sys

from PySide6.QtCore import QObject, QTimer

# Enough for many hours of drawing at the leak's rate; checked again every CHECK_INTERVAL_MS.
FLOOR = 1 << 28
CHECK_INTERVAL_MS = 60_000
GUARDED = (None, True, False)


@functools.cache
def pyside_leaks_none() -> bool:
    """True when a Qt call returning nothing costs None a reference (probed once)."""
    if sys.version_info >= (3, 12):  # None is immortal there: its count cannot run out
        return False
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32


def top_up() -> None:
    """Raise the reference count of None, True and False by FLOOR where it is below FLOOR (only
    if the leak exists)."""
    if not pyside_leaks_none():
        return
    for singleton in GUARDED:
        if sys.getrefcount(singleton) < FLOOR:
            # ob_refcnt is the first field of every object in CPython's (non-debug) object layout.
            ctypes.c_ssize_t.from_address(id(singleton)).value += FLOOR


def install(owner: QObject) -> None:
    """Top up now and every CHECK_INTERVAL_MS while `owner` lives."""
    top_up()
    if pyside_leaks_none():
        timer = QTimer(owner)
        timer.setInterval(CHECK_INTERVAL_MS)
        timer.timeout.connect(top_up)
        timer.start()
