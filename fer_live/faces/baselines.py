"""Participant calibration: a neutral baseline per tracked face, collected over a few seconds.

A collection takes every reading of a face for `seconds` (timestamps from the frames, so a video
file and the camera behave alike) and then becomes that track's Baseline, or is refused with a
one-line reason (too few frames, or the face clearly not neutral). Baselines are saved and loaded
as a small JSON file that names the weights they were measured with; a file from other weights is
refused, because the baseline is in that network's terms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_live.errors import FerLiveError
from fer_live.inference.operating_point import NEUTRAL_WEIGHT, Baseline
from fer_live.labels import AU_COLUMNS, EXPRESSIONS

FORMAT = "fer_live.calibration/1"
# Fewer readings than this average too little of the face's natural flicker to stand for it.
MIN_FRAMES = 5
# Below this a mean log-probability is no face's reading: e^-100 is under float32's smallest
# number, and a baseline that far out would push every calibrated logit beyond float32's range.
LOWEST_LOG_PROB = -100.0
# Saved probabilities are rounded to 6 decimals: 8 of them sum to 1 within 4e-6.
PROBS_SUM_TOLERANCE = 1e-3


@dataclass
class Collection:
    started: float  # seconds (frame time)
    seconds: float
    logits: list[np.ndarray] = field(default_factory=list)
    va: list[np.ndarray] = field(default_factory=list)
    aus: list[np.ndarray] = field(default_factory=list)

    def progress(self, now: float) -> float:
        return 1.0 if self.seconds <= 0 else min(1.0, max(0.0, (now - self.started) / self.seconds))


@dataclass(frozen=True)
class Outcome:
    """How one track's collection ended: a baseline, or the reason it was refused."""

    track_id: int
    baseline: Baseline | None
    refusal: str | None


class Baselines:
    """Track ID → neutral Baseline, and the collections in progress (owned by the tracking thread)."""

    def __init__(self, min_frames: int = MIN_FRAMES):
        self.min_frames = min_frames
        self.by_track: dict[int, Baseline] = {}
        self.collecting: dict[int, Collection] = {}

    def start(self, track_ids: list[int], now: float, seconds: float) -> None:
        """Begin (or restart) collecting for these tracks; their old baselines stop applying."""
        if seconds <= 0:
            raise FerLiveError(f"calibration seconds must be greater than 0, not {seconds:g}")
        for track_id in track_ids:
            self.by_track.pop(track_id, None)
            self.collecting[track_id] = Collection(now, seconds)

    def clear(self, track_ids: list[int] | None = None) -> None:
        """Forget the baselines (and collections) of these tracks, or of every track."""
        for store in (self.by_track, self.collecting):
            for track_id in list(store) if track_ids is None else track_ids:
                store.pop(track_id, None)

    def add(
        self, track_id: int, logits: np.ndarray, va: np.ndarray, now: float, aus: np.ndarray | None = None
    ) -> Outcome | None:
        """Feed one raw reading of a collecting track; the Outcome when its collection ends, else None."""
        collection = self.collecting.get(track_id)
        if collection is None:
            return None
        if now - collection.started < collection.seconds:
            collection.logits.append(np.asarray(logits, np.float64))
            collection.va.append(np.asarray(va, np.float64))
            if aus is not None:
                collection.aus.append(np.asarray(aus, np.float64))
            return None
        return self.finish(track_id)

    def finish(self, track_id: int) -> Outcome:
        """End a track's collection now (also when its face left the picture)."""
        collection = self.collecting.pop(track_id)
        if not collection.logits:
            return Outcome(track_id, None, f"no readings of face {track_id} while calibrating: keep it in view")
        aus = np.stack(collection.aus) if len(collection.aus) == len(collection.logits) else None
        baseline = Baseline.from_raw(np.stack(collection.logits), np.stack(collection.va), aus)
        refusal = baseline.refusal(self.min_frames)
        if refusal is None:
            self.by_track[track_id] = baseline
        return Outcome(track_id, None if refusal else baseline, refusal)

    def progress(self, track_id: int, now: float) -> float | None:
        collection = self.collecting.get(track_id)
        return None if collection is None else collection.progress(now)

    def baselines_for(self, track_ids: list[int]) -> list[Baseline | None]:
        return [self.by_track.get(t) for t in track_ids]


def calibration_document(baselines: dict[int, Baseline], weights_sha256: str, settings: dict) -> dict:
    """The JSON content of a calibration: baselines by track, the settings and the weights' sha256."""
    return {
        "format": FORMAT,
        "weights_sha256": weights_sha256,
        "neutral_weight": NEUTRAL_WEIGHT,
        "settings": settings,
        "baselines": {str(t): b.to_dict() for t, b in sorted(baselines.items())},
    }


def save_calibration(path: str | Path, baselines: dict[int, Baseline], weights_sha256: str, settings: dict) -> None:
    if not baselines:
        raise FerLiveError("no calibrated face to save: calibrate first")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(calibration_document(baselines, weights_sha256, settings), indent=2) + "\n")
    tmp.replace(path)


def read_calibration(data: dict, weights_sha256: str, source: str) -> dict[int, Baseline]:
    """Baselines by track from a calibration document; FerLiveError for a foreign or damaged one,
    including any value no measured baseline could hold (a hand edit, a damaged copy)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FerLiveError(f"not a fer_live calibration ({FORMAT!r} expected): {source}")
    if data.get("weights_sha256") != weights_sha256:
        raise FerLiveError(f"calibration {source} was made with other model weights: calibrate again with these")
    try:
        baselines = {_track_id(t): Baseline.from_dict(b) for t, b in data["baselines"].items()}
    except (KeyError, TypeError, ValueError, AttributeError, FerLiveError) as exc:
        raise FerLiveError(f"calibration {source} is damaged ({exc})") from exc
    if not baselines:
        raise FerLiveError(f"calibration {source} holds no baseline")
    for track_id, baseline in baselines.items():
        damage = _impossible_value(baseline)
        if damage is not None:
            raise FerLiveError(f"calibration {source} is damaged: face {track_id}: {damage}")
    return baselines


def _track_id(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"face ID {text!r} is not a whole number")
    return int(text)


def _impossible_value(baseline: Baseline) -> str | None:
    """What in a loaded baseline no collection could have measured, in a few words; None if nothing."""
    if baseline.frames < MIN_FRAMES:
        return f"frames {baseline.frames}: a baseline takes at least {MIN_FRAMES}"
    ranges = [
        ("log_probs", EXPRESSIONS, baseline.log_probs, LOWEST_LOG_PROB, 0.0),
        ("probs", EXPRESSIONS, baseline.probs, 0.0, 1.0),
        ("", ("valence", "arousal"), baseline.va, -1.0, 1.0),
    ]
    if baseline.aus is not None:
        ranges.append(("action_units", AU_COLUMNS, baseline.aus, 0.0, 1.0))
    for group, names, values, low, high in ranges:
        for name, value in zip(names, values, strict=True):
            if not low <= value <= high:  # also NaN
                return f"{f'{group} ' if group else ''}{name} {value:g} is not within [{low:g}, {high:g}]"
    if abs(baseline.probs.sum() - 1.0) > PROBS_SUM_TOLERANCE:
        return f"probs sum to {baseline.probs.sum():g}, not 1"
    return baseline.refusal(MIN_FRAMES)


def load_calibration(path: str | Path, weights_sha256: str) -> dict[int, Baseline]:
    path = Path(path)
    try:
        # utf-8-sig: a file saved by an editor that writes a byte-order mark reads the same.
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FerLiveError(f"calibration file not found: {path}") from None
    except OSError as exc:
        raise FerLiveError(f"cannot read calibration file {path}: {exc.strerror or exc}") from None
    # ValueError: also numbers too long to convert; RecursionError: nesting too deep to read.
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FerLiveError(f"calibration file is not readable JSON: {path} ({exc.__class__.__name__})") from None
    return read_calibration(data, weights_sha256, str(path))
