"""The v5 training levers on tiny data: mixup/CutMix, histogram equalisation, flip TTA, distillation,
weight averaging, SGD, probe configs built on a base config."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fer_live.inference.preprocess import to_model_input
from fer_live.model import ModelConfig, SEResNet, load_weights, save_weights
from tests.test_training import TINY, one_torch_thread, tiny_config  # noqa: F401 (fixture)
from training import evaluate as evaluate_module
from training import train as train_module
from training.config import load_config
from training.distill import distilled_targets, teacher_probabilities
from training.ema import WeightAverage
from training.mixing import mix_batch
from training.predict import predict_arrays

CONFIGS = Path(__file__).resolve().parents[1] / "training" / "configs"


def labelled_batch(n: int = 6):
    x = torch.arange(n * 16, dtype=torch.float32).view(n, 1, 4, 4)
    targets = torch.eye(8)[torch.arange(n) % 8]
    return x, targets, torch.ones(n), torch.rand(n, 2, generator=torch.Generator().manual_seed(0)), torch.ones(n)


def test_mixup_blends_images_and_votes_by_the_same_lambda():
    x, targets, weight, va, va_weight = labelled_batch()
    weight[0] = 0.0  # row 0 has no expression label: its partner's target must carry on alone
    aus = torch.rand(6, 3, generator=torch.Generator().manual_seed(1))
    au_weight = torch.ones(6, 3)
    au_weight[1, 2] = 0.0  # one AU label missing: that AU mixes from the partner alone
    labels = [(targets, weight), (va, va_weight), (aus, au_weight)]
    mixed, [(t, w), (v, vw), (a, aw)] = mix_batch(x, labels, np.random.default_rng(3), mixup=0.4, cutmix=0)
    rng = np.random.default_rng(3)
    lam = rng.beta(0.4, 0.4)
    partner = rng.permutation(6)
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[partner])
    for i, j in enumerate(partner):
        own, other = lam * float(weight[i]), (1 - lam) * float(weight[j])
        expected = (own * targets[i] + other * targets[j]) / (own + other)
        assert torch.allclose(t[i], expected) and w[i] == pytest.approx(own + other)
        assert torch.allclose(v[i], lam * va[i] + (1 - lam) * va[j])
    assert torch.allclose(t.sum(1), torch.ones(6))
    assert vw == pytest.approx(torch.ones(6))
    i = 1  # the row whose third AU had no label
    j = int(partner[i])
    assert a[i, 2] == pytest.approx(float(aus[j, 2])) and aw[i, 2] == pytest.approx(1 - lam)
    assert a[i, 0] == pytest.approx(float(lam * aus[i, 0] + (1 - lam) * aus[j, 0]))


def test_cutmix_lambda_is_the_share_of_pixels_kept():
    x, targets, weight, va, va_weight = labelled_batch()
    x = torch.zeros(6, 1, 10, 10)
    x[:3] = 1.0  # rows 0-2 white, 3-5 black: the pasted box shows as changed pixels
    labels = [(targets, weight), (va, va_weight)]
    mixed, [(t, _), _] = mix_batch(x, labels, np.random.default_rng(0), mixup=0, cutmix=1.0)
    rng = np.random.default_rng(0)
    rng.beta(1.0, 1.0)
    partner = rng.permutation(6)
    for i, j in enumerate(partner):
        kept = float((mixed[i] == x[i]).float().mean()) if (i < 3) != (j < 3) else None
        if kept is not None:  # partner of the other colour: kept share = target weight of own class
            assert t[i, i % 8] == pytest.approx(kept) and t[i, j % 8] == pytest.approx(1 - kept)


def test_equalize_is_recorded_in_the_weights_and_applied_by_to_model_input(tmp_path):
    crop = (np.arange(48 * 48).reshape(48, 48) % 40 + 100).astype(np.uint8)  # low contrast: grey levels 100-139
    config = ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1), equalize=True)
    batch = to_model_input([crop], config)
    expected = (cv2.equalizeHist(crop).astype(np.float32) / 255 - 0.5) / 0.25
    assert np.array_equal(batch[0, 0], expected) and batch.max() - batch.min() > 3.5
    plain = to_model_input([crop], replace(config, equalize=False))[0, 0]
    assert np.allclose(plain, (crop / 255 - 0.5) / 0.25, atol=1e-6)
    colour = cv2.merge([crop, crop, crop])
    luma = to_model_input([colour], replace(config, grey=False, mean=(0.5,) * 3, std=(0.25,) * 3))
    assert np.allclose(luma[0, 0], expected, atol=0.02 / 0.25)  # grey BGR: luma equalised, channels alike
    save_weights(tmp_path / "eq.pt", SEResNet(config), {})
    assert load_weights(tmp_path / "eq.pt")[0].config.equalize is True


def test_flip_tta_averages_a_crop_with_its_mirror(random_weights):
    model, _ = load_weights(random_weights)
    crops = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    device = torch.device("cpu")
    probs, va, _ = predict_arrays(model, crops, device, tta=True)
    plain, plain_va, _ = predict_arrays(model, crops, device)
    mirrored, mirrored_va, _ = predict_arrays(model, crops[:, :, ::-1].copy(), device)
    assert np.allclose(probs, (plain + mirrored) / 2, atol=1e-6) and np.allclose(va, (plain_va + mirrored_va) / 2)
    hot, *_ = predict_arrays(model, crops, device, temperature=0.5)
    assert hot.max(1).mean() > plain.max(1).mean()  # a lower temperature sharpens


def test_evaluate_tta_is_reported(random_weights, tiny_ferplus, tmp_path, capsys):
    out = tmp_path / "scores.json"
    args = [
        "--weights",
        str(random_weights),
        "--data",
        str(tiny_ferplus),
        "--split",
        "val",
        "--tta",
        "--json",
        str(out),
    ]
    assert evaluate_module.main(args) == 0
    assert json.loads(out.read_text())["tta"] is True and "tta      flip" in capsys.readouterr().out


def test_distilled_targets_mix_votes_and_teachers():
    votes = np.array([[1, 0, 0, 0, 0, 0, 0, 0], [np.nan] * 8], dtype=np.float32)
    teacher = np.full((2, 8), 1 / 8, dtype=np.float32)
    targets, factor = distilled_targets(votes, np.array([True, False]), teacher, 0.25)
    assert targets[0, 0] == pytest.approx(0.75 + 0.25 / 8) and targets[0, 1] == pytest.approx(0.25 / 8)
    assert np.allclose(targets[1], 1 / 8) and factor.tolist() == [1.0, 0.25]
    assert np.allclose(targets.sum(1), 1)


def test_training_with_every_lever_runs_and_distils_a_larger_input_teacher(
    tiny_ferplus, tiny_diffusionfer, tmp_path, monkeypatch
):
    torch.manual_seed(0)
    teacher_path = tmp_path / "teacher.pt"
    save_weights(teacher_path, SEResNet(replace(TINY, input_size=40)), {})
    cfg = replace(
        tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / "run", epochs=1),
        model=replace(TINY, equalize=True),
        mixup=0.4,
        cutmix=1.0,
        teachers=(str(teacher_path), str(teacher_path)),
        distill_share=0.5,
    )
    seen = {"mixed": 0}
    distil, mix = train_module.distilled_targets, train_module.mix_batch

    def spy_distil(votes, labelled, teacher, share):
        seen["teacher"] = teacher
        return distil(votes, labelled, teacher, share)

    def spy_mix(*args):
        seen["mixed"] += 1
        return mix(*args)

    monkeypatch.setattr(train_module, "distilled_targets", spy_distil)
    monkeypatch.setattr(train_module, "mix_batch", spy_mix)
    best = train_module.train(cfg, resume=False, command="test")
    assert seen["mixed"] == 5  # every batch: 48 FERPlus + 2 × 12 DiffusionFER rows, 16 a batch
    model, _ = load_weights(best)
    assert model.config.equalize is True
    train_set = train_module.build_sets(replace(cfg, model=replace(TINY, input_size=40)))[0]
    teacher, _ = load_weights(teacher_path)
    expected, *_ = predict_arrays(teacher, train_set.images, torch.device("cpu"), tta=True)
    assert seen["teacher"].shape == (len(train_set), 8) and np.allclose(seen["teacher"], expected, atol=1e-6)
    both = teacher_probabilities((str(teacher_path),), lambda config: train_set.images, 1.0, torch.device("cpu"))
    assert np.allclose(both, expected, atol=1e-6)


def test_probe_configs_change_only_what_they_name():
    v4 = load_config(CONFIGS / "v4.toml")
    baseline = load_config(CONFIGS / "probes" / "baseline.toml")
    assert baseline == replace(v4, epochs=15, out_dir="training/runs/probes/baseline")
    width = load_config(CONFIGS / "probes" / "width48.toml")
    assert width == replace(
        baseline, model=replace(baseline.model, widths=(48, 96, 192, 384)), out_dir="training/runs/probes/width48"
    )
    ema = load_config(CONFIGS / "probes" / "ema.toml")
    assert ema == replace(baseline, ema_decay=0.998, out_dir="training/runs/probes/ema")
    sgd = load_config(CONFIGS / "probes" / "sgd.toml")
    assert sgd == replace(baseline, optimizer="sgd", lr=0.05, out_dir="training/runs/probes/sgd")
    # v5: v4 at width 48 over 50 epochs, bf16 where the CPU has it, stored in fp16 as v6's start.
    v5 = load_config(CONFIGS / "v5.toml")
    assert v5 == replace(
        v4,
        model=width.model,
        epochs=50,
        cpu_bf16=True,
        out_dir="training/runs/v5",
        export="training/weights/v5.pt",
        export_half=True,
    )
    # The shipped recipe (v6): v5 fine-tuned with the action unit head, over v5's data.
    bundled = load_config(CONFIGS / "bundled.toml")
    assert bundled == replace(
        v5,
        init="training/weights/v5.pt",
        action_units=True,
        model_version="v6",
        epochs=10,
        lr=5e-4,
        warmup_epochs=0.5,
        out_dir="training/runs/bundled",
        export="assets/fer_live_se_resnet.pt",
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("mixup = -0.2\n", "mixup must be 0 or more"),
        ("ema_decay = 1.0\n", "ema_decay must be at least 0 and below 1"),
        ('optimizer = "adam"\n', "optimizer must be one of adamw, sgd"),
        ("distill_share = 1.5\n", "distill_share must be between 0 and 1"),
        ("distill_temperature = 0\n", "distill_temperature must be above 0"),
        ("teachers = [1]\n", "TrainConfig.teachers has the wrong type"),
        ('base = "nowhere.toml"\n', "base config not found"),
        ('base = "config.toml"\n', "config bases loop back"),
    ],
)
def test_lever_settings_are_checked_when_read(tmp_path, capsys, toml, message):
    config = tmp_path / "config.toml"
    config.write_text(toml + '[[data]]\npath = "x"\n')
    assert train_module.main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_weight_average_follows_the_net_by_its_decay_and_copies_counters():
    torch.manual_seed(0)
    model = SEResNet(TINY)
    average = WeightAverage(model, decay=0.5)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for value in model.state_dict().values():
            value.add_(1) if value.is_floating_point() else value.fill_(7)
    average.update(model)  # the first update's decay is min(0.5, 2 / 11)
    share = 1 - 2 / 11
    for key, value in average.model.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, start[key] + share, atol=1e-6), key
        else:
            assert value.item() == 7, key


def test_sgd_with_weight_averaging_saves_the_averaged_weights(tiny_ferplus, tiny_diffusionfer, tmp_path):
    cfg = replace(
        tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / "run", epochs=1),
        optimizer="sgd",
        lr=0.05,
        ema_decay=0.9,
    )
    best = train_module.train(cfg, resume=False, command="test")
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert "momentum_buffer" in str(last["optimizer"]["state"])
    model, meta = load_weights(best)
    for key, value in model.state_dict().items():
        assert torch.equal(value, last["ema"]["model"][key]), key
    assert meta["weight_average_decay"] == 0.9 and "val_accuracy_raw" in meta["val"]
    with (tmp_path / "run" / "history.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert float(row["val_score_raw"]) >= 0 and row["val_accuracy"] != ""


def test_half_export_halves_the_file_and_loads_back_as_fp32(tiny_ferplus, tiny_diffusionfer, tmp_path):
    cfg = replace(
        tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / "run", epochs=1),
        export=str(tmp_path / "shipped.pt"),
        export_half=True,
    )
    best = train_module.train(cfg, resume=False, command="test")
    full, meta_full = load_weights(best)
    half, meta_half = load_weights(tmp_path / "shipped.pt")
    assert meta_half == meta_full and all(p.dtype == torch.float32 for p in half.parameters())
    assert (tmp_path / "shipped.pt").stat().st_size < 0.7 * best.stat().st_size
    x = torch.randn(4, 1, TINY.input_size, TINY.input_size)
    for a, b in zip(full(x), half(x), strict=True):
        assert torch.allclose(a, b, atol=2e-2)


def test_cpu_bf16_trains_in_bfloat16_only_where_the_cpu_has_it(tiny_ferplus, tiny_diffusionfer, tmp_path, monkeypatch):
    """The same epoch in fp32 and in bf16 autocast: bf16's loss within 2 % of fp32's; no native bf16 → fp32."""
    losses = {}
    for name, native in (("fp32", False), ("bf16", True), ("fallback", False)):
        monkeypatch.setattr(train_module, "native_bf16", lambda native=native: native)
        cfg = replace(tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / name, epochs=1), cpu_bf16=name != "fp32")
        _, meta = load_weights(train_module.train(cfg, resume=False, command="test"))
        assert meta["autocast"] == ("bfloat16" if name == "bf16" else "off")
        with (tmp_path / name / "history.csv").open() as handle:
            losses[name] = float(next(csv.DictReader(handle))["loss"])
    assert losses["fallback"] == losses["fp32"]
    assert abs(losses["bf16"] - losses["fp32"]) < 0.02 * abs(losses["fp32"])
