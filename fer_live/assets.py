"""Paths of the files bundled with fer_live: weights, the int8 graph, face models, the demo video.

One lookup for a checkout and an installed wheel: setup.py installs the repository's top-level
assets/ folder as `fer_live/bundled/`; in a checkout (editable install) assets/ sits beside the package.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _root() -> Path:
    installed = Path(str(files("fer_live"))) / "bundled"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "assets"


ROOT = _root()
WEIGHTS = ROOT / "fer_live_se_resnet.pt"
DEMO_VIDEO = ROOT / "demo" / "demo.mp4"
DETECTOR_MODELS = {
    "full": ROOT / "models" / "face_detection_full_range_sparse.tflite",
    "short": ROOT / "models" / "face_detection_short_range.tflite",
}
# MediaPipe's face mesh and iris models and the 3-D reference face for head pose;
# models/README.md says where each comes from.
FACE_MESH_MODEL = ROOT / "models" / "face_landmark.tflite"
IRIS_MODEL = ROOT / "models" / "iris_landmark.tflite"
FACE_REFERENCE = ROOT / "models" / "face_reference_3d.npz"
