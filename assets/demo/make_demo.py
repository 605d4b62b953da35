"""Build assets/demo/demo.mp4: two synthetic faces that drift and change expression.

Each face cycles through DiffusionFER (CC0 1.0) portraits of one look, cross-fading from one
expression to the next, so the GUI's bars, circumplex and timeline always have something to show.
Run from the repository root:  python assets/demo/make_demo.py [--check]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "diffusionfer" / "images"
SIZE = (640, 480)

# Portraits chosen by thumbnail similarity to an anchor face, so each face keeps roughly one look
# while its expression changes. (expression, file) in playing order.
FACE_A = (
    ("neutral", "nbaubyqo_0.jpg"),
    ("happy", "jkpxxisn_1.jpg"),
    ("surprise", "hfwkkfpg_3.jpg"),
    ("fear", "qtyjbezs_3.jpg"),
    ("sad", "ysrartoc_2.jpg"),
    ("neutral", "nbaubyqo_0.jpg"),
    ("disgust", "qsfjdkla_5.jpg"),
    ("anger", "uzxquryn_3.jpg"),
    ("happy", "jkpxxisn_1.jpg"),
)
FACE_B = (
    ("happy", "pivohbxr_1.jpg"),
    ("neutral", "ipxceimq_0.jpg"),
    ("sad", "cuyqxoxd_2.jpg"),
    ("anger", "fvmwdcgx_6.jpg"),
    ("surprise", "hvfafkfu_6.jpg"),
    ("disgust", "dkgndkfj_5.jpg"),
    ("fear", "goxktaqb_4.jpg"),
    ("neutral", "ipxceimq_0.jpg"),
    ("happy", "pivohbxr_1.jpg"),
)
HOLD_S = 3.4  # seconds each expression is shown
FADE_S = 0.6  # seconds of cross-fade between expressions


def background() -> np.ndarray:
    """A soft warm-grey gradient with a vignette: calm, and cheap for the video codec."""
    height, width = SIZE[1], SIZE[0]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    gradient = 0.75 + 0.25 * (1 - ys / height)
    vignette = 1 - 0.35 * (((xs - width / 2) / width) ** 2 + ((ys - height / 2) / height) ** 2)
    shade = (gradient * vignette)[..., None]
    return np.clip(shade * np.array([150, 165, 180], np.float32), 0, 255).astype(np.uint8)


def oval_mask(side: int) -> np.ndarray:
    """Soft-edged oval, so pasted portraits blend into the background instead of showing squares."""
    mask = np.zeros((side, side), np.float32)
    cv2.ellipse(mask, (side // 2, side // 2), (int(side * 0.46), int(side * 0.5)), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), side * 0.03)[..., None]


def blended_face(images: list[np.ndarray], t: float, phase: float) -> np.ndarray:
    """The portrait at time t: hold one expression, then cross-fade to the next."""
    period = HOLD_S + FADE_S
    position = max(0.0, t + phase) / period
    current = min(int(position), len(images) - 1)
    following = min(current + 1, len(images) - 1)
    into_period = (position - int(position)) * period
    weight = 0.0 if into_period < HOLD_S else (into_period - HOLD_S) / FADE_S
    weight = 0.5 - 0.5 * math.cos(math.pi * weight)  # ease in and out
    return cv2.addWeighted(images[current], 1 - weight, images[following], weight, 0)


def face_placement(face: int, t: float) -> tuple[int, int, int]:
    """Centre x, centre y and side of a face at time t: slow drifts in its half of the frame."""
    width, height = SIZE
    cx = width * (0.27 if face == 0 else 0.73) + 40 * math.sin(0.55 * t + 1.7 * face)
    cy = height * 0.5 + 55 * math.sin(0.37 * t + 0.9 + 2.1 * face)
    side = int(205 + 20 * math.sin(0.29 * t + face))
    return int(cx), int(cy), side


def paste(canvas: np.ndarray, portrait: np.ndarray, cx: int, cy: int, side: int) -> None:
    face = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    x, y = cx - side // 2, cy - side // 2
    region = canvas[y : y + side, x : x + side].astype(np.float32)
    mask = oval_mask(side)
    canvas[y : y + side, x : x + side] = (mask * face + (1 - mask) * region).astype(np.uint8)


def build(out: Path, seconds: float, fps: float) -> int:
    faces = []
    for sequence in (FACE_A, FACE_B):
        images = []
        for _, name in sequence:
            image = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
            if image is None:
                raise SystemExit(f"make_demo: missing DiffusionFER image {DATA / name} (need ../shared/data)")
            images.append(cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA))
        faces.append(images)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, SIZE)
    if not writer.isOpened():
        raise SystemExit(f"make_demo: cannot write {out}")
    base = background()
    n_frames = int(round(seconds * fps))
    for index in range(n_frames):
        t = index / fps
        canvas = base.copy()
        # Face B changes half a period after face A, so the two never switch at the same moment.
        for face, images in enumerate(faces):
            phase = 0.0 if face == 0 else -(HOLD_S + FADE_S) / 2
            paste(canvas, blended_face(images, t, phase), *face_placement(face, t))
        writer.write(canvas)
    writer.release()
    return n_frames


def check(path: Path) -> None:
    """Print how often the full-range detector finds both faces (the GUI's default detector)."""
    from fer_live.faces.detection import FaceDetector
    from fer_live.pipeline.sources import VideoFileSource

    counts = {0: 0, 1: 0, 2: 0}
    with VideoFileSource(path) as source, FaceDetector("full") as detector:
        for frame in source:
            counts[min(len(detector.detect(frame.image)), 2)] += 1
    total = sum(counts.values())
    print(
        f"frames with 2 faces: {counts[2]}/{total} ({100 * counts[2] / total:.1f} %), "
        f"1 face: {counts[1]}, none: {counts[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "demo.mp4")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--check", action="store_true", help="run the face detector over the result")
    args = parser.parse_args()
    n_frames = build(args.out, args.seconds, args.fps)
    print(f"wrote {args.out}: {n_frames} frames, {args.out.stat().st_size / 1e6:.2f} MB")
    if args.check:
        check(args.out)


if __name__ == "__main__":
    main()
