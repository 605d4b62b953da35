"""Batched inference over in-memory crops, shared by validation during training and by evaluate."""

from __future__ import annotations

import numpy as np
import torch

from fer_live.inference.preprocess import to_model_input
from fer_live.model import SEResNet


@torch.no_grad()
def predict_arrays(
    model: SEResNet,
    images: np.ndarray,
    device: torch.device,
    batch_size: int = 512,
    tta: bool = False,
    temperature: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class probabilities (N×8, softmax of logits / `temperature`), valence/arousal (N×2) and action
    unit intensities (N×A) for uint8 crops of the model's size; with `tta` each is averaged with the
    mirrored crop's."""
    model.eval()
    probs, va, aus = [], [], []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(to_model_input(images[start : start + batch_size], model.config)).to(device)
        views = (batch, batch.flip(-1)) if tta else (batch,)
        outputs = [model(view) for view in views]
        probs.append(sum(torch.softmax(o[0].float() / temperature, dim=1) for o in outputs).cpu().numpy() / len(views))
        va.append(sum(o[1].float() for o in outputs).cpu().numpy() / len(views))
        aus.append(sum(o[2].float() for o in outputs).cpu().numpy() / len(views))
    if not probs:
        units = len(model.config.action_units)
        return np.zeros((0, len(model.config.classes)), np.float32), np.zeros((0, 2), np.float32), np.zeros((0, units))
    return np.concatenate(probs), np.concatenate(va), np.concatenate(aus).astype(np.float32)
