"""bench/results.md: one dated Markdown table row per benchmark run, newest last."""

from __future__ import annotations

import datetime
from pathlib import Path

from fer_live.bench.videos import REPO

DEFAULT_RESULTS = REPO / "bench" / "results.md"
COLUMNS = ("date (UTC)", "bench", "machine", "weights", "settings", "results")
HEADER = f"""# fer_live benchmark results

Rows are appended by `python -m fer_live.bench [annotate|model|soak|all]`; the JSON it prints has
every number. "load" is the machine's 1-minute load average when the run started: at or above its
core count, other work was competing for the CPU and fps were lower than on the idle machine.

| {" | ".join(COLUMNS)} |
|{"---|" * len(COLUMNS)}
"""


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")


def append_row(path: Path, values: dict[str, str]) -> None:
    """Append a row (creating the file with its header); `|` in values is escaped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file() or path.stat().st_size == 0
    cells = [values[column].replace("|", "\\|").replace("\n", " ") for column in COLUMNS]
    with open(path, "a", encoding="utf-8") as out:
        if new:
            out.write(HEADER)
        out.write(f"| {' | '.join(cells)} |\n")
