"""`lsl` benchmark: what the Lab Streaming Layer output costs per frame, with an inlet receiving.

- push: `LslOutput.push` alone (slots, schema values, clock mapping, pylsl's push) over the real
  results of a 1- and a 4-face video: CPU-µs per frame (the thread's CPU time, which other work on
  the machine does not inflate) and wall µs per call; off = a closed output (what `record` pays
  with streaming off; annotate and the window skip the call altogether then).
- annotate: the annotate loop (decode → detect → model → CSV) with and without streaming, runs
  alternating, fps; the difference is within run-to-run noise when push costs microseconds.

Creates an outlet and an inlet: `python -m fer_live.bench lsl` re-runs itself inside
fer_live.bench.netns's loopback-only namespace.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from fer_live.bench.annotate import build_videos
from fer_live.inference.engine import Engine
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.lsl import LslOutput, pipeline_provenance
from fer_live.pipeline.sources import open_source
from fer_live.pipeline.stream import process_stream
from fer_live.results import FrameResult, ResultsCsvWriter

PUSH_ROUNDS = 10  # each video's results pushed this many times for the per-frame timing


class _Consumer:
    """An inlet that pulls everything a stream sends, in a thread, like LabRecorder."""

    def __init__(self, source_id: str):
        import pylsl

        found = pylsl.resolve_byprop("source_id", source_id, minimum=1, timeout=10)
        self.inlet = pylsl.StreamInlet(found[0], max_buflen=360)
        self.inlet.open_stream(timeout=10)
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pull, daemon=True)
        self._thread.start()

    def _pull(self) -> None:
        while not self._stop.is_set():
            samples, _ = self.inlet.pull_chunk(timeout=0.05)
            self.received += len(samples)

    def close(self) -> None:
        time.sleep(0.3)  # let the last samples arrive
        self._stop.set()
        self._thread.join()
        self.inlet.close_stream()


def _results(video: Path, engine: Engine) -> list[FrameResult]:
    with open_source(video) as source, Pipeline(PipelineSettings(), engine=engine) as pipeline:
        return [pipeline.process(frame.index, frame.time_s, frame.image) for frame in source]


def _push_us(output: LslOutput, results: list[FrameResult]) -> dict:
    """µs per frame of `output.push` (capture clock, as the window and record use it): this thread's
    CPU time (what streaming costs, whatever else runs) and wall time per call (what it delays)."""
    walls = []
    cpu_started = time.thread_time()
    for _ in range(PUSH_ROUNDS):
        for result in results:
            started = time.perf_counter()
            output.push(result, captured_at=time.monotonic())
            walls.append((time.perf_counter() - started) * 1e6)
    cpu = (time.thread_time() - cpu_started) * 1e6 / len(walls)
    walls.sort()
    return {
        "count": len(walls),
        "cpu_us": round(cpu, 1),
        "wall_us_median": round(statistics.median(walls), 1),
        "wall_us_p99": round(walls[int(0.99 * len(walls))], 1),
    }


def _annotate_fps(video: Path, engine: Engine, lsl: LslOutput | None, out_csv: Path) -> float:
    with open_source(video) as source, Pipeline(PipelineSettings(), engine=engine) as pipeline:
        with ResultsCsvWriter(out_csv) as writer:
            frames = 0
            started = time.perf_counter()
            for result in process_stream(source, pipeline):
                writer.write(result)
                if lsl is not None:
                    lsl.push(result)
                frames += 1
            return frames / (time.perf_counter() - started)


def run(args, engine: Engine) -> tuple[dict, list[dict[str, str]]]:
    runs, rows = [], []
    with tempfile.TemporaryDirectory(prefix="fer_live_bench_") as scratch:
        videos = build_videos(Path(scratch), args.faces, args.frames, args.data)
        for faces, video in videos.items():
            results = _results(video, engine)
            off = _push_us(LslOutput(say=print), results)
            output = LslOutput(say=lambda line: print(line, file=sys.stderr))
            with open_source(video) as source, Pipeline(PipelineSettings(), engine=engine) as pipeline:
                if not output.open(str(video), source.fps, pipeline_provenance(pipeline)):
                    raise SystemExit(f"fer_live.bench lsl: {output.failure}")
            consumer = _Consumer(output.streams.affect.source_id)
            on = _push_us(output, results)
            fps_off, fps_on = [], []
            for _ in range(args.repeat):  # alternating, so a change in load does not favour one side
                fps_off.append(_annotate_fps(video, engine, None, Path(scratch) / "out.csv"))
                fps_on.append(_annotate_fps(video, engine, output, Path(scratch) / "out.csv"))
            output.close()
            consumer.close()
            entry = {
                "faces": faces,
                "frames": len(results),
                "push_on": on,
                "push_off": off,
                "samples_received": consumer.received,
                "samples_pushed": on["count"] + len(results) * len(fps_on),
                "annotate_fps_off": [round(f, 1) for f in fps_off],
                "annotate_fps_on": [round(f, 1) for f in fps_on],
            }
            runs.append(entry)
            print(f"lsl: {entry}", file=sys.stderr)
            rows.append(_row(entry, engine, args))
    return {"device": engine.device_name, "frames": args.frames, "runs": runs}, rows


def _row(entry: dict, engine: Engine, args) -> dict[str, str]:
    faces, on, off = entry["faces"], entry["push_on"], entry["push_off"]
    return {
        "settings": f"LSL Affect stream, {faces} face{'s' if faces > 1 else ''}, an inlet receiving (loopback "
        f"namespace); {engine.device_name}, {args.frames} frames 640×480, {args.repeat} alternating runs",
        "results": f"push {on['cpu_us']} CPU-µs/frame (wall median {on['wall_us_median']} µs, p99 "
        f"{on['wall_us_p99']} µs; off: {off['cpu_us']} CPU-µs); "
        f"annotate {'/'.join(map(str, entry['annotate_fps_off']))} fps off vs "
        f"{'/'.join(map(str, entry['annotate_fps_on']))} fps on; "
        f"{entry['samples_received']}/{entry['samples_pushed']} samples received",
    }
