"""What native libraries print straight to file descriptor 2 (LiteRT and absl chatter, libjpeg's
"Premature end of JPEG file"), caught so fer_live's own one-line messages are all the user sees.

One lock for the process: two threads swapping fd 2 at once (the live window decodes images in
one thread and detects faces in another) could leave it pointing at a scratch file.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_swapping = threading.Lock()
_scratch: tuple[int, int] | None = None  # (process id, file descriptor) of the file fd 2 goes to meanwhile


def _scratch_fd() -> int:
    """An unnamed scratch file of this process (a forked child makes its own)."""
    global _scratch
    if _scratch is None or _scratch[0] != os.getpid():
        with tempfile.TemporaryFile() as scratch:
            _scratch = (os.getpid(), os.dup(scratch.fileno()))
    return _scratch[1]


@contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Send fd 2 to a scratch file while the block runs; the list yielded holds what was written
    there, line by line, once the block ends. If the block fails, everything is written back to
    fd 2 (it may explain the failure). Costs ~20 µs."""
    lines: list[str] = []
    with _swapping:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no usable stderr (e.g. pythonw): nothing to catch
            yield lines
            return
        scratch = _scratch_fd()
        os.dup2(scratch, 2)
        failed = False
        try:
            yield lines
        except Exception:
            failed = True  # (not on Ctrl-C: an interrupted step needs no diagnosis)
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if size := os.lseek(scratch, 0, os.SEEK_CUR):
                lines.extend(os.pread(scratch, size, 0).decode(errors="replace").splitlines(keepends=True))
                os.ftruncate(scratch, 0)
                os.lseek(scratch, 0, os.SEEK_SET)
            if failed and lines:
                write_stderr(lines)


def write_stderr(lines: list[str]) -> None:
    """Pass lines on to fd 2, below Python's sys.stderr as the native libraries wrote them."""
    os.write(2, "".join(lines).encode())
