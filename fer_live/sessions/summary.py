"""Session statistics as pure functions of the per-frame results and the markers, so the report,
the review window and the tests all compute the same numbers.

Intervals run between markers: start → first marker, marker → marker, last marker → end. A frame
belongs to the interval whose start time is at or before its time and whose end is after it (the
last interval also keeps frames at its end), so a marker starts its interval at the frame it was
placed on. "Dominant expression" is the most frequent per-frame label (ties: earlier in EXPRESSIONS).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_live.labels import EXPRESSIONS, NUM_ACTION_UNITS
from fer_live.results import FaceResult, FrameResult
from fer_live.sessions.files import Marker

ALL_FACES = "all"
SESSION_START = "session start"
SESSION_END = "session end"
INTERVAL_COLUMNS = (
    "interval",
    "start",
    "end",
    "start_s",
    "end_s",
    "face",
    "frames",
    "face_frames",
    "face_frames_pct",
    "mean_valence",
    "mean_arousal",
    "dominant_expression",
)


@dataclass(frozen=True)
class Interval:
    index: int
    start_s: float
    end_s: float
    start: str  # SESSION_START or the text of the marker that opens the interval
    end: str  # the text of the marker that closes it, or SESSION_END
    is_last: bool

    def contains(self, time_s: float) -> bool:
        return self.start_s <= time_s < self.end_s or (self.is_last and time_s == self.end_s)


@dataclass(frozen=True)
class IntervalSummary:
    interval: Interval
    face: str  # ALL_FACES (every face pooled) or a face ID
    frames: int  # recorded frames in the interval
    face_frames: int  # of those, frames with the face (any face for ALL_FACES)
    mean_valence: float  # over the face rows; NaN without any
    mean_arousal: float
    dominant: str  # "" without any face row

    @property
    def face_frames_pct(self) -> float:
        return 100.0 * self.face_frames / self.frames if self.frames else math.nan


def marker_intervals(markers: Sequence[Marker], end_s: float) -> list[Interval]:
    """Intervals from 0 to `end_s` cut at the markers' times; empty ones between markers that
    share a time are dropped."""
    cuts = sorted(markers, key=lambda marker: marker.time_s)
    end_s = max([end_s, *(marker.time_s for marker in cuts)])
    bounds = [(0.0, SESSION_START), *((marker.time_s, marker.text) for marker in cuts), (end_s, SESSION_END)]
    spans = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
    kept = [(a, b) for i, (a, b) in enumerate(spans) if b[0] > a[0] or i == len(spans) - 1]
    return [Interval(i, a[0], b[0], a[1], b[1], is_last=i == len(kept) - 1) for i, (a, b) in enumerate(kept)]


def faces_of(result: FrameResult, face: str) -> tuple[FaceResult, ...]:
    if face == ALL_FACES:
        return result.faces
    found = result.face(int(face))
    return () if found is None else (found,)


def dominant_expression(labels: Sequence[str]) -> str:
    counts = Counter(labels)
    return max(EXPRESSIONS, key=lambda name: (counts[name], -EXPRESSIONS.index(name))) if counts else ""


def summarize_interval(results: Sequence[FrameResult], interval: Interval, face: str = ALL_FACES) -> IntervalSummary:
    inside = [result for result in results if interval.contains(result.time_s)]
    face_rows = [found for result in inside for found in faces_of(result, face)]
    return IntervalSummary(
        interval=interval,
        face=face,
        frames=len(inside),
        face_frames=sum(1 for result in inside if faces_of(result, face)),
        mean_valence=_mean([found.valence for found in face_rows]),
        mean_arousal=_mean([found.arousal for found in face_rows]),
        dominant=dominant_expression([found.label for found in face_rows]),
    )


def summarize_intervals(
    results: Sequence[FrameResult], markers: Sequence[Marker], faces: Sequence[str] = (ALL_FACES,)
) -> list[IntervalSummary]:
    """One summary per interval and face (`faces`: ALL_FACES and/or face IDs as strings)."""
    end_s = results[-1].time_s if results else 0.0
    return [
        summarize_interval(results, interval, face) for interval in marker_intervals(markers, end_s) for face in faces
    ]


def face_ids(results: Sequence[FrameResult]) -> list[int]:
    """Face IDs by the number of frames they appear in, most frequent first."""
    counts = Counter(found.face_id for result in results for found in result.faces)
    return [face_id for face_id, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


# The presence rule: a face seen in fewer of the frames (a passer-by, a detector's false find) gets
# no section or per-face rows of its own; it still counts in the "all" rows.
MIN_FACE_SHARE = 0.02


def face_frame_counts(results: Sequence[FrameResult]) -> Counter[int]:
    """Face ID → the number of frames it appears in."""
    return Counter(found.face_id for result in results for found in result.faces)


def main_faces(results: Sequence[FrameResult], min_share: float = MIN_FACE_SHARE) -> list[int]:
    """Every face that passes the presence rule (in at least `min_share` of the frames), most present first."""
    counts = face_frame_counts(results)
    needed = max(1, min_share * len(results))
    return [face_id for face_id in face_ids(results) if counts[face_id] >= needed]


def expression_shares(results: Sequence[FrameResult], face_id: int) -> dict[str, float]:
    """Share of the face's frames in which each expression is the label (sums to 1 if the face appears)."""
    labels = [found.label for result in results if (found := result.face(face_id)) is not None]
    counts = Counter(labels)
    return {name: counts[name] / len(labels) if labels else 0.0 for name in EXPRESSIONS}


def face_track(results: Sequence[FrameResult], face_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(valence, arousal) of a face over all frames, NaN where it is absent, aligned with `results`."""
    track = np.full((len(results), 2), np.nan)
    for i, result in enumerate(results):
        found = result.face(face_id)
        if found is not None:
            track[i] = (found.valence, found.arousal)
    return track[:, 0], track[:, 1]


def au_track(results: Sequence[FrameResult], face_id: int) -> np.ndarray:
    """A face's action unit intensities per frame as an N × 17 array (AU_COLUMNS order), NaN where it
    is absent or its weights read no AUs; all NaN when no frame has them."""
    track = np.full((len(results), NUM_ACTION_UNITS), np.nan)
    for i, result in enumerate(results):
        found = result.face(face_id)
        if found is not None and found.aus is not None:
            track[i] = found.aus
    return track


def pose_track(results: Sequence[FrameResult], face_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(yaw, pitch, roll) of a face per frame as an N × 3 array, NaN where it is absent or has no
    geometry; and whether its pose was within the limit (False there too)."""
    pose = np.full((len(results), 3), np.nan)
    ok = np.zeros(len(results), dtype=bool)
    for i, result in enumerate(results):
        found = result.face(face_id)
        if found is not None and found.geometry is not None:
            pose[i] = (found.geometry.yaw, found.geometry.pitch, found.geometry.roll)
            ok[i] = found.geometry.pose_ok
    return pose, ok


def blink_onsets(results: Sequence[FrameResult], face_id: int) -> list[float]:
    """Times (s) at which a face's blinks began: frames marked `blink` after one that was not."""
    onsets, closed = [], False
    for result in results:
        found = result.face(face_id)
        if found is None or found.geometry is None:
            continue  # a frame without the face neither starts nor ends a blink
        if found.geometry.blink and not closed:
            onsets.append(result.time_s)
        closed = found.geometry.blink
    return onsets


# A gap this long between two processed frames is no time in which a face's blinks were watched (a
# blink lasts 0.1-0.4 s): the source paused or stalled. It counts as one frame period.
MAX_WATCHED_GAP_S = 1.0


def geometry_seconds(results: Sequence[FrameResult], face_id: int, fps: float) -> float:
    """How long a face was measured with geometry, on the recording's clock: each processed frame
    that measured it stands for the time up to the next processed frame (so frames the live window
    skipped count too), the last one for a frame period at `fps`; a gap over MAX_WATCHED_GAP_S
    counts a frame period. Counting frames at `fps` instead made a window recording that skipped
    frames look shorter, and its blinks per minute higher, than it was."""
    period = 1.0 / fps if fps > 0 else 0.0
    seconds = 0.0
    for index, result in enumerate(results):
        face = result.face(face_id)
        if face is None or face.geometry is None:
            continue
        gap = results[index + 1].time_s - result.time_s if index + 1 < len(results) else period
        seconds += gap if 0 < gap <= MAX_WATCHED_GAP_S else period
    return seconds


def write_intervals_csv(path: Path, summaries: Sequence[IntervalSummary]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=INTERVAL_COLUMNS)
        writer.writeheader()
        for summary in summaries:
            writer.writerow(interval_row(summary))


def interval_row(summary: IntervalSummary) -> dict[str, str]:
    interval = summary.interval
    return {
        "interval": str(interval.index + 1),
        "start": interval.start,
        "end": interval.end,
        "start_s": f"{interval.start_s:.3f}",
        "end_s": f"{interval.end_s:.3f}",
        "face": summary.face,
        "frames": str(summary.frames),
        "face_frames": str(summary.face_frames),
        "face_frames_pct": _fixed(summary.face_frames_pct, 1),
        "mean_valence": _fixed(summary.mean_valence, 4),
        "mean_arousal": _fixed(summary.mean_arousal, 4),
        "dominant_expression": summary.dominant,
    }


def _mean(values: list[float]) -> float:
    finite = [value for value in values if not math.isnan(value)]
    return float(np.mean(finite)) if finite else math.nan


def _fixed(value: float, digits: int) -> str:
    return "" if math.isnan(value) else f"{value:.{digits}f}"
