"""Following a detected face with its own mesh, so that the detector need not run on every frame.

MediaPipe's face-mesh graph does the same: once the mesh has found a face, the next frame's region
comes from the landmarks, and the detector runs only when a face is lost. Here the detector's reading
of the face (box, eyes) is carried along by the similarity transform (shift, scale, in-plane turn)
that takes the face's rigid mesh points from the frame it was detected in to the current one, so a
followed face is framed as the detector framed it, for the expression model as for the mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_live.faces.detection import Detection
from fer_live.faces.geometry import RIGID_POINTS


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2×3 matrix of the scaled rotation and shift taking `source` points (N × 2) nearest to
    `target` in least squares (Umeyama's method, reflections excluded)."""
    source_mean, target_mean = source.mean(0), target.mean(0)
    a, b = source - source_mean, target - target_mean
    u, singular, vt = np.linalg.svd(b.T @ a)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag([1.0, sign]) @ vt
    scale = (singular[0] + sign * singular[1]) / (a**2).sum()
    return np.hstack([scale * rotation, (target_mean - scale * rotation @ source_mean)[:, None]])


def moved(point: tuple[float, float], matrix: np.ndarray) -> tuple[float, float]:
    x, y = matrix @ (point[0], point[1], 1.0)
    return float(x), float(y)


@dataclass(frozen=True)
class FollowedFace:
    """A face the detector found (`detected`, with its rigid mesh points in that frame), and where
    its mesh has followed it since (`current`: the detection moved with the face)."""

    detected: Detection
    detected_points: np.ndarray  # len(RIGID_POINTS) × 2, frame pixels
    current: Detection

    @classmethod
    def start(cls, detection: Detection, points: np.ndarray) -> FollowedFace:
        return cls(detection, points[list(RIGID_POINTS), :2].astype(np.float64), detection)

    def moved_to(self, points: np.ndarray) -> FollowedFace:
        """The face whose mesh in the current frame is `points` (468 × 2 or 3, frame pixels)."""
        matrix = similarity(self.detected_points, points[list(RIGID_POINTS), :2].astype(np.float64))
        scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
        x, y, w, h = self.detected.box
        centre_x, centre_y = moved((x + w / 2, y + h / 2), matrix)
        w, h = w * scale, h * scale
        current = Detection(
            box=(centre_x - w / 2, centre_y - h / 2, w, h),
            score=self.detected.score,
            left_eye=moved(self.detected.left_eye, matrix),
            right_eye=moved(self.detected.right_eye, matrix),
        )
        return FollowedFace(self.detected, self.detected_points, current)
