"""Face detection with MediaPipe Tasks' BlazeFace models, bundled in assets/ so no download is needed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from fer_live.assets import DETECTOR_MODELS
from fer_live.errors import FerLiveError
from fer_live.inference.preprocess import eye_angle
from fer_live.native_stderr import native_stderr_captured, write_stderr
from fer_live.options import DEFAULT_DETECTOR, DEFAULT_MIN_CONFIDENCE

# Native log lines at INFO/WARNING level, from LiteRT ("INFO: [environment.cc:36] ...",
# "WARNING: [model_load.cc:402] ...") and absl ("W0000 00:00:... inference_runner_litert.cc:1418] ...").
NATIVE_CHATTER = re.compile(r"^(?:INFO|WARNING): |^[IW]\d{4} \d")
# LiteRT logs this once per process, at whichever detection first gets a tensor that is not
# 64-byte aligned (it depends on the allocator, so on no frame in particular).
ONE_OFF_WARNING = "Input tensor memory is not aligned"
_one_off_warning_seen = False


@contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Run a MediaPipe step with fd 2 caught, then pass on all but its chatter.

    LiteRT and absl print INFO/WARNING lines straight to fd 2 when a detector is created, first
    used and closed; neither GLOG_minloglevel nor TF_CPP_MIN_LOG_LEVEL nor any API of the wheel
    turns them off. Anything else written meanwhile (errors, other threads' output) is passed on
    when the step ends, and everything is if the step fails.
    """
    global _one_off_warning_seen
    with native_stderr_captured() as lines:
        yield
    _one_off_warning_seen |= any(ONE_OFF_WARNING in line for line in lines)
    if kept := [line for line in lines if not NATIVE_CHATTER.match(line)]:
        write_stderr(kept)


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

    def __init__(
        self,
        detector_range: str = DEFAULT_DETECTOR,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_face_size: int = 0,
    ):
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
            # A first detection, so that any start-up lines of the graph come now, muted.
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
        if _one_off_warning_seen:
            result = self._detector.detect(image)
        else:
            with native_stderr_muted():
                result = self._detector.detect(image)
        found = []
        for det in result.detections:
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
