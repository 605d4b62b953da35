"""Tiny copies of the real data folders in ../shared/data, with their own labels.csv, for training tests."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import cv2
import numpy as np

from tests.videos import SHARED_DATA

# diffusionfer (CC0) faces that the full-range detector finds at their native 224 px:
# anger, anger, happy, happy. The test split of tiny_diffusionfer.
TEST_FACES = ("images/aaaaaaaa_6.jpg", "images/aawkxnwq_6.jpg", "images/aajwceye_1.jpg", "images/aeehboqf_0.jpg")
# A smooth gradient: no detector finds a face in it.
NO_FACE_FILE = "images/no_face.jpg"


def read_labels(folder: Path) -> tuple[list[str], list[dict]]:
    with (folder / "labels.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_folder(dest: Path, source: Path, header: list[str], rows: list[dict]) -> Path:
    """labels.csv with `rows` and copies of their images (those present in `source`)."""
    dest.mkdir(parents=True, exist_ok=True)
    with (dest / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        if (source / row["file"]).is_file():
            (dest / row["file"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / row["file"], dest / row["file"])
    return dest


def tiny_ferplus(dest: Path, n_train: int = 48, n_val: int = 16, n_test: int = 12, n_duplicates: int = 2) -> Path:
    """FERPlus rows in file order: train, val, test (no duplicates) and test duplicates of train."""
    source = SHARED_DATA / "ferplus"
    header, rows = read_labels(source)
    pick = [r for r in rows if r["split"] == "train"][:n_train]
    pick += [r for r in rows if r["split"] == "val" and r["duplicate_of_train"] == "0"][:n_val]
    pick += [r for r in rows if r["split"] == "test" and r["duplicate_of_train"] == "0"][:n_test]
    pick += [r for r in rows if r["split"] == "test" and r["duplicate_of_train"] == "1"][:n_duplicates]
    return write_folder(dest, source, header, pick)


def tiny_diffusionfer(dest: Path, n_train: int = 16) -> Path:
    """diffusionfer train rows, and a test split of TEST_FACES plus one image without a face
    (labelled happy, valence 0.5, arousal 0.2)."""
    source = SHARED_DATA / "diffusionfer"
    header, rows = read_labels(source)
    pick = [r for r in rows if r["split"] == "train" and r["file"] not in TEST_FACES][:n_train]
    pick += [{**r, "split": "test"} for r in rows if r["file"] in TEST_FACES]
    pick.append({**pick[-1], "file": NO_FACE_FILE, "expression": "happy", "valence": "0.5", "arousal": "0.2"})
    folder = write_folder(dest, source, header, pick)
    gradient = np.tile(np.linspace(40, 220, 224, dtype=np.uint8), (224, 1))
    cv2.imwrite(str(folder / NO_FACE_FILE), cv2.merge([gradient, gradient, gradient]))
    return folder


# Named people in muxspace (LFW photos): three with neutral rows, one (Amelia_Vega) without.
MUXSPACE_SUBJECTS = {"Tony_Blair": 6, "Colin_Powell": 6, "Gerhard_Schroeder": 6, "Amelia_Vega": 3}


def muxspace_subject_rows(muxspace: Path) -> list[dict]:
    """Per subject in MUXSPACE_SUBJECTS, its first n neutral rows and first n other rows (file order),
    each with a `subject` column."""
    _, rows = read_labels(muxspace)
    picked = []
    for subject, n in MUXSPACE_SUBJECTS.items():
        own = sorted(
            (r for r in rows if re.fullmatch(rf"{subject}_\d+\.\w+", Path(r["file"]).name)), key=lambda r: r["file"]
        )
        neutral = [r for r in own if r["expression"] == "neutral"][:n]
        others = [r for r in own if r["expression"] not in ("neutral", "")][:n]
        picked += [{**r, "subject": subject} for r in neutral + others]
    return picked
