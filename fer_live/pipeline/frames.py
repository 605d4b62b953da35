"""Frame → FrameResult: detect, track, crop, infer (batched), smooth, and optionally measure face
geometry (mesh, head pose, eyes, mouth). Shared by CLI, GUI and sessions."""

from __future__ import annotations

import queue
from dataclasses import asdict, dataclass

import numpy as np

from fer_live.errors import FerLiveError
from fer_live.faces.baselines import Baselines, Outcome, load_calibration
from fer_live.faces.detection import Detection, FaceDetector
from fer_live.faces.geometry import GeometryTracker, load_reference
from fer_live.faces.mesh import FaceMesh, Mesh
from fer_live.faces.smoothing import Smoother
from fer_live.faces.tracking import FaceTracker
from fer_live.inference.engine import Engine, Prediction
from fer_live.inference.operating_point import RECOMMENDED, Baseline
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
    prior: str = RECOMMENDED  # expected-expression prior (fer_live.inference.operating_point)
    # Participant calibration: the first S seconds of every new track are its neutral baseline
    # (0 = off), or the baselines of a saved calibration file (by track ID; a single one for every face).
    calibrate_seconds: float = 0.0
    calibration: str | None = None

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
        if settings.calibrate_seconds < 0:
            raise FerLiveError(f"calibration seconds must be at least 0, not {settings.calibrate_seconds:g}")
        self.engine = engine or Engine(weights, settings.device, settings.threads, settings.backend, settings.prior)
        # Before the detector starts, so a refused calibration file leaves nothing open.
        loaded = load_calibration(settings.calibration, self.engine.weights_sha256) if settings.calibration else {}
        self.smoother = Smoother(settings.smoothing)
        self.tracker = FaceTracker(max_missed=settings.max_missed)
        self.detector = FaceDetector(settings.detector_range, settings.min_confidence, settings.min_face_size)
        self.mesh = FaceMesh() if settings.geometry else None
        self.geometry = GeometryTracker(load_reference(), settings.pose_limit) if settings.geometry else None
        self._frames_located = 0
        self._last_detections: list[Detection] = []
        self.baselines = Baselines()
        self._seen_tracks: set[int] = set()
        self.calibration_outcomes: list[Outcome] = []  # collections that ended, oldest first
        # Calibrate/clear requests from other threads (the GUI), carried out by `assemble` at its next frame.
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self.baselines.by_track.update(loaded)
        # A calibration file with one baseline stands for whoever is in the picture.
        self.everyone_baseline: Baseline | None = next(iter(loaded.values())) if len(loaded) == 1 else None

    def process(self, frame_index: int, time_s: float, image: np.ndarray, still: bool = False) -> FrameResult:
        """`still`: the frame is an image of its own (`Frame.still`), unrelated to the one before."""
        detections = self.locate(image, still)
        meshes = self.mesh_faces(image, detections)
        prediction = self.engine.predict(self.crop_faces(image, detections))
        return self.assemble(frame_index, time_s, detections, prediction, meshes, still)

    def locate(self, image: np.ndarray, still: bool = False) -> list[Detection]:
        """The faces of the next frame: detected, or with `detect_every` k > 1, on the k − 1 frames
        after a detection, the faces of that detection (same boxes; the tracker keeps their IDs).
        Boxes lag up to k − 1 frames of motion, about the detector's own frame-to-frame jitter
        (measured in bench/results.md); faces appear and leave up to k − 1 frames late.
        A still is always detected afresh: another image's boxes say nothing about it.
        """
        if still:
            self._frames_located = 0
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
        prediction: Prediction,
        meshes: list[Mesh | None] | None = None,
        still: bool = False,
    ) -> FrameResult:
        """Track and smooth a frame's located faces given the model's reading of their crops, and
        turn their meshes (from `mesh_faces`) into geometry. The iris model runs here rather than in
        `mesh_faces`: it costs twice the mesh, and this balances the stream's two threads. A still
        starts afresh: its faces get new IDs and nothing is smoothed or learnt over from the image before."""
        if still:
            self._forget_faces()
        ids = self.tracker.update(detections)
        meshes = self._with_eyes(meshes if meshes is not None else [None] * len(detections))
        while not self._requests.empty():
            self._requests.get()(ids, time_s)
        faces = []
        readings = zip(ids, detections, prediction.probs, prediction.va, prediction.aus, meshes, strict=True)
        for face_id, det, p, v, a, mesh in readings:
            p, v, a, calibrated, progress = self._calibrate(face_id, time_s, p, v, a)
            p, v, a = self.smoother.smooth(face_id, p, v, a)
            geometry = self.geometry.measure(face_id, mesh) if mesh is not None and self.geometry else None
            faces.append(
                FaceResult(
                    face_id, det.box, det.score, p, float(v[0]), float(v[1]), geometry,
                    calibrated=calibrated, calibration_progress=progress, aus=a if a.size else None,
                )
            )  # fmt: skip
        live = {t.face_id for t in self.tracker.tracks}
        self.smoother.retain(live)
        if self.geometry is not None:
            self.geometry.retain(live)
        for face_id in [t for t in self.baselines.collecting if t not in live]:
            self.calibration_outcomes.append(self.baselines.finish(face_id))
        return FrameResult(frame_index, time_s, tuple(faces))

    def _with_eyes(self, meshes: list[Mesh | None]) -> list[Mesh | None]:
        found = [m for m in meshes if m is not None]
        if not found or self.mesh is None:
            return meshes
        done = iter(self.mesh.eyes(found))
        return [next(done) if m is not None else None for m in meshes]

    def _calibrate(
        self, face_id: int, time_s: float, probs: np.ndarray, va: np.ndarray, aus: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, float | None]:
        """A face's reading with its baseline applied; feeds its collection while one runs."""
        baselines = self.baselines
        if self.settings.calibrate_seconds > 0 and face_id not in self._seen_tracks:
            self._seen_tracks.add(face_id)
            baselines.start([face_id], time_s, self.settings.calibrate_seconds)
        progress = None
        if face_id in baselines.collecting:
            outcome = baselines.add(face_id, self.engine.operating_point.raw_logits(probs), va, time_s, aus)
            if outcome is None:
                progress = baselines.progress(face_id, time_s)
            else:
                self.calibration_outcomes.append(outcome)
        baseline = baselines.by_track.get(face_id, self.everyone_baseline)
        if baseline is None or progress is not None:
            return probs, va, aus, False, progress
        point = self.engine.operating_point
        probs, va = point.calibrate(probs, va, baseline)
        return probs, va, point.calibrate_aus(aus, baseline), True, None

    def request_calibration(self, face_ids: list[int] | None, seconds: float) -> None:
        """Collect a new neutral baseline for these faces (None: every face in the next frame) over
        `seconds` from the next frame on. Safe to call from any thread."""
        if seconds <= 0:
            raise FerLiveError(f"calibration seconds must be greater than 0, not {seconds:g}")
        self._requests.put(lambda ids, now: self.baselines.start(ids if face_ids is None else face_ids, now, seconds))

    def request_baselines(self, baselines: dict[int, Baseline]) -> None:
        """Apply these baselines (track ID → Baseline, e.g. a loaded calibration) from the next frame on."""
        self._requests.put(lambda ids, now: self.baselines.by_track.update(baselines))

    def adopt_faces(self, other: Pipeline) -> None:
        """Take over another pipeline's face tracks, baselines, collections and pending requests
        (settings changed). Baselines are kept by track ID: with its own tracker this pipeline
        numbered the faces from 1 again, and a baseline went to whichever face now had its number."""
        self.tracker = other.tracker
        self.tracker.max_missed = self.settings.max_missed
        self.baselines = other.baselines
        self.everyone_baseline = other.everyone_baseline
        self._seen_tracks = other._seen_tracks
        self._requests = other._requests
        self.calibration_outcomes = other.calibration_outcomes

    def request_clear_calibration(self, face_ids: list[int] | None = None) -> None:
        """Forget these faces' baselines (None: all) at the next frame. Safe to call from any thread."""

        def clear(ids, now):
            self.baselines.clear(face_ids)
            if face_ids is None:
                self.everyone_baseline = None

        self._requests.put(clear)

    def finish_calibrations(self) -> None:
        """End every running collection (the video ended): their outcomes join calibration_outcomes."""
        for face_id in list(self.baselines.collecting):
            self.calibration_outcomes.append(self.baselines.finish(face_id))

    def reset(self, restart_ids: bool = False) -> None:
        """Forget tracks and smoothing state, e.g. after seeking in a file; detect on the next frame.
        `restart_ids`: face IDs start at 1 again (the file started over), see FaceTracker.reset;
        not while a face's baseline is kept by its ID, which a new face of that number would take."""
        self._forget_faces(restart_ids and not self.baselines.by_track)
        self._frames_located = 0

    def _forget_faces(self, restart_ids: bool = False) -> None:
        """Tracks, smoothing and geometry state go; face IDs continue from the last one unless `restart_ids`."""
        self.tracker.reset(restart_ids)
        self.smoother.reset()
        if self.geometry is not None:
            self.geometry.reset()
        self.baselines.collecting.clear()

    def close(self) -> None:
        self.detector.close()
        if self.mesh is not None:
            self.mesh.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
