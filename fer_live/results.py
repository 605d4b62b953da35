"""The one results schema: per-frame, per-face predictions, and its CSV form.

CSV, GUI, sessions and reports all read and write through this module, so a column never means
two things. A frame without faces still gets a row (face fields empty) so time coverage is explicit.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from fer_live.labels import EXPRESSIONS

PROB_COLUMNS = tuple(f"p_{name}" for name in EXPRESSIONS)
CSV_COLUMNS = (
    "frame", "time_s", "face_id", "x", "y", "w", "h", "det_score",
    *PROB_COLUMNS,
    "label", "valence", "arousal",
)


@dataclass(frozen=True)
class FaceResult:
    face_id: int
    box: tuple[float, float, float, float]  # x, y, w, h in frame pixels
    det_score: float
    probs: np.ndarray  # 8 probabilities in EXPRESSIONS order
    valence: float
    arousal: float

    @property
    def label(self) -> str:
        return EXPRESSIONS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))


@dataclass(frozen=True)
class FrameResult:
    frame: int
    time_s: float
    faces: tuple[FaceResult, ...] = field(default_factory=tuple)

    def face(self, face_id: int) -> FaceResult | None:
        return next((f for f in self.faces if f.face_id == face_id), None)

    def largest_face(self) -> FaceResult | None:
        return max(self.faces, key=lambda f: f.box[2] * f.box[3], default=None)


def result_rows(result: FrameResult) -> list[dict[str, str]]:
    """CSV rows of one frame: one per face, or one with empty face fields when there is none."""
    base = {"frame": str(result.frame), "time_s": f"{result.time_s:.3f}"}
    if not result.faces:
        return [{**base, **{c: "" for c in CSV_COLUMNS[2:]}}]
    rows = []
    for face in result.faces:
        x, y, w, h = face.box
        row = {
            **base,
            "face_id": str(face.face_id),
            "x": f"{x:.1f}", "y": f"{y:.1f}", "w": f"{w:.1f}", "h": f"{h:.1f}",
            "det_score": f"{face.det_score:.3f}",
            **{c: f"{p:.4f}" for c, p in zip(PROB_COLUMNS, face.probs, strict=True)},
            "label": face.label,
            "valence": f"{face.valence:.4f}",
            "arousal": f"{face.arousal:.4f}",
        }
        rows.append(row)
    return rows


class ResultsCsvWriter:
    """Writes FrameResults as CSV rows, flushing each frame so a crash keeps what was produced.

    `extra_columns` (e.g. a session's `wall_time`, `video_frame`) follow the schema's columns and
    are given per frame to `write`.
    """

    def __init__(self, path: str | Path | IO[str], extra_columns: tuple[str, ...] = ()):
        self._owns = not hasattr(path, "write")
        self._handle: IO[str] = open(path, "w", newline="") if self._owns else path  # noqa: SIM115
        self.columns = CSV_COLUMNS + tuple(extra_columns)
        self._writer = csv.DictWriter(self._handle, fieldnames=self.columns)
        self._writer.writeheader()
        self._handle.flush()
        self.rows_written = 0

    def write(self, result: FrameResult, extra: dict[str, str] | None = None, flush: bool = True) -> None:
        for row in result_rows(result):
            if extra:
                row.update(extra)
            self._writer.writerow(row)
            self.rows_written += 1
        if flush:
            self._handle.flush()

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if self._owns and not self._handle.closed:
            self._handle.close()

    def __enter__(self) -> ResultsCsvWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _float(text: str) -> float:
    return float(text) if text else math.nan


def parse_rows(rows: Iterable[dict[str, str]]) -> Iterator[tuple[FrameResult, dict[str, str]]]:
    """Group CSV rows back into FrameResults (rows of a frame are adjacent); also yields the
    first row of each frame so callers can read extra columns."""
    current: list[dict[str, str]] = []
    for row in rows:
        if current and row["frame"] != current[0]["frame"]:
            yield _frame_from_rows(current), current[0]
            current = []
        current.append(row)
    if current:
        yield _frame_from_rows(current), current[0]


def _frame_from_rows(rows: list[dict[str, str]]) -> FrameResult:
    faces = tuple(
        FaceResult(
            face_id=int(r["face_id"]),
            box=(float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"])),
            det_score=float(r["det_score"]),
            probs=np.array([float(r[c]) for c in PROB_COLUMNS], dtype=np.float32),
            valence=_float(r["valence"]),
            arousal=_float(r["arousal"]),
        )
        for r in rows
        if r.get("face_id")
    )
    return FrameResult(frame=int(rows[0]["frame"]), time_s=float(rows[0]["time_s"]), faces=faces)


def read_results_csv(path: str | Path) -> list[FrameResult]:
    with open(path, newline="") as handle:
        return [frame for frame, _ in parse_rows(csv.DictReader(handle))]
