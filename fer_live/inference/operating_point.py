"""The operating point: how the network's raw outputs become the reading that is shown and saved.

Both adjustments live here, in logit space, and are applied by OperatingPoint.apply for every
backend (torch, onnx, onnx-int8 all return raw logits):

- the expected-expression prior: logits − τ·log(training class prior). τ = 0 ("natural") keeps
  the training mix (FERPlus: neutral and happy are ~58 % of it, so rare expressions are seldom
  said); τ = 1 ("balanced") treats every expression as equally likely a priori, for posed, lab or
  demo faces. The weights carry the training class prior and a recommended τ chosen on validation.
- a participant's neutral baseline: logits − w·(baseline mean log-probabilities − the average
  neutral face's), and valence/arousal − w·(baseline V/A − the average neutral face's V/A), so a
  face that reads a little sad at rest reads neutral. w is NEUTRAL_WEIGHT (model card). Action
  units shift the same way: AU − w·(baseline AU − the average neutral face's AU), within [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fer_live.errors import FerLiveError
from fer_live.labels import AU_COLUMNS, EXPRESSIONS, INDEX
from fer_live.options import PRIOR_TAUS, parse_prior
from fer_live.options import RECOMMENDED_PRIOR as RECOMMENDED

META_KEY = "operating_point"
# Fraction of a baseline's deviation that is removed; chosen on the muxspace subjects (model card).
NEUTRAL_WEIGHT = 0.5
# A baseline is refused when a non-neutral expression's mean probability (training mix) exceeds this.
NOT_NEUTRAL_PROBABILITY = 0.5
NEUTRAL = INDEX["neutral"]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _vector(named: dict, what: str) -> np.ndarray:
    try:
        return np.array([float(named[name]) for name in EXPRESSIONS])
    except (KeyError, TypeError, ValueError) as exc:
        raise FerLiveError(f"weights metadata {what} lacks a value for every expression ({exc})") from exc


@dataclass(frozen=True)
class Baseline:
    """One participant's neutral face: raw (training-mix) outputs averaged over the frames collected."""

    log_probs: np.ndarray  # 8, mean log-probability per expression
    probs: np.ndarray  # 8, mean probability (the refusal rule reads it)
    va: np.ndarray  # 2, mean valence/arousal
    frames: int
    aus: np.ndarray | None = None  # A, mean action unit intensities; None for weights without AUs

    @classmethod
    def from_raw(cls, logits: np.ndarray, va: np.ndarray, aus: np.ndarray | None = None) -> Baseline:
        log_probs = log_softmax(np.asarray(logits, np.float64).reshape(-1, len(EXPRESSIONS)))
        mean_aus = None
        if aus is not None and np.size(aus):
            mean_aus = np.asarray(aus, np.float64).reshape(len(log_probs), -1).mean(axis=0)
        return cls(
            log_probs.mean(axis=0),
            np.exp(log_probs).mean(axis=0),
            np.asarray(va, np.float64).reshape(-1, 2).mean(axis=0),
            len(log_probs),
            mean_aus,
        )

    def refusal(self, min_frames: int) -> str | None:
        """Why this baseline cannot stand for a neutral face (one line), or None when it can."""
        if self.frames < min_frames:
            return (
                f"too few frames ({self.frames}, at least {min_frames} needed): "
                "keep the face in view and calibrate again"
            )
        others = [i for i in range(len(EXPRESSIONS)) if i != NEUTRAL]
        worst = max(others, key=lambda i: self.probs[i])
        if self.probs[worst] > NOT_NEUTRAL_PROBABILITY:
            return (
                f"the face did not look neutral (mean {EXPRESSIONS[worst]} {self.probs[worst]:.2f} > "
                f"{NOT_NEUTRAL_PROBABILITY}): relax the face and calibrate again"
            )
        return None

    def to_dict(self) -> dict:
        return {
            "frames": self.frames,
            "log_probs": {n: round(float(v), 6) for n, v in zip(EXPRESSIONS, self.log_probs, strict=True)},
            "probs": {n: round(float(v), 6) for n, v in zip(EXPRESSIONS, self.probs, strict=True)},
            "valence": round(float(self.va[0]), 6),
            "arousal": round(float(self.va[1]), 6),
            **({"action_units": _named_aus(self.aus)} if self.aus is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Baseline:
        return cls(
            _vector(data["log_probs"], "baseline log_probs"),
            _vector(data["probs"], "baseline probs"),
            np.array([float(data["valence"]), float(data["arousal"])]),
            int(data["frames"]),
            _au_vector(data.get("action_units"), "baseline action_units"),
        )


def _named_aus(aus: np.ndarray) -> dict:
    return {c: round(float(v), 6) for c, v in zip(AU_COLUMNS, aus, strict=True)}


def _au_vector(named: dict | None, what: str) -> np.ndarray | None:
    """AU intensities by column name in AU_COLUMNS order; None when absent (older files, weights without AUs)."""
    if named is None:
        return None
    try:
        return np.array([float(named[c]) for c in AU_COLUMNS])
    except (KeyError, TypeError, ValueError) as exc:
        raise FerLiveError(f"{what} needs a value for each action unit ({exc})") from exc


@dataclass(frozen=True)
class NeutralReference:
    """The average neutral face (validation rows labelled neutral) in the same raw terms as a Baseline."""

    log_probs: np.ndarray
    va: np.ndarray
    aus: np.ndarray | None = None


@dataclass(frozen=True)
class OperatingPoint:
    """The chosen prior (and the weights' neutral reference) applied to raw network outputs."""

    prior: str  # as asked: natural, balanced, recommended or a number
    tau: float
    class_prior: np.ndarray | None  # 8, None when the weights carry none (then only τ = 0 is possible)
    reference: NeutralReference | None  # None: the weights cannot calibrate
    logit_shift: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        shift = np.zeros(len(EXPRESSIONS))
        if self.tau > 0:
            shift = -self.tau * np.log(self.class_prior)
        object.__setattr__(self, "logit_shift", shift.astype(np.float32))

    @classmethod
    def from_meta(cls, meta: dict, prior: str = RECOMMENDED) -> OperatingPoint:
        """The operating point `prior` for weights with metadata `meta`; weights without a class prior
        run at `natural` (also what `recommended` means for them) and refuse any other prior."""
        try:
            parse_prior(prior)
        except ValueError as exc:
            raise FerLiveError(str(exc)) from None
        stored = meta.get(META_KEY) or {}
        class_prior = _vector(stored["class_prior"], "class_prior") if "class_prior" in stored else None
        if prior == RECOMMENDED:
            tau = float(stored.get("recommended_tau", 0.0))
        else:
            tau = PRIOR_TAUS.get(prior, None)
            tau = float(prior) if tau is None else tau
        if tau > 0 and class_prior is None:
            raise FerLiveError(
                f"prior {prior!r} needs the training class prior, which these weights lack "
                "(add it with python -m training.operating_point)"
            )
        reference = None
        if "neutral_reference" in stored:
            ref = stored["neutral_reference"]
            reference = NeutralReference(
                _vector(ref["log_probs"], "neutral_reference"),
                np.array([ref["valence"], ref["arousal"]], float),
                _au_vector(ref.get("action_units"), "weights metadata neutral_reference"),
            )
        return cls(prior, tau, class_prior, reference)

    def calibration_shift(self, baseline: Baseline) -> tuple[np.ndarray, np.ndarray]:
        """(logit shift, V/A shift) that a participant's baseline adds to every reading of that face."""
        if self.reference is None:
            raise FerLiveError(
                "these weights carry no neutral reference, so they cannot calibrate "
                "(add it with python -m training.operating_point)"
            )
        return (
            -NEUTRAL_WEIGHT * (baseline.log_probs - self.reference.log_probs),
            -NEUTRAL_WEIGHT * (baseline.va - self.reference.va),
        )

    def apply(
        self, logits: np.ndarray, va: np.ndarray, baselines: Sequence[Baseline | None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(N×8 probabilities, N×2 valence/arousal) from raw logits and V/A; `baselines[i]` calibrates row i."""
        adjusted = np.asarray(logits, np.float32) + self.logit_shift
        va = np.asarray(va, np.float32)
        if baselines is not None and any(b is not None for b in baselines):
            adjusted, va = adjusted.copy(), va.copy()
            for row, baseline in enumerate(baselines):
                if baseline is not None:
                    logit_shift, va_shift = self.calibration_shift(baseline)
                    adjusted[row] += logit_shift.astype(np.float32)
                    va[row] = np.clip(va[row] + va_shift, -1.0, 1.0)
        return softmax(adjusted), va

    def au_shift(self, baseline: Baseline) -> np.ndarray | None:
        """The AU shift a participant's baseline adds to every reading of that face; None when the
        baseline or the weights' neutral reference has no AUs (weights before v6)."""
        if baseline.aus is None or self.reference is None or self.reference.aus is None:
            return None
        return -NEUTRAL_WEIGHT * (baseline.aus - self.reference.aus)

    def calibrate_aus(self, aus: np.ndarray, baseline: Baseline) -> np.ndarray:
        """One face's AU intensities relative to its neutral baseline (unchanged without an AU shift)."""
        shift = self.au_shift(baseline)
        return aus if shift is None else np.clip(np.asarray(aus) + shift, 0.0, 1.0).astype(np.float32)

    def uncalibrate_aus(self, aus: np.ndarray, baseline: Baseline) -> np.ndarray:
        """AU intensities before `baseline` was applied (exact unless calibration clipped them at 0 or 1):
        raw AUs are recoverable from a calibrated CSV and its sidecar's baselines, as V/A are."""
        shift = self.au_shift(baseline)
        return aus if shift is None else np.clip(np.asarray(aus) - shift, 0.0, 1.0).astype(np.float32)

    def raw_logits(self, probs: np.ndarray) -> np.ndarray:
        """Logits (up to a constant per row) before this operating point, from probabilities it gave."""
        return np.log(np.maximum(np.asarray(probs, np.float64), 1e-30)) - self.logit_shift

    def calibrate(self, probs: np.ndarray, va: np.ndarray, baseline: Baseline) -> tuple[np.ndarray, np.ndarray]:
        """One face's reading (probabilities at this operating point, V/A) with its baseline applied."""
        calibrated, calibrated_va = self.apply(self.raw_logits(probs)[None], np.asarray(va)[None], [baseline])
        return calibrated[0], calibrated_va[0]

    def uncalibrate(self, probs: np.ndarray, va: np.ndarray, baseline: Baseline) -> tuple[np.ndarray, np.ndarray]:
        """The reading before `baseline` was applied (V/A exact unless calibration clipped it at ±1)."""
        logit_shift, va_shift = self.calibration_shift(baseline)
        raw = softmax(np.log(np.maximum(np.asarray(probs, np.float64), 1e-30)) - logit_shift)
        return raw.astype(np.float32), np.clip(np.asarray(va) - va_shift, -1.0, 1.0).astype(np.float32)

    def describe(self) -> dict:
        """What was applied, for provenance (session.json, annotate's sidecar, evaluate's JSON)."""
        return {"prior": self.prior, "tau": round(self.tau, 4), "neutral_weight": NEUTRAL_WEIGHT}


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
