"""`fer-live xdf2csv`: fer_live's streams in an XDF recording (e.g. from LabRecorder) back into the
results CSV's columns.

Each fer_live `Affect` stream becomes OUT_DIR/<stem>.csv (<stem>_2.csv, … for more streams) with
the results CSV's columns plus `lsl_time`, the sample's timestamp on the recording's clock (pyxdf
applies LabRecorder's clock offsets, so it lines up with the other streams of the file); the events
of its marker stream go to <stem>_markers.csv (`lsl_time`, `event`). Timestamps are read without
dejittering: they are the frames' capture times already, and a live view that skipped frames while
inference caught up is not evenly spaced.

The numbers are the CSV's, digit for digit; a frame's faces come in slot order, and `label` is
recomputed from the 4-decimal probabilities (as `read_results_csv` does), so where the top two
round to the same value it names the first of them in EXPRESSIONS order. Marker events are text
cells: one a spreadsheet would run as a formula gets a leading `'` (results.formula_safe).

Damaged input is read as far as it goes and said in one line each: a stream that cannot be read
back (no channel labels, no frame channel, text samples …) is left out; a sample that cannot (a
NaN or infinite frame number …) is left out of its file and counted; a file that pyxdf found
damaged, or a stream without its footer (the recording was cut off), has what could be read
written. Each output is written to a temporary file and renamed into place, so no half file is
left behind.

An existing file of those names is replaced only when an earlier xdf2csv wrote it (its header says
so): `fer-live annotate` writes `<stem>.csv` too, and its results are not ours to overwrite.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from fer_live.errors import EXIT_BAD_INPUT, EXIT_DONE, EXIT_PARTLY_DONE, FerLiveError, OutputError

if TYPE_CHECKING:
    from fer_live.results import FrameResult

LSL_TIME_COLUMN = "lsl_time"
MARKER_COLUMNS = [LSL_TIME_COLUMN, "event"]
_SLOT_LABEL = re.compile(r"face(\d+)_(.+)")


class UnusableStream(FerLiveError):
    """A fer_live stream, or one sample of it, that cannot be read back into results."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("xdf", type=Path, metavar="FILE.xdf", help="an XDF recording (e.g. from LabRecorder)")
    parser.add_argument("-o", "--out-dir", type=Path, help="folder for the CSV files (default: beside FILE.xdf)")


@dataclass
class _Outcome:
    files_written: int = 0
    refused: bool = False  # an existing file that xdf2csv did not write was left as it is
    bad_input: bool = False  # a stream, some samples, or the file itself could not be read

    def status(self) -> int:
        if self.bad_input and not self.files_written:
            return EXIT_BAD_INPUT
        return EXIT_PARTLY_DONE if self.bad_input or self.refused else EXIT_DONE


def run(args: argparse.Namespace) -> int:
    from fer_live.pipeline.lsl import MARKER_STREAM_TYPE

    streams, damage = load_xdf(args.xdf)
    fer_live = [s for s in streams if _is_fer_live_stream(s)]
    if not fer_live:
        raise FerLiveError(f"no fer_live Affect stream in {args.xdf}")
    out_dir = args.out_dir or args.xdf.parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    pairs = [(stream, _marker_stream_of(stream, streams)) for stream in fer_live]
    damage = damage or _cut_off([s for pair in pairs for s in pair if s is not None])
    outcome = _Outcome()
    for number, (stream, markers) in enumerate(pairs, 1):
        stem = args.xdf.stem if number == 1 else f"{args.xdf.stem}_{number}"
        _convert_affect(args.xdf, stream, out_dir / f"{stem}.csv", damage is not None, outcome)
        if not _info(stream, "source_id") and any(_info(s, "type") == MARKER_STREAM_TYPE for s in streams):
            _say(f"{args.xdf}: stream {_name(stream)!r} has no source_id, so which marker stream is its own is unknown")
            outcome.bad_input = True
        if markers is not None:
            _convert_markers(markers, out_dir / f"{stem}_markers.csv", damage is not None, outcome)
    if damage is not None:
        read = "what could be read is written" if outcome.files_written else "nothing of fer_live's could be read"
        _say(f"{args.xdf} is damaged ({damage}); {read}")
        outcome.bad_input = True
    return outcome.status()


def _marker_stream_of(stream: dict, streams: list[dict]) -> dict | None:
    """The marker stream fer_live made beside an Affect stream: its source_id + "#markers"."""
    source_id = _info(stream, "source_id")
    return next((s for s in streams if source_id and _info(s, "source_id") == f"{source_id}#markers"), None)


def _convert_affect(xdf: Path, stream: dict, path: Path, damaged: bool, outcome: _Outcome) -> None:
    where = f"{xdf}: stream {_name(stream)!r}"
    try:
        layout = ChannelLayout.of_stream(stream)
    except UnusableStream as exc:
        _say(f"{where}: {exc}; not converted")
        outcome.bad_input = True
        return
    if not _ours_to_replace(path, lambda header: LSL_TIME_COLUMN in header):
        outcome.refused = True
        return
    samples = len(stream["time_stamps"])
    unreadable: list[str] = []
    # Nothing read of a damaged stream is not written: an empty file would pass for one without frames.
    frames, written = _write_whole(
        path,
        lambda handle: write_results(handle, layout, stream, unreadable.append),
        keep=lambda rows: rows > 0 or not (unreadable or damaged),
    )
    if unreadable:
        outcome.bad_input = True
        if frames == 0:
            _say(f"{where}: no sample of its {samples} can be read ({unreadable[0]}); not converted")
        else:
            _say(
                f"{where}: {len(unreadable)} of its {samples} samples cannot be read ({unreadable[0]}); "
                f"left out, the other {frames} written"
            )
    if written:
        print(f"{_name(stream)}: {frames} frames -> {path}")
        outcome.files_written += 1


def _convert_markers(stream: dict, path: Path, damaged: bool, outcome: _Outcome) -> None:
    if not _ours_to_replace(path, lambda header: header == MARKER_COLUMNS):
        outcome.refused = True
        return
    events, written = _write_whole(
        path, lambda handle: write_markers(handle, stream), keep=lambda rows: rows > 0 or not damaged
    )
    if written:
        print(f"{_name(stream)}: {events} events -> {path}")
        outcome.files_written += 1


def _write_whole(path: Path, write: Callable[[IO[str]], int], keep: Callable[[int], bool]) -> tuple[int, bool]:
    """(rows that `write` wrote, whether they replaced `path`): they go to a temporary file beside
    `path` that then replaces it when `keep(rows)`, so `path` is never a half-written file, whatever
    stops the writing, and an earlier file stays when there is nothing to keep."""
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed below, not deleted on close)
            "w", newline="", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with handle:
            rows = write(handle)
        kept = keep(rows)
        if kept:
            os.replace(handle.name, path)
    except BaseException as exc:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    if not kept:
        Path(handle.name).unlink()
    return rows, kept


def _ours_to_replace(path: Path, written_by_us: Callable[[list[str]], bool]) -> bool:
    """Whether `path` is free or holds an earlier xdf2csv output (`written_by_us` judges its header
    row); otherwise says, in one line, that it is left as it is."""
    if not os.path.lexists(path):
        return True
    header: list[str] = []
    if path.is_file():  # not a folder or a FIFO (reading one would block)
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            pass  # unreadable: not known to be ours
    if header and written_by_us(header):
        return True
    _say(
        f"{path} exists and was not written by xdf2csv (e.g. annotate's results); "
        "left as it is: choose another folder with -o"
    )
    return False


def load_xdf(path: Path) -> tuple[list[dict], str | None]:
    """The streams of an XDF file, and what pyxdf found damaged in it (None: nothing).

    pyxdf reads a damaged file as far as it can and logs what it skipped (with a traceback for some
    of it); those records are taken here, so the user gets our one line instead of pyxdf's text."""
    try:
        import pyxdf
    except ImportError:
        raise FerLiveError("reading XDF needs pyxdf (pip install 'fer_live[lsl]')") from None
    if not path.is_file():
        raise FerLiveError(f"XDF file not found: {path}")
    logger = logging.getLogger("pyxdf")
    records = _Records()
    logger.addHandler(records)
    propagate, logger.propagate = logger.propagate, False
    try:
        streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception as exc:  # pyxdf raises assorted errors for a damaged file
        raise FerLiveError(f"cannot read {path} as XDF: {exc.__class__.__name__}: {exc}") from None
    finally:
        logger.removeHandler(records)
        logger.propagate = propagate
    errors = [record.getMessage().rstrip(".") for record in records.taken if record.levelno >= logging.ERROR]
    return streams, f"pyxdf: {errors[0]}" if errors else None


class _Records(logging.Handler):
    """Keeps the log records it is given (pyxdf's warnings, e.g. "Segments and clock-segments
    differ" for every file without clock offsets, say nothing a user of xdf2csv can act on)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.taken: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.taken.append(record)


def _cut_off(streams: list[dict]) -> str | None:
    """LabRecorder ends every stream with a footer when the recording is stopped; a stream without
    one was cut off (the recorder or the machine died, the file was copied while written)."""
    unfinished = [_name(s) for s in streams if "footer" not in s]
    return f"stream {unfinished[0]!r} has no footer: the recording was cut off" if unfinished else None


def channel_labels_of(stream: dict) -> list[str]:
    """The channel labels in a stream's description (desc/channels/channel/label, the XDF convention)."""
    channels = _child(_child(stream["info"], "desc"), "channels")
    listed = channels.get("channel") if isinstance(channels, dict) else None
    if not isinstance(listed, list) or not listed:
        raise UnusableStream("it names no channels (desc/channels, where fer_live labels them)")
    labels = [_child(channel, "label") for channel in listed]
    for number, label in enumerate(labels, 1):
        if not isinstance(label, str) or not label:
            raise UnusableStream(f"its channel {number} has no label")
    return labels


@dataclass(frozen=True)
class ChannelLayout:
    """Where a fer_live Affect stream's sample holds each value: the frame's two channels, then per
    face slot, in slot order, its number and each column's channel. `finite`: the columns that must
    hold a finite number for a slot's face to be read."""

    frame_at: int
    time_at: int
    slots: tuple[tuple[int, dict[str, int]], ...]
    finite: tuple[str, ...]

    @classmethod
    def of_labels(cls, labels: Sequence[str]) -> ChannelLayout:
        from fer_live.results import AU_COLUMNS, GEOMETRY_COLUMNS, PROB_COLUMNS

        for column in ("frame", "time_s"):
            if column not in labels:
                raise UnusableStream(f"it has no {column} channel")
        found: dict[int, dict[str, int]] = {}
        for index, label in enumerate(labels):
            match = _SLOT_LABEL.fullmatch(label)
            if match:
                found.setdefault(int(match[1]), {})[match[2]] = index
        finite = ("x", "y", "w", "h", "det_score", *PROB_COLUMNS)
        for slot, columns in sorted(found.items()):
            missing = [c for c in ("face_id", *finite, "valence", "arousal") if c not in columns]
            # Face geometry and action units: each whole or not at all (older versions streamed neither).
            for group in (GEOMETRY_COLUMNS, AU_COLUMNS):
                if any(c in columns for c in group):
                    missing += [c for c in group if c not in columns]
            if missing:
                raise UnusableStream(f"face slot {slot} has no face{slot}_{missing[0]} channel")
        return cls(labels.index("frame"), labels.index("time_s"), tuple(sorted(found.items())), finite)

    @classmethod
    def of_stream(cls, stream: dict) -> ChannelLayout:
        """The layout of a fer_live stream in an XDF file; UnusableStream says why there is none."""
        from fer_live.pipeline.lsl import STREAM_TYPE

        kind = _info(stream, "type")
        if kind != STREAM_TYPE:
            raise UnusableStream(f"its type is {kind!r}, not {STREAM_TYPE}" if kind else "it has no type")
        if _info(stream, "channel_format") == "string":
            raise UnusableStream("its samples are text (channel_format string), not fer_live's numbers")
        labels = channel_labels_of(stream)
        channels = _info(stream, "channel_count")
        if channels != str(len(labels)):
            raise UnusableStream(f"it labels {len(labels)} channels but has {channels or 'no channel count'}")
        return cls.of_labels(labels)

    def frame_from_sample(self, values: Sequence[float], stamp: float) -> tuple[FrameResult, float]:
        """(FrameResult, timestamp) of one sample; UnusableStream says what in it cannot be read."""
        from fer_live.results import parse_rows

        frame = _whole(values[self.frame_at], "frame")
        base = {"frame": str(frame), "time_s": repr(_finite(values[self.time_at], "time_s"))}
        _finite(stamp, "its timestamp")
        rows = []
        for number, slot in self.slots:
            if math.isnan(values[slot["face_id"]]):
                continue  # an empty slot
            _whole(values[slot["face_id"]], f"face{number}_face_id")
            for column in self.finite:
                _finite(values[slot[column]], f"face{number}_{column}")
            rows.append({**base, **{column: _text(values[at]) for column, at in slot.items()}})
        ((result, _),) = parse_rows(rows or [base])
        return result, float(stamp)


def frames_from_samples(
    labels: Sequence[str], samples: Sequence[Sequence[float]], stamps: Sequence[float]
) -> Iterator[tuple[FrameResult, float]]:
    """(FrameResult, timestamp) of each sample of a fer_live Affect stream with these channel labels;
    UnusableStream for labels that are not a fer_live stream's, or a sample that cannot be read."""
    layout = ChannelLayout.of_labels(labels)
    for values, stamp in zip(samples, stamps, strict=True):
        yield layout.frame_from_sample(values, stamp)


def write_results(handle: IO[str], layout: ChannelLayout, stream: dict, unreadable: Callable[[str], None]) -> int:
    """Frames of the stream written to `handle`; each sample that cannot be read goes to `unreadable`
    (why, with its number) and is left out."""
    from fer_live.results import ResultsCsvWriter

    writer = ResultsCsvWriter(handle, extra_columns=(LSL_TIME_COLUMN,))
    frames = 0
    for number, (values, stamp) in enumerate(zip(stream["time_series"], stream["time_stamps"], strict=True), 1):
        try:
            result, stamp = layout.frame_from_sample(values, stamp)
        except UnusableStream as exc:
            unreadable(f"sample {number}: {exc}")
            continue
        writer.write(result, {LSL_TIME_COLUMN: f"{stamp:.6f}"}, flush=False)
        frames += 1
    return frames


def write_markers(handle: IO[str], stream: dict) -> int:
    """The marker stream's events written to `handle` (text through formula_safe); how many."""
    from fer_live.results import formula_safe

    writer = csv.writer(handle)
    writer.writerow(MARKER_COLUMNS)
    for values, stamp in zip(stream["time_series"], stream["time_stamps"], strict=True):
        event = str(values[0]) if len(values) else ""
        writer.writerow([f"{stamp:.6f}", formula_safe(event)])
    return len(stream["time_stamps"])


def _is_fer_live_stream(stream: dict) -> bool:
    """fer_live describes its Affect streams under desc/fer_live (weights, runtime, settings)."""
    desc = _child(stream["info"], "desc")
    return isinstance(desc, dict) and "fer_live" in desc


def _child(node, key: str):
    """The first `key` element under an element as pyxdf gives it (a dict of lists), or None."""
    values = node.get(key) if isinstance(node, dict) else None
    return values[0] if isinstance(values, list) and values else None


def _info(stream: dict, key: str) -> str:
    value = _child(stream["info"], key)
    return value if isinstance(value, str) else ""


def _name(stream: dict) -> str:
    return _info(stream, "name") or f"stream {stream['info'].get('stream_id', '?')}"


def _say(line: str) -> None:
    print(f"fer-live: error: {line}", file=sys.stderr, flush=True)


def _whole(value: float, what: str) -> int:
    if not math.isfinite(value) or not float(value).is_integer():
        raise UnusableStream(f"{what} is {float(value)!r}, not a whole number")
    return int(value)


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise UnusableStream(f"{what} is {float(value)!r}, not a number")
    return float(value)


def _text(value: float) -> str:
    """A channel's value as the CSV reader takes it: whole numbers (IDs, blink, pose_ok) without ".0"."""
    if math.isnan(value):
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
