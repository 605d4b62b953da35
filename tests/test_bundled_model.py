"""The shipped weights: the model card quotes exactly what `training.evaluate` prints for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fer_live import assets
from fer_live.labels import ACTION_UNITS, AU_COLUMNS
from fer_live.model import load_weights
from training.evaluate import evaluate, format_report

ROOT = Path(__file__).resolve().parents[1]
MODEL_CARD = ROOT / "assets" / "MODEL_CARD.md"


def scored_lines(report: str) -> list[str]:
    """The metric lines of an evaluate printout (the first two name the weights and data paths)."""
    return [line for line in report.splitlines()[2:] if line.strip()]


@pytest.mark.parametrize(
    ("folder", "detect"),
    [("ferplus", False), ("diffusionfer", True)],
)
def test_model_card_quotes_the_evaluation_of_the_bundled_weights(shared_data, folder, detect):
    result = evaluate(assets.WEIGHTS, shared_data / folder, "test", detect=detect)
    card = MODEL_CARD.read_text(encoding="utf-8")
    missing = [line for line in scored_lines(format_report(result, detect)) if line not in card]
    assert missing == []


def test_bundled_weights_name_the_command_that_made_them():
    model, meta = load_weights(assets.WEIGHTS)
    command = "python -m training.train --config training/configs/bundled.toml --au-teacher PATH/face_landmarker.task"
    assert meta["command"] == command and meta["model_version"] == "v6"
    card = MODEL_CARD.read_text(encoding="utf-8")
    assert meta["command"] in card and "(v6)" in card.splitlines()[0]
    assert f"{sum(p.numel() for p in model.parameters()):,}" in card
    assert assets.WEIGHTS.stat().st_size <= 20_000_000  # the download budget (stored in fp16)
    assert model.config.action_units == AU_COLUMNS
    # Each AU's label source, as the card's table gives it, rides in the weights for every output to cite.
    sources = meta["action_unit_labels"]["sources"]
    assert all(f"| {au} | {ACTION_UNITS[au][0]} |" in card and sources[au] in card for au in AU_COLUMNS)


def test_bundled_weights_carry_their_operating_point_and_raw_logits():
    _, meta = load_weights(assets.WEIGHTS)
    point = meta["operating_point"]
    assert 0 <= point["recommended_tau"] <= 1 and "logit_offsets" not in meta
    assert sum(point["class_prior"].values()) == pytest.approx(1.0, abs=1e-5)
    assert point["neutral_reference"]["rows"] > 1000
    assert set(point["neutral_reference"]["action_units"]) == set(AU_COLUMNS)  # AUs calibrate too
    # The card states the τ the shipped weights carry (chosen on validation by their training run).
    assert f"`recommended` is τ = **{point['recommended_tau']:g}**" in MODEL_CARD.read_text(encoding="utf-8")


def test_action_units_on_real_faces_smile_for_happy_and_rest_for_neutral(shared_data):
    """DiffusionFER training faces through the app's own detector and crop, as a user's photos."""
    import csv

    import cv2

    from fer_live.faces.detection import FaceDetector
    from fer_live.inference.engine import Engine

    folder = shared_data / "diffusionfer"
    with (folder / "labels.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "train"]
    engine = Engine(assets.WEIGHTS, "cpu", backend="torch")
    with FaceDetector("full", min_confidence=0.3) as detector:
        aus = {}
        for name in ("happy", "neutral", "surprise"):
            crops = []
            for row in [r for r in rows if r["expression"] == name][:20]:
                image = cv2.imread(str(folder / row["file"]))
                crops += [engine.crop(image, face.box, face.angle) for face in detector.detect(image)[:1]]
            assert len(crops) >= 18  # the detector misses a few DiffusionFER faces
            aus[name] = engine.predict(crops).aus
    au = {column: i for i, column in enumerate(AU_COLUMNS)}
    assert aus["happy"][:, au["au12"]].mean() > 0.5 and aus["neutral"][:, au["au12"]].mean() < 0.2
    assert np.median(aus["happy"][:, au["au12"]]) > 0.5 and np.median(aus["neutral"][:, au["au12"]]) < 0.2
    # Surprise raises the brows and drops the jaw; a neutral face does neither.
    for column in ("au01", "au02", "au26"):
        assert aus["surprise"][:, au[column]].mean() > 2 * aus["neutral"][:, au[column]].mean()
