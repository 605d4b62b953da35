"""Training run configuration, read from a TOML file under training/configs/."""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from fer_live.model.config import ModelConfig
from fer_live.options import DEFAULT_DETECTOR, DETECTOR_RANGES
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
    # Beta(α, α) of mixup / CutMix on images and vote distributions (training/mixing.py); 0 = off.
    mixup: float = 0.0
    cutmix: float = 0.0
    # Knowledge distillation: weights files whose mean (flip-averaged) probabilities make up
    # `distill_share` of each row's expression target, the votes the rest (training/distill.py).
    teachers: tuple[str, ...] = ()
    distill_share: float = 0.5
    distill_temperature: float = 1.0
    # Exponential moving average of the weights (decay per step; 0 = off). With it on, the averaged
    # weights are validated, chosen and saved; the raw net's validation is logged beside them.
    ema_decay: float = 0.0
    optimizer: str = "adamw"  # adamw | sgd (Nesterov, momentum 0.9)
    # Forward passes in bfloat16 on CPUs with native bf16 (AVX-512 BF16 or AMX), fp32 elsewhere:
    # emulated bf16 is slower than fp32. Validation stays fp32; CUDA always uses fp16 autocast.
    cpu_bf16: bool = False
    # The version the weights carry (meta.model_version: the model card's name for them, e.g. "v6").
    model_version: str = ""
    # Start from these weights (a previous model); heads it lacks (the AU head) start fresh.
    init: str | None = None
    # The third task: FACS action units, labelled by MediaPipe's FaceLandmarker (`au_teacher`, the
    # .task file, or --au-teacher) mapped by training/au_labels.py; its outputs are cached in au_cache_dir.
    action_units: bool = False
    au_teacher: str | None = None
    au_cache_dir: str = "~/.cache/fer_live/au_teacher"
    au_loss_weight: float = 1.0
    va_mse_weight: float = 1.0
    task_weighting: str = "uncertainty"  # sum | uncertainty
    derived_va_weight: float = 0.3  # weight of V/A targets derived from expression probabilities
    detector_range: str = DEFAULT_DETECTOR
    cache_dir: str = "training/.cache"
    out_dir: str = "training/runs/default"
    export: str | None = None  # where the best weights are copied at the end of the run
    # Store the exported copy's tensors as fp16: keeps a wide net's shipped file small.
    export_half: bool = False
    extra: dict = field(default_factory=dict)


# Settings with a fixed set of values, checked when the config is read rather than hours into a run.
CHOICES = {
    "schedule": ("cosine", "onecycle"),
    "optimizer": ("adamw", "sgd"),
    "class_weighting": ("none", "inverse", "effective"),
    "task_weighting": ("sum", "uncertainty"),
    "detector_range": DETECTOR_RANGES,
    "format": ("folder", "affectnet_csv", "affectnet_npy"),
}
POSITIVE = {"epochs", "batch_size", "threads", "repeat", "input_size"}
ABOVE_ZERO = {"distill_temperature"}
NON_NEGATIVE = {"mixup", "cutmix", "au_loss_weight"}
FRACTIONS = {"distill_share"}
BELOW_ONE = {"ema_decay"}


def _matches(value, default) -> bool:
    """Whether a TOML value has the type of a field's default (ints pass for floats, not for bools)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, tuple):
        item = default[0] if default else ""  # an empty default is a list of names or paths
        return isinstance(value, (list, tuple)) and all(_matches(v, item) for v in value)
    if default is None or default is MISSING:  # optional names and paths
        return isinstance(value, str)
    return isinstance(value, type(default))


def _check(cls, values: dict) -> None:
    known = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    for name, value in values.items():
        spec = known[name]
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if not _matches(value, default):
            raise ValueError(f"{cls.__name__}.{name} has the wrong type: {value!r}")
        if name in CHOICES and value not in CHOICES[name]:
            raise ValueError(f"{name} must be one of {', '.join(CHOICES[name])}, not {value!r}")
        if name in POSITIVE and value < 1:
            raise ValueError(f"{name} must be at least 1, not {value!r}")
        if name in ABOVE_ZERO and value <= 0:
            raise ValueError(f"{name} must be above 0, not {value!r}")
        if name in NON_NEGATIVE and value < 0:
            raise ValueError(f"{name} must be 0 or more, not {value!r}")
        if name in FRACTIONS and not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if name in BELOW_ONE and not 0 <= value < 1:
            raise ValueError(f"{name} must be at least 0 and below 1, not {value!r}")


def _build(cls, values: dict):
    _check(cls, values)
    return cls(**values)


def _read_with_base(path: Path, seen: tuple[Path, ...]) -> dict:
    """The TOML table of `path`; with `base = "other.toml"` (relative to it), that file's values
    overridden by this one's, table by table, so a probe config states only what it changes."""
    if path.resolve() in seen:
        raise ValueError(f"config bases loop back to {path}")
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    base = raw.pop("base", None)
    if base is None:
        return raw
    base_path = path.parent / base
    if not base_path.is_file():
        raise FileNotFoundError(f"base config not found: {base_path}")
    merged = _read_with_base(base_path, (*seen, path.resolve()))
    for key, value in raw.items():
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    return merged


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training config not found: {path}")
    raw = _read_with_base(path, ())
    model_values = raw.pop("model", {})
    _check(ModelConfig, model_values)
    model = ModelConfig.from_dict(model_values)
    augment = _build(AugmentConfig, raw.pop("augment", {}))
    data = tuple(_build(DataSpec, d) for d in raw.pop("data", []))
    if not data:
        raise ValueError(f"{path}: a training config needs at least one [[data]] folder")
    values = {**raw.pop("train", {}), **raw}
    _check(TrainConfig, values)
    if "teachers" in values:
        values["teachers"] = tuple(values["teachers"])
    return TrainConfig(**values, model=model, augment=augment, data=data)
