"""Post-hoc logit adjustment: τ search on known scores, folding into the bias, and the training hook."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from fer_live.model import ModelConfig, SEResNet, load_weights
from tests.test_training import one_torch_thread, tiny_config  # noqa: F401  (fixture reused)
from training import train as train_module
from training.calibrate import choose_tau, fold_into_bias, log_prior_from_mass


def test_choose_tau_takes_the_smallest_tau_that_lifts_the_rare_class():
    # Two classes, prior (0.9, 0.1). Class 1's 10 rows score 0.4 for themselves; class 0's 10 rows
    # score 0.2. Adjusted margin of class 1 over 0 is log(p1/p0) + τ·log 9: the class-1 rows
    # (log(0.4/0.6) = −0.405) flip at τ > 0.184, the class-0 rows (log(0.2/0.8) = −1.386) at τ > 0.631.
    log_probs = np.log(np.array([[0.6, 0.4]] * 10 + [[0.8, 0.2]] * 10))
    labels = np.array([1] * 10 + [0] * 10)
    log_prior = log_prior_from_mass(np.array([90.0, 10.0]))
    assert log_prior == pytest.approx(np.log([0.9, 0.1]))
    tau, scores = choose_tau(log_probs, labels, log_prior, floor=0.3)
    assert tau == 0.2
    assert scores == {"accuracy": 1.0, "recall": {0: 1.0, 1: 1.0}}


def test_choose_tau_keeps_the_best_worst_recall_when_the_floor_is_out_of_reach():
    # Class 1 rows are confidently wrong (p1 = 1e-6): no τ ≤ 2 lifts them, so τ stays 0,
    # where class 0 keeps recall 1. Unlabelled rows (−1) and classes with < 10 rows are ignored.
    log_probs = np.log(np.array([[1 - 1e-6, 1e-6]] * 20 + [[0.5, 0.5]] * 3))
    labels = np.array([1] * 10 + [0] * 10 + [-1] * 3)
    tau, scores = choose_tau(log_probs, labels, np.log(np.array([0.5, 0.5])), floor=0.3)
    assert tau == 0.0 and scores["recall"] == {0: 1.0, 1: 0.0} and scores["accuracy"] == 0.5


def test_fold_into_bias_shifts_every_logit_by_tau_log_prior():
    torch.manual_seed(0)
    model = SEResNet(ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))).eval()
    x = torch.randn(3, 1, 48, 48)
    before, va_before = model(x)
    log_prior = log_prior_from_mass(np.array([50, 20, 10, 8, 5, 3, 3, 1.0]))
    fold_into_bias(model, log_prior, 0.7)
    after, va_after = model(x)
    assert torch.allclose(after - before, torch.from_numpy(-0.7 * log_prior).expand(3, -1), atol=1e-5)
    assert torch.equal(va_before, va_after)


def test_training_with_a_recall_floor_exports_the_adjusted_weights(
    tiny_ferplus, tiny_diffusionfer, tmp_path, monkeypatch
):
    # A 1-epoch tiny model is too poor for any τ to help, so the τ search is stubbed: this checks
    # the wiring (validation scores in, training prior used, bias shifted, everything else kept).
    seen = {}

    def fixed_tau(log_probs, labels, log_prior, floor):
        seen.update(log_probs=log_probs, labels=labels, log_prior=log_prior, floor=floor)
        return 0.5, {"accuracy": 0.25, "recall": {7: 0.3}}

    monkeypatch.setattr(train_module, "choose_tau", fixed_tau)
    cfg = replace(
        tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / "run", epochs=1),
        recall_floor=0.3,
        export=str(tmp_path / "shipped.pt"),
    )
    exported = train_module.train(cfg, resume=False, command="test")
    assert exported.name == "calibrated.pt" and seen["floor"] == 0.3
    assert seen["log_probs"].shape == (len(seen["labels"]), 8) and np.all(seen["log_probs"] <= 0)
    assert np.exp(seen["log_prior"]).sum() == pytest.approx(1.0, abs=0.05)
    best, _ = load_weights(tmp_path / "run" / "best.pt")
    shipped, meta = load_weights(tmp_path / "shipped.pt")
    assert meta["logit_adjustment"] == {
        "tau": 0.5,
        "recall_floor": 0.3,
        "val_accuracy": 0.25,
        "val_recall": {"contempt": 0.3},
    }
    shift = (shipped.expression_head.bias - best.expression_head.bias).detach().numpy()
    assert shift == pytest.approx(-0.5 * seen["log_prior"], abs=1e-6)
    for key, value in best.state_dict().items():
        if key != "expression_head.bias":
            assert torch.equal(value, shipped.state_dict()[key]), key
