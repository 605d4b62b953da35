"""Running `fer-live annotate` over many videos: one after another, or in a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fer_live.errors import FerLiveError
from fer_live.pipeline.annotate_video import VideoSummary, annotate_video, csv_path

# A worker's peak memory (model, detector, mesh, decoder; measured ~540 MB on a 640×480 video).
WORKER_BYTES = 600 * 2**20


def available_memory() -> int | None:
    """Bytes of memory free for new processes (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def affordable_jobs(asked: int) -> tuple[int, str | None]:
    """`asked` parallel workers, capped by the cores and the free memory; the reason when capped."""
    cores = os.cpu_count() or 1
    memory = available_memory()
    by_memory = max(1, memory // WORKER_BYTES) if memory is not None else asked
    jobs = min(asked, cores, by_memory)
    if jobs == asked:
        return jobs, None
    free = f", {memory / 2**30:.1f} GB free at ~{WORKER_BYTES / 2**30:.1f} GB a worker" if memory is not None else ""
    return jobs, f"--jobs {asked} capped to {jobs} ({cores} cores{free})"


def _annotate_guarded(video: Path, out_csv: Path, settings, engine, **options) -> VideoSummary:
    """annotate_video, with any unforeseen failure confined to its video so a long batch goes on."""
    try:
        return annotate_video(video, out_csv, settings, engine, **options)
    except Exception as exc:
        return VideoSummary(video, out_csv, error=f"{video}: unexpected failure: {exc.__class__.__name__}: {exc}")


def annotate_serially(
    videos,
    out_dir,
    settings,
    weights,
    report,
    with_landmarks: bool = False,
    lsl=None,
    lsl_wait_s: float = 0.0,
    overwrite: bool = False,
) -> None:
    """One video after another; with `lsl` (an LslOutput), each is streamed too."""
    from fer_live.inference.engine import Engine

    engine = Engine(weights, settings.device, settings.threads, settings.backend, settings.prior)
    for video in videos:
        out_csv = csv_path(out_dir, video)
        options = {"with_landmarks": with_landmarks, "lsl": lsl, "lsl_wait_s": lsl_wait_s, "overwrite": overwrite}
        summary = _annotate_guarded(video, out_csv, settings, engine, **options)
        report(summary)
        if summary.interrupted:
            return


# State of a worker process, set once by _worker_start.
_worker: dict = {}


def _worker_start(settings, weights, stop_event, bar_lock, slots, with_landmarks) -> None:
    from tqdm import tqdm

    from fer_live.inference.engine import Engine

    # Ctrl-C (and a SIGTERM sent to the group, e.g. by a batch scheduler) reaches every process;
    # the parent alone decides, and asks workers to stop after their current frame through
    # `stop_event`. (Workers started while the parent ignored them already ignore them from their
    # first instruction; this covers a parent in a thread.)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    tqdm.set_lock(bar_lock)
    _worker.update(
        engine=Engine(weights, settings.device, settings.threads, settings.backend, settings.prior),
        settings=settings,
        with_landmarks=with_landmarks,
        stop_event=stop_event,
        slot=slots.get(),
        parent_gone=threading.Event(),
        busy=threading.Lock(),
    )
    _die_with_parent()


def _die_with_parent() -> None:
    """Once the parent is gone (even killed outright, with no chance to tell anyone), stop the video
    in progress after its current frame, keeping its whole frames, and exit; an idle worker exits
    at once. Without this, orphaned workers would go on with the videos queued for them."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the sentinel pipe closes: it has exited
        _worker["parent_gone"].set()
        with _worker["busy"]:
            os._exit(1)

    threading.Thread(target=watch, name="fer_live-parent-watch", daemon=True).start()


def _worker_annotate(video: Path, out_csv: Path, overwrite: bool = False) -> VideoSummary | None:
    """None when the run was interrupted before this video began."""
    stop_event, parent_gone = _worker["stop_event"], _worker["parent_gone"]
    with _worker["busy"]:
        if stop_event.is_set() or parent_gone.is_set():
            return None
        return _annotate_guarded(
            video,
            out_csv,
            _worker["settings"],
            _worker["engine"],
            progress_position=_worker["slot"],
            stop_requested=lambda: stop_event.is_set() or parent_gone.is_set(),
            with_landmarks=_worker["with_landmarks"],
            overwrite=overwrite,
        )


_STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


@contextmanager
def _stop_signals_ignored() -> Iterator[None]:
    try:
        previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOP_SIGNALS}
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def annotate_in_parallel(
    videos, out_dir, settings, weights, jobs, report, with_landmarks=False, overwrite=False
) -> None:
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
        with _stop_signals_ignored():  # the pool starts its workers on submit; they inherit "ignore"
            pending = {pool.submit(_worker_annotate, video, csv_path(out_dir, video), overwrite) for video in videos}
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
