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
round to the same value it names the first of them in EXPRESSIONS order.

An existing file of those names is replaced only when an earlier xdf2csv wrote it (its header says
so): `fer-live annotate` writes `<stem>.csv` too, and its results are not ours to overwrite.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fer_live.errors import EXIT_DONE, EXIT_PARTLY_DONE, FerLiveError, OutputError

if TYPE_CHECKING:
    from fer_live.results import FrameResult

LSL_TIME_COLUMN = "lsl_time"
MARKER_COLUMNS = [LSL_TIME_COLUMN, "event"]
_SLOT_LABEL = re.compile(r"face(\d+)_(.+)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("xdf", type=Path, metavar="FILE.xdf", help="an XDF recording (e.g. from LabRecorder)")
    parser.add_argument("-o", "--out-dir", type=Path, help="folder for the CSV files (default: beside FILE.xdf)")


def run(args: argparse.Namespace) -> int:
    streams = load_xdf(args.xdf)
    affect = [s for s in streams if _is_fer_live_affect(s)]
    if not affect:
        raise FerLiveError(f"no fer_live Affect stream in {args.xdf}")
    out_dir = args.out_dir or args.xdf.parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    refused = False
    for number, stream in enumerate(affect, 1):
        stem = args.xdf.stem if number == 1 else f"{args.xdf.stem}_{number}"
        path = out_dir / f"{stem}.csv"
        if _ours_to_replace(path, lambda header: LSL_TIME_COLUMN in header):
            frames = write_results_csv(path, stream)
            print(f"{_info(stream, 'name')}: {frames} frames -> {path}")
        else:
            refused = True
        source_id = _info(stream, "source_id")
        markers = [s for s in streams if _info(s, "source_id") == f"{source_id}#markers"]
        if not markers:
            continue
        path = out_dir / f"{stem}_markers.csv"
        if _ours_to_replace(path, lambda header: header == MARKER_COLUMNS):
            events = write_markers_csv(path, markers[0])
            print(f"{_info(markers[0], 'name')}: {events} events -> {path}")
        else:
            refused = True
    return EXIT_PARTLY_DONE if refused else EXIT_DONE


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
    print(
        f"fer-live: error: {path} exists and was not written by xdf2csv (e.g. annotate's results); "
        "left as it is: choose another folder with -o",
        file=sys.stderr,
        flush=True,
    )
    return False


def load_xdf(path: Path) -> list[dict]:
    try:
        import pyxdf
    except ImportError:
        raise FerLiveError("reading XDF needs pyxdf (pip install 'fer_live[lsl]')") from None
    if not path.is_file():
        raise FerLiveError(f"XDF file not found: {path}")
    try:
        streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception as exc:  # pyxdf raises assorted errors for a damaged file
        raise FerLiveError(f"cannot read {path} as XDF: {exc.__class__.__name__}: {exc}") from None
    return streams


def channel_labels_of(stream: dict) -> list[str]:
    desc = stream["info"]["desc"][0] or {}
    return [channel["label"][0] for channel in desc["channels"][0]["channel"]]


def frames_from_samples(
    labels: Sequence[str], samples: Sequence[Sequence[float]], stamps: Sequence[float]
) -> Iterator[tuple[FrameResult, float]]:
    """(FrameResult, timestamp) of each sample of a fer_live Affect stream with these channel labels."""
    from fer_live.results import parse_rows

    frame_at, time_at = labels.index("frame"), labels.index("time_s")
    slots: dict[int, dict[str, int]] = {}
    for index, label in enumerate(labels):
        match = _SLOT_LABEL.fullmatch(label)
        if match:
            slots.setdefault(int(match[1]), {})[match[2]] = index
    for values, stamp in zip(samples, stamps, strict=True):
        base = {"frame": str(int(values[frame_at])), "time_s": repr(float(values[time_at]))}
        rows = [
            {**base, **{column: _text(values[at]) for column, at in slot.items()}}
            for _, slot in sorted(slots.items())
            if not math.isnan(values[slot["face_id"]])
        ]
        ((result, _),) = parse_rows(rows or [base])
        yield result, float(stamp)


def write_results_csv(path: Path, stream: dict) -> int:
    from fer_live.results import ResultsCsvWriter

    frames = 0
    try:
        with ResultsCsvWriter(path, extra_columns=(LSL_TIME_COLUMN,)) as writer:
            samples = frames_from_samples(channel_labels_of(stream), stream["time_series"], stream["time_stamps"])
            for result, stamp in samples:
                writer.write(result, {LSL_TIME_COLUMN: f"{stamp:.6f}"}, flush=False)
                frames += 1
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return frames


def write_markers_csv(path: Path, stream: dict) -> int:
    try:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(MARKER_COLUMNS)
            for values, stamp in zip(stream["time_series"], stream["time_stamps"], strict=True):
                writer.writerow([f"{stamp:.6f}", values[0]])
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(stream["time_stamps"])


def _is_fer_live_affect(stream: dict) -> bool:
    from fer_live.pipeline.lsl import STREAM_TYPE

    desc = stream["info"]["desc"][0] or {}
    return _info(stream, "type") == STREAM_TYPE and "fer_live" in desc


def _info(stream: dict, key: str) -> str:
    return stream["info"][key][0]


def _text(value: float) -> str:
    """A channel's value as the CSV reader takes it: whole numbers (IDs, blink, pose_ok) without ".0"."""
    if math.isnan(value):
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
