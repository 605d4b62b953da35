"""Face detection with MediaPipe Tasks' BlazeFace models, bundled in assets/ so no download is needed."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_live.errors import FerLiveError
from fer_live.preprocess import eye_angle

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DETECTOR_MODELS = {
    # Full range finds faces down to ~60 px that short range misses, at ~8 vs ~3 ms per frame.
    "full": ASSETS / "models" / "face_detection_full_range_sparse.tflite",
    "short": ASSETS / "models" / "face_detection_short_range.tflite",
}


@contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Send fd 2 to a scratch file while MediaPipe's native code runs its noisy steps.

    LiteRT and absl print INFO/WARNING lines straight to fd 2 when a detector is created, first
    used and closed; neither GLOG_minloglevel nor TF_CPP_MIN_LOG_LEVEL nor any API of the wheel
    turns them off. Other threads' stderr output is lost for the same short moment. If the
    muted step fails, its lines are replayed so the cause stays visible.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr (e.g. pythonw): nothing to mute
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            os.write(2, sink.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@dataclass(frozen=True)
class Detection:
    """One face in pixel coordinates of the frame it was found in."""

    box: tuple[float, float, float, float]  # x, y, w, h
    score: float
    left_eye: tuple[float, float]  # the eye nearer the image's left edge when the face is upright
    right_eye: tuple[float, float]

    @property
    def angle(self) -> float:
        return eye_angle(self.left_eye, self.right_eye)

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]


class FaceDetector:
    """Finds faces in BGR frames; use as a context manager or call close() to free the graph."""

    def __init__(self, detector_range: str = "full", min_confidence: float = 0.5, min_face_size: int = 0):
        if detector_range not in DETECTOR_MODELS:
            raise FerLiveError(f"detector range must be one of {sorted(DETECTOR_MODELS)}, not {detector_range!r}")
        if not 0.0 <= min_confidence <= 1.0:
            raise FerLiveError(f"minimum detection confidence must be within [0, 1], not {min_confidence}")
        model_path = DETECTOR_MODELS[detector_range]
        if not model_path.is_file():
            raise FerLiveError(f"face detector model missing: {model_path} (reinstall fer_live)")
        # Imported here so that tools which never detect (training, reports) do not load mediapipe.
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_confidence,
        )
        with native_stderr_muted():
            self._detector = vision.FaceDetector.create_from_options(options)
            # The first detection logs a one-off warning about input alignment; have it here, muted.
            self._detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((8, 8, 3), np.uint8)))
        self.detector_range = detector_range
        self.min_confidence = min_confidence
        self.min_face_size = min_face_size

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """All faces at least `min_face_size` px wide in a BGR (or grey) frame, largest first."""
        if self._detector is None:
            raise RuntimeError("detector is closed")
        rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB if frame.ndim == 2 else cv2.COLOR_BGR2RGB)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        height, width = rgb.shape[:2]
        found = []
        for det in self._detector.detect(image).detections:
            bb = det.bounding_box
            if min(bb.width, bb.height) < self.min_face_size:
                continue
            # Keypoints 0 and 1 are the eyes in normalised coordinates.
            eyes = sorted(((kp.x * width, kp.y * height) for kp in det.keypoints[:2]), key=lambda p: p[0])
            found.append(
                Detection(
                    box=(float(bb.origin_x), float(bb.origin_y), float(bb.width), float(bb.height)),
                    score=float(det.categories[0].score),
                    left_eye=eyes[0],
                    right_eye=eyes[1],
                )
            )
        found.sort(key=lambda d: d.area, reverse=True)
        return found

    def close(self) -> None:
        if self._detector is not None:
            with native_stderr_muted():
                self._detector.close()
            self._detector = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
