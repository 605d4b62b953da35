"""Files replaced whole: a reader (or a kill at any moment) sees the old file or the new one, never half."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_json_atomic(path: Path, data: dict) -> None:
    """Write `data` so that a reader (or a kill at any moment) sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        # A full disk (or a kill) must not leave a half-written temp file beside the old one.
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
