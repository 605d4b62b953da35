"""Running `fer-live annotate` over many videos: one after another, or in a pool of worker processes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fer_live.errors import FerLiveError
from fer_live.pipeline.annotate_video import VideoSummary, annotate_video, csv_path


def _annotate_guarded(video: Path, out_csv: Path, settings, engine, **options) -> VideoSummary:
    """annotate_video, with any unforeseen failure confined to its video so a long batch goes on."""
    try:
        return annotate_video(video, out_csv, settings, engine, **options)
    except Exception as exc:
        return VideoSummary(video, out_csv, error=f"{video}: unexpected failure: {exc.__class__.__name__}: {exc}")


def annotate_serially(
    videos, out_dir, settings, weights, report, with_landmarks: bool = False, lsl=None, lsl_wait_s: float = 0.0
) -> None:
    """One video after another; with `lsl` (an LslOutput), each is streamed too."""
    from fer_live.inference.engine import Engine

    engine = Engine(weights, settings.device, settings.threads, settings.backend, settings.prior)
    for video in videos:
        out_csv = csv_path(out_dir, video)
        options = {"with_landmarks": with_landmarks, "lsl": lsl, "lsl_wait_s": lsl_wait_s}
        summary = _annotate_guarded(video, out_csv, settings, engine, **options)
        report(summary)
        if summary.interrupted:
            return


# State of a worker process, set once by _worker_start.
_worker: dict = {}


def _worker_start(settings, weights, stop_event, bar_lock, slots, with_landmarks) -> None:
    from tqdm import tqdm

    from fer_live.inference.engine import Engine

    # Ctrl-C reaches the whole process group; the parent alone decides, and asks workers to stop
    # after their current frame through `stop_event`. (Workers started while the parent ignored
    # SIGINT already ignore it from their first instruction; this covers a parent in a thread.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tqdm.set_lock(bar_lock)
    _worker.update(
        engine=Engine(weights, settings.device, settings.threads, settings.backend, settings.prior),
        settings=settings,
        with_landmarks=with_landmarks,
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
        with_landmarks=_worker["with_landmarks"],
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


def annotate_in_parallel(videos, out_dir, settings, weights, jobs, report, with_landmarks: bool = False) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from fer_live.inference.engine import Engine, resolve_device

    # A bad weights file or device fails once, here, rather than in every worker.
    resolve_device(settings.device)
    # Also exports and caches the ONNX model once, so the workers do not all export it at start.
    Engine(weights, "cpu", backend=settings.backend, prior=settings.prior)
    # spawn: each worker starts clean (no forked torch/MediaPipe threads) and builds its own pipeline.
    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    slots = context.Queue()
    for slot in range(jobs):
        slots.put(slot)
    init_args = (settings, weights, stop_event, context.RLock(), slots, with_landmarks)
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
