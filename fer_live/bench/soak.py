"""`soak` benchmark: annotate a long synthetic video (drawn on the fly, no file) through the
threaded stream and a CSV writer, sampling RSS; after a warm-up, memory should stay flat."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fer_live.bench.machine import RssSampler, rss_mb
from fer_live.bench.videos import BENCH_FACES, SyntheticFaceSource
from fer_live.errors import FerLiveError
from fer_live.inference.engine import Engine
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.stream import process_stream
from fer_live.results import ResultsCsvWriter

FPS = 30.0


def rss_summary(samples: list[tuple[int, float]]) -> dict:
    """min/max/range of RSS over the samples, first→last drift, and the fitted linear trend per video
    hour (only meaningful for long runs: a 1 MB step in 3 minutes reads as 20 MB/h)."""
    frames = np.array([frame for frame, _ in samples], dtype=float)
    rss = np.array([value for _, value in samples])
    slope = float(np.polyfit(frames / FPS / 3600, rss, 1)[0]) if len(samples) > 2 else 0.0
    return {
        "samples": len(samples),
        "min_mb": round(float(rss.min()), 1),
        "max_mb": round(float(rss.max()), 1),
        "range_mb": round(float(rss.max() - rss.min()), 1),
        "drift_mb": round(float(rss[-1] - rss[0]), 1),
        "trend_mb_per_video_hour": round(slope, 1),
    }


def run(args, engine: Engine) -> tuple[dict, list[dict[str, str]]]:
    n_frames = max(2, round(args.minutes * 60 * FPS))
    warmup_frames = min(round(args.warmup_minutes * 60 * FPS), n_frames // 2)
    source = SyntheticFaceSource(BENCH_FACES[: args.soak_faces], n_frames, FPS, data=args.data)
    samples: list[tuple[int, float]] = []
    frames = 0
    with tempfile.TemporaryDirectory(prefix="fer_live_soak_") as scratch:
        out_csv = Path(scratch) / "soak.csv"
        with RssSampler(interval=1.0) as peak, Pipeline(PipelineSettings(), engine=engine) as pipeline:
            with ResultsCsvWriter(out_csv) as writer:
                started = time.perf_counter()
                for result in process_stream(source, pipeline):
                    writer.write(result)
                    frames += 1
                    if result.frame % args.sample_every == 0 or frames == n_frames:
                        samples.append((result.frame, rss_mb()))
                        if result.frame % (args.sample_every * 10) == 0:
                            print(f"soak: frame {result.frame} of {n_frames}", file=sys.stderr)
                seconds = time.perf_counter() - started
        csv_mb = out_csv.stat().st_size / 2**20
    after_warmup = [(frame, value) for frame, value in samples if frame >= warmup_frames and value is not None]
    if not after_warmup:
        raise FerLiveError("no RSS samples after warm-up (the soak benchmark reads /proc, i.e. needs Linux)")
    memory = rss_summary(after_warmup)
    result = {
        "video_minutes": args.minutes,
        "frames": frames,
        "faces": args.soak_faces,
        "fps": round(frames / seconds, 1),
        "warmup_frames": warmup_frames,
        "rss_after_warmup": memory,
        "peak_rss_mb": round(peak.peak_mb, 1) if peak.peak_mb is not None else None,
        "csv_mb": round(csv_mb, 1),
        "rss_samples": [[frame, round(value, 1)] for frame, value in samples if value is not None],
    }
    row = {
        "settings": f"{args.minutes:g} min synthetic 640×480 video ({frames} frames), {args.soak_faces} faces coming "
        f"and going, stream, {engine.device_name}",
        "results": f"{result['fps']} fps; RSS after {warmup_frames / FPS / 60:g} min warm-up {memory['min_mb']}–"
        f"{memory['max_mb']} MB (range {memory['range_mb']} MB, first→last drift {memory['drift_mb']:+} MB); "
        f"peak RSS {result['peak_rss_mb']} MB",
    }
    return result, [row]
