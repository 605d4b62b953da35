"""The Python front door: `Detector` reads videos and pictures into pandas DataFrames, `read_results`
reads a CSV that `fer-live annotate` or a session wrote. The same pipeline as the command line.

    >>> from fer_live import Detector
    >>> with Detector() as detector:
    ...     frames = detector.detect_video("interview.mp4")
    ...     photos = detector.detect_image("stimuli/")
    >>> frames.fer.summary()

Every DataFrame has exactly the results CSV's columns and numbers (README, "Results CSV"; photos
add `source`), and says what made it in `.attrs` (weights sha256 and version, settings, operating
point). Its `.fer` accessor groups columns and summarises (fer_live.api_results).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np

from fer_live import (
    api_results,  # noqa: F401  (registers the DataFrames' .fer accessor)
    options,
)
from fer_live.errors import FerLiveError, SourceError
from fer_live.results import (
    AU_COLUMNS,
    CSV_COLUMNS,
    GEOMETRY_COLUMNS,
    TEXT_COLUMNS,
    FrameResult,
    from_formula_safe,
    result_rows,
)

# The results CSV's columns in the order annotate writes them.
RESULT_COLUMNS = CSV_COLUMNS + GEOMETRY_COLUMNS + AU_COLUMNS
# Text columns that frames.csv and annotate's photo CSVs add, written through formula_safe.
WRITTEN_TEXT_EXTRAS = ("wall_time", "source_file")
# Pictures are stills 1/30 s apart, numbered in the order given, as an image folder is by annotate.
STILL_FPS = 30.0


class Detector:
    """Reads faces in videos and pictures: 8 expression probabilities, valence/arousal, head pose,
    eyes, mouth and (v6 weights) FACS action units, one row per face per frame.

    The settings are `fer-live annotate`'s, with the same names and defaults:

    >>> detector = Detector(prior="balanced", smooth=0.5, geometry=False)
    >>> df = detector.detect_video("clip.mp4", every=2, start=10.0, end=20.0)
    >>> detector.close()

    weights: a fer_live .pt file (default: the bundled model); device: auto, cpu or cuda; backend:
    auto, torch, onnx or onnx-int8; prior: recommended, natural, balanced or τ in [0, 1]; smooth: EMA
    strength in [0, 1); detector: full or short range; min_confidence, min_face_size (px),
    detect_every (k: detect on every k-th frame), geometry (head pose, eyes, gaze, mouth),
    pose_limit (degrees), calibrate_seconds (the first S s of each face is its neutral baseline)
    or calibration (a saved calibration JSON), threads. Bad settings raise FerLiveError with one line.
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str = options.DEFAULT_DEVICE,
        backend: str = options.DEFAULT_BACKEND,
        prior: str = options.RECOMMENDED_PRIOR,
        smooth: float = 0.0,
        detector: str = options.DEFAULT_DETECTOR,
        min_confidence: float = options.DEFAULT_MIN_CONFIDENCE,
        min_face_size: int = 0,
        detect_every: int = 1,
        geometry: bool = options.DEFAULT_FILE_GEOMETRY,
        pose_limit: float = options.DEFAULT_POSE_LIMIT,
        calibrate_seconds: float = 0.0,
        calibration: str | Path | None = None,
        threads: int | None = None,
    ):
        from fer_live.inference.engine import Engine
        from fer_live.pipeline.frames import PipelineSettings

        if detector not in options.DETECTOR_RANGES:
            raise FerLiveError(f"detector must be one of {', '.join(options.DETECTOR_RANGES)}, not {detector!r}")
        if not 0.0 <= smooth < 1.0:
            raise FerLiveError(f"smooth must be within [0, 1), not {smooth!r}")
        if not 0.0 <= min_confidence <= 1.0:
            raise FerLiveError(f"min_confidence must be within [0, 1], not {min_confidence!r}")
        if not 0.0 <= pose_limit <= 90.0:
            raise FerLiveError(f"pose_limit must be within [0, 90] degrees, not {pose_limit!r}")
        if min_face_size < 0:
            raise FerLiveError(f"min_face_size must be at least 0, not {min_face_size!r}")
        if calibrate_seconds and calibration:
            raise FerLiveError("give calibrate_seconds or calibration, not both (as fer-live annotate)")
        self.settings = PipelineSettings(
            detector_range=detector,
            min_confidence=min_confidence,
            min_face_size=min_face_size,
            smoothing=smooth,
            device=device,
            threads=threads,
            backend=backend,
            detect_every=detect_every,
            geometry=geometry,
            pose_limit=pose_limit,
            prior=prior,
            calibrate_seconds=calibrate_seconds,
            calibration=str(calibration) if calibration else None,
        )
        self.engine = Engine(weights, device, threads, backend, prior)
        self._pipeline(self.settings).close()  # refuses bad settings (a damaged calibration file…) now

    def _pipeline(self, settings):
        from fer_live.pipeline.frames import Pipeline

        if self.engine is None:
            raise FerLiveError("this Detector is closed: make a new one")
        try:
            return Pipeline(settings, engine=self.engine)
        except ValueError as exc:  # the smoother's and tracker's own checks
            raise FerLiveError(str(exc)) from None

    def detect_video(
        self,
        path: str | Path,
        *,
        progress: bool = False,
        every: int = 1,
        start: float | None = None,
        end: float | None = None,
    ):
        """One row per face per frame of a video file (a face-less frame: one row, face fields NaN).

        every: keep every n-th frame; start, end: seconds of video time (frames before `start` are
        decoded but not read for faces). progress: a progress bar on stderr.

        >>> df = Detector().detect_video("clip.mp4")
        >>> df.groupby("face_id")["p_happy"].mean()
        """
        from fer_live.pipeline.sources import VideoFileSource
        from fer_live.pipeline.stream import process_stream

        if every < 1:
            raise FerLiveError(f"every must be at least 1, not {every!r}")
        if start is not None and end is not None and end <= start:
            raise FerLiveError(f"end ({end}) must come after start ({start})")
        with VideoFileSource(_existing(path)) as source, self._pipeline(self.settings) as pipeline:
            frames = _selected(source, every, start, end)
            with closing(process_stream(frames, pipeline)) as results:
                table = _Table()
                for result in _with_progress(results, progress, source.frame_count, Path(path).name):
                    table.add(result)
            pipeline.finish_calibrations()
            calibration = _calibration_outcomes(pipeline)
            damage = source.damage()
        source_info = {"source": str(path), "damage": damage, "every": every, "start": start, "end": end}
        return table.frame(self._provenance(self.settings, calibration=calibration, **source_info))

    def detect_image(self, pictures, *, progress: bool = False):
        """One row per face per picture, each picture a still (its own face IDs, nothing smoothed
        across pictures), with a `source` column: the file name, or the index in the list given.

        pictures: a path, a folder (its images in name order), a list of paths, a BGR uint8 array as
        OpenCV gives, a list of arrays, or a PIL image. A path and the same picture as an array give
        the same numbers.

        >>> Detector().detect_image(["a.jpg", "b.png"])[["source", "face_id", "label"]]
        """
        named = list(_pictures(pictures))
        # Stills: smoothing and calibration over time mean nothing across unrelated pictures.
        settings = replace(self.settings, smoothing=0.0, calibrate_seconds=0.0)
        table = _Table(extra=("source",))
        with self._pipeline(settings) as pipeline:
            for index, (source, image) in enumerate(_with_progress(named, progress, len(named), "pictures")):
                table.add(pipeline.process(index, index / STILL_FPS, image, still=True), {"source": source})
        return table.frame(self._provenance(settings, source="pictures", pictures=len(named)))

    def _provenance(self, settings, **source) -> dict:
        from fer_live import __version__

        return {
            "fer_live_version": __version__,
            "weights": self.engine.weights_info,
            "settings": {k: v for k, v in settings.to_dict().items() if k != "threads"},
            "operating_point": self.engine.operating_point.describe(),
            "backend": self.engine.backend,
            **source,
        }

    def close(self) -> None:
        """Free the model (the detector and mesh of each call are closed when it returns)."""
        self.engine = None

    def __enter__(self) -> Detector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _calibration_outcomes(pipeline) -> dict:
    """Each face's calibration, as annotate's sidecar words it: its baseline, or why it was refused."""
    return {
        str(o.track_id): o.baseline.to_dict() if o.baseline else {"refused": o.refusal}
        for o in pipeline.calibration_outcomes
    }


def read_results(csv_path: str | Path):
    """The DataFrame of a results CSV written by `fer-live annotate` (or a session's frames.csv),
    with its sidecar (`<stem>.json`, or the session's session.json) in `.attrs`.

    >>> df = read_results("out/interview.csv")
    >>> df.attrs["weights"]["sha256"]
    """
    import json

    import pandas as pd

    path = _existing(csv_path)
    try:
        df = pd.read_csv(path, dtype={c: "string" for c in (*TEXT_COLUMNS, *WRITTEN_TEXT_EXTRAS, "source")})
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise FerLiveError(f"{path} is not a readable results CSV ({exc.__class__.__name__})") from None
    for column in set(WRITTEN_TEXT_EXTRAS) & set(df.columns):
        df[column] = df[column].map(from_formula_safe, na_action="ignore")
    missing = [c for c in CSV_COLUMNS if c not in df.columns]
    if missing:
        raise FerLiveError(f"{path} is not a fer_live results CSV (no {', '.join(missing[:3])} column)")
    sidecar = path.with_suffix(".json") if path.name != "frames.csv" else path.with_name("session.json")
    if sidecar.is_file():
        try:
            described = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            described = None
        # Only fer_live's own sidecar or session record describes the CSV (not a transcript named alike).
        if isinstance(described, dict) and ("weights" in described and "settings" in described):
            df.attrs.update(described)
    return df


class _Table:
    """Columns of results rows, filled as they come: numbers in flat arrays (no object per frame)."""

    def __init__(self, extra: tuple[str, ...] = ()):
        self.extra = extra
        self.numbers = {c: array("d") for c in RESULT_COLUMNS if c not in TEXT_COLUMNS}
        self.texts: dict[str, list[str]] = {c: [] for c in (*TEXT_COLUMNS, *extra)}

    def add(self, result: FrameResult, extra: dict[str, str] | None = None) -> None:
        # The CSV's own formatting, read back: the DataFrame holds exactly the CSV's numbers.
        for row in result_rows(result):
            for column, values in self.numbers.items():
                text = row[column]
                values.append(float(text) if text else np.nan)
            for column in TEXT_COLUMNS:
                self.texts[column].append(row[column])
            for column in self.extra:
                self.texts[column].append(extra[column])

    def frame(self, attrs: dict):
        import pandas as pd

        columns = {}
        for column in (*self.extra, *RESULT_COLUMNS):
            if column in self.numbers:
                values = np.frombuffer(self.numbers[column], dtype=np.float64) if self.numbers[column] else []
                columns[column] = np.asarray(values, dtype=np.float64)
            else:
                columns[column] = pd.array(self.texts[column], dtype="string")
        df = pd.DataFrame(columns)
        df["frame"] = df["frame"].astype("int64")
        df.attrs.update(attrs)
        return df


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    return path


def _selected(frames: Iterable, every: int, start: float | None, end: float | None) -> Iterator:
    for frame in frames:
        if end is not None and frame.time_s >= end:
            return
        if (start is None or frame.time_s >= start) and frame.index % every == 0:
            yield frame


def _with_progress(items: Iterable, progress: bool, total: int | None, what: str) -> Iterable:
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=what, unit="frame")


def _pictures(pictures) -> Iterator[tuple[str, np.ndarray]]:
    """(source name, BGR image) for each picture the argument stands for."""
    from fer_live.pipeline.sources import IMAGE_SUFFIXES

    if isinstance(pictures, (str, Path)):
        path = _existing(pictures)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not files:
                raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder: {path}")
            yield from ((p.name, _read_image(p)) for p in files)
        else:
            yield path.name, _read_image(path)
    elif isinstance(pictures, np.ndarray) or _is_pil(pictures):
        yield "0", _as_bgr(pictures, "the picture")
    elif isinstance(pictures, Sequence) and not isinstance(pictures, (bytes, bytearray)):
        if not pictures:
            raise FerLiveError("no pictures given (an empty list)")
        for index, item in enumerate(pictures):
            if isinstance(item, (str, Path)):
                path = _existing(item)
                yield path.name, _read_image(path)
            else:
                yield str(index), _as_bgr(item, f"picture {index}")
    else:
        raise FerLiveError(
            "pictures must be a path, a folder, a list of paths, a BGR array or a PIL image, "
            f"not {type(pictures).__name__}"
        )


def _read_image(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    if image is None:
        raise SourceError(f"unreadable image: {path}")
    return image


def _is_pil(item) -> bool:
    return type(item).__module__.startswith("PIL.")


def _as_bgr(item, what: str) -> np.ndarray:
    """A BGR uint8 H×W×3 image from an OpenCV-style array (grey or BGRA too) or a PIL image (RGB)."""
    import cv2

    if _is_pil(item):
        item = cv2.cvtColor(np.asarray(item.convert("RGB")), cv2.COLOR_RGB2BGR)
    if not isinstance(item, np.ndarray) or item.dtype != np.uint8 or item.ndim not in (2, 3):
        raise FerLiveError(f"{what} is not an image: expected a uint8 H×W or H×W×3 array (BGR, as OpenCV reads)")
    if item.ndim == 3 and item.shape[2] == 1:
        item = item[:, :, 0]
    if item.ndim == 2:
        return cv2.cvtColor(item, cv2.COLOR_GRAY2BGR)
    if item.shape[2] == 4:
        return cv2.cvtColor(item, cv2.COLOR_BGRA2BGR)
    if item.shape[2] != 3:
        raise FerLiveError(f"{what} has {item.shape[2]} channels: expected 1, 3 (BGR) or 4 (BGRA)")
    return np.ascontiguousarray(item)
