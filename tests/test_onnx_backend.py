"""The onnxruntime backend gives torch's numbers on real faces, caches its export, and says what it is."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from fer_live.errors import FerLiveError
from fer_live.inference.engine import Engine
from fer_live.inference.onnx import cache_dirs
from fer_live.inference.preprocess import fit_crop
from fer_live.pipeline.frames import Pipeline, PipelineSettings

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def default_size_weights(tmp_path_factory):
    """A random model of the shipped architecture (ModelConfig()), as the bundled weights will be."""
    import torch

    from fer_live.model import ModelConfig, SEResNet, save_weights

    torch.manual_seed(1)
    model = SEResNet(ModelConfig())
    # Random BatchNorm statistics so the export is checked with non-trivial normalisation too.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
    path = tmp_path_factory.mktemp("weights") / "default_size.pt"
    save_weights(path, model, {"random": True})
    return path


@pytest.fixture(scope="module")
def real_face_crops(shared_data, random_weights):
    """Aligned crops of 6 diffusionfer faces as the live pipeline cuts them, plus 10 FERPlus test crops."""
    import cv2

    from fer_live.faces.detection import FaceDetector

    engine = Engine(random_weights, "cpu", backend="torch")
    with open(shared_data / "diffusionfer" / "labels.csv", newline="") as handle:
        diffusion = [row["file"] for row in csv.DictReader(handle)][:6]
    crops = []
    with FaceDetector("full") as detector:
        for name in diffusion:
            image = cv2.imread(str(shared_data / "diffusionfer" / name))
            padded = cv2.copyMakeBorder(image, 120, 120, 120, 120, cv2.BORDER_REPLICATE)
            (face,) = detector.detect(padded)[:1]
            crops.append(engine.crop(padded, face.box, face.angle))
    with open(shared_data / "ferplus" / "labels.csv", newline="") as handle:
        ferplus = [row["file"] for row in csv.DictReader(handle) if row["split"] == "test"][:10]
    for name in ferplus:
        crops.append(fit_crop(cv2.imread(str(shared_data / "ferplus" / name), cv2.IMREAD_GRAYSCALE), engine.config))
    assert len(crops) == 16
    return crops


@pytest.mark.parametrize("weights_fixture", ["random_weights", "default_size_weights"])
def test_onnx_equals_torch_on_real_faces(request, weights_fixture, real_face_crops):
    weights = request.getfixturevalue(weights_fixture)
    torch_engine = Engine(weights, "cpu", backend="torch")
    onnx_engine = Engine(weights, "cpu", backend="onnx")
    reference_probs, reference_va, _ = torch_engine.predict(real_face_crops)
    probs, va, _ = onnx_engine.predict(real_face_crops)
    assert probs.shape == (16, 8) and va.shape == (16, 2)
    assert np.abs(probs - reference_probs).max() < TOLERANCE
    assert np.abs(va - reference_va).max() < TOLERANCE
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # The batch axis is dynamic: one crop at a time gives the batched numbers.
    single_probs, single_va, _ = onnx_engine.predict(real_face_crops[:1])
    assert np.abs(single_probs[0] - reference_probs[0]).max() < TOLERANCE
    assert np.abs(single_va[0] - reference_va[0]).max() < TOLERANCE
    # Different faces give different outputs, so the equality above is not between constants.
    assert np.ptp(reference_probs, axis=0).max() > 1e-3


def test_auto_backend_is_onnx_on_cpu_and_named(random_weights):
    engine = Engine(random_weights, "cpu", threads=1)
    assert engine.backend == "onnx"
    assert engine.device_name == "CPU (onnxruntime, 1 thread)"
    assert Engine(random_weights, "cpu", threads=2, backend="torch").device_name == "CPU (torch, 2 threads)"


def test_export_is_cached_by_weights_hash_outside_the_package(random_weights):
    import fer_live

    first = Engine(random_weights, "cpu", backend="onnx")
    path = first._onnx.cache_path
    assert path is not None and path.is_file() and path.parent == cache_dirs()[0]
    assert not path.is_relative_to(Path(fer_live.__file__).parent)
    stamp = path.stat().st_mtime_ns
    second = Engine(random_weights, "cpu", backend="onnx")
    assert second._onnx.cache_path == path and path.stat().st_mtime_ns == stamp  # reused, not rewritten


def test_damaged_cache_file_is_exported_again(random_weights, real_face_crops):
    path = Engine(random_weights, "cpu", backend="onnx")._onnx.cache_path
    path.write_bytes(b"not an onnx graph")
    engine = Engine(random_weights, "cpu", backend="onnx")
    reference_probs, *_ = Engine(random_weights, "cpu", backend="torch").predict(real_face_crops)
    assert np.abs(engine.predict(real_face_crops)[0] - reference_probs).max() < TOLERANCE
    assert path.read_bytes() != b"not an onnx graph"


def test_unwritable_cache_dir_falls_back_to_temp(random_weights, monkeypatch, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the cache dir should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    engine = Engine(random_weights, "cpu", backend="onnx")
    assert engine._onnx.cache_path.is_relative_to(tmp_path / "tmp")


def test_bad_backend_is_a_clear_error(random_weights):
    with pytest.raises(FerLiveError, match="backend must be one of auto, torch, onnx"):
        Engine(random_weights, "cpu", backend="tensorrt")


def test_pipeline_settings_choose_the_backend(random_weights):
    with Pipeline(PipelineSettings(backend="torch", device="cpu"), random_weights) as pipeline:
        assert pipeline.engine.backend == "torch"
    assert PipelineSettings().backend == "auto" and PipelineSettings().to_dict()["backend"] == "auto"
