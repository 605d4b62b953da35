"""Lab Streaming Layer outlets: the per-frame readings as an `Affect` stream and events (session
markers, calibration) as a string stream, so LabRecorder stores them in one XDF file beside EEG,
eye tracking and stimulus markers.

One sample per processed frame, faces in fixed slots (DEFAULT_FACE_SLOTS). Why not one sample per
face: XDF readers (pyxdf, MNE, EEGLAB) give a stream as a samples × channels matrix on one time
axis, so with slots every channel is a plain signal (`face1_valence`, …) to epoch or resample beside
EEG, each frame is one sample at one timestamp, and the stream runs at its nominal rate (the source's
fps) instead of fps × faces. A slot's `face_id` channel names the track it holds: a track keeps its
slot while it is seen, a new one takes the lowest free slot; an empty slot, and every slot of a frame
without faces, is NaN, so time coverage stays explicit as in the CSV. Faces beyond the slots are
left out and counted (`FaceSlots.faces_left_out`).

Channels come from the one results schema (fer_live.results): `frame`, `time_s`, then every
numeric per-face column, per slot, holding the values the CSV holds; a column added to the schema
(with its unit in COLUMN_UNITS) joins the stream with no change here. `fer-live xdf2csv` turns a
recording back into the CSV's columns.

Timestamps are in LSL's clock (`pylsl.local_clock()`) and say when the frame was captured, not when
its sample is pushed (after inference, tens of milliseconds later): `CaptureClock` maps the
`time.monotonic()` capture time of a camera frame or of a file frame played in real time;
`VideoClock` gives a file processed as fast as it runs (`fer-live annotate`) the LSL time of its
first frame plus the video's own clock.

pylsl is imported only when an outlet opens, so the rest of fer_live runs without it.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fer_live import __version__
from fer_live.errors import FerLiveError
from fer_live.results import (
    AU_COLUMNS,
    COLUMN_UNITS,
    CSV_COLUMNS,
    GEOMETRY_COLUMNS,
    TEXT_COLUMNS,
    FrameResult,
    result_rows,
)

if TYPE_CHECKING:
    from fer_live.pipeline.frames import Pipeline

STREAM_TYPE = "Affect"
MARKER_STREAM_TYPE = "Markers"
FRAME_COLUMNS = ("frame", "time_s")
# The CSV's numeric per-face columns, face geometry (head pose, eyes, mouth) and action units included.
FACE_COLUMNS = tuple(
    c for c in CSV_COLUMNS + GEOMETRY_COLUMNS + AU_COLUMNS if c not in FRAME_COLUMNS and c not in TEXT_COLUMNS
)
DEFAULT_FACE_SLOTS = 4
# Samples an outlet keeps for a consumer that lags (LabRecorder reconnecting): 6 minutes.
MAX_BUFFERED_S = 360
INSTALL_HINT = "pip install 'fer_live[lsl]'"


class LslUnavailable(FerLiveError):
    """No outlet could be created (pylsl missing, liblsl failing, no free port); the caller goes on without."""


def slot_label(slot: int, column: str) -> str:
    return f"face{slot + 1}_{column}"


def channel_labels(face_slots: int = DEFAULT_FACE_SLOTS) -> list[str]:
    return [*FRAME_COLUMNS, *(slot_label(s, c) for s in range(face_slots) for c in FACE_COLUMNS)]


def _pylsl():
    try:
        import pylsl
    except ImportError:
        raise LslUnavailable(f"pylsl is not installed ({INSTALL_HINT})") from None
    except (RuntimeError, OSError) as exc:  # the wheel's liblsl failed to load
        raise LslUnavailable(f"liblsl could not be loaded: {exc}") from None
    return pylsl


def local_clock() -> float:
    return _pylsl().local_clock()


def source_id_for(description: str) -> str:
    """Stable across restarts for the same source on this machine, so LabRecorder picks the stream up
    again by it: the host plus the camera, or the video's absolute path."""
    path = Path(description)
    where = str(path.resolve()) if path.exists() else description
    return f"fer_live@{socket.gethostname()}:{where}"


class CaptureClock:
    """Maps `time.monotonic()` readings taken when frames were captured onto LSL's clock (the same
    steady clock on Linux; measured once rather than assumed, for other systems)."""

    def __init__(self):
        lsl_now = local_clock()
        self.offset = lsl_now - time.monotonic()

    def __call__(self, captured_at: float) -> float:
        return captured_at + self.offset


class VideoClock:
    """LSL timestamps for a file processed as fast as it runs: the LSL time when the first frame
    came, plus the frame's video time since the first frame."""

    def __init__(self):
        self._origin: tuple[float, float] | None = None

    def __call__(self, time_s: float) -> float:
        if self._origin is None:
            self._origin = (local_clock(), time_s)
        start, first_time_s = self._origin
        return start + time_s - first_time_s


class FaceSlots:
    """Turns FrameResults into samples: `frame`, `time_s`, then FACE_COLUMNS for each of `slots` faces."""

    def __init__(self, slots: int = DEFAULT_FACE_SLOTS):
        if slots < 1:
            raise FerLiveError(f"an LSL stream needs at least 1 face slot, not {slots}")
        self.slots = slots
        self.labels = channel_labels(slots)
        self.faces_left_out = 0
        self._slot_of: dict[int, int] = {}

    def sample(self, result: FrameResult) -> list[float]:
        values = [math.nan] * len(self.labels)
        values[0], values[1] = float(result.frame), float(result.time_s)
        slot_of = self._assign([face.face_id for face in result.faces])
        width = len(FACE_COLUMNS)
        for face, row in zip(result.faces, result_rows(result), strict=False):
            slot = slot_of.get(face.face_id)
            if slot is None:
                self.faces_left_out += 1
                continue
            start = len(FRAME_COLUMNS) + slot * width
            values[start : start + width] = [float(row[c]) if row[c] else math.nan for c in FACE_COLUMNS]
        return values

    def _assign(self, face_ids: Sequence[int]) -> dict[int, int]:
        """A track keeps its slot while it is seen; a new one takes the lowest free slot, if any."""
        present = set(face_ids)
        self._slot_of = {face: slot for face, slot in self._slot_of.items() if face in present}
        free = sorted(set(range(self.slots)) - set(self._slot_of.values()))
        for face in face_ids:
            if face not in self._slot_of and free:
                self._slot_of[face] = free.pop(0)
        return self._slot_of


class AffectOutlet:
    """The `Affect` stream of one running source: `push(result, timestamp)` for every processed frame."""

    def __init__(self, name: str, source_id: str, fps: float, provenance: dict, face_slots: int = DEFAULT_FACE_SLOTS):
        pylsl = _pylsl()
        self.slots = FaceSlots(face_slots)
        self.source_id = source_id
        info = pylsl.StreamInfo(name, STREAM_TYPE, len(self.slots.labels), fps, pylsl.cf_double64, source_id)
        _describe_channels(info.desc(), face_slots)
        _describe_provenance(info.desc(), provenance, face_slots)
        self._outlet = _open_outlet(pylsl, info)

    def push(self, result: FrameResult, timestamp: float) -> None:
        self._outlet.push_sample(self.slots.sample(result), timestamp)

    def wait_for_consumers(self, timeout_s: float) -> bool:
        return self._outlet.wait_for_consumers(timeout_s)


class MarkerOutlet:
    """A string stream of events: session markers (`marker_event`) and calibration events."""

    def __init__(self, name: str, source_id: str):
        pylsl = _pylsl()
        info = pylsl.StreamInfo(name, MARKER_STREAM_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, source_id)
        info.desc().append_child("channels").append_child("channel").append_child_value("label", "event")
        self._outlet = _open_outlet(pylsl, info)
        self._local_clock: Callable[[], float] = pylsl.local_clock

    def push(self, text: str, timestamp: float | None = None) -> None:
        """`text` at `timestamp` (LSL clock), or now."""
        self._outlet.push_sample([text], self._local_clock() if timestamp is None else timestamp)


def marker_event(key: str, text: str) -> str:
    """A session marker as the marker stream carries it: "1 start", "1 start: note", "m the note"."""
    return f"{key} {text}"


class LslStreams:
    """The outlets of one running source: `affect` (the readings) and `markers`; `close()` ends both.

    Raises LslUnavailable (one line, for the caller to show once and carry on without) when either
    cannot be created.
    """

    def __init__(self, description: str, fps: float, provenance: dict, face_slots: int = DEFAULT_FACE_SLOTS):
        source_id = source_id_for(description)
        name = f"fer_live {Path(description).name or description}"
        self.affect = AffectOutlet(name, source_id, fps, provenance, face_slots)
        self.markers = MarkerOutlet(f"{name} markers", f"{source_id}#markers")
        self.name = name

    def close(self) -> None:
        """Destroy the outlets now (consumers see the streams end) rather than at garbage collection."""
        self.affect._outlet = None
        self.markers._outlet = None


class LslOutput:
    """The LSL output of an application: the streams of the source it runs now (`open` per source).

    When streams cannot be created it says why once (through `say`) and stays off, so the
    application goes on without them. Thread-safe: a GUI opens and closes while inference pushes.
    """

    def __init__(self, say: Callable[[str], None], face_slots: int = DEFAULT_FACE_SLOTS):
        self.say = say
        self.face_slots = face_slots
        self.failure: str | None = None
        self.streams: LslStreams | None = None
        self._lock = threading.Lock()
        self._capture_clock: CaptureClock | None = None
        self._video_clock = VideoClock()

    def open(self, description: str, fps: float, provenance: dict) -> bool:
        """Stream a new source (closing the previous one's streams); False when LSL is off."""
        self.close()
        if self.failure is not None:
            return False
        try:
            streams = LslStreams(description, fps, provenance, self.face_slots)
            capture_clock = CaptureClock()
        except LslUnavailable as exc:
            self.failure = str(exc)
            self.say(f"LSL streaming is off: {exc}")
            return False
        with self._lock:
            self.streams, self._capture_clock, self._video_clock = streams, capture_clock, VideoClock()
        return True

    def push(self, result: FrameResult, captured_at: float | None = None) -> None:
        """Send a frame's readings, stamped with its capture time (`time.monotonic()` when it was
        read), or with None, by the video clock (a file processed as fast as it runs)."""
        with self._lock:
            if self.streams is None:
                return
            stamp = self._video_clock(result.time_s) if captured_at is None else self._capture_clock(captured_at)
            self.streams.affect.push(result, stamp)

    def mark(self, text: str) -> None:
        """Send an event (a session marker, a calibration step) stamped now."""
        with self._lock:
            if self.streams is not None:
                self.streams.markers.push(text)

    def wait_for_consumer(self, seconds: float, stop_requested: Callable[[], bool] | None = None) -> bool:
        """Wait until something (LabRecorder) receives the stream, up to `seconds`; True if it came."""
        streams = self.streams
        if streams is None or seconds <= 0:
            return False
        self.say(f"LSL: '{streams.name}' waits up to {seconds:g} s for a consumer (e.g. LabRecorder: tick it, Start)")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if streams.affect.wait_for_consumers(min(0.2, deadline - time.monotonic())):
                return True
            if stop_requested is not None and stop_requested():
                raise KeyboardInterrupt
        self.say(f"LSL: no consumer after {seconds:g} s; streaming anyway")
        return False

    def close(self) -> None:
        with self._lock:
            streams, self.streams = self.streams, None
        if streams is not None:
            streams.close()

    def __enter__(self) -> LslOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pipeline_provenance(pipeline: Pipeline) -> dict:
    """What makes the readings, for the stream's description: weights, runtime, settings."""
    engine = pipeline.engine
    return {
        "weights": engine.weights_info,
        "backend": engine.backend,
        "device": engine.device_name,
        "settings": pipeline.settings.to_dict(),
    }


def _open_outlet(pylsl, info):
    try:
        return pylsl.StreamOutlet(info, chunk_size=1, max_buffered=MAX_BUFFERED_S)
    except (RuntimeError, OSError) as exc:
        raise LslUnavailable(f"no LSL outlet could be created ({exc})") from None


def _describe_channels(desc, face_slots: int) -> None:
    """Label, unit and type of each channel, after the XDF meta-data conventions."""
    channels = desc.append_child("channels")
    for column in FRAME_COLUMNS:
        _channel(channels, column, column)
    for slot in range(face_slots):
        for column in FACE_COLUMNS:
            _channel(channels, slot_label(slot, column), column)


def _channel(channels, label: str, column: str) -> None:
    unit, kind = COLUMN_UNITS[column]
    channel = channels.append_child("channel")
    channel.append_child_value("label", label)
    channel.append_child_value("unit", unit)
    channel.append_child_value("type", kind)


def _describe_provenance(desc, provenance: dict, face_slots: int) -> None:
    acquisition = desc.append_child("acquisition")
    acquisition.append_child_value("manufacturer", "fer_live")
    acquisition.append_child_value("model", "fer_live facial affect")
    acquisition.append_child_value("version", __version__)
    fer_live = desc.append_child("fer_live")
    fer_live.append_child_value("face_slots", str(face_slots))
    fer_live.append_child_value("face_columns", ",".join(FACE_COLUMNS))
    for key, value in provenance.items():
        fer_live.append_child_value(key, value if isinstance(value, str) else json.dumps(value, sort_keys=True))
