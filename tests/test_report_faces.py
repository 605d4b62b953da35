"""The session report with many faces (issue 17, item 9): every face that passes the presence rule
gets its interval rows, a section up to the page's cap, and the page names each face it leaves out.

Frames are real faces (a FaceScene of the shared data); results are set so that each face's
presence is known exactly.
"""

from __future__ import annotations

import csv
import re

import numpy as np

from fer_live.bench.videos import FaceScene
from fer_live.pipeline.sources import Frame
from fer_live.results import FaceResult, FrameResult
from fer_live.sessions import report
from fer_live.sessions.reader import Session
from fer_live.sessions.recorder import Recorder
from fer_live.sessions.report import write_report
from tests.videos import DEFAULT_FACES

FRAMES = 100


def presence(face_id: int) -> int:
    """Frames face `face_id` is in: faces 1..10 in 100, 97, 94, … frames, face 11 in one frame only."""
    return 1 if face_id == 11 else FRAMES - 3 * (face_id - 1)


def record_crowd(path) -> None:
    scene = FaceScene(DEFAULT_FACES[:2], FRAMES, size=(160, 120), side=50)
    recorder = Recorder(
        path, source="synthetic crowd", fps=10, settings={"smoothing": 0.0}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "unknown"},
    )  # fmt: skip
    for index in range(FRAMES):
        probs = np.eye(8, dtype=np.float32)
        faces = tuple(
            FaceResult(face_id, (float(face_id), 2.0, 10.0, 10.0), 0.9, probs[face_id % 8], 0.1, -0.1)
            for face_id in range(1, 12)
            if index < presence(face_id)
        )
        recorder.write(Frame(index, index / 10, scene.draw(index)[0]), FrameResult(index, index / 10, faces))
        if index == 50:
            recorder.add_marker(1)
    recorder.finish("source ended")


def test_every_face_that_passes_the_presence_rule_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "PAGE_FACES", 8)  # the cap, lowered to keep the test short
    record_crowd(tmp_path / "s")
    files = write_report(Session.load(tmp_path / "s"), tmp_path / "report", with_csv=True)
    page = files.html.read_text(encoding="utf-8")

    # 10 faces pass the rule (≥ 2 % of the frames), more than the 6 that once had sections; the
    # page has figures for the 8 most present and names the other two.
    assert re.findall(r"<h2>Face (\d+)</h2>", page) == [str(face_id) for face_id in range(1, 9)]
    assert len(files.figures) == 3 * 8
    assert "2 more face(s) pass the presence rule but have no figures here (at most 8 faces" in page
    assert "#9 in 76 of 100 frames, #10 in 73 of 100 frames" in page
    assert "their rows are in the interval table and intervals.csv" in page
    assert "1 face(s) seen in under 2% of the frames" in page and "#11 in 1 of 100 frames" in page
    assert "briefly seen" not in page

    # intervals.csv and the page's table: two intervals (one marker) × (all + 10 faces), none capped.
    with open(files.intervals_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["face"] for row in rows] == (["all"] + [str(face_id) for face_id in range(1, 11)]) * 2
    before = {row["face"]: int(row["face_frames"]) for row in rows if row["interval"] == "1"}
    after = {row["face"]: int(row["face_frames"]) for row in rows if row["interval"] == "2"}
    for face_id in range(1, 11):
        assert before[str(face_id)] + after[str(face_id)] == presence(face_id)
    assert page.count("<tr><td>2</td>") == 11
