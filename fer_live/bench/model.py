"""`model` benchmark: ms per face at several batch sizes for each backend and device available
(torch and onnxruntime on the CPU; torch fp16 on CUDA), on crops of real faces."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from fer_live.bench.videos import BENCH_FACES, load_face
from fer_live.engine import Engine
from fer_live.onnx_backend import onnxruntime_available
from fer_live.preprocess import fit_crop

MIN_REPEATS = 5
WARMUP_CALLS = 3


def backends(device: str) -> list[tuple[str, str]]:
    """(backend, device) pairs to time: all available, or those of one `device`."""
    import torch

    pairs = [("torch", "cpu")]
    if onnxruntime_available():
        pairs.append(("onnx", "cpu"))
    if torch.cuda.is_available():
        pairs.append(("torch", "cuda"))
    return [pair for pair in pairs if device == "auto" or pair[1] == device]


def time_batches(engine: Engine, crops: list[np.ndarray], batch: int, seconds: float) -> dict:
    """Median wall time per face over repeated `predict` calls (preprocessing included, as in the
    pipeline), and the process's CPU time per face."""
    batch_crops = [crops[i % len(crops)] for i in range(batch)]
    for _ in range(WARMUP_CALLS):
        engine.predict(batch_crops)
    durations = []
    cpu_started = time.process_time()
    deadline = time.perf_counter() + seconds
    while len(durations) < MIN_REPEATS or time.perf_counter() < deadline:
        started = time.perf_counter()
        engine.predict(batch_crops)
        durations.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu_started
    ms_per_face = statistics.median(durations) / batch * 1000
    return {
        "batch": batch,
        "ms_per_face": round(ms_per_face, 3),
        "cpu_ms_per_face": round(cpu / (len(durations) * batch) * 1000, 3),
        "faces_per_s": round(1000 / ms_per_face, 1),
        "calls": len(durations),
    }


def run(args, weights: Path) -> tuple[dict, list[dict[str, str]]]:
    import torch

    faces = [load_face(name, 224, args.data) for name in BENCH_FACES]
    results, rows = [], []
    for backend, device in backends(args.device):
        engine = Engine(weights, device, args.threads, backend)
        crops = [fit_crop(face, engine.config) for face in faces]
        batches = args.batches + ([256] if device == "cuda" and 256 not in args.batches else [])
        timings = [time_batches(engine, crops, batch, args.seconds) for batch in batches]
        precision = "fp16 (autocast)" if device == "cuda" else "fp32"
        results.append({"backend": backend, "device": engine.device_name, "precision": precision, "timings": timings})
        summary = ", ".join(f"batch {t['batch']}: {t['ms_per_face']} ms/face" for t in timings)
        print(f"model: {engine.device_name} {precision}: {summary}", file=sys.stderr)
        rows.append({"settings": f"{engine.device_name}, {precision}", "results": summary})
        if device == "cuda":
            torch.cuda.empty_cache()
    return {"torch_threads": torch.get_num_threads(), "backends": results, **speedups(results)}, rows


def speedups(results: list[dict]) -> dict:
    """onnxruntime's speed-up over torch on the CPU per batch size, measured in this run."""
    by_backend = {r["backend"]: r for r in results if r["device"].startswith("CPU")}
    if not {"torch", "onnx"} <= set(by_backend):
        return {}
    torch_ms = {t["batch"]: t["ms_per_face"] for t in by_backend["torch"]["timings"]}
    return {
        "onnx_speedup_over_torch_cpu": {
            str(t["batch"]): round(torch_ms[t["batch"]] / t["ms_per_face"], 2) for t in by_backend["onnx"]["timings"]
        }
    }
