"""`annotate` benchmark: end-to-end fps of the annotate loop (decode → detect → crop → mesh →
model → CSV; with geometry on, "mesh" is the face-mesh model and "model" includes the iris model,
which runs in `assemble`) on 640×480 30 fps videos of 1 and of 4 real faces,
per-stage wall time, and peak RSS."""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from fer_live.bench.machine import RssSampler
from fer_live.bench.videos import BENCH_FACES, make_face_video
from fer_live.inference.engine import Engine
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.sources import Frame, open_source
from fer_live.pipeline.stream import StageTimes, locate_timed, process_stream
from fer_live.results import FrameResult, ResultsCsvWriter

STAGES = ("decode", "detect", "crop", "mesh", "model", "write")


def face_side(n_faces: int) -> int:
    """200 px for one face; 160 px so that four fit a 2×2 layout of a 640×480 frame."""
    return 200 if n_faces == 1 else 160


def build_videos(folder: Path, face_counts: list[int], n_frames: int, data: Path) -> dict[int, Path]:
    videos = {}
    for count in face_counts:
        videos[count] = folder / f"{count}_faces.mp4"
        make_face_video(videos[count], BENCH_FACES[:count], n_frames, side=face_side(count), data=data)
    return videos


def sequential(frames: Iterable[Frame], pipeline: Pipeline, times: StageTimes) -> Iterator[FrameResult]:
    """`Pipeline.process`'s steps one frame at a time, each timed."""
    iterator = iter(frames)
    while True:
        with times.measure("decode"):
            frame = next(iterator, None)
        if frame is None:
            return
        detections, crops, meshes = locate_timed(pipeline, frame, times)
        with times.measure("model"):
            prediction = pipeline.engine.predict(crops)
            result = pipeline.assemble(frame.index, frame.time_s, detections, prediction, meshes, frame.still)
        yield result


def annotate_once(video: Path, pipeline: Pipeline, mode: str, out_csv: Path) -> dict:
    times = StageTimes()
    frames = faces = 0
    with RssSampler() as rss, open_source(video) as source, ResultsCsvWriter(out_csv) as writer:
        started, cpu_started = time.perf_counter(), time.process_time()
        results = process_stream(source, pipeline, times) if mode == "stream" else sequential(source, pipeline, times)
        for result in results:
            with times.measure("write"):
                writer.write(result)
            frames += 1
            faces += len(result.faces)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "frames": frames,
        "faces_per_frame": round(faces / frames, 3),
        "fps": round(frames / wall, 1),
        # All threads' CPU time: on an idle machine with C cores, fps can approach C × 1000 / this.
        "cpu_ms_per_frame": round(cpu / frames * 1000, 2),
        # Wall time inside each stage per frame; in stream mode the stages overlap.
        "stage_ms_per_frame": {stage: round(times.seconds[stage] / frames * 1000, 2) for stage in STAGES},
        "peak_rss_mb": round(rss.peak_mb, 1) if rss.peak_mb is not None else None,
    }


def run(args, engine: Engine) -> tuple[dict, list[dict[str, str]]]:
    """JSON of every run, and one results.md row per configuration. Repeats go round all
    configurations in turn, so a change in the machine's load does not favour one of them."""
    configs = list(itertools.product(args.mode, args.detect_every, args.detector, args.geometry))
    attempts: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="fer_live_bench_") as scratch:
        videos = build_videos(Path(scratch), args.faces, args.frames, args.data)
        for _ in range(args.repeat):
            for mode, every, detector, geometry in configs:
                settings = PipelineSettings(detector_range=detector, detect_every=every, geometry=geometry == "on")
                for faces, video in videos.items():
                    with Pipeline(settings, engine=engine) as pipeline:
                        attempt = annotate_once(video, pipeline, mode, Path(scratch) / "out.csv")
                    attempts.setdefault((mode, every, detector, geometry, faces), []).append(attempt)
                    print(
                        f"annotate: {faces} face(s), {mode}, detect every {every}, {detector} range, "
                        f"geometry {geometry}: "
                        f"{attempt['fps']} fps",
                        file=sys.stderr,
                    )
    runs, rows = [], []
    for mode, every, detector, geometry in configs:
        config_runs = []
        for faces in videos:
            tries = attempts[(mode, every, detector, geometry, faces)]
            best = max(tries, key=lambda attempt: attempt["fps"])
            entry = {"faces": faces, "mode": mode, "detect_every": every, "detector": detector, "geometry": geometry}
            entry.update(best)
            entry["fps_of_each_repeat"] = [attempt["fps"] for attempt in tries]
            config_runs.append(entry)
        runs.extend(config_runs)
        rows.append(
            {
                "settings": f"{mode}, detect every {every}, {detector}-range detector, geometry {geometry}, "
                f"{engine.device_name}, "
                f"{args.frames} frames 640×480, best of {args.repeat}",
                "results": "; ".join(
                    f"{run['faces']} face{'s' if run['faces'] > 1 else ''}: {run['fps']} fps "
                    f"({run['cpu_ms_per_frame']} CPU-ms/frame, peak RSS {run['peak_rss_mb']} MB)"
                    for run in config_runs
                ),
            }
        )
    return {"device": engine.device_name, "frames": args.frames, "runs": runs}, rows
