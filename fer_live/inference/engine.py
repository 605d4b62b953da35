"""Inference engine: all face crops of a frame in one batched forward pass, on CPU or CUDA.

Backends: `torch` (the reference, CPU or CUDA with fp16), `onnx` (onnxruntime on CPU, proven
equal to torch within 1e-5 on real faces by the tests) and `onnx-int8` (the quantised graph
shipped beside the weights, ~1.5× faster than `onnx`; within the tolerance in
tests/test_onnx_int8.py); `auto` picks onnx on CPU when onnxruntime is installed, torch otherwise.
Every backend returns raw logits; the operating point (the expected-expression prior,
fer_live.inference.operating_point) turns them into the probabilities reported, in one place.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from fer_live import assets, options
from fer_live.errors import FerLiveError, WeightsError
from fer_live.inference.int8 import Int8Model
from fer_live.inference.onnx import OnnxModel, onnxruntime_available
from fer_live.inference.operating_point import RECOMMENDED, OperatingPoint
from fer_live.inference.preprocess import crop_face, to_model_input
from fer_live.model import load_weights
from fer_live.model.weights import weights_info
from fer_live.options import BACKENDS


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


def resolve_backend(backend: str, device: torch.device) -> str:
    """`auto` → onnx on CPU when onnxruntime is importable, else torch; onnx is CPU-only here."""
    if backend not in BACKENDS:
        raise FerLiveError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "auto":
        return "onnx" if device.type == "cpu" and onnxruntime_available() else "torch"
    if backend.startswith("onnx"):
        if device.type != "cpu":
            raise FerLiveError(
                f"backend {backend!r} runs on the CPU only (use --device cpu, or --backend torch for CUDA)"
            )
        if not onnxruntime_available():
            raise FerLiveError(f"backend {backend!r} needs the onnxruntime package (pip install onnxruntime)")
    return backend


class Prediction(NamedTuple):
    """The reading of N crops: probabilities at the operating point, valence/arousal, AU intensities."""

    probs: np.ndarray  # N×8, EXPRESSIONS order
    va: np.ndarray  # N×2 in [-1, 1]
    aus: np.ndarray  # N×A in [0, 1], the weights' action_units order; A = 0 for weights without AUs

    def rows(self, start: int, end: int) -> Prediction:
        """The reading of crops start…end − 1 (one frame's faces of a batch over several frames)."""
        return Prediction(self.probs[start:end], self.va[start:end], self.aus[start:end])


class Engine:
    """Loads a weights file and turns face crops into class probabilities, valence/arousal and (v6
    weights on) action unit intensities."""

    def __init__(
        self,
        weights: str | Path | None = None,
        device: str = options.DEFAULT_DEVICE,
        threads: int | None = None,
        backend: str = options.DEFAULT_BACKEND,
        prior: str = RECOMMENDED,
    ):
        path = Path(weights) if weights else assets.WEIGHTS
        if weights is None and not path.is_file():
            # The app must never stand in a random model for the real one.
            raise WeightsError(f"no bundled model weights at {path}: reinstall fer_live or pass --weights")
        threads = options.inference_threads() if threads is None else threads
        if threads < 1:
            raise FerLiveError(f"thread count must be at least 1, not {threads}")
        torch.set_num_threads(threads)
        self.weights_path = path
        # onnxruntime runs on the CPU here, so asking for it makes `auto` mean the CPU even beside a GPU.
        self.device = resolve_device("cpu" if device == "auto" and backend.startswith("onnx") else device)
        self.backend = resolve_backend(backend, self.device)
        model, self.meta = load_weights(path)
        self.operating_point = OperatingPoint.from_meta(self.meta, prior)
        self.config = model.config
        self.model = model.to(self.device).eval()
        self._fp16 = self.device.type == "cuda"
        if self.backend == "onnx-int8":
            self._onnx = Int8Model(path, torch.get_num_threads())
        else:
            self._onnx = self._load_onnx(explicit=backend == "onnx") if self.backend == "onnx" else None
        if self._onnx is None:
            self.backend = "torch"

    @cached_property
    def weights_info(self) -> dict:
        """The weights file (path, sha256, model version) for provenance: hashed once per engine."""
        return weights_info(self.weights_path, self.meta, self.action_units)

    @property
    def weights_sha256(self) -> str:
        return self.weights_info["sha256"]

    def set_prior(self, prior: str) -> None:
        """Report at another expected-expression prior from the next predict on."""
        self.operating_point = OperatingPoint.from_meta(self.meta, prior)

    def _load_onnx(self, explicit: bool) -> OnnxModel | None:
        """The onnxruntime model; None (torch is used) if `auto` chose it and it cannot be set up."""
        try:
            return OnnxModel(self.model, self.weights_path, torch.get_num_threads())
        except Exception as exc:  # exporter and onnxruntime raise many types; torch remains correct
            if explicit:
                raise FerLiveError(
                    f"cannot run {self.weights_path} with onnxruntime ({exc}); use --backend torch"
                ) from exc
            return None

    @property
    def device_name(self) -> str:
        if self.device.type == "cuda":
            return f"CUDA ({torch.cuda.get_device_name(self.device)}, torch fp16)"
        runtime = {"onnx": "onnxruntime", "onnx-int8": "onnxruntime int8"}.get(self.backend, "torch")
        threads = self._onnx.threads if self._onnx else torch.get_num_threads()
        return f"CPU ({runtime}, {threads} thread{'' if threads == 1 else 's'})"

    @property
    def batch_invariant(self) -> bool:
        """True when a crop's outputs do not depend, bit for bit, on the other crops of its batch.

        onnxruntime's CPU kernels compute each batch item alike (checked by tests/test_stream.py);
        torch's may choose other algorithms for other batch sizes (differences ~1e-8).
        """
        return self._onnx is not None

    def crop(self, frame: np.ndarray, box: tuple[float, float, float, float], angle: float) -> np.ndarray:
        """The aligned uint8 crop the model sees for a face at `box` rolled by `angle`."""
        return crop_face(frame, box, angle, self.config.input_size)

    @property
    def action_units(self) -> tuple[str, ...]:
        """The AU columns these weights read (fer_live.labels.AU_COLUMNS); empty before v6."""
        return self.config.action_units

    def predict(self, crops: list[np.ndarray]) -> Prediction:
        """The reading of N crops in one forward pass (probabilities at the operating point)."""
        if not crops:
            units = len(self.action_units)
            return Prediction(
                np.zeros((0, len(self.config.classes)), np.float32),
                np.zeros((0, 2), np.float32),
                np.zeros((0, units), np.float32),
            )
        batch = to_model_input(crops, self.config)
        logits, va, aus = self._onnx(batch) if self._onnx is not None else self._predict_torch(batch)
        probs, va = self.operating_point.apply(logits, va)
        return Prediction(probs, va, np.asarray(aus, np.float32))

    @torch.inference_mode()
    def _predict_torch(self, batch_array: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch = torch.from_numpy(batch_array).to(self.device)
        with torch.autocast("cuda", dtype=torch.float16, enabled=self._fp16):
            logits, va, aus = self.model(batch)
        return logits.float().cpu().numpy(), va.float().cpu().numpy(), aus.float().cpu().numpy()
