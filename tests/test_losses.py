"""Each training loss against values worked out by hand on small tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training.losses import TaskWeighting, class_weights, soft_cross_entropy, va_loss, weighted_ccc


def test_soft_cross_entropy_with_class_and_row_weights():
    # Row 0: p = softmax(0, ln 3) = (1/4, 3/4); target (½, ½); class weights (2, 1)
    # → ½·2·ln 4 + ½·1·ln(4/3). Row 1 (weight 0, no label) must not count.
    logits = torch.tensor([[0.0, math.log(3.0)], [5.0, -5.0]])
    targets = torch.tensor([[0.5, 0.5], [0.0, 1.0]])
    loss = soft_cross_entropy(logits, targets, torch.tensor([1.0, 0.0]), torch.tensor([2.0, 1.0]))
    assert loss.item() == pytest.approx(math.log(4) + 0.5 * math.log(4 / 3), abs=1e-6)
    # Row weights average the rows: without class weights row 0 is ½ ln 4 + ½ ln(4/3),
    # row 1 is −log softmax(5, −5)[1] = 10 + ln(1 + e^−10).
    row0 = 0.5 * math.log(4) + 0.5 * math.log(4 / 3)
    row1 = 10 + math.log(1 + math.exp(-10))
    loss = soft_cross_entropy(logits, targets, torch.tensor([1.0, 3.0]))
    assert loss.item() == pytest.approx((row0 + 3 * row1) / 4, abs=1e-5)


def test_weighted_ccc_ignores_zero_weight_rows():
    # Rows 0–2: pred (1, 2, 3) vs target (2, 3, 4): var 2/3 each, cov 2/3, mean gap 1
    # → CCC = (4/3) / (2/3 + 2/3 + 1) = 4/7. Column 1 is perfectly concordant. Row 3 has weight 0.
    pred = torch.tensor([[1.0, 0.1], [2.0, 0.2], [3.0, 0.3], [100.0, 9.0]])
    target = torch.tensor([[2.0, 0.1], [3.0, 0.2], [4.0, 0.3], [-50.0, -9.0]])
    ccc = weighted_ccc(pred, target, torch.tensor([1.0, 1.0, 1.0, 0.0]))
    assert ccc.tolist() == pytest.approx([4 / 7, 1.0], abs=1e-6)


def test_va_loss_is_one_minus_mean_ccc_plus_mse():
    pred = torch.tensor([[1.0, 0.1], [2.0, 0.2], [3.0, 0.3]])
    target = torch.tensor([[2.0, 0.1], [3.0, 0.2], [4.0, 0.3]])
    weights = torch.ones(3)
    # mean CCC (4/7 + 1)/2 = 11/14; MSE per row = mean of (1², 0²) = ½.
    assert va_loss(pred, target, weights, mse_weight=0.0).item() == pytest.approx(3 / 14, abs=1e-6)
    assert va_loss(pred, target, weights, mse_weight=2.0).item() == pytest.approx(3 / 14 + 1.0, abs=1e-6)


def test_va_loss_skips_rows_without_labels():
    pred = torch.tensor([[1.0, 0.1], [2.0, 0.2], [3.0, 0.3], [0.5, 0.5]])
    target = torch.tensor([[2.0, 0.1], [3.0, 0.2], [4.0, 0.3], [math.nan, math.nan]])
    loss = va_loss(pred, target, torch.tensor([1.0, 1.0, 1.0, 0.0]), mse_weight=0.0)
    assert loss.item() == pytest.approx(3 / 14, abs=1e-6)


def test_task_weighting_sum_and_uncertainty():
    expression, va = torch.tensor(1.5), torch.tensor(0.8)
    assert TaskWeighting("sum")(expression, va).item() == pytest.approx(2.3)
    weighting = TaskWeighting("uncertainty")
    with torch.no_grad():
        weighting.log_sigma.copy_(torch.tensor([0.5, -0.25]))
    # Kendall et al.: e^(−2s)·L + s for classification, ½·e^(−2s)·L + s for regression.
    expected = math.exp(-1.0) * 1.5 + 0.5 + 0.5 * math.exp(0.5) * 0.8 - 0.25
    assert weighting(expression, va).item() == pytest.approx(expected, abs=1e-6)
    assert weighting.log_sigma.requires_grad and not TaskWeighting("sum").log_sigma.requires_grad


def test_class_weights_schemes():
    counts = np.array([10, 100, 0, 50])
    assert class_weights(counts, "none").tolist() == [1, 1, 1, 1]
    # f_min / f_i = (1, 0.1, –, 0.2), normalised to mean 1 over present classes (÷ 1.3/3).
    assert class_weights(counts, "inverse").tolist() == pytest.approx([2.307692, 0.230769, 0, 0.461538], abs=1e-5)
    # (1 − β)/(1 − β^n), β = 0.9: 0.153534, 0.100003, 0.100518 → ÷ their mean 0.118018.
    assert class_weights(counts, "effective", beta=0.9).tolist() == pytest.approx(
        [1.300935, 0.847349, 0, 0.851716], abs=1e-5
    )
    with pytest.raises(ValueError, match="none, inverse or effective"):
        class_weights(counts, "sqrt")
