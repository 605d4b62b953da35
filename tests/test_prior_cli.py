"""--prior and participant calibration on the command lines: annotate, record, training.evaluate."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fer_live import cli
from fer_live.checksums import file_sha256
from fer_live.faces.baselines import save_calibration
from fer_live.inference.operating_point import Baseline
from tests.test_annotate import assert_one_error_about
from training import evaluate as evaluate_module


def annotate(capfd, *args) -> tuple[int, str, str]:
    try:
        status = cli.main(["annotate", *map(str, args), "--threads", "1"])
    except SystemExit as exc:  # argparse refusals
        status = exc.code
    captured = capfd.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--calibrate-seconds", "-1", "argument --calibrate-seconds: must be greater than 0, not -1"),
        ("--prior", "2", "argument --prior: prior τ must be within [0, 1], not 2"),
        (
            "--prior",
            "everyday",
            "argument --prior: prior must be natural, balanced, recommended or a number in [0, 1], not 'everyday'",
        ),
    ],
)
def test_bad_prior_or_seconds_is_one_line_and_exit_2(capfd, tmp_path, one_face_video, option, value, message):
    status, out, err = annotate(capfd, one_face_video[0], "-o", tmp_path, option, value)
    assert status == 2 and out == ""
    assert err.strip().splitlines() == [f"fer-live annotate: error: {message} (see fer-live annotate --help)"]


def test_missing_or_foreign_calibration_file_is_one_line(
    capfd, tmp_path, one_face_video, random_weights, calibratable_weights
):
    missing = tmp_path / "missing.json"
    status, _, err = annotate(
        capfd, one_face_video[0], "-o", tmp_path / "out", "--weights", random_weights, "--calibration", missing
    )
    assert status == 2 and "calibration file not found" in assert_one_error_about(err, missing)
    foreign = tmp_path / "foreign.json"
    baseline = Baseline.from_raw(np.zeros((5, 8)), np.zeros((5, 2)))
    save_calibration(foreign, {1: baseline}, file_sha256(calibratable_weights), {})
    status, _, err = annotate(
        capfd, one_face_video[0], "-o", tmp_path / "out", "--weights", random_weights, "--calibration", foreign
    )
    assert status == 2 and "made with other model weights" in assert_one_error_about(err, foreign)
    assert list((tmp_path / "out").glob("*.csv")) == []


def test_annotate_calibrates_the_first_seconds_and_records_what_it_applied(
    capfd, tmp_path, one_face_video, calibratable_weights
):
    status, out, err = annotate(
        capfd,
        one_face_video[0],
        "-o",
        tmp_path,
        "--weights",
        calibratable_weights,
        "--prior",
        "balanced",
        "--calibrate-seconds",
        "1",
    )
    assert status == 0, err
    with open(tmp_path / "one_face.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # 30 fps: the first second of the track is its baseline, every later row is calibrated.
    face_rows = [r for r in rows if r["face_id"]]
    assert {r["calibrated"] for r in face_rows[:30]} == {"0"}
    assert {r["calibrated"] for r in face_rows[31:]} == {"1"}
    sidecar = json.loads((tmp_path / "one_face.json").read_text())
    assert sidecar["operating_point"] == {"prior": "balanced", "tau": 1.0, "neutral_weight": 0.5}
    assert sidecar["settings"]["prior"] == "balanced" and sidecar["settings"]["calibrate_seconds"] == 1.0
    calibration = sidecar["calibration"]
    assert calibration["mode"] == "first_seconds" and calibration["seconds"] == 1.0
    # A random network's readings of a face are no one's neutral face: accepted or refused, it is said.
    ((face, outcome),) = calibration["faces"].items()
    assert isinstance(outcome, dict) and outcome["frames"] >= 29 or "calibration refused" in err


def test_evaluate_calibrates_subjects_by_their_neutral_rows(subjects_folder, calibratable_weights, tmp_path, capsys):
    out = tmp_path / "scores.json"
    args = ["--weights", str(calibratable_weights), "--data", str(subjects_folder), "--calibrate", "--json", str(out)]
    assert evaluate_module.main([*args, "--prior", "balanced"]) == 0
    report = json.loads(out.read_text())
    calibration = report["calibration"]
    assert calibration["subjects"] == 4 and calibration["subjects_without_neutral"] == 1
    assert calibration["calibrated_subjects"] + calibration["refused_subjects"] == 3
    # Amelia_Vega's 3 rows have no neutral rows to calibrate them; they are counted, not dropped.
    assert calibration["uncalibrated_rows"] >= 3 and report["n"] == 3 * 12 + 3
    assert report["operating_point"]["prior"] == "balanced"
    recall = [c["recall"] for c in report["per_class"].values() if c["support"] > 0]
    assert report["balanced_accuracy"] == pytest.approx(np.mean(recall))
    printed = capsys.readouterr().out
    assert "balanced accuracy" in printed and "without neutral rows" in printed


def test_evaluate_calibrate_needs_a_subject_column(tiny_ferplus, random_weights, capsys):
    assert evaluate_module.main(["--weights", str(random_weights), "--data", str(tiny_ferplus), "--calibrate"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"python -m training.evaluate: error: --calibrate needs a `subject` column in the labels of {tiny_ferplus}"
    ]


def test_record_keeps_the_prior_and_each_baseline_in_session_json(tmp_path, one_face_video, calibratable_weights):
    from fer_live.inference.operating_point import OperatingPoint
    from fer_live.model import load_weights
    from tests.test_sessions import read_rows, run_cli

    out = tmp_path / "session"
    code, stderr = run_cli(
        "record", "--source", str(one_face_video[0]), "--out", str(out), "--weights", str(calibratable_weights),
        "--duration", "2", "--prior", "0.5", "--calibrate-seconds", "1",
    )  # fmt: skip
    assert code == 0, stderr
    info = json.loads((out / "session.json").read_text())
    assert info["operating_point"] == {"prior": "0.5", "tau": 0.5, "neutral_weight": 0.5}
    assert info["settings"]["prior"] == "0.5" and info["settings"]["calibrate_seconds"] == 1.0
    (event,) = info["calibration"]
    assert event["face_id"] == 1 and 0.9 <= event["from_time_s"] <= 1.1
    rows = [r for r in read_rows(out / "frames.csv") if r["face_id"]]
    if "refused" in event:  # a random network may not read this face as neutral; then nothing is calibrated
        assert {r["calibrated"] for r in rows} == {"0"} and "calibration refused" in stderr
        return
    calibrated = [r for r in rows if r["calibrated"] == "1"]
    assert calibrated and all(float(r["time_s"]) >= event["from_time_s"] for r in calibrated)
    # The raw reading comes back from the recorded baseline (to the CSV's 4 decimals).
    _, meta = load_weights(calibratable_weights)
    point = OperatingPoint.from_meta(meta, "0.5")
    baseline = Baseline.from_dict(event["baseline"])
    probs = np.array(
        [
            float(calibrated[0][f"p_{n}"])
            for n in ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt")
        ]
    )
    raw, _ = point.uncalibrate(
        probs, np.array([float(calibrated[0]["valence"]), float(calibrated[0]["arousal"])]), baseline
    )
    recalibrated, _ = point.calibrate(raw, np.zeros(2), baseline)
    assert recalibrated == pytest.approx(probs, abs=2e-4)


def test_record_of_a_clip_shorter_than_the_calibration_time_records_each_faces_outcome(
    tmp_path, one_face_video, calibratable_weights
):
    """As annotate does: a face still being calibrated when the source ends gets its baseline from
    the frames seen, or a refusal that is said; session.json records either (it recorded nothing)."""
    from tests.test_sessions import run_cli

    out = tmp_path / "session"
    code, stderr = run_cli(
        "record", "--source", str(one_face_video[0]), "--out", str(out), "--weights", str(calibratable_weights),
        "--calibrate-seconds", "10",
    )  # fmt: skip
    assert code == 0, stderr
    info = json.loads((out / "session.json").read_text())
    (event,) = info["calibration"]
    assert event["face_id"] == 1 and event["from_time_s"] == info["duration_s"] == 2.967  # the 3 s clip's last frame
    if "refused" in event:  # a random network may not read this face as neutral
        assert f"fer-live: warning: face 1: calibration refused: {event['refused']}" in stderr.splitlines()
    else:
        assert event["baseline"]["frames"] == 90  # every frame of the clip


def test_record_refuses_a_foreign_calibration_before_making_the_session(
    tmp_path, one_face_video, random_weights, calibratable_weights
):
    from tests.test_sessions import run_cli

    foreign = tmp_path / "foreign.json"
    save_calibration(
        foreign, {1: Baseline.from_raw(np.zeros((5, 8)), np.zeros((5, 2)))}, file_sha256(calibratable_weights), {}
    )
    out = tmp_path / "session"
    code, stderr = run_cli(
        "record", "--source", str(one_face_video[0]), "--out", str(out), "--weights", str(random_weights),
        "--calibration", str(foreign),
    )  # fmt: skip
    assert code == 2 and stderr.strip().splitlines() == [
        f"fer-live: error: calibration {foreign} was made with other model weights: calibrate again with these"
    ]
    assert not out.exists()
