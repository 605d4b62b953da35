"""The benchmark's model weights and face images."""

from __future__ import annotations

from pathlib import Path

from fer_live import assets
from fer_live.bench.videos import BENCH_FACES
from fer_live.errors import FerLiveError


def bench_weights(weights: str | None, scratch: Path) -> tuple[Path, str]:
    """(weights file, how the results name it): the given file, else the bundled weights, else a
    random model of the shipped architecture (same size and speed; its outputs mean nothing)."""
    if weights:
        path = Path(weights)
        if not path.is_file():
            raise FerLiveError(f"weights file not found: {path}")
        return path, f"given ({path.name})"
    if assets.WEIGHTS.is_file():
        return assets.WEIGHTS, "bundled"
    import torch

    from fer_live.model import ModelConfig, SEResNet, save_weights

    torch.manual_seed(0)
    path = scratch / "random_default_architecture.pt"
    save_weights(path, SEResNet(ModelConfig()), {"random": True, "purpose": "benchmark timing only"})
    return path, "random (ModelConfig() architecture; no bundled weights yet)"


def check_face_data(data: Path) -> None:
    missing = [name for name in BENCH_FACES if not (data / name).is_file()]
    if missing:
        raise FerLiveError(f"face image not found: {data / missing[0]} (pass --data, the folder with diffusionfer/)")
