"""training.metrics against values worked out by hand and against scikit-learn's own multi-class paths."""

from __future__ import annotations

import numpy as np
import pytest

from fer_live.labels import INDEX, NUM_CLASSES
from training.metrics import categorical_metrics, concordance, dimensional_metrics, sign_agreement


def probs_for(predicted: list[int], confidence: float = 0.6) -> np.ndarray:
    """Class probabilities whose argmax is `predicted`, the rest spread evenly."""
    probs = np.full((len(predicted), NUM_CLASSES), (1 - confidence) / (NUM_CLASSES - 1))
    probs[np.arange(len(predicted)), predicted] = confidence
    return probs


def test_ccc_sagr_and_dimensional_scores():
    x = np.array([0.1, -0.4, 0.7, 0.0, -0.9])
    assert concordance(x, x) == pytest.approx(1.0)
    assert concordance(-x + x.mean() * 2, x) < 0
    # pred (1, 2, 3) vs target (2, 3, 4): population variances 2/3, covariance 2/3, mean gap 1 → 4/7.
    assert concordance(np.array([1.0, 2, 3]), np.array([2.0, 3, 4])) == pytest.approx(4 / 7)
    # Signs: (+,+) yes, (−,+) no, (0,0) yes, (+,−) no.
    assert sign_agreement(np.array([0.5, -0.2, 0.0, 0.1]), np.array([0.3, 0.4, 0.0, -0.1])) == 0.5
    scores = dimensional_metrics(np.array([1.0, 2, 3]), np.array([2.0, 4, 6]))
    assert scores["rmse"] == pytest.approx(np.sqrt((1 + 4 + 9) / 3))
    assert scores["corr"] == pytest.approx(1.0)
    assert scores["sagr"] == 1.0
    assert scores["ccc"] == pytest.approx(2 * (4 / 3) / (2 / 3 + 8 / 3 + 4))
    assert np.isnan(dimensional_metrics(np.zeros(3), np.array([1.0, 2, 3]))["corr"])


def test_categorical_scores_on_a_hand_worked_example():
    labels = np.array([0, 0, 1, 1, 2, 2])
    scores = categorical_metrics(labels, probs_for([0, 1, 1, 1, 2, 0]))
    assert scores["n"] == 6
    assert scores["accuracy"] == pytest.approx(4 / 6)
    # Observed agreement 2/3, chance (2·2 + 2·3 + 2·1)/36 = 1/3 → κ = (2/3 − 1/3)/(2/3) = ½.
    assert scores["kappa"] == pytest.approx(0.5)
    # Coincidences: 4 disagreeing pairable values of 12; n_c = (4, 5, 3) → α = 1 − 11·4/(144 − 50) = 50/94.
    assert scores["alpha"] == pytest.approx(50 / 94)
    # F1 per class: 0 → P ½ R ½ = ½; 1 → P ⅔ R 1 = 0.8; 2 → P 1 R ½ = ⅔; classes 3–7 absent, not averaged.
    assert scores["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert scores["weighted_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    happy = scores["per_class"]["happy"]
    assert (happy["precision"], happy["recall"], happy["support"]) == (pytest.approx(2 / 3), 1.0, 2)
    assert scores["per_class"]["contempt"]["support"] == 0
    assert scores["confusion"][2][:3] == [1, 0, 1]


def test_auc_matches_sklearn_multiclass_ovr():
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.preprocessing import label_binarize

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(NUM_CLASSES), 5)
    logits = rng.normal(size=(len(labels), NUM_CLASSES)) + 1.5 * np.eye(NUM_CLASSES)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    scores = categorical_metrics(labels, probs)
    assert scores["auc"] == pytest.approx(roc_auc_score(labels, probs, multi_class="ovr", average="macro"))
    assert scores["auc_pr"] == pytest.approx(
        average_precision_score(label_binarize(labels, classes=range(NUM_CLASSES)), probs, average="macro")
    )
    # Classes absent from the truth are left out of the macro average, not scored as 0 or NaN.
    present = labels < 4
    subset = categorical_metrics(labels[present], probs[present])
    expected = np.mean([roc_auc_score(labels[present] == c, probs[present, c]) for c in range(4)])
    assert subset["auc"] == pytest.approx(expected)


def test_accuracy_7_drops_contempt_rows_and_masks_contempt_output():
    contempt = INDEX["contempt"]
    probs = probs_for([contempt, contempt, 1])
    probs[1, 0] = 0.3  # second choice for row 1: neutral, its true class
    scores = categorical_metrics(np.array([contempt, 0, 1]), probs)
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["accuracy_7"] == pytest.approx(1.0)


def test_missed_faces_count_as_wrong_everywhere():
    labels = np.array([0, 1, 1, 2])
    found = np.array([True, True, False, True])
    probs = probs_for([0, 1, 1, 2])
    scores = categorical_metrics(labels, probs, found)
    assert scores["accuracy"] == pytest.approx(3 / 4)
    assert scores["per_class"]["happy"]["recall"] == pytest.approx(0.5)
    assert scores["per_class"]["happy"]["precision"] == pytest.approx(1.0)
    assert scores["confusion_columns"][-1] == "no face"
    assert scores["confusion"][1] == [0, 1, 0, 0, 0, 0, 0, 0, 1]
    assert scores["kappa"] < 1 and scores["alpha"] < 1
    # AUCs see the missed face as uniform probabilities, whatever the model would have said.
    from sklearn.metrics import roc_auc_score

    probs[2] = 1 / NUM_CLASSES
    assert scores["auc"] == pytest.approx(np.mean([roc_auc_score(labels == c, probs[:, c]) for c in range(3)]))
