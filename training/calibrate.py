"""Post-hoc logit adjustment (Menon et al. 2021) so that rare classes are still predicted.

A model trained on the natural class mix is the most accurate one but rarely says contempt or
disgust. Subtracting τ·log(prior) from the logits trades a little accuracy for recall on rare
classes; τ = 1 is the balanced-error optimum in theory. We take the smallest τ whose validation
recall reaches a floor for every class, and fold the offset into the expression head's bias, so
the app, evaluate and ONNX export need nothing new.
"""

from __future__ import annotations

import numpy as np
import torch

from fer_live.model import SEResNet

TAUS = np.round(np.arange(0.0, 2.0001, 0.05), 2)
# Classes with fewer labelled validation rows than this give too noisy a recall to steer τ.
MIN_VAL_ROWS = 10


def per_class_recall(scores: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    predicted = scores.argmax(axis=1)
    return np.array([(predicted[labels == c] == c).mean() for c in classes])


def choose_tau(
    log_probs: np.ndarray, labels: np.ndarray, log_prior: np.ndarray, floor: float, min_rows: int = MIN_VAL_ROWS
) -> tuple[float, dict]:
    """Smallest τ on TAUS with recall ≥ `floor` for every class with `min_rows` labelled rows.

    When no τ reaches the floor, the one with the best worst-class recall; τ = 0 when no class has
    enough rows. Returns τ and the validation accuracy and recalls at τ (class index → recall).
    """
    labelled = labels >= 0
    log_probs, labels = log_probs[labelled], labels[labelled]
    counts = np.bincount(labels, minlength=log_probs.shape[1])
    classes = np.flatnonzero(counts >= min_rows)
    best_tau, best_worst = 0.0, -1.0
    for tau in TAUS if len(classes) else ():
        recall = per_class_recall(log_probs - tau * log_prior, labels, classes)
        if recall.min() >= floor:
            best_tau = float(tau)
            break
        if recall.min() > best_worst:
            best_tau, best_worst = float(tau), float(recall.min())
    adjusted = log_probs - best_tau * log_prior
    recall = per_class_recall(adjusted, labels, classes)
    return best_tau, {
        "accuracy": float((adjusted.argmax(axis=1) == labels).mean()),
        "recall": {int(c): round(float(r), 4) for c, r in zip(classes, recall, strict=True)},
    }


def log_prior_from_mass(class_mass: np.ndarray) -> np.ndarray:
    """log of the training class distribution; absent classes get the rarest present class's value."""
    mass = np.asarray(class_mass, dtype=np.float64)
    present = mass > 0
    prior = np.where(present, mass, mass[present].min()) / mass[present].sum()
    return np.log(prior).astype(np.float32)


@torch.no_grad()
def fold_into_bias(model: SEResNet, log_prior: np.ndarray, tau: float) -> None:
    """Make the model's logits equal logits − τ·log(prior)."""
    bias = model.expression_head.bias
    bias -= tau * torch.from_numpy(log_prior).to(bias.device, bias.dtype)
