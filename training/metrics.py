"""Scores of the seed papers for expression classes and for valence/arousal.

Categorical scores come from scikit-learn and the `krippendorff` package; CCC and SAGR are
written here because they are one line each. Images where no face was found (evaluate --detect)
enter every categorical score as the prediction NO_FACE, a class that matches no true label, so
they count as wrong everywhere; their class probabilities are uniform (the model said nothing).
"""

from __future__ import annotations

import warnings

import numpy as np

from fer_live.labels import EXPRESSIONS, INDEX, NUM_CLASSES

NO_FACE = -1
CONTEMPT = INDEX["contempt"]


def concordance(pred: np.ndarray, target: np.ndarray) -> float:
    """Lin's concordance correlation coefficient, with population (1/N) moments as in training."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    denominator = pred.var() + target.var() + (pred.mean() - target.mean()) ** 2
    if denominator == 0:
        return float("nan")
    return float(2 * np.mean((pred - pred.mean()) * (target - target.mean())) / denominator)


def sign_agreement(pred: np.ndarray, target: np.ndarray) -> float:
    """SAGR (AffectNet paper): share of rows where prediction and truth have the same sign (0 is its own sign)."""
    return float(np.mean(np.sign(pred) == np.sign(target)))


def dimensional_metrics(pred: np.ndarray, target: np.ndarray) -> dict:
    """RMSE, Pearson correlation, SAGR and CCC of one dimension (valence or arousal)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    constant = pred.std() == 0 or target.std() == 0
    return {
        "rmse": float(np.sqrt(np.mean((pred - target) ** 2))),
        "corr": float("nan") if constant else float(np.corrcoef(pred, target)[0, 1]),
        "sagr": sign_agreement(pred, target),
        "ccc": concordance(pred, target),
    }


def predictions(probs: np.ndarray, found: np.ndarray, exclude: tuple[int, ...] = ()) -> np.ndarray:
    """Argmax class per row over the classes not in `exclude`; NO_FACE where no face was found."""
    scores = np.array(probs, dtype=np.float64, copy=True)
    scores[:, list(exclude)] = -np.inf
    return np.where(found, scores.argmax(axis=1), NO_FACE)


def categorical_metrics(labels: np.ndarray, probs: np.ndarray, found: np.ndarray | None = None) -> dict:
    """Scores of class probabilities `probs` (N×8) against true classes `labels` (N, 0–7).

    `found` (N bool) marks rows where a face was found; the others are predicted NO_FACE.
    - accuracy: share of rows whose argmax class is the true class (no-face rows are wrong).
    - accuracy_7: for comparison with 7-class systems — rows whose true class is contempt are
      left out and the contempt output is masked, so the prediction is the argmax over the
      other 7 classes; no-face rows are still wrong.
    - balanced_accuracy: recall averaged over the classes present in `labels` (each expression
      counts alike, however rare; no-face rows are misses).
    - macro_f1 / weighted_f1: F1 averaged over the classes present in `labels`, unweighted /
      weighted by support.
    - kappa: Cohen's κ; alpha: Krippendorff's α (nominal), truth and prediction as two coders.
    - auc / auc_pr: one-vs-rest ROC-AUC and average precision per class, macro-averaged over the
      classes present in `labels` (a class needs positives and negatives to be scored).
    - per_class: precision, recall, F1 and support of every class; confusion: rows = true class,
      columns = predicted class, plus a last "no face" column when any face was missed.
    """
    from sklearn.metrics import (
        average_precision_score,
        cohen_kappa_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    labels = np.asarray(labels, dtype=np.int64)
    found = np.ones(len(labels), bool) if found is None else np.asarray(found, bool)
    probs = np.where(found[:, None], probs, 1.0 / NUM_CLASSES)
    predicted = predictions(probs, found)
    present = sorted(set(labels.tolist()))
    without_contempt = labels != CONTEMPT
    predicted_7 = predictions(probs[without_contempt], found[without_contempt], exclude=(CONTEMPT,))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=list(range(NUM_CLASSES)), zero_division=0
    )
    columns = list(range(NUM_CLASSES)) + ([NO_FACE] if not found.all() else [])
    scorable = [c for c in present if 0 < (labels == c).sum() < len(labels)]
    return {
        "n": int(len(labels)),
        "accuracy": float(np.mean(predicted == labels)),
        "accuracy_7": float(np.mean(predicted_7 == labels[without_contempt])) if without_contempt.any() else None,
        "balanced_accuracy": float(np.mean([np.mean(predicted[labels == c] == c) for c in present])),
        "macro_f1": float(f1_score(labels, predicted, labels=present, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(labels, predicted, labels=present, average="weighted", zero_division=0)),
        "kappa": _quiet(lambda: float(cohen_kappa_score(labels, predicted))),
        "alpha": krippendorff_alpha(labels, predicted),
        "auc": _mean([roc_auc_score(labels == c, probs[:, c]) for c in scorable]),
        "auc_pr": _mean([average_precision_score(labels == c, probs[:, c]) for c in scorable]),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(EXPRESSIONS)
        },
        "confusion": confusion_matrix(labels, predicted, labels=columns).tolist(),
        "confusion_columns": [EXPRESSIONS[c] if c != NO_FACE else "no face" for c in columns],
    }


def krippendorff_alpha(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Nominal Krippendorff's α with truth and prediction as two coders; NaN when undefined (one value only)."""
    import krippendorff

    data = np.vstack([labels, predicted]).astype(np.float64)
    if len(np.unique(data)) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def _quiet(compute) -> float:
    # Degenerate inputs (one class only) make sklearn warn and return NaN; NaN is the answer.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return compute()


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")
