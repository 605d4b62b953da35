"""A results CSV file that never holds a partial frame and that one run at a time writes (the annotate output).

The rows go to `<name>.partial` beside the final file, which `commit()` renames into place: the
final name never shows a file being written, and a run killed outright leaves only the `.partial`.
The partial file is locked while it is written, so a second run on the same output is refused
instead of interleaving its rows with the first one's.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fer_live.errors import OutputError
from fer_live.results import FrameResult, ResultsCsvWriter

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; outputs are still written whole and renamed
    fcntl = None

PARTIAL_SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


class OutputBusyError(OutputError):
    """Another process is writing the same output file."""


class CompleteFramesCsv:
    """Results CSV that keeps only whole frames: if writing fails (disk full) or is interrupted,
    the file is cut back to the end of the last frame that was completely flushed.

    Lifecycle: construct (locks and starts `<path>.partial`), `write()` per frame, then `commit()`
    (rename to `path`) or `discard()` (remove it); `release()` ends the lock, after the caller has
    written anything that belongs with the file (its provenance sidecar). Also a context manager.
    """

    def __init__(self, path: Path, extra_columns: tuple[str, ...] = ()):
        self.path = path
        self.partial = partial_path(path)
        self.frames_written = 0
        self._complete_bytes = 0
        self._handle = None
        self._settled = False  # committed or discarded
        self._lock_fd = self._lock()
        try:
            # Truncates: the lock is ours, so whatever the partial file held is a dead run's.
            self._handle = open(self.partial, "w", newline="")
            self._writer = ResultsCsvWriter(self._handle, extra_columns)
        except OSError as exc:
            self.discard()
            self.release()
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        self._complete_bytes = self._handle.buffer.tell()

    def _lock(self) -> int | None:
        try:
            fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        if fcntl is None:
            os.close(fd)  # no lock to hold, and Windows cannot rename a file that is open
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputBusyError(
                f"{self.path} is being written by another fer-live run (its {self.partial.name} is locked); "
                "left to that run"
            ) from None
        except OSError:
            pass  # a file system without locks (some network mounts): write unlocked, as before
        return fd

    def write(self, result: FrameResult, extra: dict[str, str] | None = None) -> None:
        try:
            self._writer.write(result, extra)
        except OSError as exc:
            self.abandon()
            raise OutputError(
                f"cannot write {self.path}: {exc.strerror or exc} (kept {self.frames_written} complete frames)"
            ) from None
        self._complete_bytes = self._handle.buffer.tell()
        self.frames_written += 1

    def close(self) -> None:
        """Flush and close the partial file (still under its partial name)."""
        try:
            self._handle.close()
        except OSError as exc:
            self.abandon()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def abandon(self) -> None:
        """Close without the frame in progress (its rows may be half in the file buffer)."""
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass  # the buffered partial frame could not be written either; the cut below removes any part of it
        try:
            if stat.S_ISREG(os.stat(self.partial).st_mode):
                os.truncate(self.partial, self._complete_bytes)
        except OSError:
            pass  # gone, or not a regular file (e.g. a device)

    def commit(self) -> None:
        """Give the closed (or abandoned) partial file its final name, replacing any file there."""
        try:
            os.replace(self.partial, self.path)
            self._settled = True
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def discard(self) -> None:
        """Close and remove the partial file: nothing of this run is kept."""
        self.abandon()
        self._settled = True
        try:
            os.unlink(self.partial)
        except OSError:
            pass

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> CompleteFramesCsv:
        return self

    def __exit__(self, *exc) -> None:
        if not self._settled:
            self.discard()  # neither committed nor discarded: an unforeseen failure
        self.release()
