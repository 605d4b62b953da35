"""The int8 runtime: the statically quantised graph shipped beside a weights file (`<weights>.int8.onnx`).

Its metadata names the weights file's sha256: an int8 file made from other weights is refused, never
silently used. It is built by `python -m training.int8` (it needs calibration faces from a data set).
"""

from __future__ import annotations

from pathlib import Path

from fer_live.checksums import file_sha256
from fer_live.errors import FerLiveError
from fer_live.inference.onnx import OnnxRuntimeModel, session_options

BUILD_COMMAND = "python -m training.int8"
WEIGHTS_KEY = "fer_live_weights_sha256"


def int8_path(weights: Path) -> Path:
    return weights.with_name(weights.stem + ".int8.onnx")


class Int8Model(OnnxRuntimeModel):
    """Runs the int8 graph shipped beside `weights_path`."""

    def __init__(self, weights_path: Path, threads: int):
        import onnxruntime as ort

        self.threads = threads
        self.path = int8_path(weights_path)
        if not self.path.is_file():
            raise FerLiveError(
                f"no int8 model for {weights_path} (build one with {BUILD_COMMAND} --weights {weights_path})"
            )
        try:
            self.session = ort.InferenceSession(
                str(self.path), session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for damaged files
            raise FerLiveError(f"int8 model {self.path} is damaged or unreadable ({exc.__class__.__name__})") from exc
        made_from = self.session.get_modelmeta().custom_metadata_map.get(WEIGHTS_KEY)
        if made_from != file_sha256(weights_path):
            raise FerLiveError(
                f"int8 model {self.path} was built from other weights than {weights_path}; "
                f"rebuild it with {BUILD_COMMAND}"
            )
