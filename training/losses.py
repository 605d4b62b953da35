"""Losses of the multi-task model: soft-target cross-entropy, CCC for valence/arousal, task weighting."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def class_weights(counts: np.ndarray, scheme: str, beta: float = 0.9999) -> np.ndarray:
    """Per-class loss weights, normalised to mean 1 over the classes present.

    `inverse`: inverse frequency, f_min / f_i, as in the AffectNet paper (rare classes weigh more);
    `effective`: 1 / effective number of samples, (1 - β) / (1 - β^n) (Cui et al. 2019).
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    if scheme == "none":
        weights = np.ones_like(counts)
    elif scheme == "inverse":
        weights = np.where(present, counts[present].min() / np.maximum(counts, 1e-12), 0.0)
    elif scheme == "effective":
        with np.errstate(divide="ignore"):  # absent classes (n = 0) divide by zero; np.where drops them
            weights = np.where(present, (1.0 - beta) / (1.0 - np.power(beta, counts)), 0.0)
    else:
        raise ValueError(f"class weighting must be none, inverse or effective, not {scheme!r}")
    weights[present] /= weights[present].mean()
    return weights.astype(np.float32)


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, class_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Σ_c w_c t_c (−log p_c) per row, averaged with per-row `weights` (0 = no expression label)."""
    log_probs = torch.log_softmax(logits.float(), dim=1)
    per_class = -targets * log_probs
    if class_weight is not None:
        per_class = per_class * class_weight
    per_row = per_class.sum(dim=1)
    return (per_row * weights).sum() / weights.sum().clamp_min(1e-8)


def weighted_ccc(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Lin's concordance correlation per column, with per-row weights (0 = row ignored)."""
    w = weights[:, None] / weights.sum().clamp_min(1e-8)
    pred, target = pred.float(), target.float()
    mean_p = (w * pred).sum(0)
    mean_t = (w * target).sum(0)
    var_p = (w * (pred - mean_p) ** 2).sum(0)
    var_t = (w * (target - mean_t) ** 2).sum(0)
    cov = (w * (pred - mean_p) * (target - mean_t)).sum(0)
    return 2 * cov / (var_p + var_t + (mean_p - mean_t) ** 2).clamp_min(1e-8)


def va_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, mse_weight: float) -> torch.Tensor:
    """1 − mean CCC of valence and arousal (MTANet), optionally plus weighted MSE."""
    target = torch.nan_to_num(target)
    loss = 1.0 - weighted_ccc(pred, target, weights).mean()
    if mse_weight > 0:
        mse = (((pred.float() - target) ** 2).mean(dim=1) * weights).sum() / weights.sum().clamp_min(1e-8)
        loss = loss + mse_weight * mse
    return loss


def au_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of AU intensities in [0, 1] against soft targets, averaged with `weights`
    (N×A, one per AU label: 0 = no label; or N, one per row). Computed in fp32 on clamped outputs."""
    pred = pred.float().clamp(1e-6, 1 - 1e-6)
    target = torch.nan_to_num(target.float())
    weights = weights if weights.ndim == 2 else weights[:, None].expand_as(pred)
    per_value = -(target * torch.log(pred) + (1 - target) * torch.log1p(-pred))
    return (per_value * weights).sum() / weights.sum().clamp_min(1e-8)


class TaskWeighting(nn.Module):
    """Combines the task losses (expression, V/A, and action units when trained): plain sum, or
    Kendall et al.'s learned uncertainty.

    With uncertainty weighting each task k has a learned s_k = log σ_k and contributes
    c_k·exp(−2 s_k)·L_k + s_k, where c = 1 for classification and ½ for regression.
    """

    def __init__(self, mode: str, tasks: int = 2):
        super().__init__()
        if mode not in ("sum", "uncertainty"):
            raise ValueError(f"task weighting must be sum or uncertainty, not {mode!r}")
        self.mode = mode
        self.log_sigma = nn.Parameter(torch.zeros(tasks), requires_grad=mode == "uncertainty")
        self.register_buffer("scale", torch.tensor([1.0, 0.5, 1.0][:tasks]))

    def forward(self, *task_losses: torch.Tensor) -> torch.Tensor:
        losses = torch.stack(task_losses)
        if self.mode == "sum":
            return losses.sum()
        return (self.scale * torch.exp(-2 * self.log_sigma) * losses + self.log_sigma).sum()
