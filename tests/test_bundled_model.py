"""The shipped weights: the model card quotes exactly what `training.evaluate` prints for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_live import assets
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
    assert meta["command"] == "python -m training.train --config training/configs/bundled.toml"
    card = MODEL_CARD.read_text(encoding="utf-8")
    assert meta["command"] in card
    assert f"{sum(p.numel() for p in model.parameters()):,}" in card
    assert assets.WEIGHTS.stat().st_size <= 20_000_000  # the download budget (v5 is stored in fp16)


def test_bundled_weights_carry_their_operating_point_and_raw_logits():
    _, meta = load_weights(assets.WEIGHTS)
    point = meta["operating_point"]
    assert 0 <= point["recommended_tau"] <= 1 and "logit_offsets" not in meta
    assert sum(point["class_prior"].values()) == pytest.approx(1.0, abs=1e-5)
    assert point["neutral_reference"]["rows"] > 1000
    # The card states the τ the shipped weights carry (chosen on validation by their training run).
    assert f"`recommended` is τ = **{point['recommended_tau']:g}**" in MODEL_CARD.read_text(encoding="utf-8")
