"""Recorder: writes a session folder from frames and their results as they are produced.

Nothing already recorded is lost if the process dies: frames.csv and markers.csv are flushed on
every frame and marker, the video is cut into short segments that are each a complete file, and
session.json (atomically replaced) lists every segment once it is closed.

Thread-safe: a GUI may call `add_marker` from its UI thread while a worker thread calls `write`.
"""

from __future__ import annotations

import csv
import re
import shutil
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from fer_live import __version__
from fer_live.atomic import write_json_atomic
from fer_live.errors import FerLiveError
from fer_live.pipeline.clock import wall_clock_iso
from fer_live.pipeline.sources import Frame, opencv_quiet
from fer_live.results import FrameResult, ResultsCsvWriter
from fer_live.sessions.files import (
    FRAME_EXTRA_COLUMNS,
    FRAMES_CSV,
    MARKER_COLUMNS,
    MARKER_KEYS,
    MARKERS_CSV,
    SEGMENT_FOURCC,
    SEGMENT_NAME,
    SESSION_FORMAT,
    SESSION_JSON,
    TEXT_MARKER_KEY,
    TEXT_MARKER_LABEL,
    Marker,
    default_marker_labels,
)

if TYPE_CHECKING:
    from fer_live.pipeline.frames import Pipeline
    from fer_live.pipeline.sources import Source

DEFAULT_SEGMENT_SECONDS = 2.0
# Room a session keeps free on its disk to close its files (AVI index, CSVs, session.json written
# beside the old one); with the next frame's room on top, recording stops cleanly below it.
FINISH_RESERVE_BYTES = 256 * 1024


@dataclass(frozen=True)
class SessionMetadata:
    """What the researcher types in before recording."""

    participant: str = ""
    condition: str = ""
    notes: str = ""


def check_session_dir(path: str | Path) -> Path:
    """Refuse a folder that cannot hold a new session: a file, or a folder that is not empty, so a
    recording never mixes with or overwrites another."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FerLiveError(f"session folder is a file: {path}")
    if path.is_dir() and any(path.iterdir()):
        raise FerLiveError(f"session folder is not empty: {path} (choose a new folder; sessions are never overwritten)")
    return path


def new_session_dir(parent: str | Path, participant: str = "") -> Path:
    """A fresh folder name under `parent` for a session starting now, e.g. 2025-03-01_14-02-03_P07."""
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    tag = re.sub(r"[^A-Za-z0-9_-]+", "-", participant).strip("-")
    base = Path(parent) / (f"{stamp}_{tag}" if tag else stamp)
    path, count = base, 1
    while path.exists():
        count += 1
        path = base.with_name(f"{base.name}_{count}")
    return path


def create_session_dir(path: str | Path) -> Path:
    path = check_session_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FerLiveError(f"cannot create session folder {path}: {exc.strerror or exc}") from exc
    return path


class SourceStep(Enum):
    """How a recorded frame follows the one recorded before it on the source."""

    NEXT = "the source's next frame"
    SEEK = "the source was sought to another position"
    WRAP = "a looping file started over"


class _SegmentWriter:
    """One closed-on-demand video file of the session."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], first_frame: int):
        self.path = path
        self.size = size
        self.first_frame = first_frame
        self.frames = 0
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*SEGMENT_FOURCC), fps, size)
        if not self._writer.isOpened():
            raise FerLiveError(f"cannot write video segment {path} ({SEGMENT_FOURCC} AVI)")

    def write(self, image) -> None:
        # OpenCV reports a failed write only as a log line; Recorder checks the room left instead.
        with opencv_quiet():
            self._writer.write(image)
        self.frames += 1

    def close(self) -> dict:
        with opencv_quiet():
            self._writer.release()
        width, height = self.size
        return {
            "file": self.path.name,
            "first_frame": self.first_frame,
            "frames": self.frames,
            "width": width,
            "height": height,
        }


class Recorder:
    """Records one session into `out_dir`, a new or empty folder (see `check_session_dir`).

    `write(frame, result)` for every captured frame, `add_marker(...)` at any time, `finish(reason)`
    once. A frame the model did not process (a live view skips frames while inference catches up)
    is written with `result` None: its image goes into the video like any other, and its frames.csv
    row has no results (`processed` 0), so the video holds every captured frame once and nothing else.

    The recording has its own clock: `frame` counts the recorded frames from 0 (it equals
    `video_frame`, the frame's index in the recorded video), and `time_s` (frames.csv and
    markers.csv) runs from 0 at the first frame, going on by the source's own time between one
    frame and the next, and by one frame period where the source jumped (a seek, a looping file
    starting over, a clock that did not advance), so it never goes back. Where the frame was in the
    source stays beside it: `source_frame` (the source's frame index) and `source_loop` (how many
    times a looping file had started over).
    """

    def __init__(
        self,
        out_dir: str | Path,
        *,
        source: str,
        fps: float,
        settings: dict,
        device: str,
        weights: dict,
        metadata: SessionMetadata = SessionMetadata(),
        marker_labels: dict[str, str] | None = None,
        segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
        is_live: bool = False,
    ):
        if not fps > 0:
            raise FerLiveError(f"frame rate must be positive, not {fps}")
        if not segment_seconds > 0:
            raise FerLiveError(f"segment length must be positive, not {segment_seconds} s")
        self.path = create_session_dir(out_dir)
        self.fps = float(fps)
        self.marker_labels = {**default_marker_labels(), **(marker_labels or {})}
        self._segment_frames = max(1, round(self.fps * segment_seconds))
        self._lock = threading.Lock()
        self._segment: _SegmentWriter | None = None
        self._last_source_time_s: float | None = None  # the source's time of the last recorded frame
        self._last_time_s = 0.0
        self._last_video_frame = 0
        self._source_loop = 0
        self.frames_recorded = 0  # frames given to write(), one frames.csv frame and one video frame each
        self.video_frames = 0
        self.markers: list[Marker] = []
        self.finished = False
        self.info = {
            "format": SESSION_FORMAT,
            "app_version": __version__,
            "start_time": wall_clock_iso(),
            "end_time": None,
            "stopped_by": None,
            "source": source,
            "source_is_live": is_live,
            "resolution": None,
            "fps": self.fps,
            # Frames per second of session time actually recorded (set at the end): a live source
            # can deliver fewer frames than its nominal rate, and players assume the nominal one.
            "measured_fps": None,
            "device": device,
            "weights": weights,
            "settings": settings,
            **asdict(metadata),
            "marker_labels": self.marker_labels,
            "segment_seconds": segment_seconds,
            "segments": [],
            "video_frames": 0,
            # Frames recorded without results: the model did not process them (a live view skips
            # frames while inference catches up). Their frames.csv rows have `processed` 0.
            "unprocessed_frames": 0,
            # Where the recording jumped in the source: a looping file starting over, a seek.
            "source_wraps": 0,
            "source_seeks": 0,
            "duration_s": 0.0,
        }
        try:
            self._frames_handle = open(self.path / FRAMES_CSV, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._frames = ResultsCsvWriter(self._frames_handle, extra_columns=FRAME_EXTRA_COLUMNS)
            self._markers_handle = open(self.path / MARKERS_CSV, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._markers = csv.DictWriter(self._markers_handle, fieldnames=MARKER_COLUMNS)
            self._markers.writeheader()
            self._markers_handle.flush()
            self._save_info()
        except OSError as exc:
            raise FerLiveError(f"cannot write session in {self.path}: {exc.strerror or exc}") from exc

    @classmethod
    def for_pipeline(cls, out_dir: str | Path, source: Source, pipeline: Pipeline, **options) -> Recorder:
        """A recorder describing `source` and the pipeline's settings, device and weights;
        `options` as for the constructor (metadata, marker_labels, segment_seconds)."""
        engine = pipeline.engine
        recorder = cls(
            out_dir,
            source=source.description,
            fps=source.fps,
            settings=pipeline.settings.to_dict(),
            device=engine.device_name,
            weights=engine.weights_info,
            is_live=source.is_live,
            **options,
        )
        recorder.set_operating_point(engine.operating_point.describe())
        if pipeline.everyone_baseline is not None:
            recorder.add_calibration(None, pipeline.everyone_baseline.to_dict())
        else:
            for face_id, baseline in pipeline.baselines.by_track.items():
                recorder.add_calibration(face_id, baseline.to_dict())
        return recorder

    def set_operating_point(self, description: dict) -> None:
        with self._lock:
            self.info["operating_point"] = description
            self._save_info()

    def add_calibration(self, face_id: int | None, baseline: dict | None = None, refusal: str | None = None) -> None:
        """Note in session.json that from the last recorded frame on (the start, before any) `face_id`
        (None: every face) reads through `baseline` (None with no refusal: cleared), or that its
        baseline was refused.

        frames.csv rows with calibrated = 1 hold calibrated values; the raw ones follow from the
        face's latest baseline at the row's time (OperatingPoint.uncalibrate; README "Getting the right reading").
        """
        with self._lock:
            event = {"face_id": face_id, "from_time_s": round(self._last_time_s, 3)}
            event.update({"refused": refusal} if refusal else {"baseline": baseline})
            self.info.setdefault("calibration", []).append(event)
            if not self.finished:
                self._save_info()

    @property
    def duration_s(self) -> float:
        return self._last_time_s

    @property
    def unprocessed_frames(self) -> int:
        """Frames recorded without results (the model did not process them)."""
        return self.info["unprocessed_frames"]

    def write(
        self,
        frame: Frame,
        result: FrameResult | None,
        wall_time: str | None = None,
        step: SourceStep = SourceStep.NEXT,
    ) -> None:
        """Record `frame` (its clean image) and its result (None: the model did not process it);
        `wall_time` (ISO 8601) defaults to now, but a caller that knows when the frame was captured
        should pass that; `step` says how the frame follows the one recorded before it."""
        with self._lock:
            if self.finished:
                raise FerLiveError("this session has been finished; start a new recording")
            try:
                self._write(frame, result, wall_time or wall_clock_iso(), step)
            except OSError as exc:
                raise FerLiveError(f"cannot write session in {self.path}: {exc.strerror or exc}") from exc

    def _write(self, frame: Frame, result: FrameResult | None, wall_time: str, step: SourceStep) -> None:
        self._check_room(frame.image)
        if self._last_source_time_s is None:
            self.info["resolution"] = [frame.image.shape[1], frame.image.shape[0]]
        else:
            self._last_time_s += self._time_since_last(frame.time_s, step)
        self._last_source_time_s = frame.time_s
        if step is SourceStep.WRAP:
            self._source_loop += 1
            self.info["source_wraps"] += 1
        elif step is SourceStep.SEEK:
            self.info["source_seeks"] += 1
        self._last_video_frame = self._append_video(frame.image)
        index = self.frames_recorded
        self.frames_recorded += 1
        faces = result.faces if result is not None else ()
        self._frames.write(
            FrameResult(index, self._last_time_s, faces),
            {
                "wall_time": wall_time,
                "video_frame": str(self._last_video_frame),
                "source_file": frame.file or "",
                "source_frame": str(frame.index),
                "source_loop": str(self._source_loop),
                "processed": "0" if result is None else "1",
            },
        )
        if result is None:
            self.info["unprocessed_frames"] += 1

    def _time_since_last(self, source_time_s: float, step: SourceStep) -> float:
        """Recording time from the last recorded frame to this one: the source's own time between
        them, or one frame period where the source jumped or its clock did not advance."""
        elapsed = source_time_s - self._last_source_time_s
        return elapsed if step is SourceStep.NEXT and elapsed > 0 else 1.0 / self.fps

    def _check_room(self, image) -> None:
        """Stop before the disk is full: there OpenCV's video writer fails without an error (frames
        would go missing from the video but not from frames.csv) and the session could not be
        finished. Room for two frames (their JPEG is well under half the raw image) is kept too."""
        try:
            free = shutil.disk_usage(self.path).free
        except OSError:
            return  # cannot tell; a write that fails still raises
        if free < FINISH_RESERVE_BYTES + image.nbytes:
            raise FerLiveError(
                f"the disk holding {self.path} is nearly full ({free // 1024} KiB left): recording stopped, "
                f"the {self.frames_recorded} frames before it are kept"
            )

    def _append_video(self, image) -> int:
        """Write `image` as the next video frame; returns its index. A full segment is closed here,
        before the next frame rather than after its own, so every frame in a closed segment
        already has its frames.csv row."""
        size = (image.shape[1], image.shape[0])
        # A full segment, or a change of frame size (image folders), starts a new segment.
        if self._segment is not None and (self._segment.frames >= self._segment_frames or self._segment.size != size):
            self._close_segment()
        if self._segment is None:
            path = self.path / SEGMENT_NAME.format(len(self.info["segments"]))
            self._segment = _SegmentWriter(path, self.fps, size, self.video_frames)
        self._segment.write(image)
        self.video_frames += 1
        return self.video_frames - 1

    def position(self) -> tuple[float, int]:
        """(session time in s, video frame) of the last recorded frame: where a marker added now goes."""
        with self._lock:
            return self._last_time_s, self._last_video_frame

    def add_marker(
        self, key: str | int = TEXT_MARKER_KEY, note: str = "", at: tuple[float, int] | None = None
    ) -> Marker:
        """Mark an event at the current frame, or at `at` (a `position()` taken earlier, e.g. when a
        note dialog opened): `key` 1–9 (labelled by the session's marker labels, with an optional
        note) or "m" for a free-text marker whose text is `note`."""
        key = str(key)
        note = " ".join(note.split())  # one line, so markers.csv stays one row per marker
        if key == TEXT_MARKER_KEY:
            if not note:
                raise FerLiveError("a free-text marker needs text")
            label = TEXT_MARKER_LABEL
        elif key in MARKER_KEYS:
            label = self.marker_labels[key]
        else:
            raise FerLiveError(f"marker key must be 1-9 or m, not {key!r}")
        with self._lock:
            if self.finished:
                raise FerLiveError("this session has been finished; markers can no longer be added")
            time_s, video_frame = at if at is not None else (self._last_time_s, self._last_video_frame)
            marker = Marker(
                time_s=time_s,
                video_frame=video_frame,
                wall_time=wall_clock_iso(),
                key=key,
                label=label,
                note=note,
            )
            try:
                self._markers.writerow(marker.to_row())
                self._markers_handle.flush()
            except OSError as exc:
                raise FerLiveError(f"cannot write marker to {self.path}: {exc.strerror or exc}") from exc
            self.markers.append(marker)
            return marker

    def finish(self, stopped_by: str = "stopped", source_damage: dict | None = None) -> None:
        """Close the last segment and the CSVs, and write the end time (and what of the source could
        not be read, `Source.damage_info()`, if anything); later calls do nothing."""
        with self._lock:
            if self.finished:
                return
            self.finished = True
            try:
                if self._segment is not None:
                    self._close_segment(save=False)
                self._frames.close()
                self._frames_handle.close()
                self._markers_handle.close()
                self.info["end_time"] = wall_clock_iso()
                self.info["stopped_by"] = stopped_by
                self.info["frames_recorded"] = self.frames_recorded
                if source_damage:
                    self.info["source_damage"] = source_damage
                if self._last_time_s > 0:
                    self.info["measured_fps"] = round((self.frames_recorded - 1) / self._last_time_s, 3)
                self._save_info()
            except OSError as exc:
                raise FerLiveError(f"cannot finish session in {self.path}: {exc.strerror or exc}") from exc

    def _close_segment(self, save: bool = True) -> None:
        self.info["segments"].append(self._segment.close())
        self._segment = None
        if save:
            self._save_info()

    def _save_info(self) -> None:
        self.info["video_frames"] = sum(segment["frames"] for segment in self.info["segments"])
        self.info["duration_s"] = round(self._last_time_s, 3)
        self.info["saved_at"] = wall_clock_iso()
        write_json_atomic(self.path / SESSION_JSON, self.info)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.finish("error" if exc_type else "stopped")
