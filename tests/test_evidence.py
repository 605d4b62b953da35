"""Action units as evidence for a label (fer_live.evidence), on made-up AU vectors."""

from __future__ import annotations

import numpy as np

from fer_live.evidence import au_meaning, au_title, evidence, label_with_evidence, supporting_aus
from fer_live.labels import AU_COLUMNS, EXPRESSION_AUS, EXPRESSIONS


def aus(**intensities: float) -> np.ndarray:
    """An AU vector in AU_COLUMNS order: the given columns set, every other AU at 0."""
    vector = np.zeros(len(AU_COLUMNS), dtype=np.float32)
    for column, value in intensities.items():
        vector[AU_COLUMNS.index(column)] = value
    return vector


def test_au_words():
    assert au_title("au12") == "AU12 lip corner puller"
    assert au_title("au06") == "AU6 cheek raiser"  # no leading zero
    assert au_meaning("au12") == "AU12 lip corner puller: the lip corners are pulled up and back (smile)"


def test_supporting_aus_are_the_prototype_aus_shown_strongest_first():
    # A smile: AU6 stronger than AU12; AU25 under the threshold; AU4 is no part of happy's prototype.
    smile = aus(au06=0.9, au12=0.7, au25=0.29, au04=0.95)
    assert supporting_aus("happy", smile) == ["au06", "au12"]
    assert supporting_aus("happy", smile, threshold=0.2) == ["au06", "au12", "au25"]
    assert supporting_aus("happy", smile, limit=1) == ["au06"]
    # At the threshold counts; ties keep the prototype's order (most telling first).
    assert supporting_aus("surprise", aus(au01=0.3, au02=0.5, au05=0.5, au26=0.5)) == ["au02", "au05", "au26"]
    assert supporting_aus("surprise", aus(au01=0.3, au02=0.5, au05=0.5, au26=0.5), limit=5) == [
        "au02",
        "au05",
        "au26",
        "au01",
    ]
    # Another expression's AUs do not support this one.
    assert supporting_aus("anger", smile) == ["au04"]
    assert supporting_aus("sad", smile) == ["au04"]


def test_neutral_faint_or_missing_aus_leave_just_the_label():
    everything = np.ones(len(AU_COLUMNS), dtype=np.float32)
    assert supporting_aus("neutral", everything) == [] and label_with_evidence("neutral", everything) == "neutral"
    assert label_with_evidence("happy", aus(au12=0.1)) == "happy"
    assert label_with_evidence("happy", None) == "happy" and evidence("happy", None) == ""
    for name in EXPRESSIONS:
        assert supporting_aus(name, everything, limit=10) == list(EXPRESSION_AUS[name])


def test_label_with_evidence_words():
    smile = aus(au06=0.9, au12=0.7)
    assert label_with_evidence("happy", smile) == "happy — AU6 cheek raiser, AU12 lip corner puller"
    assert evidence("happy", smile) == "AU6 cheek raiser, AU12 lip corner puller"
    assert label_with_evidence("happy", smile, limit=1) == "happy — AU6 cheek raiser"
    assert label_with_evidence("happy", smile, threshold=0.8) == "happy — AU6 cheek raiser"
    assert label_with_evidence("happy", list(smile)) == "happy — AU6 cheek raiser, AU12 lip corner puller"
