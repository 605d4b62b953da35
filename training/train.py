"""Train the SE-ResNet multi-task model from a TOML config; resumable, seeded, one command.

python -m training.train --config training/configs/bundled.toml [--resume] [--epochs N] [--stop-after MINUTES]

With --stop-after the run ends cleanly after the checkpoint of the epoch during which the time
budget ran out; --resume continues from there exactly as if it had never stopped, so one run can
span several sessions.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import pickle
import platform
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fer_live.checksums import file_sha256
from fer_live.errors import FerLiveError
from fer_live.inference.preprocess import to_model_input
from fer_live.labels import AU_COLUMNS, NUM_CLASSES
from fer_live.model import ModelConfig, SEResNet, load_weights, save_weights
from fer_live.options import at_least, greater_than
from training.au_labels import attach_au_labels, au_agreement, au_label_sources, teacher_outputs
from training.augment import augment
from training.config import DataSpec, TrainConfig, load_config
from training.data import FaceSet, derive_va, va_prototypes
from training.datasets import load_spec
from training.distill import distilled_targets, teacher_probabilities
from training.ema import WeightAverage
from training.losses import TaskWeighting, au_loss, class_weights, soft_cross_entropy, va_loss, weighted_ccc
from training.mixing import mix_batch
from training.operating_point import describe as describe_operating_point
from training.operating_point import store_operating_point, unfold_logit_offsets
from training.predict import predict_arrays

PROG = "python -m training.train"
HISTORY_FIELDS = (
    "epoch",
    "lr",
    "loss",
    "expression_loss",
    "va_loss",
    "au_loss",
    "val_accuracy",
    "val_ccc_valence",
    "val_ccc_arousal",
    "val_au_auc",
    "val_au_r",
    "val_score",
    "val_accuracy_raw",
    "val_score_raw",
    "seconds",
    "cpu_seconds",
)


def split_holdout(data: FaceSet, fraction: float, seed: int) -> tuple[FaceSet, FaceSet]:
    order = np.random.default_rng(seed).permutation(len(data))
    cut = int(round(len(data) * fraction))
    return data.subset(np.sort(order[cut:])), data.subset(np.sort(order[:cut]))


def build_sets(cfg: TrainConfig) -> tuple[FaceSet, np.ndarray, FaceSet, str]:
    """Training rows, how many times each appears per epoch, validation rows, and a data hash."""
    train_parts, repeats, val_parts, hashes = [], [], [], []
    for spec in cfg.data:
        teacher = teacher_outputs(spec.path, cfg.au_teacher, cfg.au_cache_dir) if cfg.action_units else None
        train = attach_au_labels(load_spec(spec, spec.train_split, cfg), teacher)
        if spec.val_split:
            val = attach_au_labels(load_spec(spec, spec.val_split, cfg), teacher)
        elif spec.val_fraction > 0:
            train, val = split_holdout(train, spec.val_fraction, cfg.seed)
        else:
            val = None
        train.sample_weight *= spec.weight
        train_parts.append(train)
        repeats.append(np.full(len(train), spec.repeat, dtype=np.int64))
        if val is not None:
            val_parts.append(val)
        hashes.append(_spec_hash(spec))
    train = FaceSet.concat(train_parts)
    derive_va(train, va_prototypes(train), cfg.derived_va_weight)
    val = FaceSet.concat(val_parts) if val_parts else train.subset(np.arange(0))
    return train, np.concatenate(repeats), val, hashlib.sha256("".join(hashes).encode()).hexdigest()


def _images_for(cfg: TrainConfig, config: ModelConfig, train_set: FaceSet) -> np.ndarray:
    """The training crops as a model with `config` reads them: the student's own, or remade (cached)."""
    if (config.input_size, config.grey) == (cfg.model.input_size, cfg.model.grey):
        return train_set.images
    images = build_sets(replace(cfg, model=config))[0].images
    if len(images) != len(train_set):
        raise ValueError(f"a teacher's crops ({len(images)}) do not match the training rows ({len(train_set)})")
    return images


def _spec_hash(spec: DataSpec) -> str:
    labels = Path(spec.path) / "labels.csv"
    return file_sha256(labels) if labels.is_file() else spec.path


def epoch_order(train: FaceSet, repeats: np.ndarray, cfg: TrainConfig, epoch: int) -> np.ndarray:
    """Row indices for one epoch: repeats expanded, optionally class-rebalanced, shuffled (seeded)."""
    rng = np.random.default_rng([cfg.seed, epoch])
    rows = np.repeat(np.arange(len(train)), repeats)
    if cfg.class_sampling_power > 0:
        counts = np.bincount(train.label[train.label >= 0], minlength=NUM_CLASSES).astype(np.float64)
        freq = np.where(train.label[rows] >= 0, counts[np.maximum(train.label[rows], 0)], counts.mean())
        p = freq ** (-cfg.class_sampling_power)
        rows = rng.choice(rows, size=len(rows), replace=True, p=p / p.sum())
    return rng.permutation(rows)


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "onecycle":  # linear decay after a warm-up peak, to 1 % of the peak
        return max(1.0 - progress * 0.99, 0.01)
    raise ValueError(f"schedule must be cosine or onecycle, not {schedule!r}")


def validate(model: SEResNet, val: FaceSet, device: torch.device) -> dict:
    """Accuracy over labelled rows, CCC over rows with measured V/A, AU agreement with the teacher's
    labels (mean ROC-AUC) over rows that have them; score = their mean."""
    if len(val) == 0:
        return {}
    probs, va, aus = predict_arrays(model, val.images, device)
    labelled = val.label >= 0
    metrics = {}
    if labelled.any():
        metrics["val_accuracy"] = float((probs[labelled].argmax(1) == val.label[labelled]).mean())
    measured = val.has_va & (val.va_weight >= 1.0)
    if measured.sum() > 2:
        ccc = weighted_ccc(
            torch.from_numpy(va[measured]), torch.from_numpy(val.va[measured]), torch.ones(int(measured.sum()))
        ).numpy()
        metrics["val_ccc_valence"], metrics["val_ccc_arousal"] = float(ccc[0]), float(ccc[1])
    if aus.shape[1] and val.has_au.sum() > 2:
        agreement = au_agreement(aus[val.has_au], val.au[val.has_au])
        metrics["val_au_auc"], metrics["val_au_r"] = agreement["mean_auc"], agreement["mean_r"]
    parts = [metrics.get("val_accuracy")]
    if "val_ccc_valence" in metrics:
        parts.append((metrics["val_ccc_valence"] + metrics["val_ccc_arousal"]) / 2)
    if "val_au_auc" in metrics:
        parts.append(metrics["val_au_auc"])
    metrics["val_score"] = float(np.mean([p for p in parts if p is not None]))
    return metrics


def train(cfg: TrainConfig, resume: bool, command: str, stop_after_minutes: float | None = None) -> Path | None:
    """Train, or continue training, the run in cfg.out_dir; the best weights' path, or None when
    `stop_after_minutes` (wall time of this call) ran out before the last epoch."""
    started_call = time.monotonic()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    train_set, repeats, val_set, data_hash = build_sets(cfg)
    counts = np.bincount(train_set.label[train_set.label >= 0], minlength=NUM_CLASSES)
    # Soft targets carry the crowd's mass: weight classes by that mass, not by hard plurality.
    labelled = ~np.isnan(train_set.targets).any(axis=1)
    soft_counts = (train_set.targets[labelled] * repeats[labelled, None]).sum(axis=0)
    cls_weight = torch.from_numpy(class_weights(soft_counts, cfg.class_weighting, cfg.beta)).to(device)
    print(
        f"train rows {len(train_set)} (per epoch {int(repeats.sum())}), val rows {len(val_set)}, "
        f"plurality counts {counts.tolist()}, class weights {np.round(cls_weight.cpu().numpy(), 2).tolist()}"
    )

    action_units = AU_COLUMNS if cfg.action_units else ()
    model_config = replace(cfg.model, data_hash=data_hash, action_units=action_units)
    # channels_last: oneDNN's CPU convolutions run faster on it (measured: model step 1.44×, whole epoch 1.15×).
    # Its backward pass crashes (SIGSEGV) on 8-channel convolutions on an AVX-512 EPYC (torch 2.13): nets
    # that narrow (the tests' tiny ones) stay contiguous.
    memory_format = torch.channels_last if min(model_config.widths) >= 16 else torch.contiguous_format
    model = SEResNet(model_config)
    if cfg.init:
        start_from(model, cfg.init)
    model = model.to(device, memory_format=memory_format)
    weighting = TaskWeighting(cfg.task_weighting, 3 if action_units else 2).to(device)
    params = [
        {"params": [p for n, p in model.named_parameters() if p.ndim > 1], "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in model.named_parameters() if p.ndim <= 1], "weight_decay": 0.0},
        {"params": list(weighting.parameters()), "weight_decay": 0.0},
    ]
    if cfg.optimizer == "sgd":
        optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True)
    else:
        optimizer = torch.optim.AdamW(params, lr=cfg.lr)
    average = WeightAverage(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    steps_per_epoch = math.ceil(int(repeats.sum()) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total_steps, warmup, cfg.schedule)
    )
    scaler = torch.amp.GradScaler(enabled=device.type == "cuda")
    autocast_dtype = _autocast_dtype(device, cfg.cpu_bf16)
    autocast_name = str(autocast_dtype).removeprefix("torch.") if autocast_dtype else "off"
    print(f"forward passes in {autocast_name if autocast_dtype else 'float32'}")

    state = {"epoch": 0, "best_score": -math.inf, "best_epoch": 0, "wall_seconds": 0.0}
    last = out / "last.pt"
    if resume and last.is_file():
        try:
            checkpoint = torch.load(last, map_location=device, weights_only=True)
            model.load_state_dict(checkpoint["model"])
            weighting.load_state_dict(checkpoint["weighting"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
            scaler.load_state_dict(checkpoint["scaler"])
            if average is not None:
                average.load_state_dict(checkpoint["ema"])
            torch.set_rng_state(checkpoint["torch_rng"])
            if device.type == "cuda" and "cuda_rng" in checkpoint:
                torch.cuda.set_rng_state(checkpoint["cuda_rng"], device)
        except (RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
            raise ValueError(
                f"cannot resume from {last}: corrupt, or written with another config ({exc.__class__.__name__})"
            ) from exc
        state = checkpoint["state"]
        _drop_history_after(out / "history.csv", state["epoch"])
        print(f"resumed from {last} after epoch {state['epoch']}")
    else:  # a fresh start, also when --resume finds no checkpoint yet
        (out / "history.csv").unlink(missing_ok=True)

    generator = torch.Generator().manual_seed(cfg.seed * 1000 + state["epoch"])
    mean = torch.tensor(model_config.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(model_config.std, device=device).view(1, -1, 1, 1)
    targets, expr_weight = np.nan_to_num(train_set.targets), labelled.astype(np.float32)
    if cfg.teachers:
        teacher = teacher_probabilities(
            cfg.teachers, lambda config: _images_for(cfg, config, train_set), cfg.distill_temperature, device
        )
        targets, expr_weight = distilled_targets(train_set.targets, labelled, teacher, cfg.distill_share)
        print(f"distilling {len(cfg.teachers)} teacher(s): share {cfg.distill_share}, T {cfg.distill_temperature}")
    targets_all = torch.from_numpy(targets)
    expr_weight_all = torch.from_numpy(expr_weight * train_set.sample_weight)
    va_all = torch.from_numpy(np.nan_to_num(train_set.va))
    va_weight_all = torch.from_numpy(train_set.va_weight * train_set.sample_weight)
    au_all = torch.from_numpy(np.nan_to_num(train_set.au))
    # Per AU: a face can have some AU labels and not others (AU6, AU9 need an expression label).
    au_weight_all = torch.from_numpy(~np.isnan(train_set.au) * train_set.sample_weight[:, None]).float()

    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        started, started_cpu = time.time(), time.process_time()
        model.train()
        order = epoch_order(train_set, repeats, cfg, epoch)
        mix_rng = np.random.default_rng([cfg.seed, epoch, 1])
        totals = np.zeros(4)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=False)
        for step in bar:
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            x = torch.from_numpy(to_model_input(train_set.images[idx], model_config)).to(device)
            x = (augment(x * std + mean, cfg.augment, generator) - mean) / std
            index = torch.from_numpy(idx)
            pairs = [(targets_all, expr_weight_all), (va_all, va_weight_all), (au_all, au_weight_all)]
            labels = [(values[index].to(device), weight[index].to(device)) for values, weight in pairs]
            if cfg.mixup > 0 or cfg.cutmix > 0:
                x, labels = mix_batch(x, labels, mix_rng, cfg.mixup, cfg.cutmix)
            (targets, target_weight), (va_target, va_weight), (au_target, au_weight) = labels
            x = x.contiguous(memory_format=memory_format)
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                logits, va_pred, au_pred = model(x)
            logits, va_pred = logits.float(), va_pred.float()
            expression = soft_cross_entropy(logits, targets, target_weight, cls_weight)
            va = va_loss(va_pred, va_target, va_weight, cfg.va_mse_weight)
            units = au_loss(au_pred, au_target, au_weight) if action_units else torch.zeros((), device=device)
            loss = weighting(expression, va, cfg.au_loss_weight * units) if action_units else weighting(expression, va)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if average is not None:
                average.update(model)
            totals += [loss.item(), expression.item(), va.item(), units.item()]
            if step % 20 == 0:
                bar.set_postfix(loss=f"{totals[0] / (step + 1):.3f}")
        # The run's output: the averaged weights when averaging is on, the trained net otherwise.
        output_model = average.model if average is not None else model
        metrics = validate(output_model, val_set, device)
        if average is not None:
            raw = validate(model, val_set, device)
            metrics.update({f"{k}_raw": raw[k] for k in ("val_accuracy", "val_score") if k in raw})
        state["wall_seconds"] += time.time() - started
        # CPU time of all threads: comparable across runs on a busy machine, where wall time is not.
        cpu_seconds = time.process_time() - started_cpu
        state["cpu_seconds"] = state.get("cpu_seconds", 0.0) + cpu_seconds
        row = {
            "epoch": epoch,
            "lr": scheduler.get_last_lr()[0],
            "loss": totals[0] / steps_per_epoch,
            "expression_loss": totals[1] / steps_per_epoch,
            "va_loss": totals[2] / steps_per_epoch,
            **({"au_loss": totals[3] / steps_per_epoch} if action_units else {}),
            **metrics,
            "seconds": round(time.time() - started, 1),
            "cpu_seconds": round(cpu_seconds, 1),
        }
        _append_history(out / "history.csv", row)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        state["epoch"] = epoch
        meta = {
            "command": command,
            **({"model_version": cfg.model_version} if cfg.model_version else {}),
            **({"init": cfg.init} if cfg.init else {}),
            **({"action_unit_labels": au_label_sources()} if action_units else {}),
            "epoch": epoch,
            "val": metrics,
            "train_seconds": round(state["wall_seconds"]),
            "train_cpu_seconds": round(state["cpu_seconds"]),
            "hardware": _hardware(device),
            "autocast": autocast_name,
        }
        if average is not None:
            meta["weight_average_decay"] = cfg.ema_decay
        if metrics.get("val_score", -math.inf) > state["best_score"]:
            state["best_score"], state["best_epoch"] = metrics["val_score"], epoch
            save_weights(out / "best.pt", output_model, meta)
        checkpoint = {
            "model": model.state_dict(),
            "weighting": weighting.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "state": state,
        }
        if average is not None:
            checkpoint["ema"] = average.state_dict()
        if device.type == "cuda":  # dropout draws on the GPU come from its own generator
            checkpoint["cuda_rng"] = torch.cuda.get_rng_state(device)
        torch.save(checkpoint, out / "last.pt.tmp")
        (out / "last.pt.tmp").replace(last)
        generator.manual_seed(cfg.seed * 1000 + epoch)
        _plot_history(out / "history.csv", out / "curves.png")
        spent = (time.monotonic() - started_call) / 60
        if stop_after_minutes is not None and spent >= stop_after_minutes and epoch < cfg.epochs:
            print(f"stopped after epoch {epoch} of {cfg.epochs} ({spent:.1f} min): continue with --resume", flush=True)
            return None

    best = out / "best.pt"
    print(
        f"best epoch {state['best_epoch']} (val score {state['best_score']:.4f}), "
        f"training time {state['wall_seconds'] / 60:.1f} min"
    )
    # The runtime's operating point (class prior, recommended τ, neutral reference) rides in the weights.
    print(describe_operating_point(store_operating_point(best, train_set, repeats, val_set, cfg)))
    if cfg.export:
        Path(cfg.export).parent.mkdir(parents=True, exist_ok=True)
        if cfg.export_half:
            model, meta = load_weights(best)
            save_weights(cfg.export, model, meta, half=True)
        else:
            Path(cfg.export).write_bytes(best.read_bytes())
        print(f"exported {best} → {cfg.export}{' (fp16)' if cfg.export_half else ''}")
    return best


def start_from(model: SEResNet, path: str) -> None:
    """Load a previous model's weights into `model`; only heads the older model lacks may start fresh."""
    previous, meta = load_weights(path)
    if unfold_logit_offsets(previous, meta):
        raise ValueError(f"{path} has logit offsets folded into its head: start from unfolded weights")
    missing, unexpected = model.load_state_dict(previous.state_dict(), strict=False)
    fresh = [k for k in missing if not k.startswith("au_head.")]
    if fresh or unexpected:
        raise ValueError(f"{path} does not match this model (missing {fresh}, unexpected {unexpected})")
    print(f"started from {path}" + (f" (fresh: {', '.join(missing)})" if missing else ""))


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (torch's own probes; private, hence the fallback)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _autocast_dtype(device: torch.device, cpu_bf16: bool) -> torch.dtype | None:
    if device.type == "cuda":
        return torch.float16
    return torch.bfloat16 if cpu_bf16 and native_bf16() else None


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} CPU threads"


def _drop_history_after(path: Path, epoch: int) -> None:
    """Forget rows of epochs the checkpoint does not hold (a run killed between the two writes)."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["epoch"]) <= epoch]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _append_history(path: Path, row: dict) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def _plot_history(history: Path, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history.open() as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "expression_loss", "va_loss"):
        left.plot(epochs, [float(r[key]) for r in rows], label=key)
    left.set_xlabel("epoch")
    left.legend()
    for key in ("val_accuracy", "val_ccc_valence", "val_ccc_arousal", "val_score"):
        values = [float(r[key]) if r.get(key) else math.nan for r in rows]
        right.plot(epochs, values, label=key)
    right.set_xlabel("epoch")
    right.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="TOML file, e.g. training/configs/bundled.toml")
    parser.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last.pt")
    parser.add_argument("--epochs", type=at_least(1), help="override the config's epoch count")
    parser.add_argument("--out-dir", help="override the config's output folder")
    parser.add_argument("--cache-dir", help="override the config's folder of cached crops")
    parser.add_argument(
        "--au-teacher",
        metavar="TASK_FILE",
        help="MediaPipe's face_landmarker.task, the action units' label teacher (training input only)",
    )
    parser.add_argument(
        "--stop-after",
        type=greater_than(0),
        metavar="MINUTES",
        help="end cleanly after the checkpoint of the epoch during which this much wall time ran out",
    )
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except FileNotFoundError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError) as exc:
        print(f"{PROG}: error: cannot read training config {args.config}: {exc}", file=sys.stderr)
        return 2
    given = {"epochs": args.epochs, "out_dir": args.out_dir, "cache_dir": args.cache_dir, "au_teacher": args.au_teacher}
    overrides = {k: v for k, v in given.items() if v is not None}
    cfg = replace(cfg, **overrides)
    command = "python -m training.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    try:
        train(cfg, args.resume, command, args.stop_after)
    except (FerLiveError, OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: resume with --resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
