"""The one results schema: per-frame, per-face predictions, and its CSV form.

CSV, GUI, sessions and reports all read and write through this module, so a column never means
two things. A frame without faces still gets a row (face fields empty) so time coverage is explicit.
Face geometry (head pose, eyes, gaze, mouth) follows every other column, then the FACS action
units (v6 on), so readers of the older columns keep working; geometry fields are empty when geometry
is off or the face is too small for it, AU fields when the weights read no action units.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from fer_live.labels import AU_COLUMNS, EXPRESSIONS

PROB_COLUMNS = tuple(f"p_{name}" for name in EXPRESSIONS)
CSV_COLUMNS = (
    "frame",
    "time_s",
    "face_id",
    "x",
    "y",
    "w",
    "h",
    "det_score",
    *PROB_COLUMNS,
    "label",
    "valence",
    "arousal",
    "calibrated",
)
# fer_live.faces.geometry defines each: degrees for angles (yaw > 0 face turned to the image's right,
# pitch > 0 chin up, roll > 0 clockwise on screen), eye openness ~1 open / ~0 closed, blink 1 while
# the eyes are shut in a blink, mouth_open = lip gap / mouth width, pose_ok 0 beyond the pose limit.
GEOMETRY_COLUMNS = (
    "yaw",
    "pitch",
    "roll",
    "eye_open_l",
    "eye_open_r",
    "blink",
    "gaze_yaw",
    "gaze_pitch",
    "mouth_open",
    "pose_ok",
)
# Columns holding text; every other column is a number (empty when there is no face).
TEXT_COLUMNS = ("label",)
# (unit, kind) of each numeric column, for outputs that label their channels (the LSL stream).
COLUMN_UNITS = {
    "frame": ("index", "Frame"),
    "time_s": ("s", "Time"),
    "face_id": ("id", "FaceId"),
    **{c: ("px", "Position") for c in ("x", "y", "w", "h")},
    "det_score": ("score", "Confidence"),
    **{c: ("probability", "Expression") for c in PROB_COLUMNS},
    "valence": ("a.u. [-1, 1]", "Valence"),
    "arousal": ("a.u. [-1, 1]", "Arousal"),
    "calibrated": ("boolean", "Calibrated"),
    **{c: ("degrees", "HeadPose") for c in ("yaw", "pitch", "roll")},
    **{c: ("a.u. (1 open, 0 closed)", "EyeOpenness") for c in ("eye_open_l", "eye_open_r")},
    "blink": ("boolean", "Blink"),
    **{c: ("degrees", "Gaze") for c in ("gaze_yaw", "gaze_pitch")},
    "mouth_open": ("lip gap / mouth width", "MouthOpenness"),
    "pose_ok": ("boolean", "PoseOk"),
    **{c: ("intensity [0, 1]", "ActionUnit") for c in AU_COLUMNS},
}


@dataclass(frozen=True)
class FaceGeometry:
    """Head pose, eyes and mouth of one face in one frame (see GEOMETRY_COLUMNS)."""

    yaw: float
    pitch: float
    roll: float
    eye_open_l: float  # the subject's left eye (image right)
    eye_open_r: float
    blink: bool
    gaze_yaw: float
    gaze_pitch: float
    mouth_open: float
    pose_ok: bool
    landmarks: np.ndarray | None = None  # 468 × 2 frame pixels; not in the CSV (a landmarks file holds them)


@dataclass(frozen=True)
class FaceResult:
    face_id: int
    box: tuple[float, float, float, float]  # x, y, w, h in frame pixels
    det_score: float
    probs: np.ndarray  # 8 probabilities in EXPRESSIONS order
    valence: float
    arousal: float
    geometry: FaceGeometry | None = None
    # True when the face's neutral baseline was applied (participant calibration); raw = without it.
    calibrated: bool = False
    # 0–1 while the face's baseline is being collected (shown on the face, never saved), else None.
    calibration_progress: float | None = None
    # Action unit intensities in [0, 1] in AU_COLUMNS order; None when the weights read no AUs.
    aus: np.ndarray | None = None

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
        return [{**base, **{c: "" for c in CSV_COLUMNS[2:] + GEOMETRY_COLUMNS + AU_COLUMNS}}]
    rows = []
    for face in result.faces:
        x, y, w, h = face.box
        row = {
            **base,
            "face_id": str(face.face_id),
            "x": f"{x:.1f}",
            "y": f"{y:.1f}",
            "w": f"{w:.1f}",
            "h": f"{h:.1f}",
            "det_score": f"{face.det_score:.3f}",
            **{c: f"{p:.4f}" for c, p in zip(PROB_COLUMNS, face.probs.tolist(), strict=True)},  # tolist: 3× faster
            "label": face.label,
            "valence": f"{face.valence:.4f}",
            "arousal": f"{face.arousal:.4f}",
            **geometry_fields(face.geometry),
            **au_fields(face.aus),
            "calibrated": "1" if face.calibrated else "0",
        }
        rows.append(row)
    return rows


def geometry_fields(geometry: FaceGeometry | None) -> dict[str, str]:
    """The GEOMETRY_COLUMNS of a face: empty without geometry; a value that could not be measured
    (NaN) is empty too."""
    if geometry is None:
        return {c: "" for c in GEOMETRY_COLUMNS}
    return {
        "yaw": _fixed(geometry.yaw, 2),
        "pitch": _fixed(geometry.pitch, 2),
        "roll": _fixed(geometry.roll, 2),
        "eye_open_l": _fixed(geometry.eye_open_l, 3),
        "eye_open_r": _fixed(geometry.eye_open_r, 3),
        "blink": "1" if geometry.blink else "0",
        "gaze_yaw": _fixed(geometry.gaze_yaw, 2),
        "gaze_pitch": _fixed(geometry.gaze_pitch, 2),
        "mouth_open": _fixed(geometry.mouth_open, 3),
        "pose_ok": "1" if geometry.pose_ok else "0",
    }


def au_fields(aus: np.ndarray | None) -> dict[str, str]:
    """The AU_COLUMNS of a face: empty when the weights read no action units."""
    if aus is None:
        return dict.fromkeys(AU_COLUMNS, "")
    return {c: f"{a:.4f}" for c, a in zip(AU_COLUMNS, aus.tolist(), strict=True)}


def _fixed(value: float, digits: int) -> str:
    return "" if math.isnan(value) else f"{value:.{digits}f}"


# A spreadsheet (Excel, LibreOffice, Google Sheets) opening a CSV runs a cell that starts with one
# of these as a formula ("CSV injection": `=HYPERLINK(...)` in a marker note or a photo's name).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The prefix that makes such a cell text; a text that itself starts with it gets one more, so
# `from_formula_safe` can take it off again without guessing.
FORMULA_GUARD = "'"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def formula_safe(text: str) -> str:
    """A text cell as it goes into a CSV: one a spreadsheet would run as a formula gets a leading `'`.
    Numbers (`-0.5`) stay as they are: a spreadsheet reads them as numbers, not formulas."""
    if text.startswith((*FORMULA_STARTS, FORMULA_GUARD)) and not _NUMBER.fullmatch(text):
        return FORMULA_GUARD + text
    return text


def from_formula_safe(cell: str) -> str:
    """The text `formula_safe` was given. A cell with a `'` before anything else (files written
    before fer_live guarded its cells) is left as it is."""
    if cell.startswith(FORMULA_GUARD) and cell[1:].startswith((*FORMULA_STARTS, FORMULA_GUARD)):
        return cell[1:]
    return cell


class ResultsCsvWriter:
    """Writes FrameResults as CSV rows, flushing each frame so a crash keeps what was produced.

    `extra_columns` (e.g. a session's `wall_time`, `video_frame`, `source_file`) follow the schema's
    columns and are given per frame to `write`, each through `formula_safe` (a photo named
    `=1+2.jpg`); GEOMETRY_COLUMNS and then AU_COLUMNS come last, as they were added last.
    """

    def __init__(self, path: str | Path | IO[str], extra_columns: tuple[str, ...] = ()):
        self._owns = not hasattr(path, "write")
        self._handle: IO[str] = open(path, "w", newline="") if self._owns else path  # noqa: SIM115
        self.columns = CSV_COLUMNS + tuple(extra_columns) + GEOMETRY_COLUMNS + AU_COLUMNS
        self._writer = csv.DictWriter(self._handle, fieldnames=self.columns)
        self._writer.writeheader()
        self._handle.flush()
        self.rows_written = 0

    def write(self, result: FrameResult, extra: dict[str, str] | None = None, flush: bool = True) -> None:
        for row in result_rows(result):
            if extra:
                row.update((column, formula_safe(text)) for column, text in extra.items())
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
            geometry=_geometry_from_row(r),
            calibrated=r.get("calibrated") == "1",
            aus=_aus_from_row(r),
        )
        for r in rows
        if r.get("face_id")
    )
    return FrameResult(frame=int(rows[0]["frame"]), time_s=float(rows[0]["time_s"]), faces=faces)


def _geometry_from_row(row: dict[str, str]) -> FaceGeometry | None:
    """The geometry of a CSV row; None for files written before it existed, or rows without it."""
    if not row.get("pose_ok"):
        return None
    return FaceGeometry(
        yaw=_float(row["yaw"]),
        pitch=_float(row["pitch"]),
        roll=_float(row["roll"]),
        eye_open_l=_float(row["eye_open_l"]),
        eye_open_r=_float(row["eye_open_r"]),
        blink=row["blink"] == "1",
        gaze_yaw=_float(row["gaze_yaw"]),
        gaze_pitch=_float(row["gaze_pitch"]),
        mouth_open=_float(row["mouth_open"]),
        pose_ok=row["pose_ok"] == "1",
    )


def _aus_from_row(row: dict[str, str]) -> np.ndarray | None:
    """The AUs of a CSV row; None for files written before them, or by weights without them."""
    if not row.get(AU_COLUMNS[0]):
        return None
    return np.array([_float(row[c]) for c in AU_COLUMNS], dtype=np.float32)


def read_results_csv(path: str | Path) -> list[FrameResult]:
    with open(path, newline="") as handle:
        return [frame for frame, _ in parse_rows(csv.DictReader(handle))]
