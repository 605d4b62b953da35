"""Action units (v6): the teacher's labels, their mapping, one set of numbers in every output, calibration."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_live.inference.operating_point import Baseline, OperatingPoint
from fer_live.labels import AU_COLUMNS, EXPRESSION_AUS, EXPRESSIONS, INDEX
from training.au_labels import AU_SOURCES, PROTOTYPE_ONLY_STRENGTH, PROTOTYPE_STRENGTH, TEACHER_SCALES, au_targets
from training.au_teacher import BLENDSHAPES, label_folder, read_teacher

REPO = Path(__file__).resolve().parents[1]
TEACHER = REPO.parent / "shared" / "models" / "face_landmarker.task"


def one_hot(name: str) -> np.ndarray:
    target = np.zeros(len(EXPRESSIONS), np.float32)
    target[INDEX[name]] = 1.0
    return target


def teacher_output(**scores: float) -> dict:
    blendshapes = dict.fromkeys(BLENDSHAPES, 0.0)
    blendshapes.update({k: v for k, v in scores.items() if k != "lip_gap"})
    return {"blendshapes": blendshapes, "lip_gap": scores.get("lip_gap", 0.0)}


def test_every_action_unit_has_one_label_source_and_prototype_aus_exist():
    assert set(AU_SOURCES) == set(AU_COLUMNS)
    assert set(TEACHER_SCALES) | {"au06", "au09"} == set(AU_COLUMNS)
    assert all(au in AU_COLUMNS for aus in EXPRESSION_AUS.values() for au in aus)


def test_mapping_reads_blendshapes_and_fills_blind_aus_from_prototypes():
    smile = teacher_output(mouthSmileLeft=0.9, mouthSmileRight=0.9, lip_gap=0.2)
    frown = teacher_output(browDownLeft=0.02, browDownRight=0.02)
    labels = au_targets([smile, frown, None, smile], np.stack([one_hot("happy"), one_hot("anger"), one_hot("sad"),
                                                                one_hot("disgust")]))  # fmt: skip
    column = {au: i for i, au in enumerate(AU_COLUMNS)}
    happy, anger, unseen, disgust = labels
    assert happy[column["au12"]] == pytest.approx(1.0)  # (0.9 − 0) / 0.9
    assert happy[column["au06"]] == pytest.approx(1.0)  # P(happy) × AU12: the teacher never scores cheeks
    assert happy[column["au25"]] == pytest.approx((0.2 - 0.08) / 0.25)  # the mesh's lip gap
    assert happy[column["au09"]] == 0.0 and disgust[column["au09"]] == pytest.approx(PROTOTYPE_ONLY_STRENGTH)
    assert disgust[column["au06"]] == 0.0  # a smile on a face voted disgusted raises no cheeks
    # The teacher sees no brow lowering on the angry face; the anger prototype says AU4 at moderate strength.
    assert anger[column["au04"]] == pytest.approx(PROTOTYPE_STRENGTH)
    assert anger[column["au12"]] == 0.0  # teacher only: no prototype pushes a smile
    assert np.isnan(unseen).all()  # no face for the teacher: no AU labels, never zeros
    assert np.nanmin(labels) >= 0 and np.nanmax(labels) <= 1
    # A face without an expression label: the teacher's AUs stand, AU6 and AU9 are unknown, not 0.
    nobody = au_targets([smile], np.full((1, len(EXPRESSIONS)), np.nan, np.float32))[0]
    assert np.isnan(nobody[[column["au06"], column["au09"]]]).all() and nobody[column["au12"]] == pytest.approx(1.0)


@pytest.mark.skipif(not TEACHER.is_file(), reason="the AU teacher is a training input in ../shared/models")
def test_teacher_reads_real_faces_and_caches_by_labels_and_teacher(tiny_diffusionfer, tmp_path):
    cache = label_folder(tiny_diffusionfer, TEACHER, tmp_path, workers=1)
    outputs = read_teacher(cache)
    with (tiny_diffusionfer / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(outputs) >= len(rows) - 2  # the teacher finds nearly every DiffusionFER face
    faces = [rows[i] for i in range(len(rows)) if rows[i]["file"] in outputs]
    happy = [outputs[r["file"]]["blendshapes"]["mouthSmileLeft"] for r in faces if r["expression"] == "happy"]
    others = [outputs[r["file"]]["blendshapes"]["mouthSmileLeft"] for r in faces if r["expression"] != "happy"]
    assert happy and others and min(happy) > max(np.median(others), 0.05) * 3
    assert label_folder(tiny_diffusionfer, TEACHER, tmp_path, workers=1) == cache  # cached: not run again


def test_au_columns_are_the_same_numbers_in_annotate_csv_and_a_recorded_session(
    tmp_path, one_face_video, random_au_weights
):
    video = one_face_video[0]

    def run(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "fer_live", *args, "--weights", str(random_au_weights), "--no-geometry"],
            capture_output=True, text=True, cwd=REPO, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    run("annotate", str(video), "-o", str(tmp_path / "csv"))
    run("record", "--source", str(video), "--out", str(tmp_path / "session"))
    with (tmp_path / "csv" / "one_face.csv").open() as handle:
        annotated = {(r["frame"], r["face_id"]): [r[c] for c in AU_COLUMNS] for r in csv.DictReader(handle)}
    with (tmp_path / "session" / "frames.csv").open() as handle:
        recorded = {(r["frame"], r["face_id"]): [r[c] for c in AU_COLUMNS] for r in csv.DictReader(handle)}
    with_face = [key for key in annotated if key[1]]
    assert len(with_face) >= 85 and all(float(v) >= 0 for key in with_face for v in annotated[key])
    assert recorded == annotated
    sidecar = json.loads((tmp_path / "csv" / "one_face.json").read_text())
    session = json.loads((tmp_path / "session" / "session.json").read_text())
    assert [u["column"] for u in sidecar["weights"]["action_units"]] == list(AU_COLUMNS)
    assert sidecar["weights"]["action_units"] == session["weights"]["action_units"]
    assert sidecar["weights"]["action_units"][8] == {"column": "au12", "name": "lip corner puller", "labels": "unknown"}


def test_calibration_reads_action_units_relative_to_the_face_s_own_neutral():
    reference = {c: 0.1 for c in AU_COLUMNS}
    meta = {
        "operating_point": {
            "class_prior": dict.fromkeys(EXPRESSIONS, 1 / 8),
            "recommended_tau": 0.0,
            "neutral_reference": {
                "log_probs": dict.fromkeys(EXPRESSIONS, float(np.log(1 / 8))),
                "valence": 0.0,
                "arousal": 0.0,
                "rows": 10,
                "action_units": reference,
            },
        }
    }
    point = OperatingPoint.from_meta(meta, "natural")
    stern = np.full(len(AU_COLUMNS), 0.1)
    stern[AU_COLUMNS.index("au04")] = 0.5  # this person's brows rest lowered
    baseline = Baseline.from_raw(np.zeros((6, 8)), np.zeros((6, 2)), np.tile(stern, (6, 1)))
    reading = np.full(len(AU_COLUMNS), 0.6, np.float32)
    calibrated = point.calibrate_aus(reading, baseline)
    assert calibrated[AU_COLUMNS.index("au04")] == pytest.approx(0.6 - 0.5 * (0.5 - 0.1))
    assert calibrated[AU_COLUMNS.index("au12")] == pytest.approx(0.6)  # at the reference: unchanged
    assert np.allclose(point.uncalibrate_aus(calibrated, baseline), reading)
    assert Baseline.from_dict(baseline.to_dict()).aus == pytest.approx(baseline.aus)
