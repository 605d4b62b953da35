"""`fer-live annotate`: video files → one per-frame results CSV each (+ a provenance sidecar), in
parallel processes or in shards.

Heavy modules (torch, mediapipe, OpenCV, tqdm) are imported inside functions: the CLI registry
imports this module just to add its arguments.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fer_live import options
from fer_live.errors import (
    EXIT_BAD_INPUT,
    EXIT_DONE,
    EXIT_INTERRUPTED,
    EXIT_PARTLY_DONE,
    EXIT_TERMINATED,
    FerLiveError,
    OutputError,
)
from fer_live.options import at_least

if TYPE_CHECKING:
    from fer_live.pipeline.annotate_video import VideoSummary
    from fer_live.pipeline.sources import Stills


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = options.action_units_help()
    parser.add_argument(
        "videos",
        nargs="+",
        metavar="VIDEO",
        help="video files, each giving OUT_DIR/<stem>.csv; or photos: an image folder gives OUT_DIR/<folder>.csv, "
        "image files one CSV per folder they are in, each photo a still (column source_file)",
    )
    parser.add_argument("-o", "--out-dir", required=True, type=Path, help="folder for the CSV files (created)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing CSVs: without it, those made differently (other settings, weights or video; "
        "no sidecar; changed since) are refused, and those complete with the same settings are kept",
    )
    options.add_device(parser)
    options.add_smoothing(parser)
    parser.add_argument(
        "--jobs", type=at_least(1), default=1, metavar="N", help="videos annotated in parallel (default 1)"
    )
    parser.add_argument(
        "--shard",
        type=options.shard,
        metavar="K/N",
        help="annotate only the K-th of N equal slices of the sorted, de-duplicated VIDEO list, e.g. in "
        "a Slurm array job (--array=1-8): --shard $SLURM_ARRAY_TASK_ID/8",
    )
    options.add_weights(parser)
    options.add_detector(parser)
    options.add_min_confidence(parser)
    parser.add_argument(
        "--min-face-size", type=at_least(0), default=0, metavar="PX", help="ignore smaller faces (default 0, none)"
    )
    options.add_threads(parser)
    options.add_backend(parser)
    options.add_prior(parser)
    options.add_calibration(parser)
    parser.add_argument(
        "--detect-every",
        type=at_least(1),
        default=1,
        metavar="K",
        help="run the face detector on every K-th frame only, reusing its boxes in between (faster; "
        "boxes lag up to K-1 frames of motion); default 1 = every frame",
    )
    options.add_geometry(parser)
    options.add_landmarks(parser, "OUT_DIR/<stem>.landmarks.npz")
    options.add_lsl(parser, wait=True)


def select_videos(paths: list[str], shard: tuple[int, int] | None = None) -> list[Path | Stills]:
    """The sorted, de-duplicated inputs, or the K-th of N contiguous slices of them: each video
    file; each image folder, as one set of photos; image files named one by one, one set per folder.

    Every shard computes the same full list, so shards need no coordination and together cover
    each input exactly once.
    """
    from fer_live.pipeline.sources import Stills, is_image_file

    unique: dict[Path, Path] = {}
    for text in paths:
        unique.setdefault(Path(text).resolve(), Path(text))
    photos: dict[Path, list[Path]] = {}
    videos: list[Path | Stills] = []
    for key in sorted(unique, key=str):
        path = unique[key]
        if path.is_dir():
            videos.append(Stills(path))
        elif is_image_file(path):
            photos.setdefault(key.parent, []).append(path)
        else:
            videos.append(path)
    videos += [Stills(files[0].parent, tuple(files)) for files in photos.values()]
    videos.sort(key=lambda video: str(video.folder.resolve() if isinstance(video, Stills) else video.resolve()))
    by_stem: dict[str, Path | Stills] = {}
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


def check_calibration(path: Path, weights: Path | None) -> None:
    """Refuse a missing, damaged or foreign calibration file before any video is opened."""
    from fer_live import assets
    from fer_live.checksums import file_sha256
    from fer_live.faces.baselines import load_calibration

    weights = weights or assets.WEIGHTS
    if not Path(weights).is_file():
        return  # the engine reports the missing weights in its own words
    load_calibration(path, file_sha256(weights))


def run(args: argparse.Namespace) -> int:
    from fer_live.cli.pool import affordable_jobs, annotate_in_parallel, annotate_serially
    from fer_live.pipeline.frames import PipelineSettings
    from fer_live.pipeline.lsl import LslOutput

    options.check_landmarks(args)
    videos = select_videos(args.videos, args.shard)
    prepare_out_dir(args.out_dir)
    jobs, capped = affordable_jobs(min(args.jobs, max(len(videos), 1)))
    if capped:
        _say(capped)
    if args.lsl and jobs > 1:
        raise FerLiveError("--lsl streams one video at a time: use --jobs 1")
    # Faces come a few per frame, too few for torch's intra-op threads to pay off against the
    # detector and decoder running beside them; one core per process stays free for those.
    threads = args.threads or options.inference_threads(jobs)
    settings = PipelineSettings(
        detector_range=args.detector_range,
        min_confidence=args.min_confidence,
        min_face_size=args.min_face_size,
        smoothing=args.smooth,
        device=args.device,
        threads=threads,
        backend=args.backend,
        detect_every=args.detect_every,
        geometry=args.geometry,
        pose_limit=args.pose_limit,
        prior=args.prior,
        calibrate_seconds=args.calibrate_seconds or 0.0,
        calibration=str(args.calibration) if args.calibration else None,
    )
    if args.calibration:
        check_calibration(args.calibration, args.weights)
    if not videos:
        print(f"shard {args.shard[0]}/{args.shard[1]} has no videos (of {len(set(args.videos))})")
        return EXIT_DONE

    failed = interrupted = used_any = False
    terminated: list[int] = []

    def report(summary: VideoSummary) -> None:
        nonlocal failed, interrupted, used_any
        used_any |= not summary.unusable_input
        if summary.error is not None:
            print(f"fer-live: error: {summary.error}", file=sys.stderr, flush=True)
            failed = True
            return
        if summary.interrupted:
            how = "interrupted by SIGTERM" if terminated else "interrupted"
            print(
                f"fer-live: {how}: {summary.video} stopped after {summary.frames} frames, all of them in {summary.csv}",
                file=sys.stderr,
                flush=True,
            )
            interrupted = True
            return
        print(summary.line(), flush=True)
        for line in summary.refusals():
            print(f"fer-live: warning: {line}", file=sys.stderr, flush=True)
        if summary.damage:
            print(
                f"fer-live: error: {summary.video}: {summary.damage}; every frame read is in {summary.csv}",
                file=sys.stderr,
                flush=True,
            )
            failed = True

    try:
        with _sigterm_interrupts(terminated):
            if jobs == 1:
                lsl = LslOutput(say=_say) if args.lsl else None
                annotate_serially(
                    videos,
                    args.out_dir,
                    settings,
                    args.weights,
                    report,
                    args.landmarks,
                    lsl,
                    args.lsl_wait,
                    overwrite=args.overwrite,
                )
            else:
                annotate_in_parallel(
                    videos, args.out_dir, settings, args.weights, jobs, report, args.landmarks, args.overwrite
                )
    except KeyboardInterrupt:  # between videos, before any frame of the next one was written
        print("fer-live: interrupted" + (" by SIGTERM" if terminated else ""), file=sys.stderr, flush=True)
        interrupted = True
    if interrupted:
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if not failed:
        return EXIT_DONE
    # No video could even be opened: bad input and nothing done, as record says of a missing video.
    return EXIT_PARTLY_DONE if used_any else EXIT_BAD_INPUT


def _say(line: str) -> None:
    print(f"fer-live: {line}", file=sys.stderr, flush=True)


@contextmanager
def _sigterm_interrupts(received: list[int]) -> Iterator[None]:
    """SIGTERM (a plain `kill`, a batch scheduler's time limit) stops the run the way Ctrl-C does:
    after the current frame, keeping every whole frame, with one line; `received` records it."""

    def interrupt(signum, frame) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except (AttributeError, ValueError):  # no SIGTERM, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
