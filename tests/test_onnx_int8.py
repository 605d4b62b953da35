"""The int8 backend: close to torch on real faces (the documented tolerance), built from the
weights beside it, and refused with one clear line when it is missing, stale or damaged."""

from __future__ import annotations

import csv
import shutil

import cv2
import numpy as np
import pytest

from fer_live import assets
from fer_live.errors import FerLiveError
from fer_live.inference.engine import Engine
from fer_live.inference.int8 import int8_path
from fer_live.inference.preprocess import fit_crop
from training.int8 import main

# The tolerance README.md states for --backend onnx-int8, measured on FERPlus test faces.
MIN_LABEL_AGREEMENT = 0.97
# Probability gap = total-variation distance between the two 8-class distributions, mean over faces.
MAX_MEAN_PROBABILITY_GAP = 0.03
MAX_VA_GAP = 0.15
# Action unit intensities (v6): mean and largest absolute difference (all 3,285 test faces: 0.004 and 0.084).
MAX_MEAN_AU_GAP = 0.01
MAX_AU_GAP = 0.15


@pytest.fixture(scope="module")
def ferplus_test_crops(shared_data):
    folder = shared_data / "ferplus"
    with open(folder / "labels.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "test" and r["duplicate_of_train"] != "1"]
    config = Engine(assets.WEIGHTS, "cpu", backend="torch").config
    return [fit_crop(cv2.imread(str(folder / r["file"]), cv2.IMREAD_GRAYSCALE), config) for r in rows[:400]]


def test_shipped_int8_model_is_within_tolerance_of_torch(ferplus_test_crops):
    int8 = Engine(assets.WEIGHTS, "cpu", threads=1, backend="onnx-int8")
    assert int8.backend == "onnx-int8" and int8.device_name == "CPU (onnxruntime int8, 1 thread)"
    reference_probs, reference_va, reference_aus = Engine(assets.WEIGHTS, "cpu", backend="torch").predict(
        ferplus_test_crops
    )
    probs, va, aus = int8.predict(ferplus_test_crops)
    assert aus.shape == reference_aus.shape == (len(ferplus_test_crops), 17)
    assert np.abs(aus - reference_aus).mean() <= MAX_MEAN_AU_GAP and np.abs(aus - reference_aus).max() <= MAX_AU_GAP
    agreement = (probs.argmax(axis=1) == reference_probs.argmax(axis=1)).mean()
    assert agreement >= MIN_LABEL_AGREEMENT
    assert np.abs(probs - reference_probs).sum(axis=1).mean() / 2 <= MAX_MEAN_PROBABILITY_GAP
    assert np.abs(va - reference_va).max() <= MAX_VA_GAP
    # Static quantisation scales: each face's numbers do not depend on its batch companions.
    single_probs, single_va, _ = int8.predict(ferplus_test_crops[:1])
    assert np.array_equal(single_probs[0], probs[0]) and np.array_equal(single_va[0], va[0])
    assert int8.batch_invariant


def test_build_then_refuse_other_weights(random_weights, tiny_ferplus, tmp_path, capsys):
    weights = tmp_path / "model.pt"
    shutil.copy(random_weights, weights)
    with pytest.raises(FerLiveError, match="no int8 model for .*model.pt .*build one with python -m training.int8 "):
        Engine(weights, "cpu", backend="onnx-int8")

    assert main(["--weights", str(weights), "--data", str(tiny_ferplus), "--count", "16"]) == 0
    assert "calibrated on 16 faces" in capsys.readouterr().out
    torch_engine = Engine(weights, "cpu", backend="torch")
    crops = [fit_crop(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), torch_engine.config) for p in _images(tiny_ferplus)]
    probs, va, _ = Engine(weights, "cpu", backend="onnx-int8").predict(crops)
    reference_probs, *_ = torch_engine.predict(crops)
    assert probs.shape == (len(crops), 8) and va.shape == (len(crops), 2)
    assert np.abs(probs - reference_probs).sum(axis=1).mean() / 2 <= 0.05

    other = tmp_path / "other.pt"
    shutil.copy(assets.WEIGHTS, other)
    shutil.copy(int8_path(weights), int8_path(other))
    with pytest.raises(FerLiveError, match="was built from other weights than .*other.pt; rebuild it"):
        Engine(other, "cpu", backend="onnx-int8")

    int8_path(weights).write_bytes(b"not an onnx graph")
    with pytest.raises(FerLiveError, match="int8 model .* is damaged or unreadable"):
        Engine(weights, "cpu", backend="onnx-int8")


def _images(folder):
    with open(folder / "labels.csv", newline="") as handle:
        return [folder / r["file"] for r in csv.DictReader(handle) if r["split"] == "test"]


def test_shipped_int8_model_was_built_from_the_shipped_weights():
    Engine(assets.WEIGHTS, "cpu", backend="onnx-int8")  # raises if stale
    # One byte a weight for v5's 6.59 M parameters, plus the graph: ~6.8 MB.
    assert int8_path(assets.WEIGHTS).stat().st_size < 8_000_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "no/such/folder"], "no labels.csv in calibration data folder: no/such/folder"),
        (["--weights", "no/such.pt"], "weights file not found: no/such.pt"),
    ],
)
def test_build_bad_inputs_are_one_line_errors(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"python -m training.int8: error: {message}"


def test_build_needs_at_least_one_calibration_face(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--count", "0"])
    assert exit_info.value.code == 2
    assert "--count: must be at least 1, not 0" in capsys.readouterr().err
