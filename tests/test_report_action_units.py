"""Action units in the session report (issue 27): time courses per face with a caption and their
label sources for sessions with AU columns, one line saying so for sessions without (v5 weights)."""

from __future__ import annotations

import numpy as np

from fer_live.evidence import au_title
from fer_live.labels import AU_COLUMNS
from fer_live.sessions import report
from fer_live.sessions.reader import Session
from fer_live.sessions.report import action_unit_figure, write_report
from tests.au_sessions import AWAY, FRAMES, face_aus, record_session


def test_a_session_with_action_units_gets_their_time_courses(tmp_path):
    session = Session.load(record_session(tmp_path / "s", with_aus=True))
    files = write_report(session, tmp_path / "report")
    page = files.html.read_text(encoding="utf-8")

    assert [path.name for path in files.figures][-1] == "face1_action_units.png"
    assert (tmp_path / "report" / "face1_action_units.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("data:image/png;base64,") == len(files.figures) == 4
    assert report.AU_CAPTION.split(" (FACS")[0] in page and "not a FACS coder&#x27;s" in page
    assert report.NO_ACTION_UNITS not in page
    # The overview names where the labels came from, grouped by source, from session.json.
    assert (
        "<td>action units</td><td>17 read by the model, learnt from labels by source (see the model card): "
        "teacher + prototype: AU1, AU2, AU4, AU5, AU7, AU9, AU10, AU14, AU15, AU17, AU20, AU23, AU24, AU25, "
        "AU26; prototype (happy) × AU12: AU6; teacher: AU12</td>"
    ) in page
    # Mean over the happy frames: AU6 0.6 above AU12's 0.53 (its ramp without the frames away), AU25 faint.
    assert "Most frequent label: happy — AU6 cheek raiser, AU12 lip corner puller (its prototype" in page

    # One strip per AU, named in words, holding the recorded intensities, blank while the face was away.
    figure = action_unit_figure(session, 1)
    assert len(figure.axes) == len(AU_COLUMNS)
    assert [axes.get_ylabel() for axes in figure.axes] == [au_title(column) for column in AU_COLUMNS]
    assert figure.axes[AU_COLUMNS.index("au12")].get_ylabel() == "AU12 lip corner puller"
    expected = np.array([face_aus(i) for i in range(FRAMES)], dtype=float)
    expected[list(AWAY)] = np.nan
    for index, axes in enumerate(figure.axes):
        times, values = axes.lines[0].get_data()
        np.testing.assert_allclose(times, np.arange(FRAMES) / 10, atol=1e-9)
        np.testing.assert_allclose(values, expected[:, index], atol=5e-5)
    assert figure.axes[0].get_ylim() == (0.0, 1.0)
    # The marker: a line in every strip, its name above the top one only.
    assert all(len(axes.lines) == 2 for axes in figure.axes)
    assert [text.get_text() for text in figure.axes[0].texts] == ["event 1"]
    assert all(not axes.texts for axes in figure.axes[1:])


def test_a_session_without_action_units_says_so(tmp_path):
    session = Session.load(record_session(tmp_path / "s", with_aus=False))
    assert all(face.aus is None for result in session.results for face in result.faces)
    files = write_report(session, tmp_path / "report")
    page = files.html.read_text(encoding="utf-8")

    assert [path.name for path in files.figures] == [
        "face1_expressions.png",
        "face1_valence_arousal.png",
        "face1_circumplex.png",
    ]
    assert f"<p>{report.NO_ACTION_UNITS}</p>" in page
    assert "<td>action units</td><td>none</td>" in page
    assert report.AU_CAPTION.split(" (FACS")[0] not in page and "Most frequent label" not in page
