"""MediaPipe's face mesh (468 points) and iris models, run on our own tracked faces with LiteRT.

The .tflite files of the mediapipe 0.10.21 wheel run unchanged on LiteRT's CPU interpreter
(XNNPACK), 3× faster than the same graphs converted to ONNX on onnxruntime. Running them on the
BlazeFace box we already have costs one 192 px inference per face instead of a second detector pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from fer_live import assets
from fer_live.errors import FerLiveError
from fer_live.faces.detection import native_stderr_muted

MESH_INPUT = 192
IRIS_INPUT = 64
# MediaPipe's region of interest: the detector box scaled 1.5×, square, rotated so the eyes are level.
MESH_ROI_SCALE = 1.5
# Eye regions for the iris model: 2.3 × the eye-corner distance, square, as in MediaPipe's iris graph.
IRIS_ROI_SCALE = 2.3
# Below this box side (px) the 192 px mesh input is mostly upsampled blur; the mesh is skipped.
MIN_FACE_SIDE = 32
# The model's face-presence probability below which its landmarks are not used.
MIN_PRESENCE = 0.5
# Output tensors of the .tflite models, by name.
MESH_POINTS, MESH_PRESENCE = "conv2d_21", "conv2d_31"
IRIS_POINTS, IRIS_CONTOURS = "output_iris", "output_eyes_contours_and_brows"
# Eye corners (image-left eye first when upright: the subject's right eye), mesh indices.
EYE_CORNERS = ((33, 133), (362, 263))
# Mesh outline of each eye (subject's right, then left): outer corner, lower lid, inner corner, upper lid.
EYE_OUTLINES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)


@dataclass(frozen=True)
class EyeCrops:
    """The iris model's inputs for one face (the subject's right eye first; the left one mirrored)
    and the 2×3 matrices taking crop coordinates back to the frame."""

    pixels: np.ndarray  # 2 × 64 × 64 × 3 float32, RGB in [0, 1]
    matrices: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Mesh:
    """One face's landmarks in frame pixels; z is depth in the same pixel scale, larger = farther.

    `FaceMesh.landmarks` fills the points and cuts the eye crops; `FaceMesh.eyes` then fills the
    irises and eyelids (two steps, so the two models can run in different threads)."""

    points: np.ndarray  # 468 × 3 float32
    frame_size: tuple[int, int]  # width, height of the frame it was found in
    presence: float
    eye_crops: EyeCrops | None = None
    irises: np.ndarray | None = None  # 2 × 5 × 2 float32: centre then 4 rim points; subject's right eye first
    # 2 × 16 × 2 float32: the iris model's eyelid outlines, in EYE_OUTLINES order: one corner,
    # the lower lid, the other corner (index 8), the upper lid from the first corner's side (9–15).
    eyelids: np.ndarray | None = None


def roi_matrix(centre: tuple[float, float], side: float, angle: float, size: int) -> np.ndarray:
    """2×3 affine taking continuous coordinates of a size×size crop to frame coordinates: the
    square of `side` px around `centre`, rotated by `angle` radians (clockwise on screen)."""
    step = side / size
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    half = size / 2
    return np.array(
        [
            [step * cos_a, -step * sin_a, centre[0] - step * (cos_a * half - sin_a * half)],
            [step * sin_a, step * cos_a, centre[1] - step * (sin_a * half + cos_a * half)],
        ]
    )


def warp(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The crop described by `matrix` (see roi_matrix), RGB float32 in [0, 1]."""
    pixel = matrix.copy()
    pixel[:, 2] += matrix[:, :2] @ (0.5, 0.5) - 0.5  # crop pixel centres, not corners
    crop = cv2.warpAffine(
        frame, pixel, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB if crop.ndim == 2 else cv2.COLOR_BGR2RGB)
    return crop.astype(np.float32) * (1 / 255)


def eye_outlines(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mesh's outline of the subject's right and left eye (16 points each, EYE_OUTLINES order)."""
    return landmarks[list(EYE_OUTLINES[0]), :2], landmarks[list(EYE_OUTLINES[1]), :2]


def eye_crops(frame: np.ndarray, points: np.ndarray) -> EyeCrops:
    """Both eyes' iris-model crops, from the mesh's eye corners. The model knows one eye, so the
    other eye's crop is mirrored going in (and its points mirrored coming out), as MediaPipe does."""
    crops, matrices = [], []
    for eye, (outer, inner) in enumerate(EYE_CORNERS):
        a, b = points[outer, :2], points[inner, :2]
        left, right = (a, b) if a[0] <= b[0] else (b, a)
        angle = math.atan2(right[1] - left[1], right[0] - left[0])
        side = IRIS_ROI_SCALE * float(np.linalg.norm(b - a))
        matrix = roi_matrix(tuple((a + b) / 2), max(side, 1.0), angle, IRIS_INPUT)
        crop = warp(frame, matrix, IRIS_INPUT)
        crops.append(crop[:, ::-1] if eye == 1 else crop)
        matrices.append(matrix)
    return EyeCrops(np.stack(crops), (matrices[0], matrices[1]))


def to_frame(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


class TfliteModel:
    """One .tflite model on LiteRT's CPU interpreter, one input at a time. Not thread-safe: each
    thread that runs a model needs its own (invoke releases the GIL, so two run side by side)."""

    def __init__(self, path: Path, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        if not path.is_file():
            raise FerLiveError(f"face mesh model missing: {path} (reinstall fer_live)")
        # LiteRT announces its XNNPACK delegate on fd 2 when the interpreter is made.
        with native_stderr_muted():
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = {detail["name"]: detail["index"] for detail in self._interpreter.get_output_details()}

    def run(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """The outputs by name for one H×W×3 input (RGB float32 in [0, 1])."""
        self._interpreter.set_tensor(self._input, pixels[None])
        self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(index) for name, index in self._outputs.items()}


class FaceMesh:
    """Landmarks of detected faces; use as a context manager or call close()."""

    def __init__(self, threads: int = 1):
        # One thread: a 192 px model gains nothing from more, and the tracking thread shares the CPU.
        self._mesh: TfliteModel | None = TfliteModel(assets.FACE_MESH_MODEL, threads)
        self._iris: TfliteModel | None = TfliteModel(assets.IRIS_MODEL, threads)

    def measure(self, frame: np.ndarray, box: tuple[float, float, float, float], angle: float) -> Mesh | None:
        """The complete mesh (landmarks, irises, eyelids) of the face in `box` (x, y, w, h) whose eye
        line is at `angle` radians, or None when the face is too small or the model finds none there."""
        found = self.landmarks(frame, box, angle)
        return self.eyes([found])[0] if found is not None else None

    def landmarks(self, frame: np.ndarray, box: tuple[float, float, float, float], angle: float) -> Mesh | None:
        """The first step of `measure`: the 468 points and the eye crops, no irises or eyelids yet."""
        if self._mesh is None:
            raise RuntimeError("face mesh is closed")
        x, y, w, h = box
        if min(w, h) < MIN_FACE_SIDE:
            return None
        matrix = roi_matrix((x + w / 2, y + h / 2), MESH_ROI_SCALE * max(w, h), angle, MESH_INPUT)
        outputs = self._mesh.run(warp(frame, matrix, MESH_INPUT))
        presence = 1 / (1 + math.exp(-float(np.ravel(outputs[MESH_PRESENCE])[0])))
        if presence < MIN_PRESENCE:
            return None
        raw = outputs[MESH_POINTS].reshape(468, 3)
        points = np.empty((468, 3), np.float32)
        points[:, :2] = to_frame(raw[:, :2], matrix)
        points[:, 2] = raw[:, 2] * math.hypot(matrix[0, 0], matrix[1, 0])
        height, width = frame.shape[:2]
        return Mesh(points, (width, height), presence, eye_crops(frame, points))

    def eyes(self, meshes: list[Mesh]) -> list[Mesh]:
        """The second step of `measure`: irises and eyelids of every mesh."""
        if self._iris is None:
            raise RuntimeError("face mesh is closed")
        done = []
        for found in meshes:
            outputs = [self._iris.run(crop) for crop in found.eye_crops.pixels]
            irises = np.concatenate([eye[IRIS_POINTS] for eye in outputs])
            contours = np.concatenate([eye[IRIS_CONTOURS] for eye in outputs])
            eyes = []
            for raw, count in ((irises, 5), (contours[:, : 16 * 3], 16)):
                points = raw.reshape(2, count, 3)[:, :, :2].copy()
                points[1, :, 0] = IRIS_INPUT - points[1, :, 0]  # the left eye went in mirrored
                eyes.append(np.stack([to_frame(points[e], found.eye_crops.matrices[e]) for e in range(2)]))
            done.append(replace(found, irises=eyes[0].astype(np.float32), eyelids=eyes[1].astype(np.float32)))
        return done

    def close(self) -> None:
        self._mesh = self._iris = None

    def __enter__(self) -> FaceMesh:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
