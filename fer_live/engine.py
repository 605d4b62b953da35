"""Inference engine: all face crops of a frame in one batched forward pass, on CPU or CUDA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fer_live.errors import FerLiveError, WeightsError
from fer_live.model import load_weights
from fer_live.preprocess import crop_face, to_model_input

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_WEIGHTS = ASSETS / "fer_live_se_resnet.pt"


def resolve_device(device: str) -> torch.device:
    """`auto` → CUDA when available, else CPU; `cuda` without a GPU is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise FerLiveError("device 'cuda' requested but no CUDA GPU is available (use --device cpu)")
        return torch.device(device)
    raise FerLiveError(f"device must be auto, cpu or cuda, not {device!r}")


class Engine:
    """Loads a weights file and turns face crops into class probabilities and valence/arousal."""

    def __init__(self, weights: str | Path | None = None, device: str = "auto", threads: int | None = None):
        path = Path(weights) if weights else DEFAULT_WEIGHTS
        if weights is None and not path.is_file():
            # The app must never stand in a random model for the real one.
            raise WeightsError(f"no bundled model weights at {path}: reinstall fer_live or pass --weights")
        if threads is not None:
            if threads < 1:
                raise FerLiveError(f"thread count must be at least 1, not {threads}")
            torch.set_num_threads(threads)
        self.weights_path = path
        self.device = resolve_device(device)
        model, self.meta = load_weights(path)
        self.config = model.config
        self.model = model.to(self.device).eval()
        self._fp16 = self.device.type == "cuda"

    @property
    def device_name(self) -> str:
        if self.device.type == "cuda":
            return f"CUDA ({torch.cuda.get_device_name(self.device)})"
        return f"CPU ({torch.get_num_threads()} threads)"

    def crop(self, frame: np.ndarray, box: tuple[float, float, float, float], angle: float) -> np.ndarray:
        """The aligned uint8 crop the model sees for a face at `box` rolled by `angle`."""
        return crop_face(frame, box, angle, self.config.input_size)

    @torch.inference_mode()
    def predict(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(N×8 probabilities, N×2 valence/arousal) for N crops, in one forward pass."""
        if not crops:
            return np.zeros((0, len(self.config.classes)), np.float32), np.zeros((0, 2), np.float32)
        batch = torch.from_numpy(to_model_input(crops, self.config)).to(self.device)
        with torch.autocast("cuda", dtype=torch.float16, enabled=self._fp16):
            logits, va = self.model(batch)
        probs = torch.softmax(logits.float(), dim=1)
        return probs.cpu().numpy(), va.float().cpu().numpy()


def check_weights(path: str | Path) -> None:
    """Raise WeightsError if `path` is not a loadable fer_live weights file."""
    try:
        load_weights(path)
    except WeightsError:
        raise
    except Exception as exc:  # any other failure still names the file
        raise WeightsError(f"cannot load weights {path}: {exc}") from exc
