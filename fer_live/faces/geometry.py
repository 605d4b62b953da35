"""Head pose, eye openness, blinks, gaze and mouth openness from a face mesh.

Conventions (all angles in degrees, camera looking at the subject):
- yaw > 0: the face turns toward the image's right (the subject's left); pitch > 0: chin up;
  roll > 0: head tilted clockwise as seen in the image (the same sign as the eye-line angle of
  the crops). 0, 0, 0 = the symmetric reference face looking into the camera.
- eye_open_l / eye_open_r: the subject's left / right eye (image right / left). Eye aspect ratio
  (lid gap / eye width) divided by this face's own open-eye level, so ~1 = open as usual for this
  person, ~0 = closed.
- gaze_yaw / gaze_pitch: head pose plus the iris's offset within the eye (same signs as yaw and
  pitch). An uncalibrated estimate: good for "looking left/right/up/down, roughly how far", not
  for where on a screen; off by 10° or more, worse when lids cover the iris or beyond ±30° yaw.
- mouth_open: inner-lip gap / mouth width (0 = closed, ~0.5 = wide open).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fer_live import assets
from fer_live.faces.mesh import EYE_CORNERS, Mesh
from fer_live.results import FaceGeometry

# Eyelid outline points (upper, lower) facing each other across the middle of the eye.
LID_PAIRS = ((11, 3), (12, 4), (13, 5))
MOUTH_CORNERS = (61, 291)
INNER_LIPS = (13, 14)
# Points that move little with expression (forehead, nose bridge and tip, eye corners, cheek
# sides): head pose is fitted to these only, so an open mouth or raised brows do not tilt it.
RIGID_POINTS = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 98, 327, 234, 454, 127, 356, 93, 323)
# Eyeball radius over half the eye's width (12 mm over ~15 mm): converts the iris's offset from
# the eye centre, in half-widths, to the sine of the eye's rotation.
EYE_HALF_WIDTH_OVER_RADIUS = 1.25
# Blink hysteresis on the mean eye openness: closed below CLOSE, open again above OPEN.
BLINK_CLOSE = 0.6
BLINK_OPEN = 0.8
# Open-eye level of a face: a slow average of its open frames (about 2 s at 30 fps).
OPEN_LEVEL_RATE = 0.02


@dataclass(frozen=True)
class Reference:
    """The 3-D reference face (assets/models/face_reference_3d.npz, made by make_reference.py)."""

    points: np.ndarray  # 468 × 3, mm; x right, y down, z away from the camera
    mirror: np.ndarray  # index of each point's mirror partner
    open_eye_aspect: float  # median eye aspect ratio of the faces it was made from


def load_reference() -> Reference:
    with np.load(assets.FACE_REFERENCE) as data:
        return Reference(
            data["points"].astype(np.float64), data["mirror"].astype(np.intp), float(data["open_eye_aspect"])
        )


def eye_aspect_ratios(eyelids: np.ndarray) -> tuple[float, float]:
    """Lid gap over eye width for the subject's (left, right) eye, from the iris model's eyelid
    outlines (FaceMesh.Mesh.eyelids): the mean of three gaps across the middle of the eye.

    The 468-point mesh's own eyelids barely close (on eyes closed by editing, its ratio fell to
    0.73 of open on average against 0.52 for the iris model's outline), so they are not used.
    """

    def ratio(outline: np.ndarray) -> float:
        width = np.linalg.norm(outline[0] - outline[8])
        gap = sum(np.linalg.norm(outline[upper] - outline[lower]) for upper, lower in LID_PAIRS)
        return float(gap / (len(LID_PAIRS) * width)) if width > 0 else math.nan

    return ratio(eyelids[1]), ratio(eyelids[0])


def mouth_openness(points: np.ndarray) -> float:
    width = np.linalg.norm(points[MOUTH_CORNERS[0], :2] - points[MOUTH_CORNERS[1], :2])
    gap = np.linalg.norm(points[INNER_LIPS[0], :2] - points[INNER_LIPS[1], :2])
    return float(gap / width) if width > 0 else math.nan


def camera_matrix(frame_size: tuple[int, int]) -> np.ndarray:
    """Pinhole camera for a frame of (width, height): focal length = frame width (a ~53° horizontal
    field of view, a typical webcam), centre at the frame centre. Errors in this assumption shift
    yaw/pitch of faces far from the centre by a few degrees, not their changes over time."""
    width, height = frame_size
    return np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], dtype=np.float64)


def head_pose(points: np.ndarray, reference: np.ndarray, frame_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of the face whose mesh is `points` (frame pixels, z depth),
    relative to the line from the camera to the face: 0, 0, 0 = facing the camera, wherever the
    face is in the frame (what the expression model sees, so what the pose limit should judge).

    The mesh's own 3-D rigid points give the rotation by orthogonal Procrustes against the
    reference face; cv2.solvePnP (iterative, started there) then refines it on their 2-D image
    positions under a pinhole camera. solvePnP alone (SQPNP) flipped ~1 in 10 real faces to the
    mirror-image pose 180° away, as near-planar point sets allow.
    """
    rigid = list(RIGID_POINTS)
    model, seen = reference[rigid].astype(np.float64), points[rigid].astype(np.float64)
    a, b = model - model.mean(0), seen - seen.mean(0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    rotation = (u @ np.diag([1.0, 1.0, d]) @ vt).T  # reference → camera
    camera = camera_matrix(frame_size)
    # Start the translation where the face is: its centre back-projected at the depth its scale implies.
    scale = np.linalg.norm(b) / np.linalg.norm(a)
    depth = camera[0, 0] / scale
    centre = seen.mean(0)
    tvec = np.array(
        [(centre[0] - camera[0, 2]) * depth / camera[0, 0], (centre[1] - camera[1, 2]) * depth / camera[1, 1], depth]
    )
    tvec -= rotation @ model.mean(0)
    rvec, _ = cv2.Rodrigues(rotation)
    ok, rvec, found_tvec = cv2.solvePnP(
        model, np.ascontiguousarray(seen[:, :2]), camera, None, rvec, tvec.reshape(3, 1), True, cv2.SOLVEPNP_ITERATIVE
    )
    if ok:
        rotation, _ = cv2.Rodrigues(rvec)
        tvec = found_tvec.ravel()
    return euler_angles(line_of_sight(tvec).T @ rotation)


def line_of_sight(position: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the camera's axis (0, 0, 1) to the direction of `position`."""
    direction = position / np.linalg.norm(position)
    axis = np.cross((0.0, 0.0, 1.0), direction)
    sine = np.linalg.norm(axis)
    if sine < 1e-12:
        return np.eye(3)
    angle = math.atan2(sine, direction[2])
    rotation, _ = cv2.Rodrigues(axis / sine * angle)
    return rotation


def euler_angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """Our (yaw, pitch, roll) of a face-to-camera rotation, decomposed as Rz · Ry · Rx in OpenCV's
    camera axes (x right, y down, z forward). Roll outermost: turning the image (or the camera
    about its axis) by some angle changes roll by exactly that angle and leaves yaw and pitch."""
    a = math.asin(max(-1.0, min(1.0, -rotation[2, 0])))
    b = math.atan2(rotation[2, 1], rotation[2, 2])
    c = math.atan2(rotation[1, 0], rotation[0, 0])
    # The face looks along −z: a negative turn about y points the nose to +x (image right), a
    # negative turn about x points it up.
    return -math.degrees(a), -math.degrees(b), math.degrees(c)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The face-to-camera rotation of our (yaw, pitch, roll) in degrees (the inverse of euler_angles)."""
    a, b, c = math.radians(-yaw), math.radians(-pitch), math.radians(roll)
    about_z = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    about_y = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    about_x = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return about_z @ about_y @ about_x


def eye_in_head(points: np.ndarray, irises: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) of the eyes within the head, degrees: the iris centres' offsets from the
    midpoints of the eye corners, along and across the eye line, in half eye widths."""
    yaws, pitches = [], []
    for iris, (outer, inner) in zip(irises, EYE_CORNERS, strict=True):
        a, b = points[outer, :2], points[inner, :2]
        left, right = (a, b) if a[0] <= b[0] else (b, a)
        along = right - left
        half = np.linalg.norm(along) / 2
        if half <= 0:
            return math.nan, math.nan
        along = along / (2 * half)
        down = np.array([-along[1], along[0]])
        offset = iris[0] - (a + b) / 2
        yaws.append(math.asin(max(-1.0, min(1.0, EYE_HALF_WIDTH_OVER_RADIUS * float(offset @ along) / half))))
        pitches.append(-math.asin(max(-1.0, min(1.0, EYE_HALF_WIDTH_OVER_RADIUS * float(offset @ down) / half))))
    return math.degrees(float(np.mean(yaws))), math.degrees(float(np.mean(pitches)))


class _FaceState:
    """Per-face memory: open-eye level and whether a blink is under way."""

    def __init__(self, open_level: float):
        self.open_level = open_level
        self.closed = False
        self.blinks = 0


class GeometryTracker:
    """FaceGeometry of each tracked face per frame, from its mesh; keeps per-face eye levels and
    blink state, so call it once per frame in frame order (as Pipeline.assemble does)."""

    def __init__(self, reference: Reference, pose_limit: float = 45.0):
        self.reference = reference
        self.pose_limit = pose_limit
        self._faces: dict[int, _FaceState] = {}

    def measure(self, face_id: int, mesh: Mesh) -> FaceGeometry:
        points = mesh.points
        yaw, pitch, roll = head_pose(points, self.reference.points, mesh.frame_size)
        state = self._faces.setdefault(face_id, _FaceState(self.reference.open_eye_aspect))
        aspect_l, aspect_r = eye_aspect_ratios(mesh.eyelids)
        aspect = (aspect_l + aspect_r) / 2
        # Only clearly open frames teach the face's open level, so blinks do not drag it down.
        if aspect > 0.8 * state.open_level:
            state.open_level += OPEN_LEVEL_RATE * (aspect - state.open_level)
        open_l, open_r = aspect_l / state.open_level, aspect_r / state.open_level
        openness = (open_l + open_r) / 2
        if not state.closed and openness < BLINK_CLOSE:
            state.closed = True
            state.blinks += 1
        elif state.closed and openness > BLINK_OPEN:
            state.closed = False
        eye_yaw, eye_pitch = eye_in_head(points, mesh.irises)
        return FaceGeometry(
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            eye_open_l=open_l,
            eye_open_r=open_r,
            blink=state.closed,
            gaze_yaw=yaw + eye_yaw,
            gaze_pitch=pitch + eye_pitch,
            mouth_open=mouth_openness(points),
            pose_ok=abs(yaw) <= self.pose_limit and abs(pitch) <= self.pose_limit,
            landmarks=points[:, :2].copy(),
        )

    def blink_count(self, face_id: int) -> int:
        state = self._faces.get(face_id)
        return state.blinks if state else 0

    def retain(self, face_ids: set[int]) -> None:
        self._faces = {i: s for i, s in self._faces.items() if i in face_ids}

    def reset(self) -> None:
        self._faces = {}
