"""`fer-live annotate`: video files → one per-frame results CSV each, in parallel processes or in shards.

Heavy modules (torch, mediapipe, OpenCV, tqdm) are imported inside functions: the CLI registry
imports this module just to add its arguments.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fer_live.argtypes import at_least, bounded
from fer_live.backends import BACKENDS
from fer_live.errors import FerLiveError

if TYPE_CHECKING:
    from fer_live.engine import Engine
    from fer_live.pipeline import PipelineSettings
    from fer_live.results import FrameResult

EXIT_VIDEO_FAILED = 1
EXIT_INTERRUPTED = 130


class OutputError(FerLiveError):
    """A results file or folder that cannot be written (permissions, disk full)."""


@dataclass(frozen=True)
class VideoSummary:
    """What happened to one video: counts for the summary line, or why it failed."""

    video: Path
    csv: Path
    frames: int = 0
    frames_with_face: int = 0
    face_ids: int = 0
    seconds: float = 0.0
    skipped_frames: tuple[int, ...] = ()
    error: str | None = None
    interrupted: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        ids = f"{self.face_ids} face ID" + ("" if self.face_ids == 1 else "s")
        return (
            f"{self.video.name}: {self.frames} frames, {self.frames_with_face} with a face, {ids}, "
            f"{self.fps:.1f} fps -> {self.csv}"
        )


# ---------------------------------------------------------------------------------------------
# Arguments


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N (e.g. 2/8), not {text!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"K/N needs 1 <= K <= N, not {text!r}")
    return index, count


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="video files; each gives OUT_DIR/<stem>.csv")
    parser.add_argument("-o", "--out-dir", required=True, type=Path, help="folder for the CSV files (created)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda (default auto)")
    parser.add_argument(
        "--smooth",
        type=bounded(0.0, 1.0, high_open=True),
        default=0.0,
        metavar="S",
        help="temporal smoothing per face in [0, 1): 0 = raw (default), 0.9 ~ a 10-frame average",
    )
    parser.add_argument("--jobs", type=at_least(1), default=1, metavar="N", help="videos annotated in parallel")
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="annotate only the K-th of N equal slices of the sorted, de-duplicated VIDEO list, e.g. in "
        "a Slurm array job (--array=1-8): --shard $SLURM_ARRAY_TASK_ID/8",
    )
    parser.add_argument("--weights", type=Path, metavar="W", help="model weights file (default: the bundled model)")
    parser.add_argument("--detector", choices=("full", "short"), default="full", help="face detector range")
    parser.add_argument(
        "--min-confidence", type=bounded(0.0, 1.0), default=0.5, metavar="C", help="minimum detection score"
    )
    parser.add_argument("--min-face-size", type=at_least(0), default=0, metavar="PX", help="ignore smaller faces")
    parser.add_argument(
        "--threads", type=at_least(1), metavar="T", help="model threads per process (default: cores / jobs - 1)"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="model runtime: onnx (onnxruntime, CPU), onnx-int8 (quantised, fastest, CPU) or torch; "
        "auto = onnx on the CPU, torch on CUDA",
    )
    parser.add_argument(
        "--detect-every",
        type=at_least(1),
        default=1,
        metavar="K",
        help="run the face detector on every K-th frame only, reusing its boxes in between (faster; "
        "boxes lag up to K-1 frames of motion); default 1 = every frame",
    )


# ---------------------------------------------------------------------------------------------
# Inputs and outputs


def select_videos(paths: list[str], shard: tuple[int, int] | None = None) -> list[Path]:
    """The sorted, de-duplicated videos, or the K-th of N contiguous slices of them.

    Every shard computes the same full list, so shards need no coordination and together cover
    each video exactly once.
    """
    unique: dict[Path, Path] = {}
    for text in paths:
        unique.setdefault(Path(text).resolve(), Path(text))
    videos = [unique[key] for key in sorted(unique, key=str)]
    by_stem: dict[str, Path] = {}
    for video in videos:
        other = by_stem.setdefault(video.stem, video)
        if other is not video:
            raise FerLiveError(f"{other} and {video} would both write {video.stem}.csv; annotate them separately")
    if shard is None:
        return videos
    index, count = shard
    return videos[(index - 1) * len(videos) // count : index * len(videos) // count]


def prepare_out_dir(out_dir: Path) -> None:
    """Create `out_dir` and prove it takes files, so a bad folder fails before any work."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".fer-live-write-test-"):
            pass
    except FileExistsError:
        raise OutputError(f"output path exists and is not a folder: {out_dir}") from None
    except OSError as exc:
        raise OutputError(f"output folder {out_dir} is not writable: {exc.strerror or exc}") from None


def csv_path(out_dir: Path, video: Path) -> Path:
    return out_dir / f"{video.stem}.csv"


class CompleteFramesCsv:
    """Results CSV that keeps only whole frames: if writing fails (disk full) or is interrupted,
    the file is cut back to the end of the last frame that was completely flushed."""

    def __init__(self, path: Path):
        from fer_live.results import ResultsCsvWriter

        self.path = path
        self.frames_written = 0
        self._complete_bytes = 0
        try:
            self._handle = open(path, "w", newline="")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        try:
            self._writer = ResultsCsvWriter(self._handle)
        except OSError as exc:
            self.abandon()
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        self._complete_bytes = self._handle.buffer.tell()

    def write(self, result: FrameResult) -> None:
        try:
            self._writer.write(result)
        except OSError as exc:
            self.abandon()
            raise OutputError(
                f"cannot write {self.path}: {exc.strerror or exc} (kept {self.frames_written} complete frames)"
            ) from None
        self._complete_bytes = self._handle.buffer.tell()
        self.frames_written += 1

    def close(self) -> None:
        try:
            self._handle.close()
        except OSError as exc:
            self.abandon()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def abandon(self) -> None:
        """Close without the frame in progress (its rows may be half in the file buffer)."""
        try:
            self._handle.close()
        except OSError:
            pass  # the buffered partial frame could not be written either; the cut below removes any part of it
        try:
            os.truncate(self.path, self._complete_bytes)
        except OSError:
            pass  # not a regular file (e.g. a device)


# ---------------------------------------------------------------------------------------------
# The per-frame loop


def annotate_video(
    video: Path,
    out_csv: Path,
    settings: PipelineSettings,
    engine: Engine,
    progress: bool = True,
    progress_position: int | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> VideoSummary:
    """Annotate one video into `out_csv`, one flushed frame at a time.

    Never raises for a bad video or output: the summary carries the error. Ctrl-C (or
    `stop_requested()` turning true) ends it after the last complete frame, marked interrupted.
    """
    from tqdm import tqdm

    from fer_live.pipeline import Pipeline
    from fer_live.sources import VideoFileSource
    from fer_live.stream import process_stream

    frames = frames_with_face = 0
    face_ids: set[int] = set()
    seconds = 0.0
    output: CompleteFramesCsv | None = None
    skipped: tuple[int, ...] = ()
    try:
        with VideoFileSource(video) as source, Pipeline(settings, engine=engine) as pipeline:
            output = CompleteFramesCsv(out_csv)
            bar = tqdm(
                total=source.frame_count,
                desc=video.name,
                unit="frame",
                file=sys.stderr,
                leave=False,
                disable=None if progress else True,
                position=progress_position,
                dynamic_ncols=True,
            )
            started = time.perf_counter()
            # Decoding, detection and the model overlap in threads; the results are those of
            # pipeline.process frame by frame. closing() stops the threads before the source closes.
            with bar, closing(process_stream(source, pipeline)) as results:
                for result in results:
                    output.write(result)
                    frames += 1
                    frames_with_face += bool(result.faces)
                    face_ids.update(face.face_id for face in result.faces)
                    bar.update()
                    if stop_requested is not None and stop_requested():
                        raise KeyboardInterrupt
            seconds = time.perf_counter() - started
            skipped = tuple(source.skipped_frames)
            output.close()
    except KeyboardInterrupt:
        if output is not None:
            output.abandon()
            frames = output.frames_written
        return VideoSummary(video, out_csv, frames, frames_with_face, len(face_ids), seconds, interrupted=True)
    except FerLiveError as exc:
        if output is not None:
            output.abandon()
        return VideoSummary(video, out_csv, frames, frames_with_face, len(face_ids), seconds, error=str(exc))
    except Exception:
        if output is not None:
            output.abandon()
        raise
    return VideoSummary(video, out_csv, frames, frames_with_face, len(face_ids), seconds, skipped)


# ---------------------------------------------------------------------------------------------
# Running many videos


def _annotate_guarded(video: Path, out_csv: Path, settings, engine, **options) -> VideoSummary:
    """annotate_video, with any unforeseen failure confined to its video so a long batch goes on."""
    try:
        return annotate_video(video, out_csv, settings, engine, **options)
    except Exception as exc:
        return VideoSummary(video, out_csv, error=f"{video}: unexpected failure: {exc.__class__.__name__}: {exc}")


def _annotate_serially(videos, out_dir, settings, weights, report) -> None:
    from fer_live.engine import Engine

    engine = Engine(weights, settings.device, settings.threads, settings.backend)
    for video in videos:
        summary = _annotate_guarded(video, csv_path(out_dir, video), settings, engine)
        report(summary)
        if summary.interrupted:
            return


# State of a worker process, set once by _worker_start.
_worker: dict = {}


def _worker_start(settings, weights, stop_event, bar_lock, slots) -> None:
    from tqdm import tqdm

    from fer_live.engine import Engine

    # Ctrl-C reaches the whole process group; the parent alone decides, and asks workers to stop
    # after their current frame through `stop_event`. (Workers started while the parent ignored
    # SIGINT already ignore it from their first instruction; this covers a parent in a thread.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tqdm.set_lock(bar_lock)
    _worker.update(
        engine=Engine(weights, settings.device, settings.threads, settings.backend),
        settings=settings,
        stop_event=stop_event,
        slot=slots.get(),
    )


def _worker_annotate(video: Path, out_csv: Path) -> VideoSummary | None:
    """None when the run was interrupted before this video began."""
    if _worker["stop_event"].is_set():
        return None
    return _annotate_guarded(
        video,
        out_csv,
        _worker["settings"],
        _worker["engine"],
        progress_position=_worker["slot"],
        stop_requested=_worker["stop_event"].is_set,
    )


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _annotate_in_parallel(videos, out_dir, settings, weights, jobs, report) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from fer_live.engine import Engine, resolve_device

    # A bad weights file or device fails once, here, rather than in every worker.
    resolve_device(settings.device)
    # Also exports and caches the ONNX model once, so the workers do not all export it at start.
    Engine(weights, "cpu", backend=settings.backend)
    # spawn: each worker starts clean (no forked torch/MediaPipe threads) and builds its own pipeline.
    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    slots = context.Queue()
    for slot in range(jobs):
        slots.put(slot)
    init_args = (settings, weights, stop_event, context.RLock(), slots)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_start, initargs=init_args) as pool:
        with _sigint_ignored():  # the pool starts its workers on submit; they inherit "ignore SIGINT"
            pending = {pool.submit(_worker_annotate, video, csv_path(out_dir, video)) for video in videos}
        try:
            try:
                for future in as_completed(pending):
                    pending.discard(future)
                    report(future.result())
            except KeyboardInterrupt:
                stop_event.set()
                for future in pending:
                    if not future.cancel() and (summary := future.result()) is not None:
                        report(summary)
        except BrokenProcessPool as exc:
            raise FerLiveError(f"a worker process died ({exc}); rerun with --jobs 1 to see why") from None


def run(args: argparse.Namespace) -> int:
    from fer_live.pipeline import PipelineSettings

    videos = select_videos(args.videos, args.shard)
    prepare_out_dir(args.out_dir)
    jobs = min(args.jobs, max(len(videos), 1))
    # Faces come a few per frame, too few for torch's intra-op threads to pay off against the
    # detector and decoder running beside them; one core per process stays free for those.
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs - 1)
    settings = PipelineSettings(
        detector_range=args.detector,
        min_confidence=args.min_confidence,
        min_face_size=args.min_face_size,
        smoothing=args.smooth,
        device=args.device,
        threads=threads,
        backend=args.backend,
        detect_every=args.detect_every,
    )
    if not videos:
        print(f"shard {args.shard[0]}/{args.shard[1]} has no videos (of {len(set(args.videos))})")
        return 0

    failed = interrupted = False

    def report(summary: VideoSummary) -> None:
        nonlocal failed, interrupted
        if summary.error is not None:
            print(f"fer-live: error: {summary.error}", file=sys.stderr, flush=True)
            failed = True
            return
        if summary.interrupted:
            print(
                f"fer-live: interrupted: {summary.video} stopped after {summary.frames} frames, "
                f"all of them in {summary.csv}",
                file=sys.stderr,
                flush=True,
            )
            interrupted = True
            return
        print(summary.line(), flush=True)
        if summary.skipped_frames:
            count = len(summary.skipped_frames)
            plural = "s" if count > 1 else ""
            shown = ", ".join(str(i) for i in summary.skipped_frames[:10]) + (", ..." if count > 10 else "")
            print(
                f"fer-live: error: {summary.video}: {count} undecodable frame{plural} skipped "
                f"(frame{plural} {shown}); the rest is in {summary.csv}",
                file=sys.stderr,
                flush=True,
            )
            failed = True

    if jobs == 1:
        _annotate_serially(videos, args.out_dir, settings, args.weights, report)
    else:
        _annotate_in_parallel(videos, args.out_dir, settings, args.weights, jobs, report)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_VIDEO_FAILED if failed else 0
