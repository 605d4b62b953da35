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
    """Add a row at the end of the results table (creating the file with its header), before any
    notes that follow the table; `|` in values is escaped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [values[column].replace("|", "\\|").replace("\n", " ") for column in COLUMNS]
    row = f"| {' | '.join(cells)} |\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if not text.strip():
        text = HEADER
    lines = text.splitlines(keepends=True)
    header_at = next((i for i, line in enumerate(lines) if line.startswith(f"| {COLUMNS[0]} |")), None)
    if header_at is None:
        lines += ["\n", *HEADER.splitlines(keepends=True)[-2:]]
        header_at = len(lines) - 2
    end = header_at
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    if end > 0 and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, row)
    path.write_text("".join(lines), encoding="utf-8")
