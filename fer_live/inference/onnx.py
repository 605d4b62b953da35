"""ONNX Runtime inference for a loaded SE-ResNet: 2–3× faster than eager torch on CPU at batch 1.

The torch model stays the reference: its ONNX export is cached per weights file (keyed by the
file's sha256), and every session is checked against torch on a probe batch before use, so a
stale or damaged cache file is exported afresh instead of silently giving other numbers.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from fer_live.checksums import file_sha256
from fer_live.model import SEResNet

# Part of the cache key: bump when the export recipe changes so older exports are not reused.
EXPORT_VERSION = 2
OPSET = 17
INPUT_NAME = "crops"
OUTPUT_NAMES = ("logits", "valence_arousal", "action_units")
# Largest |torch − onnx| accepted on the probe batch; real disagreements are ~1e-6.
PROBE_TOLERANCE = 1e-4


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cache_dirs() -> list[Path]:
    """Where exports are kept, in order of preference: the user cache dir, then the temp dir."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return [base / "fer_live" / "onnx", Path(tempfile.gettempdir()) / f"fer_live-{user}" / "onnx"]


def export_onnx(model: SEResNet) -> bytes:
    """The model (in eval mode) as an ONNX graph with a dynamic batch axis."""
    size = model.config.input_size
    example = torch.zeros(1, model.config.in_channels, size, size)
    buffer = io.BytesIO()
    batch_axis = {0: "batch"}
    # The TorchScript exporter (dynamo=False) needs no onnxscript; torch ≥ 2.9 warns that it is
    # deprecated, which tells a fer_live user nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model.eval(),
            (example,),
            buffer,
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={name: batch_axis for name in (INPUT_NAME, *OUTPUT_NAMES)},
            opset_version=OPSET,
        )
    return buffer.getvalue()


def read_cached(name: str) -> tuple[Path, bytes] | None:
    for folder in cache_dirs():
        try:
            return folder / name, (folder / name).read_bytes()
        except OSError:
            continue
    return None


def write_cached(name: str, data: bytes) -> Path | None:
    """Store an export where it can be written; None if nowhere (then it just is not cached)."""
    for folder in cache_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # A unique temporary name, then a rename: parallel workers never read half a file.
            handle, tmp = tempfile.mkstemp(dir=folder, prefix=name, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(tmp, folder / name)
            finally:
                Path(tmp).unlink(missing_ok=True)
            return folder / name
        except OSError:
            continue
    return None


def session_options(threads: int):
    """onnxruntime settings for a model that shares a few cores with detection and decoding."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning workers would fight the detector and decoder threads for the same few cores;
    # on a busy 2-core machine it made batch-1 inference 4× slower.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxRuntimeModel:
    """An onnxruntime session called like the model: float32 N×C×H×W crops → (logits, valence/arousal,
    action units)."""

    session = None
    threads: int

    @cached_property
    def has_action_units(self) -> bool:
        # An int8 graph built before v6 has no AU output.
        return OUTPUT_NAMES[2] in [o.name for o in self.session.get_outputs()]

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.has_action_units:
            logits, va = self.session.run(list(OUTPUT_NAMES[:2]), {INPUT_NAME: batch})
            return logits, va, np.zeros((len(batch), 0), np.float32)
        logits, va, aus = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        return logits, va, aus


class OnnxModel(OnnxRuntimeModel):
    """Runs `model`'s ONNX export (fp32), cached on disk by the weights' sha256 and checked against torch."""

    def __init__(self, model: SEResNet, weights_path: Path, threads: int):
        self.threads = threads
        key = f"{file_sha256(weights_path)}-v{EXPORT_VERSION}-opset{OPSET}.onnx"
        probe = self._probe_batch(model)
        with torch.inference_mode():
            expected = [t.numpy() for t in model.eval()(torch.from_numpy(probe))]
        cached = read_cached(key)
        if cached is not None:
            session = self._session_if_equal(cached[1], probe, expected)
            if session is not None:
                self.session, self.cache_path = session, cached[0]
                return
        data = export_onnx(model)
        session = self._session_if_equal(data, probe, expected)
        if session is None:
            raise RuntimeError("its ONNX export disagrees with torch")
        self.session = session
        self.cache_path = write_cached(key, data)

    @staticmethod
    def _probe_batch(model: SEResNet) -> np.ndarray:
        size = model.config.input_size
        rng = np.random.default_rng(0)
        return rng.standard_normal((2, model.config.in_channels, size, size)).astype(np.float32)

    def _session_if_equal(self, data: bytes, probe: np.ndarray, expected: list[np.ndarray]):
        import onnxruntime as ort

        try:
            session = ort.InferenceSession(data, session_options(self.threads), providers=["CPUExecutionProvider"])
            got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: probe})
        except Exception:  # a damaged cache file: onnxruntime raises its own exception types
            return None
        if all(
            g.shape == e.shape and np.all(np.abs(g - e) <= PROBE_TOLERANCE) for g, e in zip(got, expected, strict=True)
        ):
            return session
        return None
