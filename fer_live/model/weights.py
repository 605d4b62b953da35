"""Self-describing weights files: the state dict travels with its ModelConfig and provenance."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import torch

from fer_live.checksums import file_sha256
from fer_live.errors import WeightsError
from fer_live.labels import ACTION_UNITS, AU_COLUMNS, EXPRESSIONS
from fer_live.model.config import ModelConfig
from fer_live.model.se_resnet import SEResNet

FORMAT = "fer_live.weights/1"
EXPECTED = "expected a fer_live .pt weights file, as python -m training.train writes"


def save_weights(path: str | Path, model: SEResNet, meta: dict | None = None, half: bool = False) -> None:
    """Write weights + config; `meta` holds provenance (training command, metrics, version). With
    `half` the floating-point tensors are stored as fp16 (half the file; load_weights reads them
    back into the fp32 model)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "state_dict": state,
        "meta": meta or {},
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_weights(path: str | Path) -> tuple[SEResNet, dict]:
    """Rebuild the model from a weights file; every failure is a WeightsError naming the file."""
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"weights path is a folder: {path} ({EXPECTED})")
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    if path.suffix.lower() == ".onnx":
        raise WeightsError(
            f"{path} is an ONNX model, not a fer_live weights file: fer_live makes its ONNX models from "
            f"the .pt file (choose the runtime with --backend); {EXPECTED}"
        )
    try:
        # torch warns about files it then refuses or reads (a raw pickle's protocol, say); what
        # came of it is said below in one line of ours.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"weights file is corrupt or not a fer_live weights file: {path} ({EXPECTED})") from exc
    except Exception as exc:  # weights_only refuses pickled objects with its own error types
        raise WeightsError(f"not a fer_live weights file, or not one safe to read: {path} ({EXPECTED})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise WeightsError(f"not a fer_live weights file (format {FORMAT!r} expected): {path} ({EXPECTED})")
    try:
        config = ModelConfig.from_dict(payload["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"weights file has an unreadable model config: {path} ({exc})") from exc
    if tuple(config.classes) != EXPRESSIONS:
        raise WeightsError(f"weights file class order {config.classes} differs from fer_live's: {path}")
    if config.action_units not in ((), AU_COLUMNS):
        raise WeightsError(f"weights file action units {config.action_units} differ from fer_live's: {path}")
    model = SEResNet(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise WeightsError(f"weights do not match the architecture in their config: {path}") from exc
    model.eval()
    return model, dict(payload.get("meta", {}))


def weights_info(path: Path, meta: dict, action_units: tuple[str, ...] = ()) -> dict:
    """The weights file a result was made with: path, sha256, the model card version from its meta,
    and the action units it reads, each with its FACS name and where its training labels came from."""
    version = next((str(meta[key]) for key in ("model_version", "version") if meta.get(key)), "unknown")
    info = {"file": str(path), "sha256": file_sha256(path), "model_version": version}
    if action_units:
        sources = (meta.get("action_unit_labels") or {}).get("sources", {})
        info["action_units"] = [
            {"column": c, "name": ACTION_UNITS[c][0], "labels": sources.get(c, "unknown")} for c in action_units
        ]
    return info
