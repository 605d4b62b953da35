"""Frame → FrameResult: detect, track, crop, infer (batched), smooth. Shared by CLI, GUI and sessions."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from fer_live.detection import FaceDetector
from fer_live.engine import Engine
from fer_live.results import FaceResult, FrameResult
from fer_live.smoothing import Smoother
from fer_live.tracking import FaceTracker


@dataclass(frozen=True)
class PipelineSettings:
    detector_range: str = "full"
    min_confidence: float = 0.5
    min_face_size: int = 0
    smoothing: float = 0.0
    device: str = "auto"
    threads: int | None = None
    max_missed: int = 10

    def to_dict(self) -> dict:
        return asdict(self)


class Pipeline:
    """Owns a detector, a tracker, a smoother and an engine; close() frees the detector."""

    def __init__(self, settings: PipelineSettings = PipelineSettings(), weights=None, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine or Engine(weights, settings.device, settings.threads)
        self.smoother = Smoother(settings.smoothing)
        self.tracker = FaceTracker(max_missed=settings.max_missed)
        self.detector = FaceDetector(settings.detector_range, settings.min_confidence, settings.min_face_size)

    def process(self, frame_index: int, time_s: float, image: np.ndarray) -> FrameResult:
        detections = self.detector.detect(image)
        ids = self.tracker.update(detections)
        crops = [self.engine.crop(image, d.box, d.angle) for d in detections]
        probs, va = self.engine.predict(crops)
        faces = []
        for face_id, det, p, v in zip(ids, detections, probs, va, strict=True):
            p, v = self.smoother.smooth(face_id, p, v)
            faces.append(FaceResult(face_id, det.box, det.score, p, float(v[0]), float(v[1])))
        self.smoother.retain({t.face_id for t in self.tracker.tracks})
        return FrameResult(frame_index, time_s, tuple(faces))

    def reset(self) -> None:
        """Forget tracks and smoothing state, e.g. after seeking in a file."""
        self.tracker.reset()
        self.smoother.reset()

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
