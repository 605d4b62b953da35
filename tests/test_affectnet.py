"""Both AffectNet layouts, built from real diffusionfer faces with synthetic annotation files."""

from __future__ import annotations

import csv
import math

import cv2
import numpy as np
import pytest

from fer_live.inference.preprocess import crop_face, fit_crop
from fer_live.model import ModelConfig
from tests.training_data import TEST_FACES
from tests.videos import SHARED_DATA
from training.affectnet import LIST_COLUMNS, load_affectnet_csv, load_affectnet_npy
from training.config import DataSpec, TrainConfig
from training.datasets import guess_format, load_spec

CONFIG = ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))
# (expression code, valence, arousal): code 9 (uncertain) is dropped; −2 means V/A not annotated.
TRAIN_ANNOTATIONS = [(1, 0.6, 0.3), (6, -0.5, 0.7), (9, 0.0, 0.0), (7, -2.0, -2.0)]
VAL_ANNOTATIONS = [(0, 0.05, -0.1), (2, -0.4, -0.3)]


def face(i: int) -> np.ndarray:
    return cv2.imread(str(SHARED_DATA / "diffusionfer" / TEST_FACES[i % len(TEST_FACES)]), cv2.IMREAD_COLOR)


def canvas_with_face(i: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 400×320 photo with face i pasted at a known box, as in AffectNet's uncropped images."""
    canvas = np.full((320, 400, 3), 90, np.uint8)
    x, y, side = 40 + 25 * i, 40 + 10 * i, 200
    canvas[y : y + side, x : x + side] = cv2.resize(face(i), (side, side))
    return canvas, (x, y, side, side)


@pytest.fixture(scope="module")
def affectnet_csv(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("affectnet_csv")
    (root / "Manually_Annotated_file_lists").mkdir()
    boxes = {}
    for name, rows, header in (
        ("training.csv", TRAIN_ANNOTATIONS, True),
        ("validation.csv", VAL_ANNOTATIONS, False),  # some releases ship it without a header
    ):
        with (root / "Manually_Annotated_file_lists" / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            if header:
                writer.writerow(LIST_COLUMNS)
            for i, (code, valence, arousal) in enumerate(rows):
                file = f"{len(boxes) % 3}/{name[:3]}{i}.jpg"
                image, box = canvas_with_face(len(boxes))
                (root / "Manually_Annotated_Images" / file).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(root / "Manually_Annotated_Images" / file), image)
                boxes[file] = box
                writer.writerow([file, *box, "1.0;2.0;3.0;4.0", code, valence, arousal])
    return root, boxes


@pytest.fixture(scope="module")
def affectnet_npy(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("affectnet_npy")
    for folder, rows in (("train_set", TRAIN_ANNOTATIONS), ("val_set", VAL_ANNOTATIONS)):
        (root / folder / "images").mkdir(parents=True)
        (root / folder / "annotations").mkdir()
        for i, (code, valence, arousal) in enumerate(rows):
            cv2.imwrite(str(root / folder / "images" / f"{i}.jpg"), face(i))
            # The subset stores every annotation as a 0-d array of text.
            for kind, value in (("exp", str(code)), ("val", str(valence)), ("aro", str(arousal))):
                np.save(root / folder / "annotations" / f"{i}_{kind}.npy", np.array(value))
    return root


def test_official_lists_crop_with_the_given_box(affectnet_csv):
    root, boxes = affectnet_csv
    train = load_affectnet_csv(root, CONFIG, "train")
    assert train.label.tolist() == [1, 6, 7]  # code 9 dropped
    assert np.allclose(train.va[:2], [[0.6, 0.3], [-0.5, 0.7]])
    assert np.isnan(train.va[2]).all() and train.va_weight.tolist() == [1, 1, 0]
    assert train.targets[0].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert train.images.shape == (3, 48, 48)
    for crop, file in zip(train.images, train.files, strict=True):
        image = cv2.imread(str(root / "Manually_Annotated_Images" / file), cv2.IMREAD_COLOR)
        assert np.array_equal(crop, fit_crop(crop_face(image, boxes[file], 0.0, 48), CONFIG))
    # validation.csv (no header) serves val and test; no split = both lists.
    assert load_affectnet_csv(root, CONFIG, "test").label.tolist() == [0, 2]
    assert len(load_affectnet_csv(root, CONFIG, None)) == 5


def test_subset_layout_reads_npy_annotations(affectnet_npy):
    train = load_affectnet_npy(affectnet_npy, CONFIG, "train")
    assert train.label.tolist() == [1, 6, 7]
    assert train.files == ["train_set/images/0.jpg", "train_set/images/1.jpg", "train_set/images/3.jpg"]
    assert np.allclose(train.va[:2], [[0.6, 0.3], [-0.5, 0.7]]) and np.isnan(train.va[2]).all()
    stored = cv2.imread(str(affectnet_npy / train.files[1]), cv2.IMREAD_COLOR)
    assert np.array_equal(train.images[1], fit_crop(stored, CONFIG))
    val = load_affectnet_npy(affectnet_npy, CONFIG, "val")
    assert val.label.tolist() == [0, 2] and val.va[0, 1] == pytest.approx(-0.1)
    assert load_affectnet_npy(affectnet_npy, CONFIG, "test").files == val.files  # test falls back to val_set
    # A split folder on its own is one unsplit set.
    assert load_affectnet_npy(affectnet_npy / "val_set", CONFIG, "test").label.tolist() == [0, 2]


def test_formats_are_guessed_and_dispatched_from_data_specs(affectnet_csv, affectnet_npy, tiny_ferplus, tmp_path):
    root, _ = affectnet_csv
    assert guess_format(root) == "affectnet_csv"
    assert guess_format(affectnet_npy) == "affectnet_npy"
    assert guess_format(tiny_ferplus) == "folder"
    cfg = TrainConfig(model=CONFIG, data=(), cache_dir=str(tmp_path / "cache"))
    spec = DataSpec(path=str(affectnet_npy), format="affectnet_npy")
    first = load_spec(spec, "train", cfg)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    again = load_spec(spec, "train", cfg)  # from the cache
    assert np.array_equal(first.images, again.images) and first.files == again.files
    assert load_spec(DataSpec(path=str(root), format="affectnet_csv"), "val", cfg).label.tolist() == [0, 2]


def test_bad_affectnet_folders_raise_clear_errors(affectnet_npy, tmp_path):
    with pytest.raises(FileNotFoundError, match="no AffectNet list training.csv"):
        load_affectnet_csv(tmp_path, CONFIG, "train")
    bad = tmp_path / "bad"
    (bad / "Manually_Annotated_file_lists").mkdir(parents=True)
    (bad / "Manually_Annotated_file_lists" / "validation.csv").write_text("a.jpg,1,2,oops\n")
    with pytest.raises(ValueError, match="line 2: not an AffectNet list row"):
        load_affectnet_csv(bad, CONFIG, "val")
    (affectnet_npy / "val_set" / "images" / "9.jpg").write_bytes((affectnet_npy / "val_set/images/0.jpg").read_bytes())
    try:
        with pytest.raises(FileNotFoundError, match="missing AffectNet annotation"):
            load_affectnet_npy(affectnet_npy, CONFIG, "val")
    finally:
        (affectnet_npy / "val_set" / "images" / "9.jpg").unlink()
    assert not math.isnan(load_affectnet_npy(affectnet_npy, CONFIG, "val").va[0, 0])


def test_evaluate_reads_affectnet_layouts(affectnet_npy, affectnet_csv, random_weights):
    from training.evaluate import evaluate

    result = evaluate(random_weights, affectnet_npy, "val")
    assert result.report["n"] == 2 and result.n_va == 2 and "valence" in result.report
    result = evaluate(random_weights, affectnet_csv[0], "train")
    assert result.report["n"] == 3 and result.n_va == 2  # the contempt row has no V/A
