"""Benchmark the live window: play a video paced like a camera through the real window and threads,
then print JSON with displayed fps, capture-to-display latency, dropped frames and memory.

    python -m fer_live.gui.tools.bench --source VIDEO --seconds 20 [--weights W | --random-weights] [--geometry]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fer_live.bench.machine import machine_info, process_peak_rss_mb, rss_mb
from fer_live.errors import FerLiveError
from fer_live.gui.tools import harness
from fer_live.gui.window import dispose
from fer_live.options import bounded, greater_than

RSS_SAMPLES = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(args: argparse.Namespace, scratch: Path) -> dict:
    from fer_live.gui.app import make_application

    make_application()
    machine = machine_info()  # before loading anything: the load average says how busy the machine was
    engine, weights = harness.load_engine(args, scratch)
    from fer_live.gui.settings import GuiSettings

    settings = GuiSettings(loop_video=True, geometry=args.geometry)
    window = harness.open_window(engine, args.source, scratch, settings=settings)
    try:
        harness.run_for(args.warmup)  # imports, first detector call, symbol caches
        capture, stats = window.capture, window.stats
        stats.reset()
        captured_before, start, rss_samples = capture.frames_read, time.monotonic(), [rss_mb()]
        for _ in range(RSS_SAMPLES):  # memory over the run: flat, or growing?
            harness.run_for(args.seconds / RSS_SAMPLES)
            rss_samples.append(rss_mb())
        elapsed = time.monotonic() - start
        captured = capture.frames_read - captured_before
        displayed, latencies = stats.displayed, [1000 * s for s in stats.latencies]
        message = window.video_view.message
    finally:
        dispose(window)
    if not latencies:
        raise FerLiveError(f"no frame was displayed in {args.seconds} s ({message or 'no error'})")
    return {
        "source": args.source,
        "source_fps": round(capture.source.fps, 2),
        "frame_size": list(capture.source.size),
        "seconds": round(elapsed, 2),
        "captured_frames": captured,
        "displayed_frames": displayed,
        "dropped_frames": max(0, captured - displayed),
        "displayed_fps": round(displayed / elapsed, 2),
        "latency_ms": {
            "median": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "max": round(max(latencies), 1),
        },
        "rss_mb_over_run": [_round(value) for value in rss_samples],
        "peak_rss_mb": round(process_peak_rss_mb(), 1),
        "device": engine.device_name,
        "weights": weights,
        "geometry": args.geometry,
        "qt_platform": _platform(),
        "machine": machine,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _platform() -> str:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_live.gui.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="demo", help="video file (or 'demo', or a camera index)")
    parser.add_argument("--seconds", type=greater_than(0), default=20.0, help="measured playing time")
    parser.add_argument("--warmup", type=bounded(0, math.inf), default=3.0, help="seconds played before measuring")
    parser.add_argument("--geometry", action="store_true", help="with face geometry on (mesh, head pose, eyes)")
    harness.add_model_arguments(parser)
    args = parser.parse_args(argv)
    harness.ensure_platform()
    try:
        with tempfile.TemporaryDirectory(prefix="fer_live_bench_") as scratch:
            report = measure(args, Path(scratch))
    except FerLiveError as exc:
        print(f"fer-live: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
