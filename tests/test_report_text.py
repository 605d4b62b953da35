"""The report draws a session's own words as text: dollar signs in notes and labels are not maths."""

from __future__ import annotations

import numpy as np

from fer_live import cli
from fer_live.pipeline.sources import Frame
from fer_live.results import FaceResult, FrameResult
from fer_live.sessions.recorder import Recorder


def test_dollar_signs_in_marker_notes_and_labels_give_a_report(tmp_path):
    recorder = Recorder(
        tmp_path / "session", source="synthetic", fps=10.0, settings={}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "test"}, marker_labels={"1": r"$\frac$"},
    )  # fmt: skip
    image = np.full((120, 160, 3), 90, dtype=np.uint8)
    probs = np.full(8, 0.02, dtype=np.float32)
    probs[0] = 0.86
    for index in range(30):
        face = FaceResult(1, (40.0, 20.0, 60.0, 60.0), 0.9, probs, 0.1, 0.0)
        recorder.write(Frame(index, index / 10.0, image), FrameResult(index, index / 10.0, (face,)))
        if index == 10:
            recorder.add_marker("m", "won $5 (50%) then $3")
        if index == 20:
            recorder.add_marker(1)
    recorder.finish("source ended")
    out = tmp_path / "report"
    assert cli.main(["report", str(recorder.path), "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "won $5 (50%) then $3" in html and r"$\frac$" in html
    assert sorted(p.name for p in out.glob("*.png")) and not list(tmp_path.glob("*.png"))
