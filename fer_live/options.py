"""The one options module of every command line (fer-live annotate/record/gui, the benchmarks,
training's tools): choice lists, defaults, number types and shared arguments, each defined once,
so every CLI offers and words them alike."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

from fer_live.assets import DETECTOR_MODELS
from fer_live.errors import FerLiveError

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_DEVICE = "auto"
# Model runtimes; auto = onnx on the CPU (when onnxruntime is installed), torch on CUDA.
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "auto"
# Detector ranges, one per bundled BlazeFace model: full finds faces down to ~60 px, short is
# faster on faces near the camera.
DETECTOR_RANGES = tuple(DETECTOR_MODELS)
DEFAULT_DETECTOR = "full"
DEFAULT_MIN_CONFIDENCE = 0.5
# Files are annotated raw by default (analysis smooths later if it wants); the live window smooths
# lightly by default because raw per-frame readings flicker on screen.
DEFAULT_SMOOTHING = 0.0
DEFAULT_GUI_SMOOTHING = 0.5
# Face geometry (mesh, head pose, eyes, gaze, mouth) costs a mesh and an iris inference per face
# (bench/results.md). Files (annotate, record) measure it by default: one face at 640×480 still
# annotates at ≥ 60 fps on 2 idle cores. The pipeline and the live window leave it off by default:
# in the window it doubles the capture-to-display latency.
DEFAULT_GEOMETRY = False
DEFAULT_FILE_GEOMETRY = True
# |yaw| or |pitch| beyond this many degrees: the expression is not trusted (pose_ok = 0, greyed out live).
DEFAULT_POSE_LIMIT = 45.0
# Expected-expression prior (fer_live.inference.operating_point): named strengths τ of the
# training-prior correction; `recommended` is the τ the weights carry (chosen on validation).
PRIOR_TAUS = {"natural": 0.0, "balanced": 1.0}
RECOMMENDED_PRIOR = "recommended"
DEFAULT_PRIOR = RECOMMENDED_PRIOR
# Participant calibration: how long a face holds still and neutral for its baseline.
DEFAULT_CALIBRATION_SECONDS = 3.0


def action_units_help() -> str:
    """The AU columns in words, for the --help of the commands that write them."""
    from fer_live.labels import ACTION_UNITS, au_number

    units = "; ".join(f"AU{au_number(c)} {name}: {looks}" for c, (name, looks) in ACTION_UNITS.items())
    return (
        "Columns au01 … au26 (v6 weights): FACS action unit intensities 0–1, learnt from MediaPipe's "
        f"landmark teacher plus the expressions' FACS prototypes (README, Action units): {units}."
    )


# Model threads: torch and onnxruntime take a C int, and no machine this runs on has more cores.
MAX_THREADS = 1024


def inference_threads(jobs: int = 1) -> int:
    """Model threads per process: the cores shared among `jobs` processes, less one per process for
    decoding, detection and drawing, never below 1."""
    return max(1, (os.cpu_count() or 1) // jobs - 1)


# ---------------------------------------------------------------------------------------------
# Number types: one wording for a bad number everywhere


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number ≥ `low` (and ≤ `high`, where a larger one would overflow a library's C int)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, not {value}")
        return value

    return parse


def bounded(low: float, high: float, high_open: bool = False) -> Callable[[str], float]:
    """A number in [low, high], or [low, high) with `high_open`."""

    def parse(text: str) -> float:
        value = _number(text)
        if value < low or value > high or (high_open and value == high):
            bracket = ")" if high_open else "]"
            raise argparse.ArgumentTypeError(f"must be within [{low:g}, {high:g}{bracket}, not {text}")
        return value

    return parse


def greater_than(low: float, at_most: float | None = None) -> Callable[[str], float]:
    """A number > `low` (and ≤ `at_most`, where a larger one would overflow what is computed from it)."""

    def parse(text: str) -> float:
        value = _number(text)
        if not value > low:
            raise argparse.ArgumentTypeError(f"must be greater than {low:g}, not {text}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"must be at most {at_most:g}, not {text}")
        return value

    return parse


def parse_prior(text: str) -> str:
    """`natural`, `balanced`, `recommended` or a number τ in [0, 1] (returned as given); else ValueError."""
    if text in PRIOR_TAUS or text == RECOMMENDED_PRIOR:
        return text
    try:
        tau = float(text)
    except ValueError:
        raise ValueError(f"prior must be natural, balanced, recommended or a number in [0, 1], not {text!r}") from None
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"prior τ must be within [0, 1], not {text}")
    return text


def prior(text: str) -> str:
    try:
        return parse_prior(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def shard(text: str) -> tuple[int, int]:
    """K/N: the K-th of N slices, 1 ≤ K ≤ N."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N (e.g. 2/8), not {text!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"K/N needs 1 <= K <= N, not {text!r}")
    return index, count


# ---------------------------------------------------------------------------------------------
# Shared arguments. `remembered=True` (the GUI): no default, so an unset option keeps the saved value.


def _default(value, remembered: bool):
    return None if remembered else value


def _said(value, remembered: bool) -> str:
    return "remembered" if remembered else f"default {value}"


def add_weights(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights", type=Path, metavar="W", help="fer_live model weights file (.pt; default: the bundled model)"
    )


def add_device(parser: argparse.ArgumentParser, remembered: bool = False) -> None:
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default=_default(DEFAULT_DEVICE, remembered),
        help=f"inference device: auto (CUDA if available), cpu or cuda ({_said(DEFAULT_DEVICE, remembered)})",
    )


def add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help="model runtime: onnx (onnxruntime, CPU), onnx-int8 (quantised, fastest, CPU) or torch; "
        f"auto = onnx on the CPU, torch on CUDA (default {DEFAULT_BACKEND})",
    )


def add_detector(parser: argparse.ArgumentParser, remembered: bool = False) -> None:
    parser.add_argument(
        "--detector",
        dest="detector_range",
        choices=DETECTOR_RANGES,
        default=_default(DEFAULT_DETECTOR, remembered),
        help="face detector range: full finds faces down to ~60 px, short is faster on near faces "
        f"({_said(DEFAULT_DETECTOR, remembered)})",
    )


def add_min_confidence(parser: argparse.ArgumentParser, remembered: bool = False) -> None:
    parser.add_argument(
        "--min-confidence",
        type=bounded(0.0, 1.0),
        default=_default(DEFAULT_MIN_CONFIDENCE, remembered),
        metavar="C",
        help=f"minimum face detection score in [0, 1] ({_said(DEFAULT_MIN_CONFIDENCE, remembered)})",
    )


def add_smoothing(parser: argparse.ArgumentParser, remembered: bool = False) -> None:
    default = DEFAULT_GUI_SMOOTHING if remembered else DEFAULT_SMOOTHING
    parser.add_argument(
        "--smooth",
        type=bounded(0.0, 1.0, high_open=True),
        default=_default(default, remembered),
        metavar="S",
        help="temporal smoothing per face in [0, 1): 0 = raw, 0.9 ≈ a 10-frame average ("
        + (
            f"remembered; first {DEFAULT_GUI_SMOOTHING}: the window smooths lightly as raw readings flicker "
            f"on screen, while annotate and record default to {DEFAULT_SMOOTHING:g}, raw)"
            if remembered
            else f"default {DEFAULT_SMOOTHING:g}, raw; the live window's default is {DEFAULT_GUI_SMOOTHING})"
        ),
    )


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=at_least(1, MAX_THREADS),
        metavar="T",
        help="model threads per process (default: the cores per process less one, at least 1)",
    )


def add_geometry(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--geometry",
        action=argparse.BooleanOptionalAction,
        default=DEFAULT_FILE_GEOMETRY,
        help="measure head pose (yaw, pitch, roll), eye openness, blinks, gaze and mouth openness per face "
        "with MediaPipe's face mesh and iris models (a mesh and an iris inference per face); --no-geometry "
        f"leaves the columns empty (default {'on' if DEFAULT_FILE_GEOMETRY else 'off'})",
    )
    parser.add_argument(
        "--pose-limit",
        type=bounded(0.0, 90.0),
        default=DEFAULT_POSE_LIMIT,
        metavar="DEG",
        help=f"pose_ok = 0 where |yaw| or |pitch| exceeds DEG degrees (default {DEFAULT_POSE_LIMIT:g})",
    )


def add_landmarks(parser: argparse.ArgumentParser, where: str) -> None:
    parser.add_argument(
        "--landmarks",
        action="store_true",
        help=f"also write each face's 468 mesh points per frame to {where}",
    )


def check_landmarks(args: argparse.Namespace) -> None:
    """Refuse --landmarks without geometry: the points come from the face mesh that geometry runs."""
    if args.landmarks and not args.geometry:
        raise FerLiveError("--landmarks needs geometry (the landmarks come from the face mesh; drop --no-geometry)")


# How long `annotate --lsl` waits for a consumer (LabRecorder) before it streams: samples pushed
# before any inlet connects reach no one, and a short file is over in seconds.
DEFAULT_LSL_WAIT_S = 30.0


def add_lsl(parser: argparse.ArgumentParser, remembered: bool = False, wait: bool = False) -> None:
    """--lsl (the GUI: --lsl/--no-lsl, remembered); with `wait`, also --lsl-wait."""
    streams = "stream the readings (and markers) to Lab Streaming Layer, for LabRecorder and other LSL tools"
    if remembered:
        parser.add_argument(
            "--lsl", action=argparse.BooleanOptionalAction, default=None, help=f"{streams} (remembered)"
        )
    else:
        parser.add_argument("--lsl", action="store_true", help=f"{streams} (off by default)")
    if wait:
        parser.add_argument(
            "--lsl-wait",
            type=bounded(0.0, 3600.0),
            default=DEFAULT_LSL_WAIT_S,
            metavar="S",
            help="with --lsl, wait up to S seconds for a consumer before streaming each video "
            f"(default {DEFAULT_LSL_WAIT_S:g}; 0 = start at once)",
        )


def add_prior(parser: argparse.ArgumentParser, remembered: bool = False) -> None:
    parser.add_argument(
        "--prior",
        type=prior,
        default=_default(DEFAULT_PRIOR, remembered),
        metavar="P",
        help="how likely each expression is expected to be: natural (the training mix, e.g. everyday "
        "video), balanced (every expression alike, e.g. posed, lab or demo faces), recommended (the "
        "weights' choice between them) or a number in [0, 1] from natural to balanced "
        f"({_said(DEFAULT_PRIOR, remembered)})",
    )


def add_calibration(parser: argparse.ArgumentParser) -> None:
    """Participant calibration from the video itself or from a saved calibration file (not both)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--calibrate-seconds",
        type=greater_than(0.0),
        metavar="S",
        help="take the first S seconds of every face (track) as its neutral baseline: the person is "
        "assumed to hold a neutral face then; a baseline that is not neutral is refused (reported per face)",
    )
    group.add_argument(
        "--calibration",
        type=Path,
        metavar="FILE.json",
        help="apply the baselines of a saved calibration (made with these weights), by face ID; "
        "a file with one baseline applies to every face",
    )
