"""Mixup and CutMix on a training batch: images, vote distributions, valence/arousal and AUs mixed alike."""

from __future__ import annotations

import math

import numpy as np
import torch


def mix_batch(
    x: torch.Tensor,
    labels: list[tuple[torch.Tensor, torch.Tensor]],
    rng: np.random.Generator,
    mixup: float,
    cutmix: float,
) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """Mix each row with a shuffled partner by λ ~ Beta(α, α): mixup blends whole images, CutMix
    pastes a box of the partner (λ = the share of pixels kept); with both α > 0 each batch picks one
    at even odds. Each (values, weight) pair of `labels` (expression votes, V/A, AUs) mixes by λ
    times each row's weight (per row, or per value), so a partner without labels adds none."""
    n, _, height, width = x.shape
    use_cutmix = cutmix > 0 and (mixup <= 0 or rng.random() < 0.5)
    alpha = cutmix if use_cutmix else mixup
    lam = float(rng.beta(alpha, alpha))
    partner = torch.from_numpy(rng.permutation(n))
    if use_cutmix:
        side = math.sqrt(1 - lam)
        cut_h, cut_w = int(height * side), int(width * side)
        cy, cx = int(rng.integers(height)), int(rng.integers(width))
        top, bottom = max(cy - cut_h // 2, 0), min(cy + cut_h - cut_h // 2, height)
        left, right = max(cx - cut_w // 2, 0), min(cx + cut_w - cut_w // 2, width)
        x = x.clone()
        x[:, :, top:bottom, left:right] = x[partner][:, :, top:bottom, left:right]
        lam = 1 - (bottom - top) * (right - left) / (height * width)
    else:
        x = lam * x + (1 - lam) * x[partner]
    return x, [_mix_labels(values, weight, lam, partner) for values, weight in labels]


def _mix_labels(
    values: torch.Tensor, weight: torch.Tensor, lam: float, partner: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    own, other = lam * weight, (1 - lam) * weight[partner]
    total = own + other
    # A row weight weighs the row's every value; a weight per value (AUs) weighs that value alone.
    shape = (-1, 1) if weight.ndim == 1 else weight.shape
    mixed = (own.view(shape) * values + other.view(shape) * values[partner]) / total.clamp_min(1e-12).view(shape)
    return mixed, total
