"""Sessions with known action units, recorded through the Recorder API, for the report's and the
review window's AU tests: one happy face whose AU12 rises over the session, out of view for a while."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_live.labels import ACTION_UNITS, AU_COLUMNS
from fer_live.pipeline.sources import Frame
from fer_live.results import FaceResult, FrameResult
from fer_live.sessions.recorder import Recorder

FRAMES = 40
FPS = 10.0
AWAY = range(10, 15)  # frames without the face: a gap in its time courses
MARKER_FRAME = 20
# Where the weights' AU labels came from (session.json weights.action_units), as training records it.
LABEL_SOURCES = {"au06": "prototype (happy) × AU12", "au12": "teacher"}
DEFAULT_SOURCE = "teacher + prototype"


def face_aus(index: int) -> np.ndarray:
    """Frame `index`'s AUs: AU12 rising from 0 to 1, AU6 steady at 0.6, the rest faint (0.05); four
    decimals, as frames.csv keeps them."""
    aus = np.full(len(AU_COLUMNS), 0.05, dtype=np.float32)
    aus[AU_COLUMNS.index("au06")] = 0.6
    aus[AU_COLUMNS.index("au12")] = round(index / (FRAMES - 1), 4)
    return aus


def weights_info(with_aus: bool) -> dict:
    info = {"file": "none", "sha256": "", "model_version": "test"}
    if with_aus:
        info["action_units"] = [
            {"column": c, "name": ACTION_UNITS[c][0], "labels": LABEL_SOURCES.get(c, DEFAULT_SOURCE)}
            for c in AU_COLUMNS
        ]
    return info


def record_session(path: Path, with_aus: bool) -> Path:
    """A session of FRAMES frames at FPS with face 1 (happy) away in AWAY and one marker; its AUs
    are face_aus(frame) with AU weights, none without (as v5 weights record)."""
    recorder = Recorder(
        path, source="synthetic", fps=FPS, settings={"smoothing": 0.0}, device="CPU", weights=weights_info(with_aus)
    )
    image = np.full((120, 160, 3), 90, dtype=np.uint8)
    probs = np.full(8, 0.02, dtype=np.float32)
    probs[1] = 0.86  # happy
    for index in range(FRAMES):
        aus = face_aus(index) if with_aus else None
        faces = () if index in AWAY else (FaceResult(1, (40.0, 20.0, 60.0, 60.0), 0.9, probs, 0.5, 0.2, aus=aus),)
        recorder.write(Frame(index, index / FPS, image), FrameResult(index, index / FPS, faces))
        if index == MARKER_FRAME:
            recorder.add_marker(1)
    recorder.finish("source ended")
    return recorder.path
