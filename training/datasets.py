"""Data set layouts: a labels.csv folder or AffectNet's two layouts, all read into a FaceSet."""

from __future__ import annotations

from pathlib import Path

from fer_live.model.config import ModelConfig
from fer_live.options import DEFAULT_DETECTOR
from training import affectnet
from training.config import DataSpec, TrainConfig
from training.data import FaceSet, load_folder, read_rows

FORMATS = ("folder", "affectnet_csv", "affectnet_npy")
LOADERS = {
    "folder": load_folder,
    "affectnet_csv": affectnet.load_affectnet_csv,
    "affectnet_npy": affectnet.load_affectnet_npy,
}


def guess_format(path: str | Path) -> str:
    """The layout of a data folder, from the files it holds."""
    root = _existing(path)
    if (root / "labels.csv").is_file():
        return "folder"
    if any(affectnet.find_list(root, name) for name in ("training.csv", "validation.csv")):
        return "affectnet_csv"
    if (root / "annotations").is_dir() or any((root / name).is_dir() for name in ("train_set", "val_set")):
        return "affectnet_npy"
    raise FileNotFoundError(f"no labels.csv (nor AffectNet lists or annotations/) in data folder: {root}")


def dataset_rows(path: str | Path, fmt: str, split: str | None) -> list[dict]:
    """The label rows of a split as dicts with `file, expression, valence, arousal` (unlabelled = blank/None)."""
    root = _existing(path)
    if fmt == "folder":
        return read_rows(root, split)
    if fmt == "affectnet_csv":
        return affectnet.csv_rows(root, split)
    if fmt == "affectnet_npy":
        return affectnet.npy_rows(root, split)
    raise ValueError(f"unknown data format {fmt!r} for {path} (one of {', '.join(FORMATS)})")


def load_data(
    path: str | Path,
    fmt: str,
    config: ModelConfig,
    split: str | None,
    detect: bool = False,
    detector_range: str = DEFAULT_DETECTOR,
    cache_dir: str | Path | None = None,
) -> FaceSet:
    if fmt not in LOADERS:
        raise ValueError(f"unknown data format {fmt!r} for {path} (one of {', '.join(FORMATS)})")
    return LOADERS[fmt](_existing(path), config, split, detect, detector_range, cache_dir)


def load_spec(spec: DataSpec, split: str | None, cfg: TrainConfig) -> FaceSet:
    return load_data(spec.path, spec.format, cfg.model, split, spec.detect, cfg.detector_range, cfg.cache_dir)


def _existing(path: str | Path) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder not found: {root}")
    return root
