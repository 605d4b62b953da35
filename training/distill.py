"""Knowledge distillation: teachers' class probabilities on the training rows, mixed into the votes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fer_live.model import ModelConfig, load_weights
from training.predict import predict_arrays


def teacher_probabilities(
    teachers: tuple[str, ...],
    images_for: Callable[[ModelConfig], np.ndarray],
    temperature: float,
    device: torch.device,
) -> np.ndarray:
    """Mean over `teachers` (weights files) of their flip-averaged probabilities at `temperature`,
    each teacher reading the training crops made for its own input size and channels."""
    total = None
    for path in teachers:
        model, _ = load_weights(path)
        model.to(device)
        probs, _, _ = predict_arrays(model, images_for(model.config), device, tta=True, temperature=temperature)
        total = probs if total is None else total + probs
    return total / len(teachers)


def distilled_targets(
    votes: np.ndarray, labelled: np.ndarray, teacher: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """(targets, per-row loss weight factor): labelled rows get (1 − share)·votes + share·teacher;
    rows without votes learn the teachers' probabilities alone, weighted by `share`."""
    votes = np.nan_to_num(votes)
    targets = np.where(labelled[:, None], (1 - share) * votes + share * teacher, teacher).astype(np.float32)
    factor = np.where(labelled, 1.0, share).astype(np.float32)
    return targets, factor
