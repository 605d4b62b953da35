"""Shared fixtures: real faces from ../shared/data, videos made from them, a random-weights model.

The random model only exercises mechanics (shapes, files, errors); tests that judge predictions
use the bundled weights.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fer_live.labels import EXPRESSIONS
from tests.videos import DEFAULT_FACES, SHARED_DATA, make_face_video

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "ferplus" / "labels.csv").is_file():
        pytest.fail(f"test data missing: {SHARED_DATA} (the tests need ../shared/data beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory) -> Path:
    """A small randomly initialised model in a real weights file."""
    import torch

    from fer_live.model import ModelConfig, SEResNet, save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "random.pt"
    save_weights(path, SEResNet(ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))), {"random": True})
    return path


@pytest.fixture(scope="session")
def random_au_weights(tmp_path_factory) -> Path:
    """random_weights' small model with the action unit head (v6 on): it reads all AU_COLUMNS."""
    import torch

    from fer_live.labels import AU_COLUMNS
    from fer_live.model import ModelConfig, SEResNet, save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "random_au.pt"
    config = ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1), action_units=AU_COLUMNS)
    save_weights(path, SEResNet(config), {"random": True})
    return path


@pytest.fixture(scope="session")
def one_face_video(tmp_path_factory, shared_data) -> tuple[Path, list]:
    """640×480, 30 fps, 90 frames, one face drifting across the frame."""
    path = tmp_path_factory.mktemp("videos") / "one_face.mp4"
    return path, make_face_video(path, DEFAULT_FACES[:1], n_frames=90)


@pytest.fixture(scope="session")
def crossing_faces_video(tmp_path_factory, shared_data) -> tuple[Path, list]:
    """Two faces that swap sides, passing each other at mid-video."""
    path = tmp_path_factory.mktemp("videos") / "crossing.mp4"
    return path, make_face_video(path, DEFAULT_FACES[:2], n_frames=90, side=160, crossing=True)


@pytest.fixture(scope="session")
def tiny_ferplus(tmp_path_factory, shared_data) -> Path:
    """48 train, 16 val, 12 test FERPlus rows + 2 test duplicates of train, as a labels.csv folder."""
    from tests.training_data import tiny_ferplus

    return tiny_ferplus(tmp_path_factory.mktemp("data") / "ferplus")


@pytest.fixture(scope="session")
def tiny_diffusionfer(tmp_path_factory, shared_data) -> Path:
    """16 diffusionfer train rows; test = 4 detectable faces (TEST_FACES) + one image with no face."""
    from tests.training_data import tiny_diffusionfer

    return tiny_diffusionfer(tmp_path_factory.mktemp("data") / "diffusionfer")


@pytest.fixture(scope="session", autouse=True)
def onnx_cache_in_tmp(tmp_path_factory):
    """ONNX exports made by tests (and the CLI processes they start) go to a temp dir, not ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    yield
    patch.undo()


# A training mix like FERPlus's (neutral/happy common, contempt rare), and a neutral face that
# reads mostly neutral: what training.operating_point stores, in round numbers.
TEST_CLASS_PRIOR = (0.32, 0.26, 0.14, 0.12, 0.04, 0.02, 0.08, 0.02)
TEST_NEUTRAL_REFERENCE = (-0.3, -2.5, -2.0, -3.0, -4.0, -5.0, -3.5, -4.5)
# A weights file's operating point (class prior, recommended τ, neutral reference) for the tests.
TEST_OPERATING_POINT_META = {
    "operating_point": {
        "class_prior": dict(zip(EXPRESSIONS, TEST_CLASS_PRIOR, strict=True)),
        "recommended_tau": 0.35,
        "neutral_reference": {
            "log_probs": dict(zip(EXPRESSIONS, TEST_NEUTRAL_REFERENCE, strict=True)),
            "valence": 0.05,
            "arousal": -0.1,
            "rows": 100,
        },
    }
}


@pytest.fixture(scope="session")
def calibratable_weights(tmp_path_factory) -> Path:
    """random_weights' model with an operating point in its metadata (class prior, τ 0.35, neutral reference)."""
    import torch

    from fer_live.model import ModelConfig, SEResNet, save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "calibratable.pt"
    save_weights(path, SEResNet(ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))), TEST_OPERATING_POINT_META)
    return path


@pytest.fixture(scope="session")
def subjects_folder(tmp_path_factory, shared_data) -> Path:
    """Real people of muxspace (named photos): 3 subjects with neutral and other rows, 1 without
    neutral rows, as a labels.csv folder with a `subject` column (split test)."""
    import csv
    import shutil

    from tests.training_data import muxspace_subject_rows

    folder = tmp_path_factory.mktemp("subjects")
    (folder / "images").mkdir()
    rows = muxspace_subject_rows(shared_data / "muxspace")
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "expression", "subject", "split"])
        writer.writeheader()
        for row in rows:
            name = Path(row["file"]).name
            shutil.copy(shared_data / "muxspace" / row["file"], folder / "images" / name)
            row = {"file": f"images/{name}", "expression": row["expression"], "subject": row["subject"]}
            writer.writerow({**row, "split": "test"})
    return folder


@pytest.fixture(scope="module")
def short_video(tmp_path_factory, shared_data) -> Path:
    """10 frames of one face at 320×240: the good video beside each bad one."""
    path = tmp_path_factory.mktemp("short") / "good.mp4"
    make_face_video(path, DEFAULT_FACES[:1], n_frames=10, size=(320, 240), side=120)
    return path
