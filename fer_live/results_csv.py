"""A results CSV file that never holds a partial frame (the annotate output)."""

from __future__ import annotations

import os
from pathlib import Path

from fer_live.errors import OutputError
from fer_live.results import FrameResult, ResultsCsvWriter


class CompleteFramesCsv:
    """Results CSV that keeps only whole frames: if writing fails (disk full) or is interrupted,
    the file is cut back to the end of the last frame that was completely flushed."""

    def __init__(self, path: Path):
        self.path = path
        self.frames_written = 0
        self._complete_bytes = 0
        try:
            self._handle = open(path, "w", newline="")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        try:
            self._writer = ResultsCsvWriter(self._handle)
        except OSError as exc:
            self.abandon()
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        self._complete_bytes = self._handle.buffer.tell()

    def write(self, result: FrameResult) -> None:
        try:
            self._writer.write(result)
        except OSError as exc:
            self.abandon()
            raise OutputError(
                f"cannot write {self.path}: {exc.strerror or exc} (kept {self.frames_written} complete frames)"
            ) from None
        self._complete_bytes = self._handle.buffer.tell()
        self.frames_written += 1

    def close(self) -> None:
        try:
            self._handle.close()
        except OSError as exc:
            self.abandon()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def abandon(self) -> None:
        """Close without the frame in progress (its rows may be half in the file buffer)."""
        try:
            self._handle.close()
        except OSError:
            pass  # the buffered partial frame could not be written either; the cut below removes any part of it
        try:
            os.truncate(self.path, self._complete_bytes)
        except OSError:
            pass  # not a regular file (e.g. a device)
