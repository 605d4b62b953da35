"""Frame → FrameResult: detect, track, crop, infer (batched), smooth, and optionally measure face
geometry (mesh, head pose, eyes, mouth). Shared by CLI, GUI and sessions."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from fer_live.errors import FerLiveError
from fer_live.faces.detection import Detection, FaceDetector
from fer_live.faces.geometry import GeometryTracker, load_reference
from fer_live.faces.mesh import FaceMesh, Mesh
from fer_live.faces.smoothing import Smoother
from fer_live.faces.tracking import FaceTracker
from fer_live.inference.engine import Engine
from fer_live.options import (
    DEFAULT_BACKEND,
    DEFAULT_DETECTOR,
    DEFAULT_DEVICE,
    DEFAULT_GEOMETRY,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_POSE_LIMIT,
)
from fer_live.results import FaceResult, FrameResult


@dataclass(frozen=True)
class PipelineSettings:
    detector_range: str = DEFAULT_DETECTOR
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    min_face_size: int = 0
    smoothing: float = 0.0
    device: str = DEFAULT_DEVICE
    threads: int | None = None
    max_missed: int = 10
    backend: str = DEFAULT_BACKEND  # one of options.BACKENDS (see fer_live.inference.engine)
    # Run the detector on every k-th frame only; frames in between reuse its faces (Pipeline.locate).
    detect_every: int = 1
    # Face mesh → head pose, eye openness, blinks, gaze, mouth (fer_live.faces.geometry).
    geometry: bool = DEFAULT_GEOMETRY
    pose_limit: float = DEFAULT_POSE_LIMIT  # degrees of |yaw| or |pitch| beyond which pose_ok is false

    def to_dict(self) -> dict:
        return asdict(self)


class Pipeline:
    """Owns a detector, a tracker, a smoother, an engine and (with geometry) a face mesh; close() frees them.

    `process` = `locate` → `crop_faces` + `mesh_faces` → `engine.predict` → `assemble`.
    fer_live.pipeline.stream runs the first three in one thread and the others in another: `locate`
    alone touches the detector, `mesh_faces` the face-mesh model, `assemble` the tracker, smoother,
    iris model and per-face geometry state, each called in frame order.
    """

    def __init__(self, settings: PipelineSettings = PipelineSettings(), weights=None, engine: Engine | None = None):
        if settings.detect_every < 1:
            raise FerLiveError(f"detect every k frames needs k >= 1, not {settings.detect_every}")
        self.settings = settings
        self.engine = engine or Engine(weights, settings.device, settings.threads, settings.backend)
        self.smoother = Smoother(settings.smoothing)
        self.tracker = FaceTracker(max_missed=settings.max_missed)
        self.detector = FaceDetector(settings.detector_range, settings.min_confidence, settings.min_face_size)
        self.mesh = FaceMesh() if settings.geometry else None
        self.geometry = GeometryTracker(load_reference(), settings.pose_limit) if settings.geometry else None
        self._frames_located = 0
        self._last_detections: list[Detection] = []

    def process(self, frame_index: int, time_s: float, image: np.ndarray) -> FrameResult:
        detections = self.locate(image)
        meshes = self.mesh_faces(image, detections)
        probs, va = self.engine.predict(self.crop_faces(image, detections))
        return self.assemble(frame_index, time_s, detections, probs, va, meshes)

    def locate(self, image: np.ndarray) -> list[Detection]:
        """The faces of the next frame: detected, or with `detect_every` k > 1, on the k − 1 frames
        after a detection, the faces of that detection (same boxes; the tracker keeps their IDs).
        Boxes lag up to k − 1 frames of motion, about the detector's own frame-to-frame jitter
        (measured in bench/results.md); faces appear and leave up to k − 1 frames late.
        """
        number = self._frames_located
        self._frames_located += 1
        if number % self.settings.detect_every == 0:
            self._last_detections = self.detector.detect(image)
        return self._last_detections

    def crop_faces(self, image: np.ndarray, detections: list[Detection]) -> list[np.ndarray]:
        return [self.engine.crop(image, d.box, d.angle) for d in detections]

    def mesh_faces(self, image: np.ndarray, detections: list[Detection]) -> list[Mesh | None]:
        """Each face's mesh landmarks and eye crops (`assemble` adds the irises and eyelids); None for a
        face too small or unclear for it, or all None without geometry."""
        if self.mesh is None:
            return [None] * len(detections)
        return [self.mesh.landmarks(image, d.box, d.angle) for d in detections]

    def assemble(
        self,
        frame_index: int,
        time_s: float,
        detections: list[Detection],
        probs: np.ndarray,
        va: np.ndarray,
        meshes: list[Mesh | None] | None = None,
    ) -> FrameResult:
        """Track and smooth a frame's located faces given the model's outputs for their crops, and
        turn their meshes (from `mesh_faces`) into geometry. The iris model runs here rather than in
        `mesh_faces`: it costs twice the mesh, and this balances the stream's two threads."""
        ids = self.tracker.update(detections)
        meshes = self._with_eyes(meshes if meshes is not None else [None] * len(detections))
        faces = []
        for face_id, det, p, v, mesh in zip(ids, detections, probs, va, meshes, strict=True):
            p, v = self.smoother.smooth(face_id, p, v)
            geometry = self.geometry.measure(face_id, mesh) if mesh is not None and self.geometry else None
            faces.append(FaceResult(face_id, det.box, det.score, p, float(v[0]), float(v[1]), geometry))
        live = {t.face_id for t in self.tracker.tracks}
        self.smoother.retain(live)
        if self.geometry is not None:
            self.geometry.retain(live)
        return FrameResult(frame_index, time_s, tuple(faces))

    def _with_eyes(self, meshes: list[Mesh | None]) -> list[Mesh | None]:
        found = [m for m in meshes if m is not None]
        if not found or self.mesh is None:
            return meshes
        done = iter(self.mesh.eyes(found))
        return [next(done) if m is not None else None for m in meshes]

    def reset(self, restart_ids: bool = False) -> None:
        """Forget tracks and smoothing state, e.g. after seeking in a file; detect on the next frame.
        `restart_ids`: face IDs start at 1 again (the file started over), see FaceTracker.reset."""
        self.tracker.reset(restart_ids)
        self.smoother.reset()
        if self.geometry is not None:
            self.geometry.reset()
        self._frames_located = 0

    def close(self) -> None:
        self.detector.close()
        if self.mesh is not None:
            self.mesh.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
