"""What the runtime's operating point needs, measured for a weights file on its training and validation data.

add_operating_point fills `meta["operating_point"]`: the training class prior (the soft label mass the loss saw: rows ×
repeats × sample weight), the recommended τ (the prior strength with the best validation macro
F1 on a 0.05 grid; ties go to the smaller τ), and the neutral reference (mean raw log-probabilities
and V/A over validation rows labelled neutral) that participant calibration measures against.
training.train stores it at its end; python -m training.complete_weights adds it to weights
trained before it did. Older weights had per-class logit offsets folded into the expression head's bias
(`meta["logit_offsets"]`): they are taken out again, so the file holds raw logits and the runtime
applies one operating point (fer_live/inference/operating_point.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fer_live.inference.operating_point import META_KEY, log_softmax
from fer_live.labels import EXPRESSIONS, INDEX, NUM_CLASSES
from fer_live.model import SEResNet, load_weights, save_weights
from training.config import TrainConfig
from training.data import FaceSet
from training.losses import class_weights
from training.metrics import categorical_metrics

TAU_GRID = np.round(np.arange(0.0, 1.0001, 0.05), 2)


def class_prior(train: FaceSet, repeats: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    """Share of the soft expression-label mass per class as the loss saw it in one epoch: rows ×
    repeats × sample weight, × the expected resampling of class_sampling_power, × the class weights."""
    labelled = ~np.isnan(train.targets).any(axis=1)
    targets = train.targets[labelled].astype(np.float64)
    weight = (repeats[labelled] * train.sample_weight[labelled]).astype(np.float64)
    if cfg.class_sampling_power > 0:
        label = train.label[labelled]
        counts = np.bincount(label[label >= 0], minlength=NUM_CLASSES).astype(np.float64)
        freq = np.where(label >= 0, counts[np.maximum(label, 0)], counts.mean())
        weight = weight * freq ** (-cfg.class_sampling_power)
    mass = (targets * weight[:, None]).sum(axis=0)
    if mass.sum() <= 0:
        raise ValueError("no labelled training rows: cannot measure the class prior")
    soft_counts = (targets * repeats[labelled, None]).sum(axis=0)
    mass = mass * class_weights(soft_counts, cfg.class_weighting, cfg.beta)
    # A class never seen in training still gets a finite log prior.
    mass = np.maximum(mass, 1e-6 * mass.sum())
    return mass / mass.sum()


def choose_tau(logits: np.ndarray, labels: np.ndarray, prior: np.ndarray) -> tuple[float, dict]:
    """The τ on TAU_GRID with the best macro F1 of `logits − τ·log prior` on labelled rows, and the table."""
    labelled = labels >= 0
    logits, labels = logits[labelled], labels[labelled]
    table = {}
    for tau in TAU_GRID:
        scores = np.exp(log_softmax(logits - tau * np.log(prior)))
        metrics = categorical_metrics(labels, scores)
        table[float(tau)] = {"accuracy": round(metrics["accuracy"], 4), "macro_f1": round(metrics["macro_f1"], 4)}
    best = max(table, key=lambda tau: (table[tau]["macro_f1"], -tau))
    return best, table


def neutral_reference(
    logits: np.ndarray, va: np.ndarray, labels: np.ndarray, aus: np.ndarray | None = None, au_columns=()
) -> dict:
    neutral = labels == INDEX["neutral"]
    if not neutral.any():
        raise ValueError("no validation rows labelled neutral: cannot measure the neutral reference")
    log_probs = log_softmax(logits[neutral].astype(np.float64)).mean(axis=0)
    mean_va = va[neutral].astype(np.float64).mean(axis=0)
    reference = {
        "log_probs": {n: round(float(v), 6) for n, v in zip(EXPRESSIONS, log_probs, strict=True)},
        "valence": round(float(mean_va[0]), 6),
        "arousal": round(float(mean_va[1]), 6),
        "rows": int(neutral.sum()),
    }
    if aus is not None and len(au_columns):
        mean_aus = aus[neutral].astype(np.float64).mean(axis=0)
        reference["action_units"] = {c: round(float(v), 6) for c, v in zip(au_columns, mean_aus, strict=True)}
    return reference


@torch.no_grad()
def unfold_logit_offsets(model: SEResNet, meta: dict) -> dict:
    """Take folded per-class offsets back out of the expression head's bias; returns those removed."""
    offsets = (meta.pop("logit_offsets", None) or {}).get("offsets", {})
    for name, value in offsets.items():
        model.expression_head.bias[INDEX[name]] -= float(value)
    return offsets


@torch.no_grad()
def raw_outputs(model: SEResNet, images: np.ndarray, device: torch.device) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from fer_live.inference.preprocess import to_model_input

    model.to(device).eval()
    logits, va, aus = [], [], []
    for start in range(0, len(images), 512):
        batch = torch.from_numpy(to_model_input(images[start : start + 512], model.config)).to(device)
        out_logits, out_va, out_aus = model(batch)
        logits.append(out_logits.float().cpu().numpy())
        va.append(out_va.float().cpu().numpy())
        aus.append(out_aus.float().cpu().numpy())
    if not logits:
        units = len(model.config.action_units)
        return np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, 2), np.float32), np.zeros((0, units), np.float32)
    return np.concatenate(logits), np.concatenate(va), np.concatenate(aus)


def add_operating_point(
    model: SEResNet, meta: dict, train: FaceSet, repeats: np.ndarray, val: FaceSet, cfg: TrainConfig
) -> dict:
    """Fill meta[META_KEY] for `model` (raw logits) from its training rows and validation rows.

    Without labelled validation rows the recommended τ is 0 (natural); without neutral ones the
    weights carry no neutral reference and cannot calibrate."""
    prior = class_prior(train, repeats, cfg)
    logits, va, aus = raw_outputs(model, val.images, torch.device("cpu"))
    stored = {"class_prior": {n: round(float(p), 6) for n, p in zip(EXPRESSIONS, prior, strict=True)}}
    if (val.label >= 0).any():
        tau, table = choose_tau(logits, val.label, prior)
        stored["recommended_tau"] = tau
        stored["tau_choice"] = {"rule": "best validation macro F1 on a 0.05 grid", "validation": table}
    else:
        stored["recommended_tau"] = 0.0
    if (val.label == INDEX["neutral"]).any():
        stored["neutral_reference"] = neutral_reference(logits, va, val.label, aus, model.config.action_units)
    meta[META_KEY] = stored
    return stored


def store_operating_point(weights: Path, train: FaceSet, repeats: np.ndarray, val: FaceSet, cfg: TrainConfig) -> dict:
    """add_operating_point for a weights file, rewritten in place (idempotent: it only sets metadata)."""
    model, meta = load_weights(weights)
    stored = add_operating_point(model, meta, train, repeats, val, cfg)
    save_weights(weights, model, meta)
    return stored


def describe(stored: dict) -> str:
    tau = stored["recommended_tau"]
    scores = stored.get("tau_choice", {}).get("validation", {}).get(tau)
    return f"class prior {stored['class_prior']}, recommended τ {tau}" + (f" (validation {scores})" if scores else "")
