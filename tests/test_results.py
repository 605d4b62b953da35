"""The results schema: exact columns, one row per face per frame, explicit face-less frames, round trip."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from fer_live.labels import EXPRESSIONS
from fer_live.results import (
    AU_COLUMNS,
    CSV_COLUMNS,
    GEOMETRY_COLUMNS,
    FaceGeometry,
    FaceResult,
    FrameResult,
    ResultsCsvWriter,
    formula_safe,
    from_formula_safe,
    read_results_csv,
)

EXPECTED_COLUMNS = (
    "frame,time_s,face_id,x,y,w,h,det_score,p_neutral,p_happy,p_sad,p_surprise,p_fear,p_disgust,p_anger,"
    "p_contempt,label,valence,arousal,calibrated"
).split(",")


def face(face_id: int, winner: int, box=(10.0, 20.0, 100.0, 110.0)) -> FaceResult:
    probs = np.full(len(EXPRESSIONS), 0.02, np.float32)
    probs[winner] = 1.0 - 0.02 * (len(EXPRESSIONS) - 1)
    return FaceResult(face_id, box, 0.91, probs, valence=0.25 * winner - 1.0, arousal=-0.5)


FRAMES = [
    FrameResult(0, 0.0, (face(1, 1), face(2, 3, (300.5, 40.25, 80.0, 80.0)))),
    FrameResult(1, 1 / 30, ()),
    FrameResult(2, 2 / 30, (face(2, 6, (301.0, 41.0, 81.0, 79.0)),)),
]


def written(frames, extra_columns=()) -> str:
    buffer = io.StringIO()
    writer = ResultsCsvWriter(buffer, extra_columns)
    for frame in frames:
        writer.write(frame, {c: f"{frame.frame}{c}" for c in extra_columns} or None)
    return buffer.getvalue()


def test_columns_are_the_documented_schema_in_order():
    assert list(CSV_COLUMNS) == EXPECTED_COLUMNS
    header = written([]).splitlines()[0]
    # Geometry came later, then the action units: after every earlier column, extras included, so
    # old readers keep working.
    aus = "au01 au02 au04 au05 au06 au07 au09 au10 au12 au14 au15 au17 au20 au23 au24 au25 au26".split()
    assert list(AU_COLUMNS) == aus
    assert header.split(",") == EXPECTED_COLUMNS + list(GEOMETRY_COLUMNS) + aus
    with_extras = written([], ("wall_time", "video_frame")).splitlines()[0]
    assert with_extras.split(",") == EXPECTED_COLUMNS + ["wall_time", "video_frame"] + list(GEOMETRY_COLUMNS) + aus


def test_action_units_written_and_read_back(tmp_path):
    aus = np.linspace(0.0, 1.0, len(AU_COLUMNS), dtype=np.float32)
    with_aus = FrameResult(0, 0.0, (FaceResult(1, (1.0, 2.0, 3.0, 4.0), 0.9, face(1, 1).probs, 0.1, 0.2, aus=aus),))
    path = tmp_path / "aus.csv"
    path.write_text(written([with_aus, FRAMES[1]]))
    rows = list(csv.DictReader(path.open()))
    assert rows[0]["au01"] == "0.0000" and rows[0]["au26"] == "1.0000" and rows[0]["au12"] == f"{aus[8]:.4f}"
    assert all(rows[1][c] == "" for c in AU_COLUMNS)  # a frame without faces: empty AU fields too
    back = read_results_csv(path)
    assert np.allclose(back[0].faces[0].aus, aus, atol=5e-5)
    assert read_results_csv(tmp_path / "aus.csv")[1].faces == ()
    # Weights without an AU head (v5) leave the fields empty, read back as None.
    path.write_text(written(FRAMES[:1]))
    assert all(f.aus is None for f in read_results_csv(path)[0].faces)


def test_geometry_fields_written_and_read_back(tmp_path):
    geometry = FaceGeometry(
        yaw=-12.345, pitch=3.0, roll=float("nan"), eye_open_l=0.91234, eye_open_r=0.2, blink=True,
        gaze_yaw=-20.0, gaze_pitch=1.5, mouth_open=0.3456, pose_ok=True,
    )  # fmt: skip
    plain = face(1, 1)
    frames = [FrameResult(0, 0.0, (FaceResult(**{**plain.__dict__, "geometry": geometry}), face(2, 3)))]
    path = tmp_path / "geometry.csv"
    path.write_text(written(frames))
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [rows[0][c] for c in GEOMETRY_COLUMNS] == [
        "-12.35", "3.00", "", "0.912", "0.200", "1", "-20.00", "1.50", "0.346", "1",
    ]  # fmt: skip
    assert all(rows[1][c] == "" for c in GEOMETRY_COLUMNS)  # a face without geometry
    back = read_results_csv(path)[0]
    assert back.faces[1].geometry is None
    read = back.faces[0].geometry
    assert (read.yaw, read.blink, read.pose_ok, read.eye_open_l) == (-12.35, True, True, 0.912)
    assert np.isnan(read.roll) and read.landmarks is None


def test_one_row_per_face_per_frame_and_one_empty_row_for_a_faceless_frame():
    rows = list(csv.DictReader(io.StringIO(written(FRAMES))))
    assert [(r["frame"], r["face_id"]) for r in rows] == [("0", "1"), ("0", "2"), ("1", ""), ("2", "2")]
    empty = rows[2]
    assert empty["time_s"] == "0.033"
    assert all(empty[c] == "" for c in CSV_COLUMNS[2:])
    assert rows[0]["label"] == "happy" and rows[1]["label"] == "surprise" and rows[3]["label"] == "anger"
    assert rows[1]["x"] == "300.5" and rows[1]["y"] == "40.2"
    probs = [float(rows[0][f"p_{name}"]) for name in EXPRESSIONS]
    assert sum(probs) == pytest.approx(1.0, abs=1e-3)


def test_rows_are_flushed_per_frame(tmp_path):
    path = tmp_path / "live.csv"
    writer = ResultsCsvWriter(path)
    writer.write(FRAMES[0])
    # Another reader sees the frame before the writer is closed.
    assert len(path.read_text().splitlines()) == 3
    writer.write(FRAMES[1])
    assert len(path.read_text().splitlines()) == 4
    writer.close()
    assert writer.rows_written == 3


def test_round_trip_through_read_results_csv(tmp_path):
    path = tmp_path / "results.csv"
    with ResultsCsvWriter(path) as writer:
        for frame in FRAMES:
            writer.write(frame)
    back = read_results_csv(path)
    assert [f.frame for f in back] == [0, 1, 2]
    assert [len(f.faces) for f in back] == [2, 0, 1]
    assert back[1].time_s == pytest.approx(1 / 30, abs=1e-3)
    for original, restored in zip(FRAMES, back, strict=True):
        for a, b in zip(original.faces, restored.faces, strict=True):
            assert b.face_id == a.face_id
            assert b.box == pytest.approx(a.box, abs=0.05)
            assert b.det_score == pytest.approx(a.det_score, abs=1e-3)
            np.testing.assert_allclose(b.probs, a.probs, atol=1e-4)
            assert (b.valence, b.arousal) == pytest.approx((a.valence, a.arousal), abs=1e-4)
            assert b.label == a.label
    assert back[0].largest_face().face_id == 1


def test_extra_columns_follow_the_schema():
    rows = list(csv.DictReader(io.StringIO(written(FRAMES, ("wall_time",)))))
    assert list(rows[0]) == [*EXPECTED_COLUMNS, "wall_time", *GEOMETRY_COLUMNS, *AU_COLUMNS]
    assert [r["wall_time"] for r in rows] == ["0wall_time", "0wall_time", "1wall_time", "2wall_time"]


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+2.jpg", "'=1+2.jpg"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=already quoted", "''=already quoted"),
        ("'plain", "''plain"),
        ("-0.5", "-0.5"),  # a number: a spreadsheet reads it as one, it runs nothing
        ("+3e-2", "+3e-2"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_a_spreadsheet_would_run_get_a_quote_and_read_back_as_they_were(text, cell):
    assert formula_safe(text) == cell
    assert from_formula_safe(cell) == text


def test_a_quote_before_plain_text_in_an_older_file_is_kept():
    assert from_formula_safe("'plain") == "'plain"


def test_extra_text_cells_are_written_formula_safe_and_numbers_stay_numbers():
    buffer = io.StringIO()
    ResultsCsvWriter(buffer, extra_columns=("source_file", "lsl_time")).write(
        FRAMES[1], {"source_file": '=HYPERLINK("http://x")+1.jpg', "lsl_time": "-0.500000"}
    )
    (row,) = csv.DictReader(io.StringIO(buffer.getvalue()))
    assert row["source_file"] == '\'=HYPERLINK("http://x")+1.jpg' and row["lsl_time"] == "-0.500000"


def csv_rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_markers_and_photo_names_that_a_spreadsheet_would_run_are_written_as_text(tmp_path):
    """A note, a marker label and an image file name starting with = + - @ reach markers.csv and
    frames.csv with a leading ' (a spreadsheet shows them, runs nothing); the readers give them back."""
    from fer_live.api import read_results
    from fer_live.pipeline.sources import Frame
    from fer_live.sessions.reader import Session
    from fer_live.sessions.recorder import Recorder

    recorder = Recorder(
        tmp_path / "s", source="stimuli", fps=10, settings={}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "unknown"},
        marker_labels={"1": "=1+2"},
    )  # fmt: skip
    recorder.write(Frame(0, 0.0, np.zeros((16, 16, 3), np.uint8), file='=HYPERLINK("x").jpg'), FrameResult(0, 0.0))
    recorder.write(Frame(1, 0.1, np.zeros((16, 16, 3), np.uint8), file="-0.5"), FrameResult(1, 0.1))
    recorder.add_marker(1, "@SUM(A1)")
    recorder.add_marker("m", "-cmd")
    recorder.finish()
    markers = csv_rows(tmp_path / "s" / "markers.csv")
    assert [(r["label"], r["note"]) for r in markers] == [("'=1+2", "'@SUM(A1)"), ("note", "'-cmd")]
    frames = csv_rows(tmp_path / "s" / "frames.csv")
    assert [r["source_file"] for r in frames] == ['\'=HYPERLINK("x").jpg', "-0.5"]  # a number stays a number
    session = Session.load(tmp_path / "s")
    assert [(m.label, m.note) for m in session.markers] == [("=1+2", "@SUM(A1)"), ("note", "-cmd")]
    assert list(read_results(tmp_path / "s" / "frames.csv")["source_file"]) == ['=HYPERLINK("x").jpg', "-0.5"]
