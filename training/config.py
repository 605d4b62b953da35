"""Training run configuration, read from a TOML file under training/configs/."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from fer_live.model.config import ModelConfig
from training.augment import AugmentConfig


@dataclass(frozen=True)
class DataSpec:
    """One data set folder in the training mix."""

    path: str
    format: str = "folder"  # folder | affectnet_csv | affectnet_npy
    train_split: str | None = "train"
    val_split: str | None = None
    # Data sets without a validation split hold out this fraction of train (seeded) instead.
    val_fraction: float = 0.0
    detect: bool = False  # crop faces with the app's detector (photos that are not face crops)
    weight: float = 1.0
    repeat: int = 1  # times each row appears per epoch (small sets in a mix with a large one)


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig
    data: tuple[DataSpec, ...]
    augment: AugmentConfig = AugmentConfig()
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    schedule: str = "cosine"  # cosine | onecycle
    seed: int = 0
    threads: int = 2
    class_weighting: str = "effective"  # none | inverse | effective
    beta: float = 0.9999
    # Sampling probability ∝ frequency^(−power) of a row's plurality class: 0 = natural, 1 = balanced.
    class_sampling_power: float = 0.0
    va_mse_weight: float = 1.0
    task_weighting: str = "uncertainty"  # sum | uncertainty
    derived_va_weight: float = 0.3  # weight of V/A targets derived from expression probabilities
    detector_range: str = "full"
    cache_dir: str = "training/.cache"
    out_dir: str = "training/runs/default"
    export: str | None = None  # where the best weights are copied at the end of the run
    extra: dict = field(default_factory=dict)


def _build(cls, values: dict):
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    return cls(**values)


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    model = ModelConfig.from_dict(raw.pop("model", {}))
    augment = _build(AugmentConfig, raw.pop("augment", {}))
    data = tuple(_build(DataSpec, d) for d in raw.pop("data", []))
    if not data:
        raise ValueError(f"{path}: a training config needs at least one [[data]] folder")
    return _build(TrainConfig, {**raw.pop("train", {}), **raw, "model": model, "augment": augment, "data": data})
