"""Post-hoc per-class logit offsets so that rare classes are still predicted.

A model trained on FERPlus' natural class mix rarely says contempt or disgust. Menon et al.'s
logit adjustment (logits − τ·log prior) fixes that but shifts every class: on the first bundled weights, τ = 0.4
lifted contempt recall to 0.3 and cut FERPlus accuracy from 0.74 to 0.64, mostly by taking faces
from neutral. Raising only the logits of the classes below a recall floor, each by the smallest
offset that lifts its validation recall to the floor, costs far less. The offsets are folded into
the expression head's bias, so the app, evaluate and the ONNX exports need nothing new.

The rare classes have ~20–30 validation rows, so a recall that just reaches the floor there falls
below it on other faces about half the time (v4: validation 0.32 and 0.31, FERPlus test 0.25 and
0.0). The floor is therefore held by the Wilson lower bound of the validation recall (z = 1, about
84 % one-sided) rather than by the recall itself.
"""

from __future__ import annotations

import numpy as np
import torch

from fer_live.model import SEResNet

OFFSETS = np.round(np.arange(0.0, 8.0001, 0.1), 2)
# Classes with fewer labelled validation rows than this give too noisy a recall to steer an offset.
MIN_VAL_ROWS = 10
# Raising one class takes faces from the others; a second pass repairs a class pushed below the floor.
PASSES = 2
CONFIDENCE_Z = 1.0


def wilson_lower_bound(hits: int, rows: int, z: float) -> float:
    """Wilson score interval's lower end for `hits` successes in `rows` trials (z standard errors)."""
    share = hits / rows
    centre = share + z * z / (2 * rows)
    spread = z * np.sqrt(share * (1 - share) / rows + z * z / (4 * rows * rows))
    return float((centre - spread) / (1 + z * z / rows))


def per_class_recall(scores: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    predicted = scores.argmax(axis=1)
    return np.array([(predicted[labels == c] == c).mean() for c in classes])


def choose_offsets(
    log_probs: np.ndarray,
    labels: np.ndarray,
    floor: float,
    min_rows: int = MIN_VAL_ROWS,
    confidence_z: float = CONFIDENCE_Z,
) -> tuple[np.ndarray, dict]:
    """Per-class logit offsets (≥ 0) that lift every class with `min_rows` labelled rows to `floor` recall.

    A class reaches the floor when the Wilson lower bound (`confidence_z`; 0 = the recall itself)
    of its recall does. Classes are raised one at a time, lowest recall first, each by the smallest
    offset on OFFSETS that reaches the floor (the largest offset when none does). Returns the
    offsets and the validation accuracy and recalls with them (class index → recall).
    """
    labelled = labels >= 0
    log_probs, labels = log_probs[labelled], labels[labelled]
    counts = np.bincount(labels, minlength=log_probs.shape[1])
    classes = np.flatnonzero(counts >= min_rows)
    offsets = np.zeros(log_probs.shape[1])
    for _ in range(PASSES if len(classes) else 0):
        recall = per_class_recall(log_probs + offsets, labels, classes)
        for c in classes[np.argsort(recall, kind="stable")]:
            for extra in OFFSETS:
                raised = offsets.copy()
                raised[c] += extra
                hits = int(((log_probs[labels == c] + raised).argmax(axis=1) == c).sum())
                if wilson_lower_bound(hits, counts[c], confidence_z) >= floor:
                    break
            offsets = raised
    adjusted = log_probs + offsets
    recall = per_class_recall(adjusted, labels, classes)
    return offsets.astype(np.float32), {
        "accuracy": float((adjusted.argmax(axis=1) == labels).mean()),
        "recall": {int(c): round(float(r), 4) for c, r in zip(classes, recall, strict=True)},
    }


@torch.no_grad()
def fold_into_bias(model: SEResNet, offsets: np.ndarray) -> None:
    """Make the model's expression logits equal logits + offsets."""
    bias = model.expression_head.bias
    bias += torch.from_numpy(np.asarray(offsets, dtype=np.float32)).to(bias.device, bias.dtype)
