"""Score a weights file on a data set folder: expression classes, valence/arousal and action units.

    python -m training.evaluate --weights W --data DIR [--split test] [--detect] [--tta] [--prior P] [--calibrate]
                                [--au-teacher TASK] [--json OUT] [--confusion PNG]

Expression scores use the rows with a label in the `expression` column (FERPlus: the plurality
label; ties and unknown are blank and left out; val/test rows that duplicate train images are
left out by the loader). Valence/arousal scores use the rows with both values. The metric
definitions are in training.metrics.categorical_metrics.

With --detect every image goes through the app's face detector and crop (largest face), as a
user's raw photo would. Images where no face is found are reported (`no_face`) and stay in
every score as errors: their predicted class is "no face" (wrong for every true class, so they
lower accuracy, recall, F1, κ and α), their class probabilities are uniform (AUCs), and their
valence/arousal prediction is (0, 0).

With --tta each crop's probabilities and valence/arousal are averaged with its mirror image's.

Probabilities are scored at an operating point (--prior, as in the app; default the weights'
recommended one). With --calibrate (data with a `subject` column) each subject's rows labelled
neutral are that subject's neutral baseline, applied to all of the subject's rows as the app's
participant calibration does; a neutral row's own image is left out of its baseline, so no row
is scored against itself. Subjects without neutral rows stay uncalibrated and are counted.

Weights with action units: each AU's mean on the faces of each labelled class, the ratios the model
card's sanity targets name (e.g. AU12 on happy faces over AU12 on the others), and with
--au-teacher (MediaPipe's face_landmarker.task) agreement with the teacher's labels on the images
where it finds a face (training/au_labels.py): per AU Pearson r and ROC-AUC, label > 0.5 positive.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_live import options
from fer_live.errors import FerLiveError
from fer_live.inference.operating_point import RECOMMENDED, Baseline, OperatingPoint
from fer_live.labels import EXPRESSIONS, NUM_CLASSES
from fer_live.options import DEFAULT_DETECTOR, DETECTOR_RANGES
from training.au_labels import attach_au_labels, au_agreement, teacher_outputs
from training.au_teacher import DEFAULT_CACHE as DEFAULT_TEACHER_CACHE

PROG = "python -m training.evaluate"
DIMENSIONS = ("valence", "arousal")


@dataclass
class Evaluation:
    report: dict  # the --json content
    categorical: dict | None  # training.metrics.categorical_metrics output (confusion), None without labels
    n_images: int  # images in the split, no-face ones included
    n_va: int  # of them with valence/arousal


def evaluate(
    weights: str | Path,
    data: str | Path,
    split: str | None,
    detect: bool = False,
    detector_range: str = DEFAULT_DETECTOR,
    fmt: str | None = None,
    tta: bool = False,
    prior: str = RECOMMENDED,
    calibrate: bool = False,
    au_teacher: str | None = None,
    au_cache_dir: str | Path = DEFAULT_TEACHER_CACHE,
) -> Evaluation:
    """Scores of `weights` on one split of the data folder `data` (format guessed unless `fmt`)."""
    # Imported here so that --help and argument errors answer at once.
    import torch

    from fer_live.model import load_weights
    from training.data import row_label, row_va
    from training.datasets import dataset_rows, guess_format, load_data
    from training.metrics import categorical_metrics, dimensional_metrics
    from training.predict import predict_arrays

    model, meta = load_weights(weights)
    operating_point = OperatingPoint.from_meta(meta, prior)
    fmt = fmt or guess_format(data)
    if calibrate:
        subjects = {r["file"]: r.get("subject") or "" for r in dataset_rows(data, fmt, split)}
        if not any(subjects.values()):
            raise ValueError(f"--calibrate needs a `subject` column in the labels of {data}")
    faces = load_data(data, fmt, model.config, split, detect, detector_range)
    if len(faces) + len(faces.no_face) == 0:
        raise ValueError(f"no images in split {split or 'all'!r} of {data}")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    probs, va_pred, au_pred = predict_arrays(model, faces.images, device, tta=tta)
    raw_logits = np.log(np.maximum(probs, 1e-30))
    baselines, calibration = (None, None)
    if calibrate:
        baselines, calibration = subject_baselines([subjects[f] for f in faces.files], faces.label, raw_logits, va_pred)
    probs, va_pred = operating_point.apply(raw_logits, va_pred, baselines)

    missed_files = set(faces.no_face)
    missed = [r for r in dataset_rows(data, fmt, split) if r["file"] in missed_files] if missed_files else []
    labels = np.concatenate([faces.label, np.array([row_label(r) for r in missed], dtype=np.int64)])
    found = np.concatenate([np.ones(len(faces), bool), np.zeros(len(missed), bool)])
    probs = np.concatenate([probs, np.full((len(missed), NUM_CLASSES), 1.0 / NUM_CLASSES, np.float32)])
    va_true = np.concatenate([faces.va, np.array([row_va(r) for r in missed], np.float32).reshape(-1, 2)])
    va_pred = np.concatenate([va_pred, np.zeros((len(missed), 2), np.float32)])

    labelled = labels >= 0
    categorical = categorical_metrics(labels[labelled], probs[labelled], found[labelled]) if labelled.any() else None
    report = {"n": int(labelled.sum())}
    for key in (
        "accuracy",
        "accuracy_7",
        "balanced_accuracy",
        "macro_f1",
        "weighted_f1",
        "kappa",
        "alpha",
        "auc",
        "auc_pr",
        "per_class",
    ):
        report[key] = categorical[key] if categorical else None
    measured = ~np.isnan(va_true).any(axis=1)
    if measured.any():
        for i, name in enumerate(DIMENSIONS):
            report[name] = dimensional_metrics(va_pred[measured, i], va_true[measured, i])
    report["no_face"] = len(missed)
    report["tta"] = tta
    report["operating_point"] = operating_point.describe()
    if calibration is not None:
        report["calibration"] = calibration
    if au_pred.shape[1]:
        teacher = teacher_outputs(data, au_teacher, au_cache_dir) if au_teacher else None
        report["action_units"] = action_unit_report(au_pred, attach_au_labels(faces, teacher), teacher is not None)
    report.update({"split": split or "all", "weights": str(weights), "data": str(data)})
    return Evaluation(report, categorical, len(labels), int(measured.sum()))


# (AU, expression) pairs whose ratio of means (faces of the class over the other labelled faces) the
# model card's sanity targets name: an AU of an expression's prototype should stand out on it.
SANITY_PAIRS = (
    ("au12", "happy"),
    ("au04", "anger"),
    ("au01", "surprise"),
    ("au02", "surprise"),
    ("au25", "surprise"),
    ("au26", "surprise"),
)


def action_unit_report(au_pred: np.ndarray, faces, with_teacher: bool) -> dict:
    """AU means per labelled class, the sanity ratios, and agreement with the teacher's labels."""
    from fer_live.labels import AU_COLUMNS, INDEX

    labelled = faces.label >= 0
    means = {
        au: {name: float(au_pred[faces.label == c, i].mean()) for c, name in enumerate(EXPRESSIONS)
             if (faces.label == c).any()}
        for i, au in enumerate(AU_COLUMNS)
    }  # fmt: skip
    ratios = {}
    for au, name in SANITY_PAIRS:
        column, on = AU_COLUMNS.index(au), faces.label == INDEX[name]
        others = labelled & ~on
        if on.any() and others.any():
            ratios[f"{au}/{name}"] = float(au_pred[on, column].mean() / max(au_pred[others, column].mean(), 1e-6))
    report = {"means_by_class": means, "sanity_ratios": ratios}
    if with_teacher:
        rows = faces.has_au
        report["teacher_rows"] = int(rows.sum())
        report["teacher"] = au_agreement(au_pred[rows], faces.au[rows]) if rows.sum() > 2 else None
    return report


def subject_baselines(
    subjects: list[str], labels: np.ndarray, raw_logits: np.ndarray, va: np.ndarray
) -> tuple[list[Baseline | None], dict]:
    """Each row's baseline: its subject's neutral-labelled rows (less the row itself), and the counts."""
    from fer_live.labels import INDEX

    subjects_arr = np.array(subjects)
    baselines: list[Baseline | None] = [None] * len(subjects)
    counts = {"subjects": 0, "calibrated_subjects": 0, "subjects_without_neutral": 0, "refused_subjects": 0}
    refusals = {}
    for subject in sorted(set(subjects) - {""}):
        counts["subjects"] += 1
        rows = np.flatnonzero(subjects_arr == subject)
        neutral = rows[labels[rows] == INDEX["neutral"]]
        if len(neutral) == 0:
            counts["subjects_without_neutral"] += 1
            continue
        whole = Baseline.from_raw(raw_logits[neutral], va[neutral])
        refusal = whole.refusal(min_frames=1)
        if refusal is not None:
            counts["refused_subjects"] += 1
            refusals[subject] = refusal
            continue
        counts["calibrated_subjects"] += 1
        for row in rows:
            others = neutral[neutral != row]
            if len(others) == len(neutral):
                baselines[row] = whole
            elif len(others):
                baselines[row] = Baseline.from_raw(raw_logits[others], va[others])
    counts["calibrated_rows"] = sum(b is not None for b in baselines)
    counts["uncalibrated_rows"] = len(baselines) - counts["calibrated_rows"]
    return baselines, {**counts, "refusals": refusals}


def format_report(result: Evaluation, detect: bool) -> str:
    """The human-readable summary printed by the command."""
    report = result.report

    def num(value) -> str:
        return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"

    lines = [
        f"weights  {report['weights']}",
        f"data     {report['data']} (split {report['split']}): {result.n_images} images, "
        f"{report['n']} with an expression label, {result.n_va} with valence/arousal",
    ]
    if report.get("tta"):
        lines.append("tta      flip: every score averages each crop's outputs with its mirror image's")
    if detect:
        lines.append(
            f"no face  {report['no_face']} of {result.n_images} images (the app's detector found none; "
            "counted as wrong predictions in every score, V/A predicted as 0)"
        )
    point = report["operating_point"]
    lines.append(f"prior    {point['prior']} (τ = {point['tau']:g})")
    if "calibration" in report:
        c = report["calibration"]
        lines.append(
            f"calibrated {c['calibrated_subjects']} of {c['subjects']} subjects by their neutral rows "
            f"({c['subjects_without_neutral']} without neutral rows, {c['refused_subjects']} refused); "
            f"{c['calibrated_rows']} rows calibrated, {c['uncalibrated_rows']} not"
        )
    if report["accuracy"] is not None:
        lines += [
            f"accuracy     {num(report['accuracy'])}   (over {report['n']} labelled images)",
            f"balanced accuracy {num(report['balanced_accuracy'])}   (mean per-class recall)",
            f"accuracy_7   {num(report['accuracy_7'])}   (contempt images and the contempt output left out)",
            f"macro F1     {num(report['macro_f1'])}   weighted F1 {num(report['weighted_f1'])}",
            f"Cohen kappa  {num(report['kappa'])}   Krippendorff alpha {num(report['alpha'])}",
            f"ROC-AUC      {num(report['auc'])}   PR-AUC {num(report['auc_pr'])}   (one-vs-rest, macro)",
            "",
            f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
        ]
        for name in EXPRESSIONS:
            c = report["per_class"][name]
            lines.append(f"{name:<10}{c['precision']:>10.4f}{c['recall']:>10.4f}{c['f1']:>10.4f}{c['support']:>9d}")
    for name in DIMENSIONS:
        if name in report:
            d = report[name]
            lines.append(
                f"{name:<8} RMSE {num(d['rmse'])}  CORR {num(d['corr'])}  SAGR {num(d['sagr'])}  CCC {num(d['ccc'])}"
            )
    if "action_units" in report:
        lines += _action_unit_lines(report["action_units"], num)
    return "\n".join(lines)


def _action_unit_lines(units: dict, num) -> list[str]:
    from fer_live.labels import ACTION_UNITS

    lines = ["", "action units: sanity ratios (mean on the class's faces / mean on the other labelled faces)"]
    lines += [f"  {pair:<14}{ratio:>7.2f}×" for pair, ratio in units["sanity_ratios"].items()]
    if "teacher" not in units:
        return [*lines, "  (agreement with the teacher's labels: give --au-teacher)"]
    agreement = units["teacher"]
    if agreement is None:
        return [*lines, f"  the teacher found too few faces ({units['teacher_rows']}) to score agreement"]
    lines += [
        f"agreement with the teacher's labels on {units['teacher_rows']} faces it found: "
        f"mean ROC-AUC {num(agreement['mean_auc'])}, mean Pearson r {num(agreement['mean_r'])}",
        f"  {'AU':<6}{'name':<22}{'r':>8}{'ROC-AUC':>9}{'positives':>11}",
    ]
    for au, scores in agreement["per_au"].items():
        lines.append(
            f"  {au:<6}{ACTION_UNITS[au][0]:<22}{num(scores['r']):>8}{num(scores['auc']):>9}{scores['positives']:>11d}"
        )
    return lines


def plot_confusion(categorical: dict, path: str | Path, title: str) -> None:
    """Row-normalised confusion matrix with counts; a "no face" column when faces were missed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.array(categorical["confusion"], dtype=np.int64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    columns = categorical["confusion_columns"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(columns), 7))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, str(count), ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(NUM_CLASSES), EXPRESSIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _json_safe(value):
    """NaN (undefined score) → null, so the file is strict JSON."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="fer_live weights file (.pt)")
    parser.add_argument("--data", required=True, help="data folder: labels.csv folder or an AffectNet layout")
    parser.add_argument("--split", default="test", help="split to score (train, val, test, or all); default test")
    parser.add_argument("--format", choices=("folder", "affectnet_csv", "affectnet_npy"), help="default: guessed")
    parser.add_argument("--detect", action="store_true", help="crop faces with the app's detector (raw photos)")
    parser.add_argument(
        "--detector",
        choices=DETECTOR_RANGES,
        default=DEFAULT_DETECTOR,
        help=f"detector range with --detect (default {DEFAULT_DETECTOR})",
    )
    parser.add_argument("--tta", action="store_true", help="average each crop with its mirror image (flip TTA)")
    options.add_prior(parser)
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="calibrate each subject (labels' `subject` column) by its neutral-labelled rows",
    )
    parser.add_argument(
        "--au-teacher",
        metavar="TASK_FILE",
        help="MediaPipe's face_landmarker.task: score the action units against the teacher's labels",
    )
    parser.add_argument("--json", help="write the scores as JSON here")
    parser.add_argument("--confusion", help="write the confusion matrix as a PNG here")
    args = parser.parse_args(argv)
    split = None if args.split == "all" else args.split
    # MediaPipe's C++ logs (INFO/WARNING on every detector start) would bury the summary.
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        result = evaluate(
            args.weights,
            args.data,
            split,
            args.detect,
            args.detector,
            args.format,
            args.tta,
            args.prior,
            args.calibrate,
            args.au_teacher,
        )
        print(format_report(result, args.detect))
        if args.json:
            Path(args.json).write_text(json.dumps(_json_safe(result.report), indent=2) + "\n")
            print(f"wrote {args.json}")
        if args.confusion:
            if result.categorical is None:
                raise ValueError("no expression labels in this split: no confusion matrix to draw")
            title = f"{Path(args.data).name} {result.report['split']}: accuracy {result.report['accuracy']:.3f}"
            plot_confusion(result.categorical, args.confusion, title)
            print(f"wrote {args.confusion}")
    except (FerLiveError, OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
