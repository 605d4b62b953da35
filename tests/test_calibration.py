"""Participant calibration: per-track baselines in the pipeline, their collection, and the JSON file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_live.checksums import file_sha256
from fer_live.errors import FerLiveError
from fer_live.faces.baselines import FORMAT, Baselines, load_calibration, save_calibration
from fer_live.faces.detection import Detection
from fer_live.inference.engine import Prediction
from fer_live.inference.operating_point import Baseline
from fer_live.labels import AU_COLUMNS, INDEX
from fer_live.pipeline.frames import Pipeline, PipelineSettings

NEUTRAL_READING = np.array([0.7, 0.1, 0.1, 0.02, 0.02, 0.02, 0.02, 0.02], np.float32)
SAD_READING = np.array([0.45, 0.02, 0.45, 0.02, 0.02, 0.02, 0.01, 0.01], np.float32)


def detections() -> list[Detection]:
    """Two faces far apart, so the tracker keeps their IDs (1 left, 2 right)."""
    return [
        Detection((40, 40, 100, 100), 0.9, (70, 80), (110, 80)),
        Detection((400, 40, 100, 100), 0.9, (430, 80), (470, 80)),
    ]


def run_frames(pipeline: Pipeline, first: int, count: int, fps: float = 10.0):
    results = []
    for index in range(first, first + count):
        probs = np.stack([SAD_READING, SAD_READING])
        va = np.array([[-0.3, 0.1], [-0.3, 0.1]], np.float32)
        results.append(pipeline.assemble(index, index / fps, detections(), Prediction(probs, va, np.zeros((2, 0)))))
    return results


@pytest.fixture
def pipeline(calibratable_weights):
    with Pipeline(PipelineSettings(device="cpu", backend="torch"), weights=calibratable_weights) as pipe:
        yield pipe


def test_calibrating_face_1_leaves_face_2_untouched(pipeline):
    run_frames(pipeline, 0, 1)
    pipeline.request_calibration([1], seconds=1.0)
    collecting = run_frames(pipeline, 1, 11)  # starts at 0.1 s; the frame at 1.1 s ends it
    progress = [round(r.faces[0].calibration_progress, 1) for r in collecting[:-1]]
    assert progress == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert all(r.faces[1].calibration_progress is None and not r.faces[1].calibrated for r in collecting)
    outcome = pipeline.calibration_outcomes.pop()
    assert outcome.track_id == 1 and outcome.refusal is None and outcome.baseline.frames == 10
    after = collecting[-1]
    one, two = after.faces
    assert one.calibrated and not two.calibrated
    assert two.probs == pytest.approx(SAD_READING, abs=1e-6)  # face 2 reads as before
    # Face 1's own sad resting face is now its neutral: it reads more neutral than face 2.
    assert one.probs[INDEX["neutral"]] > two.probs[INDEX["neutral"]]
    assert one.probs[INDEX["sad"]] < two.probs[INDEX["sad"]]


def test_clear_and_recalibrate(pipeline):
    run_frames(pipeline, 0, 1)
    pipeline.request_calibration(None, seconds=0.5)  # None: every face of the next frame
    run_frames(pipeline, 1, 7)
    assert sorted(o.track_id for o in pipeline.calibration_outcomes) == [1, 2]
    assert all(f.calibrated for f in run_frames(pipeline, 8, 1)[0].faces)
    pipeline.request_clear_calibration([2])
    faces = run_frames(pipeline, 9, 1)[0].faces
    assert faces[0].calibrated and not faces[1].calibrated
    pipeline.request_clear_calibration()
    assert not any(f.calibrated for f in run_frames(pipeline, 10, 1)[0].faces)


def test_a_face_leaving_mid_collection_ends_it_with_a_refusal(pipeline):
    run_frames(pipeline, 0, 1)
    pipeline.request_calibration([1], seconds=5.0)
    run_frames(pipeline, 1, 2)
    for index in range(3, 3 + 12):  # no faces: the tracks die after max_missed frames
        pipeline.assemble(index, index / 10, [], Prediction(np.zeros((0, 8)), np.zeros((0, 2)), np.zeros((0, 0))))
    outcome = pipeline.calibration_outcomes.pop()
    assert outcome.track_id == 1 and outcome.baseline is None
    assert outcome.refusal.startswith("too few frames (2, at least 5 needed)")


def test_first_seconds_of_every_track_become_its_baseline(calibratable_weights):
    settings = PipelineSettings(device="cpu", backend="torch", calibrate_seconds=0.5)
    with Pipeline(settings, weights=calibratable_weights) as pipeline:
        results = run_frames(pipeline, 0, 8)
    assert [f.calibrated for f in results[4].faces] == [False, False]  # 0.4 s: still collecting
    assert [f.calibrated for f in results[6].faces] == [True, True]
    assert sorted(o.track_id for o in pipeline.calibration_outcomes) == [1, 2]


def test_baselines_collect_only_while_their_time_runs():
    store = Baselines(min_frames=2)
    store.start([7], now=10.0, seconds=1.0)
    assert store.add(7, np.zeros(8), np.zeros(2), 10.0) is None
    assert store.add(8, np.zeros(8), np.zeros(2), 10.0) is None  # not collecting: ignored
    assert store.progress(7, 10.5) == 0.5
    assert store.add(7, np.zeros(8), np.zeros(2), 10.9) is None
    outcome = store.add(7, np.ones(8), np.zeros(2), 11.0)
    assert outcome.baseline.frames == 2 and 7 in store.by_track and 8 not in store.by_track
    with pytest.raises(FerLiveError, match="greater than 0"):
        store.start([1], 0.0, 0.0)


def test_calibration_file_round_trip_and_refusals(tmp_path, calibratable_weights, random_weights):
    baseline = Baseline.from_raw(np.log(np.tile(NEUTRAL_READING, (6, 1))), np.full((6, 2), 0.1))
    path = tmp_path / "calibration.json"
    save_calibration(path, {3: baseline}, file_sha256(calibratable_weights), {"seconds": 3.0})
    document = json.loads(path.read_text())
    assert document["format"] == FORMAT and document["weights_sha256"] == file_sha256(calibratable_weights)
    loaded = load_calibration(path, file_sha256(calibratable_weights))
    assert list(loaded) == [3] and loaded[3].log_probs == pytest.approx(baseline.log_probs, abs=1e-6)
    with pytest.raises(FerLiveError, match="was made with other model weights"):
        load_calibration(path, file_sha256(random_weights))
    with pytest.raises(FerLiveError, match="calibration file not found"):
        load_calibration(tmp_path / "missing.json", "x")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FerLiveError, match="not readable JSON"):
        load_calibration(tmp_path / "bad.json", "x")
    with pytest.raises(FerLiveError, match="no calibrated face to save"):
        save_calibration(tmp_path / "empty.json", {}, "x", {})


def test_a_one_baseline_file_applies_to_every_face(tmp_path, calibratable_weights):
    baseline = Baseline.from_raw(np.log(np.tile(SAD_READING, (6, 1))), np.full((6, 2), -0.3))
    path = tmp_path / "calibration.json"
    save_calibration(path, {5: baseline}, file_sha256(calibratable_weights), {})
    settings = PipelineSettings(device="cpu", backend="torch", calibration=str(path))
    with Pipeline(settings, weights=calibratable_weights) as pipeline:
        faces = run_frames(pipeline, 0, 1)[0].faces
    assert all(f.calibrated for f in faces)


def neutral_calibration(path, aus: bool = False) -> dict:
    """A saved calibration of one neutral face (ID 1), made with weights "w"; its JSON document."""
    readings = np.log(np.tile(NEUTRAL_READING, (6, 1)))
    baseline = Baseline.from_raw(readings, np.full((6, 2), 0.1), np.full((6, len(AU_COLUMNS)), 0.2) if aus else None)
    save_calibration(path, {1: baseline}, "w", {})
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda b: b["log_probs"].update(neutral=float("nan")),
            "face 1: log_probs neutral nan is not within [-100, 0]",
        ),
        (lambda b: b["log_probs"].update(sad=float("inf")), "face 1: log_probs sad inf is not within [-100, 0]"),
        (lambda b: b["log_probs"].update(happy=-1e300), "face 1: log_probs happy -1e+300 is not within [-100, 0]"),
        (lambda b: b.update(valence=50), "face 1: valence 50 is not within [-1, 1]"),
        (lambda b: b.update(arousal=float("-inf")), "face 1: arousal -inf is not within [-1, 1]"),
        (lambda b: b["probs"].update(dict.fromkeys(b["probs"], 0.99)), "face 1: probs sum to 7.92, not 1"),
        (lambda b: b["probs"].update(fear=-0.1), "face 1: probs fear -0.1 is not within [0, 1]"),
        (lambda b: b.update(frames=-3), "face 1: frames -3: a baseline takes at least 5"),
        (lambda b: b["action_units"].update(au12=2.0), "face 1: action_units au12 2 is not within [0, 1]"),
        (lambda b: b["action_units"].update(au01=float("nan")), "face 1: action_units au01 nan is not within [0, 1]"),
    ],
)
def test_a_calibration_value_no_face_could_give_is_refused_in_one_line(tmp_path, edit, message):
    path = tmp_path / "calibration.json"
    document = neutral_calibration(path, aus=True)
    assert list(load_calibration(path, "w")) == [1]  # as saved, it loads
    edit(document["baselines"]["1"])
    path.write_text(json.dumps(document))
    with pytest.raises(FerLiveError) as refused:
        load_calibration(path, "w")
    assert str(refused.value) == f"calibration {path} is damaged: {message}"


def test_a_calibration_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "calibration.json"
    neutral_calibration(path)
    path.write_text("\ufeff" + path.read_text(), encoding="utf-8")
    assert list(load_calibration(path, "w")) == [1]


@pytest.mark.parametrize(
    "text, error", [("[" * 100_000, "RecursionError"), ('{"frames": ' + "1" * 5000 + "}", "ValueError")]
)
def test_json_too_deep_or_too_long_to_read_is_one_line(tmp_path, text, error):
    path = tmp_path / "calibration.json"
    path.write_text(text)
    with pytest.raises(FerLiveError) as refused:
        load_calibration(path, "w")
    assert str(refused.value) == f"calibration file is not readable JSON: {path} ({error})"


def test_annotate_refuses_a_damaged_calibration_with_one_line_and_status_2(capfd, tmp_path, random_weights):
    from fer_live import cli

    path = tmp_path / "calibration.json"
    neutral_calibration(path)
    document = json.loads(path.read_text())
    document["weights_sha256"] = file_sha256(random_weights)
    document["baselines"]["1"]["valence"] = float("nan")
    path.write_text(json.dumps(document))
    status = cli.main(["annotate", "none.mp4", "-o", str(tmp_path / "out"), "--weights", str(random_weights),
                       "--calibration", str(path)])  # fmt: skip
    assert (status, capfd.readouterr().err) == (
        2,
        f"fer-live: error: calibration {path} is damaged: face 1: valence nan is not within [-1, 1]\n",
    )
