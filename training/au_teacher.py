"""Run MediaPipe's FaceLandmarker once over a data set's images and cache its blendshape scores.

python -m training.au_teacher --teacher PATH/face_landmarker.task --data ../shared/data/ferplus [--data …]

The teacher is a training input like a data set (Apache-2.0, from MediaPipe's published models):
never committed, shipped or loaded at run time. Its 52 ARKit-style blendshape scores per image,
plus the inner-lip gap read from its landmarks, are cached outside the work tree (one .npz per
data folder, keyed by the labels file, the teacher file and the preparation below) and mapped to
FACS action units by training/au_labels.py, so the mapping can change without rerunning it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from fer_live.checksums import file_sha256

PROG = "python -m training.au_teacher"
DEFAULT_CACHE = Path.home() / ".cache" / "fer_live" / "au_teacher"
# Small crops are upscaled to at least this side and padded by a third on every side: the teacher's
# detector then finds 95 % of FERPlus's 48 px faces (88 % unpadded; 100 samples).
TEACHER_MIN_SIDE = 192
TEACHER_PAD = 1 / 3
PREPARATION = f"min{TEACHER_MIN_SIDE}-pad{TEACHER_PAD:.3f}-v1"
# Mesh points of the lips' inner midline and the mouth corners (MediaPipe's 478-point topology).
UPPER_INNER_LIP, LOWER_INNER_LIP, MOUTH_LEFT, MOUTH_RIGHT = 13, 14, 61, 291

# MediaPipe's blendshape model's output order (ARKit names plus `_neutral`).
BLENDSHAPES = (
    "_neutral",
    *("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    *("cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight"),
    *("eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft"),
    *("eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight"),
    *("eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose"),
    *("mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel"),
    *("mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight"),
    *("mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower"),
    *("mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight"),
    *("mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight"),
)

_landmarker = None


def teacher_input(image: np.ndarray) -> np.ndarray:
    """The RGB picture the teacher reads: upscaled (integer factor) and padded with black."""
    height, width = image.shape[:2]
    factor = max(1, int(np.ceil(TEACHER_MIN_SIDE / min(height, width))))
    if factor > 1:
        image = cv2.resize(image, (width * factor, height * factor), interpolation=cv2.INTER_CUBIC)
    pad = int(round(image.shape[0] * TEACHER_PAD))
    image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


def lip_gap(points: np.ndarray) -> float:
    """Inner-lip gap over mouth width, from the mesh (lips part, AU25: no blendshape reads it)."""
    width = np.linalg.norm(points[MOUTH_LEFT] - points[MOUTH_RIGHT])
    return float(np.linalg.norm(points[UPPER_INNER_LIP] - points[LOWER_INNER_LIP]) / max(width, 1e-6))


def _open_teacher(task_path: str) -> None:
    global _landmarker
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=task_path), output_face_blendshapes=True, num_faces=1
    )
    _landmarker = vision.FaceLandmarker.create_from_options(options)


def _read_chunk(paths: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(found, blendshapes N×52, lip gap) for image files, in one worker process."""
    import mediapipe as mp

    found = np.zeros(len(paths), dtype=bool)
    scores = np.full((len(paths), len(BLENDSHAPES)), np.nan, dtype=np.float32)
    gaps = np.full(len(paths), np.nan, dtype=np.float32)
    for i, path in enumerate(paths):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"unreadable image: {path}")
        picture = teacher_input(image)
        result = _landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=picture))
        if not result.face_blendshapes:
            continue
        names = [c.category_name for c in result.face_blendshapes[0]]
        if names != list(BLENDSHAPES):
            raise ValueError(f"the teacher's blendshapes are not the expected 52 (got {len(names)})")
        found[i] = True
        scores[i] = [c.score for c in result.face_blendshapes[0]]
        height, width = picture.shape[:2]  # the mesh's x and y are fractions of each side
        gaps[i] = lip_gap(np.array([(p.x * width, p.y * height) for p in result.face_landmarks[0]]))
    return found, scores, gaps


def cache_path(data: Path, teacher: Path, cache_dir: Path) -> Path:
    key = hashlib.sha256(
        f"{file_sha256(data / 'labels.csv')}-{file_sha256(teacher)}-{PREPARATION}".encode()
    ).hexdigest()[:16]
    return cache_dir / f"{data.name}-{key}.npz"


def label_folder(data: Path, teacher: Path, cache_dir: Path = DEFAULT_CACHE, workers: int = 2) -> Path:
    """The cache file of the teacher's outputs for every image named in `data`/labels.csv (made if missing)."""
    out = cache_path(data, teacher, cache_dir)
    if out.is_file():
        return out
    with (data / "labels.csv").open(newline="") as handle:
        files = [row["file"] for row in csv.DictReader(handle)]
    chunks = [files[i : i + 256] for i in range(0, len(files), 256)]
    from tqdm import tqdm

    parts = []
    with ProcessPoolExecutor(workers, initializer=_open_teacher, initargs=(str(teacher),)) as pool:
        jobs = pool.map(_read_chunk, [[str(data / f) for f in chunk] for chunk in chunks])
        for part in tqdm(jobs, total=len(chunks), desc=f"teacher on {data.name}", unit="chunk"):
            parts.append(part)
    found, scores, gaps = (np.concatenate(column) for column in zip(*parts, strict=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.npz")
    np.savez(
        partial,
        files=np.array(files),
        found=found,
        blendshapes=scores,
        lip_gap=gaps,
        blendshape_names=np.array(BLENDSHAPES),
        teacher_sha256=np.array(file_sha256(teacher)),
        preparation=np.array(PREPARATION),
    )
    partial.replace(out)
    print(f"{data.name}: teacher found a face in {int(found.sum())} of {len(files)} images → {out}")
    return out


def read_teacher(path: Path) -> dict[str, dict]:
    """file → {"blendshapes": {name: score}, "lip_gap": float} for the images where the teacher found a face."""
    stored = np.load(path, allow_pickle=False)
    names = [str(n) for n in stored["blendshape_names"]]
    out = {}
    for file, found, scores, gap in zip(
        stored["files"], stored["found"], stored["blendshapes"], stored["lip_gap"], strict=True
    ):
        if found:
            out[str(file)] = {"blendshapes": dict(zip(names, scores.tolist(), strict=True)), "lip_gap": float(gap)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True, help="MediaPipe's face_landmarker.task (training input only)")
    parser.add_argument("--data", action="append", required=True, help="data folder with labels.csv (repeatable)")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help=f"where outputs go (default {DEFAULT_CACHE})")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    teacher = Path(args.teacher)
    if not teacher.is_file():
        print(f"{PROG}: error: teacher model not found: {teacher}", file=sys.stderr)
        return 2
    try:
        for folder in args.data:
            data = Path(folder)
            if not (data / "labels.csv").is_file():
                raise FileNotFoundError(f"no labels.csv in data folder: {data}")
            label_folder(data, teacher, Path(args.cache_dir), max(1, args.workers))
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
