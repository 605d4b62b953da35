"""Dispatch a DataSpec to the loader for its layout."""

from __future__ import annotations

from training.config import DataSpec, TrainConfig
from training.data import FaceSet, load_folder


def load_spec(spec: DataSpec, split: str | None, cfg: TrainConfig) -> FaceSet:
    if spec.format == "folder":
        return load_folder(spec.path, cfg.model, split, spec.detect, cfg.detector_range, cfg.cache_dir)
    raise ValueError(f"unknown data format {spec.format!r} for {spec.path}")
