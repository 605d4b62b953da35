"""Face data sets as in-memory arrays of model-ready crops with soft expression targets and V/A.

A data set folder holds `labels.csv` (`file, expression, valence, arousal, split`, extra columns
allowed) and the images it names. Blank expression or V/A means "no label". FERPlus folders are
recognised by their `votes_*` columns and yield the crowd's vote distribution as soft targets.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fer_live.checksums import file_sha256
from fer_live.inference.preprocess import CROP_SCALE, CROP_SHIFT_UP, crop_face, fit_crop
from fer_live.labels import EXPRESSIONS, INDEX, NUM_ACTION_UNITS, NUM_CLASSES
from fer_live.model.config import ModelConfig
from fer_live.options import DEFAULT_DETECTOR

# FERPlus vote columns for our 8 classes; `votes_unknown` and `votes_NF` are dropped, as in
# the FERPlus paper's probability mode.
VOTE_COLUMNS = {name: f"votes_{name}" for name in EXPRESSIONS}


@dataclass
class FaceSet:
    """Aligned arrays: row i of every field describes image i."""

    images: np.ndarray  # N×S×S (grey) or N×S×S×3 (BGR), uint8
    targets: np.ndarray  # N×8 float32 distribution; NaN rows have no expression label
    label: np.ndarray  # N int64: the `expression` column's class (FERPlus: plurality), −1 = blank
    va: np.ndarray  # N×2 float32 (valence, arousal); NaN = no label
    va_weight: np.ndarray  # N float32: 1 for measured V/A, lower for derived, 0 for none
    sample_weight: np.ndarray  # N float32: the data set's weight in the mix
    files: list[str] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)  # images where --detect found no face
    # N×A float32 action unit intensities from the teacher (training/au_labels.py); NaN rows have none.
    au: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.au is None:
            self.au = np.full((len(self.images), NUM_ACTION_UNITS), np.nan, dtype=np.float32)

    @property
    def has_au(self) -> np.ndarray:
        """Rows with any AU label (the teacher found the face; AU6 and AU9 also need an expression label)."""
        return ~np.isnan(self.au).all(axis=1)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def has_va(self) -> np.ndarray:
        return ~np.isnan(self.va).any(axis=1)

    @staticmethod
    def concat(parts: list[FaceSet]) -> FaceSet:
        return FaceSet(
            images=np.concatenate([p.images for p in parts]),
            targets=np.concatenate([p.targets for p in parts]),
            label=np.concatenate([p.label for p in parts]),
            va=np.concatenate([p.va for p in parts]),
            va_weight=np.concatenate([p.va_weight for p in parts]),
            sample_weight=np.concatenate([p.sample_weight for p in parts]),
            files=[f for p in parts for f in p.files],
            no_face=[f for p in parts for f in p.no_face],
            au=np.concatenate([p.au for p in parts]),
        )

    def subset(self, index: np.ndarray) -> FaceSet:
        return FaceSet(
            images=self.images[index],
            targets=self.targets[index],
            label=self.label[index],
            va=self.va[index],
            va_weight=self.va_weight[index],
            sample_weight=self.sample_weight[index],
            files=[self.files[i] for i in index],
            no_face=list(self.no_face),
            au=self.au[index],
        )


def read_rows(root: Path, split: str | None) -> list[dict]:
    """labels.csv rows of one split (all rows if split is None); scored splits drop train duplicates."""
    labels = root / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"no labels.csv in data folder: {root}")
    with labels.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    if "file" not in (reader.fieldnames or ()):
        columns = ", ".join(reader.fieldnames or ()) or "none"
        raise ValueError(f"{labels} has no 'file' column naming the images (its columns: {columns})")
    if split is not None:
        rows = [r for r in rows if (r.get("split") or "") == split]
    # Val/test images whose pixels also occur in train would inflate every score.
    return [r for r in rows if not (r.get("split") != "train" and r.get("duplicate_of_train") == "1")]


def _float_or_nan(text: str | None) -> float:
    return float(text) if text not in (None, "") else math.nan


def row_targets(row: dict) -> np.ndarray:
    """Soft target over the 8 classes: FERPlus vote shares, else one-hot, else NaN (no label)."""
    if VOTE_COLUMNS["neutral"] in row:
        votes = np.array([float(row.get(VOTE_COLUMNS[n]) or 0) for n in EXPRESSIONS], dtype=np.float32)
        if votes.sum() > 0:
            return votes / votes.sum()
        return np.full(NUM_CLASSES, np.nan, dtype=np.float32)
    name = (row.get("expression") or "").strip().lower()
    if name not in INDEX:
        return np.full(NUM_CLASSES, np.nan, dtype=np.float32)
    target = np.zeros(NUM_CLASSES, dtype=np.float32)
    target[INDEX[name]] = 1.0
    return target


class CropMaker:
    """Turns an image file into a model-ready crop: as-is (already a face crop) or via detection."""

    def __init__(self, config: ModelConfig, detect: bool, detector_range: str = DEFAULT_DETECTOR):
        self.config = config
        self.detect = detect
        self._detector = None
        if detect:
            from fer_live.faces.detection import FaceDetector

            self._detector = FaceDetector(detector_range, min_confidence=0.3)

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        if self._detector is None:
            return fit_crop(image, self.config)
        faces = self._detector.detect(image)
        if not faces:
            return None
        face = faces[0]  # largest
        crop = crop_face(image, face.box, face.angle, self.config.input_size)
        return fit_crop(crop, self.config)

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()


def row_label(row: dict) -> int:
    """The `expression` column's class index (FERPlus: the plurality), −1 when blank or unknown."""
    return INDEX.get((row.get("expression") or "").strip().lower(), -1)


def row_va(row: dict) -> tuple[float, float]:
    """(valence, arousal) of a row, NaN where blank."""
    return _float_or_nan(row.get("valence")), _float_or_nan(row.get("arousal"))


def faceset_from_rows(rows: list[dict], images: np.ndarray, kept: np.ndarray) -> FaceSet:
    """A FaceSet of `rows[kept]` with their crops; the other rows are the ones with no face found."""
    kept_rows = [rows[i] for i in kept]
    kept_set = set(kept.tolist())
    targets = np.stack([row_targets(r) for r in kept_rows]) if kept_rows else np.zeros((0, NUM_CLASSES), np.float32)
    va = np.array([row_va(r) for r in kept_rows], dtype=np.float32).reshape(-1, 2)
    has_va = ~np.isnan(va).any(axis=1)
    return FaceSet(
        images=images,
        targets=targets.astype(np.float32),
        label=np.array([row_label(r) for r in kept_rows], dtype=np.int64),
        va=va,
        va_weight=has_va.astype(np.float32),
        sample_weight=np.ones(len(kept_rows), dtype=np.float32),
        files=[r["file"] for r in kept_rows],
        no_face=[r["file"] for i, r in enumerate(rows) if i not in kept_set],
    )


def cached_crops(
    cache: Path | None, make: Callable[[], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """(crops, indices of the rows they belong to) from the cache file, or made and stored there."""
    if cache is not None and cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        return stored["images"], stored["kept"]
    images, kept = make()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, images=images, kept=kept)
    return images, kept


def load_folder(
    root: str | Path,
    config: ModelConfig,
    split: str | None,
    detect: bool = False,
    detector_range: str = DEFAULT_DETECTOR,
    cache_dir: str | Path | None = None,
) -> FaceSet:
    """Read a data set folder into memory, caching the crops (they are slow to make with --detect)."""
    root = Path(root)
    rows = read_rows(root, split)
    key = hashlib.sha256(
        repr(
            (
                file_sha256(root / "labels.csv"),
                split,
                detect,
                detector_range,
                config.input_size,
                config.grey,
                CROP_SCALE,
                CROP_SHIFT_UP,
            )
        ).encode()
    ).hexdigest()[:16]
    cache = Path(cache_dir) / f"{root.name}-{split or 'all'}-{key}.npz" if cache_dir else None

    images, kept = cached_crops(cache, lambda: crops_of_rows(root, rows, config, detect, detector_range))
    return faceset_from_rows(rows, images, kept)


def crops_of_rows(
    root: Path,
    rows: list[dict],
    config: ModelConfig,
    detect: bool,
    detector_range: str,
    crop: Callable[[CropMaker, np.ndarray, dict], np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """make_crops with a CropMaker that is closed afterwards; `crop(maker, image, row)` defaults to `maker(image)`."""
    crop = crop or (lambda maker, image, row: maker(image))
    maker = CropMaker(config, detect, detector_range)
    try:
        return make_crops(root, rows, config, lambda image, row: crop(maker, image, row))
    finally:
        maker.close()


def make_crops(
    root: Path,
    rows: list[dict],
    config: ModelConfig,
    crop: Callable[[np.ndarray, dict], np.ndarray | None],
) -> tuple[np.ndarray, np.ndarray]:
    """Crops of the images `root / row["file"]` made by `crop(image, row)`; None = no face (row left out)."""
    from tqdm import tqdm

    crops, kept = [], []
    for i, row in enumerate(tqdm(rows, desc=f"reading {root.name}", unit="img", leave=False)):
        image = cv2.imread(str(root / row["file"]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"unreadable image in {root}: {row['file']}")
        face = crop(image, row)
        if face is not None:
            crops.append(face)
            kept.append(i)
    shape = (config.input_size, config.input_size) + (() if config.grey else (3,))
    images = np.stack(crops) if crops else np.zeros((0, *shape), dtype=np.uint8)
    return images, np.asarray(kept, dtype=np.int64)


def va_prototypes(data: FaceSet) -> np.ndarray:
    """Per-class mean (valence, arousal) over rows with measured V/A and a label.

    Classes with no such rows (contempt in diffusionfer) take their circumplex position from the
    label table, scaled to the measured prototypes' mean radius.
    """
    from fer_live.labels import CIRCUMPLEX

    measured = data.has_va & (data.label >= 0) & (data.va_weight >= 1.0)
    prototypes = np.full((NUM_CLASSES, 2), np.nan, dtype=np.float32)
    for c in range(NUM_CLASSES):
        rows = measured & (data.label == c)
        if rows.any():
            prototypes[c] = data.va[rows].mean(axis=0)
    found = ~np.isnan(prototypes).any(axis=1)
    table = np.array([CIRCUMPLEX[n] for n in EXPRESSIONS], dtype=np.float32)
    if found.any():
        ratio = np.linalg.norm(prototypes[found], axis=1).mean() / max(
            np.linalg.norm(table[found], axis=1).mean(), 1e-6
        )
    else:
        ratio = 1.0
    prototypes[~found] = table[~found] * ratio
    return prototypes


def derive_va(data: FaceSet, prototypes: np.ndarray, weight: float) -> None:
    """Give rows with an expression but no V/A the probability-weighted class prototype, at `weight`."""
    fill = ~data.has_va & ~np.isnan(data.targets).any(axis=1)
    data.va[fill] = data.targets[fill] @ prototypes
    data.va_weight[fill] = weight
