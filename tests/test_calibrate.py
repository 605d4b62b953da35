"""Post-hoc logit offsets: the search on known scores, folding into the bias, and the training hook."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from fer_live.model import ModelConfig, SEResNet, load_weights
from tests.test_training import one_torch_thread, tiny_config  # noqa: F401  (fixture reused)
from training import train as train_module
from training.calibrate import choose_offsets, fold_into_bias, wilson_lower_bound


def test_choose_offsets_raises_only_the_class_below_the_floor_and_by_the_least():
    # Three classes. Class 2's ten rows score log-probs (0, -1, -0.45): they need an offset > 0.45.
    # Classes 0 and 1 are recognised; class 0's rows keep their label up to an offset of 0.8.
    log_probs = np.array([[0.0, -1.0, -0.45]] * 10 + [[0.0, -2.0, -0.8]] * 10 + [[-2.0, 0.0, -3.0]] * 10)
    labels = np.array([2] * 10 + [0] * 10 + [1] * 10)
    offsets, scores = choose_offsets(log_probs, labels, floor=0.3)
    assert offsets == pytest.approx([0.0, 0.0, 0.5])
    assert scores == {"accuracy": 1.0, "recall": {0: 1.0, 1: 1.0, 2: 1.0}}


def test_choose_offsets_ignores_unlabelled_rows_and_small_classes():
    # Class 1 has 3 rows (< MIN_VAL_ROWS): never raised although its recall is 0; −1 rows are unlabelled.
    log_probs = np.array([[0.0, -1.0]] * 13 + [[-5.0, 0.0]] * 2)
    labels = np.array([0] * 10 + [1] * 3 + [-1] * 2)
    offsets, scores = choose_offsets(log_probs, labels, floor=0.3)
    assert offsets == pytest.approx([0.0, 0.0]) and scores["recall"] == {0: 1.0}
    assert scores["accuracy"] == pytest.approx(10 / 13)


def test_wilson_lower_bound_matches_hand_computed_values():
    # 9 of 20: centre 0.45 + 1/40 = 0.475, spread sqrt(0.012375 + 0.000625) = 0.11402, scale 1.05.
    assert wilson_lower_bound(9, 20, 1.0) == pytest.approx((0.475 - 0.114018) / 1.05, abs=1e-6)
    assert wilson_lower_bound(6, 20, 0.0) == pytest.approx(0.3)
    assert wilson_lower_bound(0, 20, 1.0) == 0.0


def test_choose_offsets_holds_the_floor_with_a_margin_on_few_rows():
    # Class 1's 20 rows need offsets 0.1·k to recall k of them. The recall alone reaches 0.3 at k = 6;
    # its Wilson lower bound (z = 1) first does at k = 9 (0.344; k = 8 gives 0.298).
    log_probs = np.array([[0.0, -0.1 * i - 0.05] for i in range(20)] + [[0.0, -5.0]] * 20)
    labels = np.array([1] * 20 + [0] * 20)
    assert choose_offsets(log_probs, labels, floor=0.3, confidence_z=0.0)[0] == pytest.approx([0.0, 0.6])
    offsets, scores = choose_offsets(log_probs, labels, floor=0.3, confidence_z=1.0)
    assert offsets == pytest.approx([0.0, 0.9]) and scores["recall"] == {0: 1.0, 1: 0.45}


def test_fold_into_bias_adds_the_offsets_to_the_expression_logits_only():
    torch.manual_seed(0)
    model = SEResNet(ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))).eval()
    x = torch.randn(3, 1, 48, 48)
    before, va_before = model(x)
    offsets = np.array([0, 0, 0, 0, 0, 0.4, 0, 1.2], dtype=np.float32)
    fold_into_bias(model, offsets)
    after, va_after = model(x)
    assert torch.allclose(after - before, torch.from_numpy(offsets).expand(3, -1), atol=1e-5)
    assert torch.equal(va_before, va_after)


def test_training_with_a_recall_floor_exports_the_adjusted_weights(
    tiny_ferplus, tiny_diffusionfer, tmp_path, monkeypatch
):
    # A 1-epoch tiny model is too poor for offsets to mean much, so the search is stubbed: this checks
    # the wiring (validation scores in, bias shifted, everything else kept, provenance written).
    seen = {}

    def fixed_offsets(log_probs, labels, floor):
        seen.update(log_probs=log_probs, labels=labels, floor=floor)
        return np.array([0, 0, 0, 0, 0, 0.5, 0, 1.5], dtype=np.float32), {"accuracy": 0.25, "recall": {7: 0.3}}

    monkeypatch.setattr(train_module, "choose_offsets", fixed_offsets)
    cfg = replace(
        tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / "run", epochs=1),
        recall_floor=0.3,
        export=str(tmp_path / "shipped.pt"),
    )
    exported = train_module.train(cfg, resume=False, command="test")
    assert exported.name == "calibrated.pt" and seen["floor"] == 0.3
    assert seen["log_probs"].shape == (len(seen["labels"]), 8) and np.all(seen["log_probs"] <= 0)
    best, _ = load_weights(tmp_path / "run" / "best.pt")
    shipped, meta = load_weights(tmp_path / "shipped.pt")
    assert meta["logit_offsets"] == {
        "offsets": {"disgust": 0.5, "contempt": 1.5},
        "recall_floor": 0.3,
        "confidence_z": 1.0,
        "val_accuracy": 0.25,
        "val_recall": {"contempt": 0.3},
    }
    shift = (shipped.expression_head.bias - best.expression_head.bias).detach().numpy()
    assert shift == pytest.approx([0, 0, 0, 0, 0, 0.5, 0, 1.5], abs=1e-6)
    for key, value in best.state_dict().items():
        if key != "expression_head.bias":
            assert torch.equal(value, shipped.state_dict()[key]), key
