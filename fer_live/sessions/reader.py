"""Reading a session folder back: metadata, per-frame results, markers, and the recorded video as a
seekable frame source, for review and reports. Works on sessions cut short by a kill as well."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_live.errors import FerLiveError, SourceError
from fer_live.pipeline.sources import Frame, Source
from fer_live.results import FrameResult, parse_rows
from fer_live.sessions.files import (
    FRAMES_CSV,
    MARKERS_CSV,
    SEGMENT_NAME,
    SESSION_JSON,
    Marker,
    read_csv_rows,
    read_json,
)
from fer_live.sessions.summary import face_ids, face_track


@dataclass(frozen=True)
class Segment:
    """One video file of the session; `closed` is False for the file that was still being written
    when the recording was cut short (it is read up to its last decodable frame)."""

    path: Path
    first_frame: int
    frames: int
    width: int
    height: int
    closed: bool = True

    @property
    def end_frame(self) -> int:
        return self.first_frame + self.frames


@dataclass(frozen=True)
class FrameRows:
    """What frames.csv holds: the results of the processed frames, and the recorded frames without
    results (the model did not process them: a live view skips frames while inference catches up)."""

    results: list[FrameResult]
    video_frames: list[int]  # of each result
    unprocessed: list[tuple[int, float]]  # (video frame, session time) of each frame without results


class Session:
    """A recorded session. `results[i]` is the FrameResult of video frame `video_frames[i]`
    (ascending) and its `time_s` counts from the start of the recording. The video frames in
    between are frames recorded without results (`unprocessed_frames`) or, in sessions recorded
    before fer_live recorded every captured frame, copies of the previous image."""

    def __init__(self, path: Path, info: dict, rows: FrameRows, markers: list[Marker], segments: list[Segment]):
        self.path = path
        self.info = info
        self.results = rows.results
        self.video_frames = rows.video_frames
        self.unprocessed_frames = [video_frame for video_frame, _ in rows.unprocessed]
        self.markers = markers
        self.segments = segments
        self._result_index = {frame: i for i, frame in enumerate(self.video_frames)}
        self._segment_starts = [segment.first_frame for segment in segments]
        self._times = [result.time_s for result in self.results]
        self._row_times = dict(zip(self.video_frames, self._times, strict=True)) | dict(rows.unprocessed)
        self._last_row = max(self._row_times, default=-1)

    @classmethod
    def load(cls, path: str | Path) -> Session:
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise FerLiveError(f"not a session folder: {path} is a file (give the folder fer-live record wrote)")
        if not path.is_dir():
            raise FerLiveError(f"session folder not found: {path}")
        info = read_json(path / SESSION_JSON)
        damage = _info_damage(info)
        if damage is not None:
            raise FerLiveError(f"{path / SESSION_JSON} is damaged: {damage}")
        rows = _read_frames(path / FRAMES_CSV)
        markers = _read_markers(path / MARKERS_CSV)
        segments = [
            Segment(path / s["file"], int(s["first_frame"]), int(s["frames"]), int(s["width"]), int(s["height"]))
            for s in info.get("segments", [])
        ]
        if info.get("end_time") is None:
            unclosed = _unclosed_segment(path, segments)
            if unclosed is not None:
                segments.append(unclosed)
        return cls(path, info, rows, markers, segments)

    @property
    def complete(self) -> bool:
        """False when the recording was cut short (killed, crashed): no end time was written."""
        return self.info.get("end_time") is not None

    @property
    def recorded_frames(self) -> int | None:
        """Frames the recorder wrote rows for, by session.json; None for a recording cut short."""
        info = self.info
        if not self.complete:
            return None
        if "frames_recorded" in info:
            return int(info["frames_recorded"])
        return int(info.get("video_frames", 0)) - int(info.get("filled_frames", 0))

    @property
    def frames_without_results(self) -> range:
        """Video frames after the last frames.csv row: recorded, but their rows are lost (a cut-off
        or emptied frames.csv). Review shows them without boxes. For a recording killed mid-frame,
        the one frame whose row was never written is not counted."""
        end = self.video_frame_count - (0 if self.complete else 1)
        return range(self._last_row + 1, max(self._last_row + 1, end))

    def unprocessed_note(self) -> str | None:
        """How many recorded frames have no results because the model did not process them, in one
        line; None when the model processed every frame."""
        if not self.unprocessed_frames:
            return None
        recorded = len(self.results) + len(self.unprocessed_frames)
        return (
            f"{len(self.unprocessed_frames)} of the {recorded} recorded frames "
            f"({100 * len(self.unprocessed_frames) / recorded:.0f}%) have no results: the live window "
            "skipped them while the model caught up (they are in the video, and in frames.csv with processed 0)"
        )

    def missing_results(self) -> str | None:
        """Why frames.csv holds fewer frames than were recorded, in one line; None when it holds them all."""
        expected = self.recorded_frames
        gap = self.frames_without_results
        rows = len(self.results) + len(self.unprocessed_frames)
        if expected is not None and rows < expected or len(gap) > 0:
            count = f"{rows} of the {expected}" if expected is not None else f"{rows}"
            where = (
                f"; no results after {self.duration_s:.2f} s (video frames {gap.start}-{gap.stop - 1})" if gap else ""
            )
            return f"{self.path / FRAMES_CSV} holds {count} recorded frames (cut off or emptied?){where}"
        return None

    @property
    def fps(self) -> float:
        return float(self.info["fps"])

    @property
    def video_frame_count(self) -> int:
        return self.segments[-1].end_frame if self.segments else 0

    @property
    def duration_s(self) -> float:
        """Session time of the last frames.csv row."""
        return self._row_times.get(self._last_row, 0.0)

    @property
    def times(self) -> np.ndarray:
        return np.array(self._times, dtype=np.float64)

    def result_at(self, video_frame: int) -> FrameResult | None:
        """The results recorded with video frame `video_frame`; None for a frame recorded without
        results, one that repeats the previous image (older sessions), or one without a row."""
        index = self._result_index.get(video_frame)
        return None if index is None else self.results[index]

    def latest_result(self, video_frame: int) -> FrameResult | None:
        """The results on screen at video frame `video_frame`: its own, or those of the last
        processed frame before it (for overlays during playback, as the live window showed them);
        None after the last row (see `frames_without_results`), where they would be stale."""
        index = bisect.bisect_right(self.video_frames, video_frame) - 1
        if index < 0 or video_frame > self._last_row:
            return None
        return self.results[index]

    def time_at(self, video_frame: int) -> float:
        """Session time of a video frame: its row's time, or for a frame without a row (a gap an
        older recorder filled, rows lost) the last result's time plus a frame period per frame since."""
        if video_frame in self._row_times:
            return self._row_times[video_frame]
        index = bisect.bisect_right(self.video_frames, video_frame) - 1
        if index < 0:
            return video_frame / self.fps
        return self.results[index].time_s + (video_frame - self.video_frames[index]) / self.fps

    def video_frame_at(self, time_s: float) -> int:
        """The last recorded frame at or before session time `time_s` (for seeking from a timeline click)."""
        index = bisect.bisect_right(self._times, time_s) - 1
        return self.video_frames[max(0, index)] if self.results else 0

    def locate(self, video_frame: int) -> tuple[Path, int]:
        """(segment file, frame index within it) holding video frame `video_frame`."""
        if not 0 <= video_frame < self.video_frame_count:
            raise SourceError(f"video frame {video_frame} is outside the recording (0–{self.video_frame_count - 1})")
        segment = self.segments[bisect.bisect_right(self._segment_starts, video_frame) - 1]
        return segment.path, video_frame - segment.first_frame

    def face_ids(self) -> list[int]:
        """Face IDs in the session, most frequent first."""
        return face_ids(self.results)

    def track(self, face_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(session times, valence, arousal) of a face for a timeline; NaN where the face is absent."""
        valence, arousal = face_track(self.results, face_id)
        return self.times, valence, arousal

    def open_video(self) -> SessionVideo:
        return SessionVideo(self)


class SessionVideo(Source):
    """The recorded video across its segments as one seekable Source; Frame.index is the video frame
    and Frame.time_s its session time, so `session.latest_result(frame.index)` gives its overlays."""

    def __init__(self, session: Session):
        self.session = session
        self.description = f"session {session.path}"
        self.fps = session.fps
        self.frame_count = session.video_frame_count
        first = session.segments[0] if session.segments else None
        self.size = (first.width, first.height) if first else (0, 0)
        self._position = 0
        self._capture: cv2.VideoCapture | None = None
        self._capture_path: Path | None = None
        self._capture_next = 0  # frame index within the open segment that read() returns next

    def __iter__(self) -> Iterator[Frame]:
        while self._position < self.frame_count:
            video_frame = self._position
            self._position = video_frame + 1  # before yielding, so a seek() meanwhile wins
            yield Frame(video_frame, self.session.time_at(video_frame), self.read(video_frame))

    def seek(self, frame_index: int) -> None:
        self._position = max(0, min(frame_index, self.frame_count - 1))

    def read(self, video_frame: int) -> np.ndarray:
        """The BGR image of video frame `video_frame`; sequential reads do not seek."""
        path, index = self.session.locate(video_frame)
        if self._capture_path != path:
            self.close()
            self._capture = cv2.VideoCapture(str(path))
            if not self._capture.isOpened():
                raise SourceError(f"cannot open video segment {path}")
            self._capture_path = path
            self._capture_next = 0
        if index != self._capture_next:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._capture.read()
        if not ok or image is None:
            self._capture_next = -1
            raise SourceError(f"cannot read frame {index} of video segment {path}")
        self._capture_next = index + 1
        return image

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = None
        self._capture_path = None


def _info_damage(info: dict) -> str | None:
    """The first session.json field (a hand edit, a damaged copy) that its readers (this reader,
    `fer-live report`, the window's review) could not use, and why, in a few words; None if none."""
    for key in ("participant", "condition", "notes"):
        if key in info and not isinstance(info[key], str):
            return f"{key} is {_shown(info[key])}, not text"
    for key in ("start_time", "end_time"):
        if info.get(key) is not None and not isinstance(info[key], str):
            return f"{key} is {_shown(info[key])}, not a time (text) or null"
    if "fps" not in info:
        return "fps is missing"
    if not _is_number(info["fps"]) or not info["fps"] > 0:
        return f"fps is {_shown(info['fps'])}, not a number above 0"
    for key in ("frames_recorded", "video_frames", "filled_frames"):
        if key in info and not _is_count(info[key]):
            return f"{key} is {_shown(info[key])}, not a whole number ≥ 0"
    for key in ("settings", "weights"):
        if key in info and not isinstance(info[key], dict):
            return f"{key} is {_shown(info[key])}, not an object"
    pose_limit = info.get("settings", {}).get("pose_limit")
    if pose_limit is not None and not _is_number(pose_limit):
        return f"settings.pose_limit is {_shown(pose_limit)}, not a number"
    units = info.get("weights", {}).get("action_units")
    if units is not None:
        if not isinstance(units, list):
            return f"weights.action_units is {_shown(units)}, not a list"
        for index, unit in enumerate(units):
            if not isinstance(unit, dict) or not re.fullmatch(r"au\d+", str(unit.get("column"))):
                return f"weights.action_units[{index}] is {_shown(unit)}, not an action unit with its column (au01 …)"
            if not isinstance(unit.get("labels", ""), str):
                return f"weights.action_units[{index}].labels is {_shown(unit['labels'])}, not text"
    return _segments_damage(info.get("segments", []))


def _segments_damage(segments) -> str | None:
    """What is wrong with session.json's list of video segments (files of the session folder that
    follow each other from video frame 0), or None."""
    if not isinstance(segments, list):
        return f"segments is {_shown(segments)}, not a list"
    next_frame = 0
    for index, segment in enumerate(segments):
        where = f"segments[{index}]"
        if not isinstance(segment, dict):
            return f"{where} is {_shown(segment)}, not an object"
        for key in ("file", "first_frame", "frames", "width", "height"):
            if key not in segment:
                return f"{where} has no {key}"
        name = segment["file"]
        if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name:
            return f"{where}.file is {_shown(name)}, not the name of a file in the session folder"
        for key in ("first_frame", "frames", "width", "height"):
            if not _is_count(segment[key]):
                return f"{where}.{key} is {_shown(segment[key])}, not a whole number ≥ 0"
        if segment["first_frame"] != next_frame:
            return f"{where}.first_frame is {segment['first_frame']}, not {next_frame} (where the one before ends)"
        next_frame += segment["frames"]
    return None


def _shown(value) -> str:
    """A damaged value as the message quotes it: short, whatever was pasted in."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read_frames(path: Path) -> FrameRows:
    """frames.csv's frames; a file from before the `processed` column has results for every row."""
    rows = FrameRows([], [], [])
    try:
        for result, first_row in parse_rows(read_csv_rows(path)):
            video_frame = int(first_row["video_frame"])
            if first_row.get("processed") == "0":
                rows.unprocessed.append((video_frame, result.time_s))
            else:
                rows.results.append(result)
                rows.video_frames.append(video_frame)
    except (KeyError, TypeError, ValueError) as exc:
        read = len(rows.results) + len(rows.unprocessed)
        raise FerLiveError(f"{path} is corrupt after {read} frames ({exc.__class__.__name__}: {exc})") from exc
    return rows


def _read_markers(path: Path) -> list[Marker]:
    rows = read_csv_rows(path)
    try:
        return [Marker.from_row(row) for row in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise FerLiveError(f"{path} is corrupt ({exc.__class__.__name__}: {exc})") from exc


def _unclosed_segment(path: Path, closed: list[Segment]) -> Segment | None:
    """The segment a killed recording was writing, if any of it decodes."""
    segment_path = path / SEGMENT_NAME.format(len(closed))
    if not segment_path.is_file():
        return None
    capture = cv2.VideoCapture(str(segment_path))
    frames, size = 0, (0, 0)
    try:
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                break
            frames += 1
            size = (image.shape[1], image.shape[0])
    finally:
        capture.release()
    if frames == 0:
        return None
    first_frame = closed[-1].end_frame if closed else 0
    return Segment(segment_path, first_frame, frames, size[0], size[1], closed=False)
