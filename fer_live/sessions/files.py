"""What a session folder holds and how its small files are read: names, markers, marker labels,
session.json, and CSV text that may end mid-line after a kill."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from fer_live.errors import FerLiveError
from fer_live.results import formula_safe, from_formula_safe

SESSION_FORMAT = "fer_live.session/1"
SESSION_JSON = "session.json"
FRAMES_CSV = "frames.csv"
MARKERS_CSV = "markers.csv"
SEGMENT_NAME = "segment_{:04d}.avi"
# Motion JPEG in AVI: every frame is a key frame (exact seeking), and a file cut short by a kill
# still decodes up to its last whole frame, unlike an mp4 whose index is written on close.
SEGMENT_FOURCC = "MJPG"
# Columns frames.csv adds to the results schema (whose `frame` and `time_s` are the recording's:
# fer_live.sessions.recorder). source_file names the image of an image-folder source (each image a
# still of its own), empty for video and cameras; source_frame and source_loop say where the frame
# was in the source (its frame index, and how many times a looping file had started over);
# processed is 0 for a frame recorded without results (the model did not process it).
FRAME_EXTRA_COLUMNS = ("wall_time", "video_frame", "source_file", "source_frame", "source_loop", "processed")
MARKER_COLUMNS = ("time_s", "video_frame", "wall_time", "key", "label", "note")
MARKER_KEYS = tuple("123456789")
TEXT_MARKER_KEY = "m"
TEXT_MARKER_LABEL = "note"


@dataclass(frozen=True)
class Marker:
    """An event the researcher marked: on a number key (`key` "1"–"9", `label` from the session's
    marker labels) or as free text (`key` "m", the text in `note`). `video_frame` is the recorded
    frame that was current when the marker was placed, and `time_s` that frame's session time."""

    time_s: float
    video_frame: int
    wall_time: str
    key: str
    label: str
    note: str = ""

    @property
    def text(self) -> str:
        """What a plot or list shows for the marker."""
        if self.key == TEXT_MARKER_KEY:
            return self.note
        return f"{self.label}: {self.note}" if self.note else self.label

    def to_row(self) -> dict[str, str]:
        """markers.csv's row; the label and note are typed by people, so through `formula_safe`."""
        return {
            "time_s": f"{self.time_s:.3f}",
            "video_frame": str(self.video_frame),
            "wall_time": self.wall_time,
            "key": self.key,
            "label": formula_safe(self.label),
            "note": formula_safe(self.note),
        }

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Marker:
        return cls(
            time_s=float(row["time_s"]),
            video_frame=int(row["video_frame"]),
            wall_time=row["wall_time"],
            key=row["key"],
            label=from_formula_safe(row["label"]),
            note=from_formula_safe(row["note"] or ""),
        )


def default_marker_labels() -> dict[str, str]:
    return {key: f"event {key}" for key in MARKER_KEYS}


def parse_marker_labels(spec: str) -> dict[str, str]:
    """`"1=start,2=task"` → labels for keys 1–9 (keys not named keep their default label)."""
    labels = default_marker_labels()
    named: set[str] = set()
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, label = (text.strip() for text in item.partition("="))
        if not sep or key not in MARKER_KEYS or not label:
            raise FerLiveError(f"marker label {item!r} must look like KEY=LABEL with KEY 1-9 (e.g. '1=start,2=task')")
        if key in named:
            raise FerLiveError(f"marker key {key} is labelled twice in {spec!r}")
        named.add(key)
        labels[key] = label
    return labels


def read_json(path: Path) -> dict:
    try:
        # utf-8-sig: a file saved by an editor that writes a byte-order mark reads the same.
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise FerLiveError(f"not a session folder (no {path.name}): {path.parent}") from None
    except RecursionError:
        raise FerLiveError(f"cannot read {path}: JSON nested too deeply") from None
    # ValueError: JSON errors, and numbers with too many digits to convert.
    except (OSError, ValueError) as exc:
        raise FerLiveError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise FerLiveError(f"{path} is not a fer_live session file (format {SESSION_FORMAT!r} expected)")
    return data


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV that may have been cut mid-line by a kill: only complete lines are read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FerLiveError(f"session file missing: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FerLiveError(f"cannot read {path}: {exc}") from exc
    complete = text[: text.rfind("\n") + 1]
    return list(csv.DictReader(io.StringIO(complete, newline="")))
