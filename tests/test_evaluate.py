"""python -m training.evaluate on tiny real-data folders with a random-weights model: keys, counts, errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fer_live.labels import EXPRESSIONS
from fer_live.model import load_weights
from training import evaluate as evaluate_module
from training.data import load_folder
from training.metrics import dimensional_metrics
from training.predict import predict_arrays

PROMISED = {"n", "accuracy", "accuracy_7", "balanced_accuracy", "macro_f1", "kappa", "alpha", "auc", "auc_pr"}
PROMISED |= {"per_class", "no_face"}
EXTRA = {"weighted_f1", "split", "weights", "data", "tta", "operating_point"}
ERROR = "python -m training.evaluate: error: "


def labelled_test_rows(folder: Path) -> list[dict]:
    with (folder / "labels.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "test"]
    return [r for r in rows if r.get("duplicate_of_train") != "1" and r["expression"]]


def test_ferplus_json_has_the_promised_keys(random_weights, tiny_ferplus, tmp_path, capsys):
    out, png = tmp_path / "scores.json", tmp_path / "confusion.png"
    args = ["--weights", str(random_weights), "--data", str(tiny_ferplus), "--json", str(out), "--confusion", str(png)]
    assert evaluate_module.main(args) == 0
    report = json.loads(out.read_text())
    assert set(report) == PROMISED | EXTRA  # no valence/arousal keys: FERPlus has none
    assert report["n"] == len(labelled_test_rows(tiny_ferplus)) > 0  # duplicates of train and blank labels out
    assert report["no_face"] == 0 and report["split"] == "test"
    assert list(report["per_class"]) == list(EXPRESSIONS)
    assert sum(c["support"] for c in report["per_class"].values()) == report["n"]
    correct = sum(c["recall"] * c["support"] for c in report["per_class"].values())
    assert report["accuracy"] == pytest.approx(correct / report["n"])
    for key in PROMISED - {"per_class", "n", "no_face"}:
        assert report[key] is None or -1 <= report[key] <= 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert f"over {report['n']} labelled images" in printed and "contempt" in printed


def test_detect_counts_missed_faces_as_errors(random_weights, tiny_diffusionfer, tmp_path, capsys):
    out = tmp_path / "scores.json"
    args = ["--weights", str(random_weights), "--data", str(tiny_diffusionfer), "--detect", "--json", str(out)]
    assert evaluate_module.main(args) == 0
    report = json.loads(out.read_text())
    assert set(report) == PROMISED | EXTRA | {"valence", "arousal"}
    assert set(report["valence"]) == set(report["arousal"]) == {"rmse", "corr", "sagr", "ccc"}
    assert report["n"] == 5 and report["no_face"] == 1
    assert "no face  1 of 5 images" in capsys.readouterr().out
    # The missed face stays in the scores: predicted class "no face" (wrong) and V/A (0, 0).
    model, _ = load_weights(random_weights)
    found = load_folder(tiny_diffusionfer, model.config, "test", detect=True)
    assert len(found) == 4 and found.no_face == ["images/no_face.jpg"]
    probs, va, _ = predict_arrays(model, found.images, torch.device("cpu"))
    assert report["accuracy"] == pytest.approx((probs.argmax(1) == found.label).sum() / 5)
    valence_pred = np.append(va[:, 0], 0.0)
    valence_true = np.append(found.va[:, 0], 0.5)
    assert report["valence"] == pytest.approx(dimensional_metrics(valence_pred, valence_true))
    happy = report["per_class"]["happy"]
    assert happy["support"] == 3 and happy["recall"] <= 2 / 3


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing weights", "weights file not found"),
        ("corrupt weights", "weights file is corrupt"),
        ("no labels.csv", "no labels.csv"),
        ("missing folder", "data folder not found"),
        ("empty split", "no images in split 'val'"),
        ("json folder missing", "No such file or directory"),
        ("no file column", "labels.csv has no 'file' column naming the images (its columns: image, split)"),
    ],
)
def test_bad_inputs_are_one_line_errors(case, message, random_weights, tiny_diffusionfer, tmp_path, capsys):
    weights, data, extra = str(random_weights), str(tiny_diffusionfer), []
    if case == "missing weights":
        weights = str(tmp_path / "nothing.pt")
    elif case == "corrupt weights":
        weights = str(tmp_path / "corrupt.pt")
        Path(weights).write_bytes(b"PK\x03\x04 garbage")
    elif case == "no labels.csv":
        data = str(tmp_path)
    elif case == "missing folder":
        data = str(tmp_path / "nowhere")
    elif case == "empty split":
        extra = ["--split", "val"]
    elif case == "json folder missing":
        extra = ["--split", "train", "--json", str(tmp_path / "no" / "such" / "dir.json")]
    elif case == "no file column":
        data = str(tmp_path)
        (tmp_path / "labels.csv").write_text("image,split\nface.png,test\n")
    assert evaluate_module.main(["--weights", weights, "--data", data, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # progress bars of the loader may come first
    assert err.startswith(ERROR) and message in err


def test_command_line_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "training.evaluate", "--weights", str(tmp_path / "w.pt"), "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{ERROR}weights file not found: {tmp_path / 'w.pt'}"]
