"""AffectNet in its two common layouts, read into the same FaceSet as a labels.csv folder.

- `affectnet_csv`: the official lists `training.csv` / `validation.csv` (beside the images or in
  `Manually_Annotated_file_lists/`; images under `Manually_Annotated_Images/` if that folder exists,
  else under the folder itself), columns `subDirectory_filePath, face_x, face_y, face_width,
  face_height, facial_landmarks, expression, valence, arousal`. Faces are cut with the given box
  through the app's own `crop_face` (upright, same framing as live crops). training.csv is the
  "train" split; validation.csv serves as "val" and "test" (AffectNet's test set is not public).
- `affectnet_npy`: the 8-class subset, `images/N.jpg` + `annotations/N_exp.npy, N_val.npy,
  N_aro.npy`; images are already face crops. With `train_set/`, `val_set/` (and optionally
  `test_set/`) sub-folders the split picks the folder ("test" falls back to val_set); without
  them the folder is one unsplit set and every split reads all of it.

Expression codes 0–7 are AffectNet's order, which is fer_live's; rows coded 8–10 (none,
uncertain, no face) are dropped. Valence/arousal of −2 means "not annotated".
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

from fer_live.inference.preprocess import CROP_SCALE, CROP_SHIFT_UP, crop_face, fit_crop
from fer_live.labels import EXPRESSIONS
from fer_live.model.config import ModelConfig
from fer_live.options import DEFAULT_DETECTOR
from training.data import CropMaker, FaceSet, cached_crops, crops_of_rows, faceset_from_rows

LIST_COLUMNS = (
    "subDirectory_filePath",
    "face_x",
    "face_y",
    "face_width",
    "face_height",
    "facial_landmarks",
    "expression",
    "valence",
    "arousal",
)
LIST_FILES = {"train": "training.csv", "val": "validation.csv", "test": "validation.csv"}
LIST_FOLDER = "Manually_Annotated_file_lists"
IMAGE_FOLDER = "Manually_Annotated_Images"
SPLIT_FOLDERS = {"train": ("train_set",), "val": ("val_set",), "test": ("test_set", "val_set")}
MISSING_VA = -2.0


def _row(file: str, expression: float, valence: float, arousal: float, **extra) -> dict | None:
    """A generic labels row (as data.faceset_from_rows reads them), or None for codes 8–10."""
    code = int(expression)
    if not 0 <= code < len(EXPRESSIONS):
        return None
    return {
        "file": file,
        "expression": EXPRESSIONS[code],
        "valence": None if valence == MISSING_VA else float(valence),
        "arousal": None if arousal == MISSING_VA else float(arousal),
        **extra,
    }


def find_list(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / LIST_FOLDER / name):
        if candidate.is_file():
            return candidate
    return None


def csv_image_root(root: Path) -> Path:
    return root / IMAGE_FOLDER if (root / IMAGE_FOLDER).is_dir() else root


def csv_rows(root: str | Path, split: str | None) -> list[dict]:
    """Rows of the official lists for `split` (None = both lists), codes 8–10 dropped."""
    root = Path(root)
    if split is not None and split not in LIST_FILES:
        raise ValueError(f"AffectNet lists have the splits train, val and test, not {split!r}")
    names = sorted(set(LIST_FILES.values())) if split is None else [LIST_FILES[split]]
    rows = []
    for name in names:
        path = find_list(root, name)
        if path is None:
            raise FileNotFoundError(f"no AffectNet list {name} in {root} or {root / LIST_FOLDER}")
        rows.extend(_read_list(path))
    return rows


def _read_list(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        records = list(csv.reader(handle))
    # Some releases ship validation.csv without the header line; the column order is the same.
    if records and records[0] and records[0][0].strip() == LIST_COLUMNS[0]:
        header, records = [c.strip() for c in records[0]], records[1:]
        missing = [c for c in LIST_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path}: missing AffectNet columns {missing}")
        position = {c: header.index(c) for c in LIST_COLUMNS}
    else:
        position = {c: i for i, c in enumerate(LIST_COLUMNS)}
    rows = []
    for line, record in enumerate(records, start=2):
        if not record:
            continue
        try:
            value = {c: record[i] for c, i in position.items()}
            box = tuple(float(value[c]) for c in ("face_x", "face_y", "face_width", "face_height"))
            row = _row(
                value["subDirectory_filePath"],
                float(value["expression"]),
                float(value["valence"]),
                float(value["arousal"]),
                box=box,
            )
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{path}, line {line}: not an AffectNet list row ({exc})") from exc
        if row is not None:
            rows.append(row)
    return rows


def npy_folders(root: Path, split: str | None) -> list[Path]:
    """The sub-folders holding images/ + annotations/ for `split`."""
    present = {name: root / name for names in SPLIT_FOLDERS.values() for name in names if (root / name).is_dir()}
    if not present:
        return [root]
    if split is None:
        return [present[name] for name in sorted(present)]
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"AffectNet subset splits are train, val and test, not {split!r}")
    for name in SPLIT_FOLDERS[split]:
        if name in present:
            return [present[name]]
    raise FileNotFoundError(f"no {' or '.join(SPLIT_FOLDERS[split])} folder in {root}")


def npy_rows(root: str | Path, split: str | None) -> list[dict]:
    """Rows of the 8-class subset layout; `file` is relative to `root`."""
    root = Path(root)
    rows = []
    for folder in npy_folders(root, split):
        images = folder / "images"
        if not images.is_dir():
            raise FileNotFoundError(f"no images/ folder in {folder}")
        files = [p for p in images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
        files.sort(key=lambda p: (not p.stem.isdigit(), int(p.stem) if p.stem.isdigit() else 0, p.stem))
        for image in files:
            annotations = folder / "annotations"
            values = [_annotation(annotations / f"{image.stem}_{kind}.npy") for kind in ("exp", "val", "aro")]
            row = _row(image.relative_to(root).as_posix(), *values)
            if row is not None:
                rows.append(row)
    return rows


def _annotation(path: Path) -> float:
    try:
        return float(np.load(path, allow_pickle=False))  # stored as a 0-d array of str or number
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"missing AffectNet annotation: {path}") from exc
    except (ValueError, TypeError, OSError) as exc:
        raise ValueError(f"unreadable AffectNet annotation: {path} ({exc})") from exc


def _cache_path(cache_dir, root: Path, fmt: str, split, rows, detect, detector_range, config) -> Path | None:
    if not cache_dir:
        return None
    content = [(r["file"], r["expression"], r["valence"], r["arousal"], r.get("box")) for r in rows]
    key = hashlib.sha256(
        repr(
            (content, fmt, split, detect, detector_range, config.input_size, config.grey, CROP_SCALE, CROP_SHIFT_UP)
        ).encode()
    ).hexdigest()[:16]
    return Path(cache_dir) / f"{root.name}-{fmt}-{split or 'all'}-{key}.npz"


def load_affectnet_csv(
    root: str | Path,
    config: ModelConfig,
    split: str | None,
    detect: bool = False,
    detector_range: str = DEFAULT_DETECTOR,
    cache_dir: str | Path | None = None,
) -> FaceSet:
    """Faces of the official lists, cut with the list's face box (or found by the app's detector with `detect`)."""
    root = Path(root)
    rows = csv_rows(root, split)

    def crop(maker: CropMaker, image: np.ndarray, row: dict) -> np.ndarray | None:
        if detect:
            return maker(image)
        return fit_crop(crop_face(image, row["box"], 0.0, config.input_size), config)

    cache = _cache_path(cache_dir, root, "affectnet_csv", split, rows, detect, detector_range, config)
    images, kept = cached_crops(
        cache, lambda: crops_of_rows(csv_image_root(root), rows, config, detect, detector_range, crop)
    )
    return faceset_from_rows(rows, images, kept)


def load_affectnet_npy(
    root: str | Path,
    config: ModelConfig,
    split: str | None,
    detect: bool = False,
    detector_range: str = DEFAULT_DETECTOR,
    cache_dir: str | Path | None = None,
) -> FaceSet:
    """Faces of the 8-class subset layout: the images are crops already (re-framed by the detector with `detect`)."""
    root = Path(root)
    rows = npy_rows(root, split)

    cache = _cache_path(cache_dir, root, "affectnet_npy", split, rows, detect, detector_range, config)
    images, kept = cached_crops(cache, lambda: crops_of_rows(root, rows, config, detect, detector_range))
    return faceset_from_rows(rows, images, kept)
