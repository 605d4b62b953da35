"""The training loop on tiny real subsets: loss goes down, resume reproduces, bad inputs are one line."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from fer_live.inference.preprocess import to_model_input
from fer_live.model import ModelConfig, SEResNet, load_weights
from training import train as train_module
from training.config import DataSpec, TrainConfig
from training.data import FaceSet, load_folder
from training.losses import TaskWeighting, soft_cross_entropy, va_loss

TINY = ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from 2 threads, and on a busy machine the second one spins (15× slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_config(ferplus: Path, diffusionfer: Path, out: Path, epochs: int = 2) -> TrainConfig:
    return TrainConfig(
        model=TINY,
        data=(
            DataSpec(path=str(ferplus), train_split="train", val_split="val"),
            DataSpec(path=str(diffusionfer), train_split="train", val_fraction=0.25, repeat=2),
        ),
        epochs=epochs,
        batch_size=16,
        threads=1,
        cache_dir=str(out.parent / "cache"),
        out_dir=str(out),
    )


def test_optimisation_steps_lower_the_loss(tiny_ferplus, tiny_diffusionfer):
    """15 AdamW steps on 16 FERPlus (soft votes) + 16 diffusionfer (V/A) faces: the multi-task loss falls ~3×."""
    torch.manual_seed(0)
    ferplus = load_folder(tiny_ferplus, TINY, "train")
    data = FaceSet.concat([ferplus.subset(np.arange(16)), load_folder(tiny_diffusionfer, TINY, "train")])
    model = SEResNet(TINY)
    weighting = TaskWeighting("uncertainty")
    optimizer = torch.optim.AdamW([*model.parameters(), *weighting.parameters()], lr=3e-3)
    x = torch.from_numpy(to_model_input(data.images, TINY))
    labelled = torch.from_numpy((~np.isnan(data.targets).any(axis=1)).astype(np.float32))
    targets = torch.from_numpy(np.nan_to_num(data.targets))
    va, va_weight = torch.from_numpy(data.va), torch.from_numpy(data.va_weight)
    losses = []
    for _ in range(15):
        logits, va_pred, _ = model(x)
        loss = weighting(soft_cross_entropy(logits, targets, labelled), va_loss(va_pred, va, va_weight, 1.0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])


@pytest.mark.parametrize("stop", ["interrupt", "stop_after"])
def test_resume_after_a_stop_reproduces_the_straight_run(tiny_ferplus, tiny_diffusionfer, tmp_path, monkeypatch, stop):
    straight = tiny_config(tiny_ferplus, tiny_diffusionfer, tmp_path / "straight")
    if stop == "stop_after":  # with batch mixing and weight averaging on: they must resume exactly too
        straight = replace(straight, mixup=0.4, cutmix=1.0, ema_decay=0.9)
    best = train_module.train(straight, resume=False, command="test")

    broken = replace(straight, out_dir=str(tmp_path / "resumed"))
    if stop == "interrupt":  # killed after epoch 1's checkpoint is written (the curve plot comes right after it)
        plot = train_module._plot_history

        def interrupt(history, png):
            plot(history, png)
            raise KeyboardInterrupt

        monkeypatch.setattr(train_module, "_plot_history", interrupt)
        with pytest.raises(KeyboardInterrupt):
            train_module.train(broken, resume=False, command="test")
        monkeypatch.setattr(train_module, "_plot_history", plot)
    else:  # a time budget that runs out during epoch 1
        assert train_module.train(broken, resume=False, command="test", stop_after_minutes=1e-9) is None
        assert not (tmp_path / "resumed" / "calibrated.pt").exists()
    assert torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)["state"]["epoch"] == 1
    train_module.train(broken, resume=True, command="test")

    a = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)
    assert a["state"]["epoch"] == b["state"]["epoch"] == 2
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert torch.equal(a["weighting"]["log_sigma"], b["weighting"]["log_sigma"])
    if stop == "stop_after":
        for key, value in a["ema"]["model"].items():
            assert torch.equal(value, b["ema"]["model"][key]), key

    def history(run: str) -> list[dict]:
        with (tmp_path / run / "history.csv").open() as handle:
            rows = csv.DictReader(handle)
            return [{k: v for k, v in row.items() if k not in ("seconds", "cpu_seconds")} for row in rows]

    assert history("straight") == history("resumed") and len(history("straight")) == 2
    assert (tmp_path / "straight" / "curves.png").stat().st_size > 1000
    model, meta = load_weights(best)
    assert model.config.widths == TINY.widths and meta["command"] == "test" and "val_score" in meta["val"]
    # The runtime's operating point rides along: the training class prior, a τ chosen on validation.
    point = meta["operating_point"]
    assert sum(point["class_prior"].values()) == pytest.approx(1.0, abs=1e-5)
    assert point["recommended_tau"] in point["tau_choice"]["validation"]


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (None, "training config not found"),
        ('bogus = 1\n[[data]]\npath = "x"\n', "unknown TrainConfig keys: ['bogus']"),
        ('epochs = "ten"\n[[data]]\npath = "x"\n', "TrainConfig.epochs has the wrong type"),
        ('schedule = "linear"\n[[data]]\npath = "x"\n', "schedule must be one of cosine, onecycle"),
        ('[model]\nwidth = [8]\n[[data]]\npath = "x"\n', "unknown ModelConfig keys"),
        ("epochs = 1\n", "needs at least one [[data]] folder"),
        ("epochs = [\n", "cannot read training config"),
        ('out_dir = "OUT"\n[[data]]\npath = "no/such/folder"\n', "data folder not found: no/such/folder"),
        ('out_dir = "OUT"\n[[data]]\npath = "DATA"\n', "no labels.csv in data folder"),
    ],
)
def test_train_bad_inputs_are_one_line_errors(tmp_path, capsys, toml, message):
    config = tmp_path / "missing.toml"
    if toml is not None:
        text = toml.replace("OUT", str(tmp_path / "out")).replace("DATA", str(tmp_path))
        config = write_toml(tmp_path / "config.toml", text)
    assert train_module.main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("python -m training.train: error: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_resume_from_a_corrupt_checkpoint_is_a_one_line_error(tiny_ferplus, tiny_diffusionfer, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "last.pt").write_bytes(b"not a checkpoint")
    config = write_toml(
        tmp_path / "config.toml",
        f'epochs = 1\nthreads = 1\nout_dir = "{out}"\ncache_dir = "{tmp_path / "cache"}"\n'
        "[model]\nwidths = [8, 16, 32, 64]\nblocks = [1, 1, 1, 1]\n"
        f'[[data]]\npath = "{tiny_ferplus}"\nval_split = "val"\n',
    )
    assert train_module.main(["--config", str(config), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the data loaders' progress bars
    assert err.startswith(f"python -m training.train: error: cannot resume from {out / 'last.pt'}: corrupt")
