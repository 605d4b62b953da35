"""`fer-live record`: record a session headless (clean video, per-frame results, markers).

Stops when the source ends, after --duration seconds, or on Ctrl-C / SIGTERM — all clean finishes.
Markers come from stdin lines when stdin is a terminal (or with --markers-from-stdin):
`1`…`9` (optionally followed by a note) marks a numbered event, `m TEXT` a free-text one.
With --lsl the readings and markers also go out as Lab Streaming Layer streams (fer_live.pipeline.lsl).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from fer_live import options
from fer_live.errors import EXIT_PARTLY_DONE, FerLiveError
from fer_live.options import greater_than

MARKER_HELP = "type 1-9 [note] or 'm TEXT' + Enter to mark an event"
LANDMARKS_FILE = "landmarks.npz"  # in the session folder, with --geometry --landmarks
# A day per segment file: longer gains nothing, and a frame count from 1e308 s overflows.
MAX_SEGMENT_SECONDS = 86400.0
MARKER_SYNTAX = (
    "Markers: while recording, type a line and Enter on the terminal (or send lines on stdin with "
    "--markers-from-stdin): '1' to '9', optionally followed by a note, marks a numbered event "
    "(named by --markers-labels, e.g. '2 door opened'); 'm TEXT' marks a free-text one. Each marks "
    "the frame being recorded when its line arrives, in markers.csv."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = f"{MARKER_SYNTAX} {options.action_units_help()}"
    parser.add_argument("--source", required=True, help="camera index (0), video file, image folder, or 'demo'")
    parser.add_argument("-o", "--out", required=True, type=Path, help="new (or empty) folder for the session")
    parser.add_argument(
        "--duration", type=greater_than(0), metavar="S", help="stop after this many seconds of source time"
    )
    parser.add_argument("--participant", default="", help="participant ID stored in session.json")
    parser.add_argument("--condition", default="", help="condition stored in session.json")
    parser.add_argument("--notes", default="", help="free notes stored in session.json")
    parser.add_argument(
        "--markers-labels",
        default="",
        metavar="LABELS",
        help="labels of the number-key markers, e.g. '1=start,2=task,3=break'",
    )
    parser.add_argument(
        "--markers-from-stdin",
        action="store_true",
        help="read markers from stdin even when it is not a terminal (pipes, scripts)",
    )
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="pace video files and image folders at their frame rate (cameras are always live)",
    )
    options.add_weights(parser)
    options.add_device(parser)
    options.add_threads(parser)
    options.add_smoothing(parser)
    options.add_detector(parser)
    options.add_min_confidence(parser)
    options.add_geometry(parser)
    options.add_landmarks(parser, "DIR/landmarks.npz (written when the recording ends)")
    options.add_prior(parser)
    options.add_calibration(parser)
    parser.add_argument(
        "--segment-seconds",
        type=greater_than(0, at_most=MAX_SEGMENT_SECONDS),
        default=2.0,
        help=f"length of each video segment file (default 2 s, at most {MAX_SEGMENT_SECONDS:g})",
    )
    options.add_lsl(parser)


def run(args: argparse.Namespace) -> int:
    from fer_live.landmarks_file import LandmarksFile
    from fer_live.pipeline.frames import Pipeline, PipelineSettings
    from fer_live.pipeline.lsl import LslOutput, pipeline_provenance
    from fer_live.pipeline.sources import open_source
    from fer_live.sessions.files import parse_marker_labels
    from fer_live.sessions.recorder import Recorder, SessionMetadata, check_session_dir

    options.check_landmarks(args)
    labels = parse_marker_labels(args.markers_labels)
    check_session_dir(args.out)
    settings = PipelineSettings(
        detector_range=args.detector_range,
        min_confidence=args.min_confidence,
        smoothing=args.smooth,
        device=args.device,
        threads=args.threads or options.inference_threads(),
        geometry=args.geometry,
        pose_limit=args.pose_limit,
        prior=args.prior,
        calibrate_seconds=args.calibrate_seconds or 0.0,
        calibration=str(args.calibration) if args.calibration else None,
    )
    # Everything that can fail on bad input is opened before the session folder is created.
    with (
        open_source(args.source) as source,
        Pipeline(settings, weights=args.weights) as pipeline,
        _StopSignals() as stop,
        LslOutput(say=lambda line: print(f"fer-live: {line}", file=sys.stderr, flush=True)) as lsl,
    ):
        recorder = Recorder.for_pipeline(
            args.out,
            source,
            pipeline,
            metadata=SessionMetadata(args.participant, args.condition, args.notes),
            marker_labels=labels,
            segment_seconds=args.segment_seconds,
        )
        if args.lsl:
            lsl.open(source.description, source.fps, pipeline_provenance(pipeline))
        marker_lines = _start_marker_reader() if args.markers_from_stdin or _stdin_is_our_terminal() else None
        print(
            f"recording {source.description} to {args.out} (Ctrl-C stops)"
            + (f"; {MARKER_HELP}" if marker_lines is not None else ""),
            file=sys.stderr,
        )
        landmarks = LandmarksFile(args.out / LANDMARKS_FILE) if args.landmarks else None
        stopped_by = "error"
        try:
            stopped_by = _record(source, pipeline, recorder, args, stop, marker_lines, lsl, landmarks)
        except KeyboardInterrupt:  # a second Ctrl-C while a frame was being processed
            stopped_by = "interrupt"
        except FerLiveError as exc:
            stopped_by = f"error: {exc}"
            raise
        finally:
            _drain_markers(marker_lines, recorder, lsl)
            recorder.finish(stopped_by, source.damage_info() if source.damage() else None)
            if landmarks is not None:
                landmarks.save()
    how = {"interrupt": "stopped on interrupt", "duration": "stopped after --duration", "source ended": "source ended"}
    print(
        f"{how[stopped_by]}: recorded {recorder.frames_recorded} frames ({recorder.duration_s:.1f} s) "
        f"and {len(recorder.markers)} markers to {args.out}",
        file=sys.stderr,
    )
    if damage := source.damage():
        # Like annotate: the input was damaged; everything that could be read is in the session.
        print(f"fer-live: error: {source.description}: {damage}; every frame read is recorded", file=sys.stderr)
        return EXIT_PARTLY_DONE
    return 0


def _record(source, pipeline, recorder, args, stop, marker_lines, lsl, landmarks) -> str:
    from fer_live.pipeline.clock import wall_clock_iso
    from fer_live.pipeline.pacing import FramePacer

    pacer = FramePacer() if args.realtime and not source.is_live else None
    first_time_s = stopped_by = None
    for frame in source:
        if stop.requested:
            stopped_by = "interrupt"
            break
        if first_time_s is None:
            first_time_s = frame.time_s
        elapsed_s = frame.time_s - first_time_s
        if args.duration is not None and elapsed_s >= args.duration:
            stopped_by = "duration"
            break
        if pacer is not None:
            time.sleep(max(0.0, pacer.delay(frame.time_s)))
        captured_at, captured = time.monotonic(), wall_clock_iso()
        result = pipeline.process(frame.index, frame.time_s, frame.image, frame.still)
        recorder.write(frame, result, wall_time=captured)
        if landmarks is not None:
            landmarks.add(result)
        # Stamped when captured in real time; a file read as fast as it goes follows its own clock.
        lsl.push(result, captured_at if pacer is not None or source.is_live else None)
        _note_calibrations(pipeline, recorder)
        _drain_markers(marker_lines, recorder, lsl)
    # Baselines still being collected when the recording stops (a clip shorter than
    # --calibrate-seconds) end with it, as annotate's do: each is recorded, a refusal said.
    pipeline.finish_calibrations()
    _note_calibrations(pipeline, recorder)
    return stopped_by or ("interrupt" if stop.requested else "source ended")


def _note_calibrations(pipeline, recorder) -> None:
    """Baselines that were collected (or refused) this frame go into session.json; refusals are told."""
    while pipeline.calibration_outcomes:
        outcome = pipeline.calibration_outcomes.pop(0)
        recorder.add_calibration(
            outcome.track_id, outcome.baseline.to_dict() if outcome.baseline else None, outcome.refusal
        )
        if outcome.refusal:
            print(
                f"fer-live: warning: face {outcome.track_id}: calibration refused: {outcome.refusal}", file=sys.stderr
            )


class _StopSignals:
    """While active, Ctrl-C and SIGTERM ask the recording loop to stop between frames, so no frame
    is half-written; a second Ctrl-C raises KeyboardInterrupt for a frame that hangs."""

    SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)

    def __init__(self):
        self.requested = False
        self._previous: dict = {}

    def _request_stop(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _StopSignals:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._request_stop)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _stdin_is_our_terminal() -> bool:
    """stdin is a terminal and we are its foreground job (reading it from the background would stop us)."""
    try:
        return sys.stdin.isatty() and os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (AttributeError, OSError, ValueError):
        return False


def _start_marker_reader() -> list[str]:
    """Lines typed on stdin, appended by a background thread; the recording loop takes them.
    Reads the file descriptor directly so the thread never holds Python's stdin lock at exit."""
    lines: list[str] = []
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return lines

    def read() -> None:
        pending = b""
        while chunk := _read(fd):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            lines.extend(line.decode("utf-8", "replace").strip() for line in complete)
        if pending.strip():
            lines.append(pending.decode("utf-8", "replace").strip())

    threading.Thread(target=read, name="marker-stdin", daemon=True).start()
    return lines


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


def _drain_markers(lines: list[str] | None, recorder, lsl) -> None:
    from fer_live.pipeline.lsl import marker_event

    while lines:
        text = lines.pop(0)
        if not text:
            continue
        key, _, note = text.partition(" ")
        try:
            marker = recorder.add_marker(key, note)
        except FerLiveError as exc:
            print(f"fer-live: ignored marker {text!r}: {exc} ({MARKER_HELP})", file=sys.stderr)
            continue
        lsl.mark(marker_event(marker.key, marker.text))
        print(
            f"marker {marker.key} '{marker.text}' at {marker.time_s:.2f} s (frame {marker.video_frame})",
            file=sys.stderr,
        )
