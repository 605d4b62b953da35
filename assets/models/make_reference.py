"""Build assets/models/face_reference_3d.npz, the 3-D reference face for head pose, from our own data.

The mediapipe wheel ships no canonical face model, so the reference is the mesh model's own 3-D
output (x, y in pixels, z in the same scale) averaged over the neutral DiffusionFER training faces:
each face aligned to the running mean (similarity Procrustes), then the mean made mirror-symmetric
about its own midline, so that yaw 0 and roll 0 mean "symmetric to the camera". Pitch 0 is the
average pitch of those frontal portraits. Units: millimetres, scaled so the outer eye corners are
90 mm apart (a typical adult); the scale only affects the translation solvePnP returns.

    python assets/models/make_reference.py ../shared/data/diffusionfer   (writes the .npz beside this file)
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from fer_live.assets import FACE_REFERENCE
from fer_live.faces.detection import FaceDetector
from fer_live.faces.geometry import eye_aspect_ratios, head_pose
from fer_live.faces.mesh import FaceMesh

OUTER_EYE_CORNERS = (33, 263)
EYE_CORNER_DISTANCE_MM = 90.0


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`source` moved, rotated and scaled onto `target` (least squares)."""
    a, b = source - source.mean(0), target - target.mean(0)
    u, s, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1, 1, d]) @ vt
    scale = (s * [1, 1, d]).sum() / (a**2).sum()
    return scale * a @ rotation + target.mean(0)


def main(data: Path) -> None:
    rows = [
        r for r in csv.DictReader(open(data / "labels.csv")) if r["split"] == "train" and r["expression"] == "neutral"
    ]
    shapes, sizes, aspects = [], [], []
    with FaceDetector("short") as detector, FaceMesh() as mesh:
        for row in rows:
            image = cv2.imread(str(data / row["file"]))
            frame = cv2.copyMakeBorder(image, 60, 60, 60, 60, cv2.BORDER_REPLICATE)
            faces = detector.detect(frame)
            found = mesh.measure(frame, faces[0].box, faces[0].angle) if faces else None
            if found is not None:
                shapes.append(found.points.astype(np.float64))
                aspects.append(np.mean(eye_aspect_ratios(found.eyelids)))
                sizes.append((frame.shape[1], frame.shape[0]))
    mean = shapes[0] - shapes[0].mean(0)
    for _ in range(5):
        mean = np.mean([procrustes(s, mean) for s in shapes], axis=0)
    # Mirror partner of each point: nearest neighbour of the mean mirrored about its symmetry
    # plane. The faces are frontal, so x = mean x is the first guess; pairs' midpoints lie on the
    # plane, so fitting a plane to them refines it (twice is enough: pairs no longer change).
    aligned = mean - mean.mean(0)
    for _ in range(3):
        partner = np.linalg.norm(aligned[:, None] - (aligned * [-1, 1, 1])[None], axis=2).argmin(1)
        midpoints = (aligned + aligned[partner]) / 2
        centre = midpoints.mean(0)
        _, _, vt = np.linalg.svd(midpoints - centre)
        normal = vt[2] * np.sign(vt[2][0])
        down = np.array([0.0, 1.0, 0.0]) - normal[1] * normal
        down /= np.linalg.norm(down)
        axes = np.stack([normal, down, np.cross(normal, down)])
        aligned = (aligned - centre) @ axes.T
    symmetric = (aligned + aligned[partner] * [-1, 1, 1]) / 2
    left, right = OUTER_EYE_CORNERS
    symmetric *= EYE_CORNER_DISTANCE_MM / np.linalg.norm(symmetric[left] - symmetric[right])
    # Procrustes kept the first face's pitch; turn the reference so the faces' median pitch is 0.
    for _ in range(2):
        pitch = np.median([head_pose(s, symmetric, size)[1] for s, size in zip(shapes, sizes, strict=True)])
        turn = -math.radians(pitch)
        about_x = np.array([[1, 0, 0], [0, math.cos(turn), -math.sin(turn)], [0, math.sin(turn), math.cos(turn)]])
        symmetric = symmetric @ about_x.T
        print(f"median pitch {pitch:+.2f}°, turned")
    np.savez(
        FACE_REFERENCE,
        points=symmetric.astype(np.float32),
        mirror=partner.astype(np.int16),
        faces=np.int32(len(shapes)),
        open_eye_aspect=np.float32(np.median(aspects)),
    )
    on_midline = int((partner == np.arange(468)).sum())
    paired_back = int((partner[partner] == np.arange(468)).sum())
    print(
        f"{len(shapes)} of {len(rows)} faces; {on_midline} points on the midline; {paired_back} of 468 are "
        f"their partner's partner; median eye aspect ratio {np.median(aspects):.3f}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
