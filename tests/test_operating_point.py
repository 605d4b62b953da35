"""The operating point on hand-computed numbers: the expected-expression prior and a neutral baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fer_live.errors import FerLiveError
from fer_live.inference.operating_point import NEUTRAL_WEIGHT, Baseline, OperatingPoint
from fer_live.labels import INDEX
from tests.conftest import TEST_CLASS_PRIOR, TEST_NEUTRAL_REFERENCE, TEST_OPERATING_POINT_META

META = TEST_OPERATING_POINT_META


def test_balanced_divides_by_the_training_prior():
    # Equal logits: natural gives 1/8 each; balanced gives p_c ∝ 1/prior_c.
    logits, va = np.zeros((1, 8)), np.array([[0.2, -0.3]])
    natural, _ = OperatingPoint.from_meta(META, "natural").apply(logits, va)
    assert natural[0] == pytest.approx(np.full(8, 1 / 8))
    balanced, same_va = OperatingPoint.from_meta(META, "balanced").apply(logits, va)
    inverse = 1 / np.array(TEST_CLASS_PRIOR)
    assert balanced[0] == pytest.approx(inverse / inverse.sum(), rel=1e-6)
    assert same_va[0] == pytest.approx([0.2, -0.3])  # the prior leaves valence/arousal alone


def test_a_number_is_tau_between_natural_and_balanced():
    # neutral vs contempt, logits (ln 2, 0): τ = 0.5 gives odds 2 · sqrt(0.02 / 0.32) = 0.5.
    logits = np.full((1, 8), -50.0)
    logits[0, INDEX["neutral"]], logits[0, INDEX["contempt"]] = math.log(2), 0.0
    point = OperatingPoint.from_meta(META, "0.5")
    probs, _ = point.apply(logits, np.zeros((1, 2)))
    assert point.tau == 0.5
    assert probs[0, INDEX["neutral"]] / probs[0, INDEX["contempt"]] == pytest.approx(0.5, rel=1e-5)
    assert OperatingPoint.from_meta(META).tau == 0.35  # recommended: the weights' choice


def test_weights_without_a_class_prior_run_natural_and_refuse_other_priors():
    assert OperatingPoint.from_meta({}).tau == 0.0
    with pytest.raises(FerLiveError, match="needs the training class prior, which these weights lack"):
        OperatingPoint.from_meta({}, "balanced")
    with pytest.raises(FerLiveError, match=r"prior τ must be within \[0, 1\], not 1.5"):
        OperatingPoint.from_meta(META, "1.5")
    with pytest.raises(FerLiveError, match="cannot calibrate"):
        OperatingPoint.from_meta({}).calibration_shift(Baseline.from_raw(np.zeros((1, 8)), np.zeros((1, 2))))


def test_a_baseline_shifts_logits_by_w_times_its_deviation_from_the_neutral_reference():
    # Baseline rows: log-probs of (−0.5, −1.5, …) after log-softmax. Deviation d = b − reference;
    # shift = −w·d, so the calibrated logits are logits − w·d.
    reference = np.array(TEST_NEUTRAL_REFERENCE)
    frames = np.log(np.array([[0.5, 0.3, 0.1, 0.04, 0.02, 0.02, 0.01, 0.01]] * 3))
    baseline = Baseline.from_raw(frames, np.array([[0.25, 0.3]] * 3))
    assert baseline.log_probs == pytest.approx(frames[0])
    assert baseline.frames == 3 and baseline.probs == pytest.approx(np.exp(frames[0]))
    point = OperatingPoint.from_meta(META, "natural")
    logits = np.array([[1.0, 0.5, 0, 0, 0, 0, 0, 0]])
    probs, va = point.apply(logits, np.array([[0.5, 0.5]]), [baseline])
    expected_logits = logits[0] - NEUTRAL_WEIGHT * (frames[0] - reference)
    expected = np.exp(expected_logits) / np.exp(expected_logits).sum()
    assert probs[0] == pytest.approx(expected, rel=1e-5)
    # V/A: minus w times the baseline's offset from the reference's (0.05, −0.1).
    assert va[0] == pytest.approx([0.5 - NEUTRAL_WEIGHT * 0.2, 0.5 - NEUTRAL_WEIGHT * 0.4])


def test_rows_without_a_baseline_are_untouched_and_uncalibrate_undoes_it():
    point = OperatingPoint.from_meta(META)
    rng = np.random.default_rng(0)
    logits, va = rng.normal(size=(2, 8)), np.array([[0.1, 0.2], [0.3, -0.4]])
    baseline = Baseline.from_raw(rng.normal(size=(5, 8)), rng.uniform(-0.5, 0.5, size=(5, 2)))
    plain, plain_va = point.apply(logits, va)
    mixed, mixed_va = point.apply(logits, va, [baseline, None])
    assert mixed[1] == pytest.approx(plain[1]) and mixed_va[1] == pytest.approx(plain_va[1])
    assert not np.allclose(mixed[0], plain[0])
    raw, raw_va = point.uncalibrate(mixed[0], mixed_va[0], baseline)
    assert raw == pytest.approx(plain[0], abs=1e-6) and raw_va == pytest.approx(plain_va[0], abs=1e-6)
    one, one_va = point.calibrate(plain[0], plain_va[0], baseline)
    assert one == pytest.approx(mixed[0], abs=1e-6) and one_va == pytest.approx(mixed_va[0], abs=1e-6)


def test_a_smiling_or_too_short_baseline_is_refused_in_one_line():
    happy = np.log(np.array([[0.3, 0.6, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01]] * 10))
    refusal = Baseline.from_raw(happy, np.zeros((10, 2))).refusal(min_frames=5)
    assert refusal == "the face did not look neutral (mean happy 0.60 > 0.5): relax the face and calibrate again"
    short = Baseline.from_raw(np.zeros((3, 8)), np.zeros((3, 2))).refusal(min_frames=5)
    assert short.startswith("too few frames (3, at least 5 needed)") and "\n" not in short
    assert Baseline.from_raw(np.zeros((5, 8)), np.zeros((5, 2))).refusal(min_frames=5) is None


def test_baseline_dict_round_trip():
    baseline = Baseline.from_raw(np.random.default_rng(1).normal(size=(4, 8)), np.full((4, 2), 0.1))
    again = Baseline.from_dict(baseline.to_dict())
    assert again.frames == 4
    assert again.log_probs == pytest.approx(baseline.log_probs, abs=1e-6)
    assert again.va == pytest.approx(baseline.va)
