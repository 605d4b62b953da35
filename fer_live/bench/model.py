"""`model` benchmark: ms per face at several batch sizes for each backend and device available
(torch, onnxruntime and its int8 graph on the CPU; torch fp16 on CUDA), on crops of real faces."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from fer_live.bench.videos import BENCH_FACES, load_face
from fer_live.inference.engine import Engine
from fer_live.inference.int8 import int8_path
from fer_live.inference.onnx import onnxruntime_available
from fer_live.inference.preprocess import fit_crop

MIN_REPEATS = 5
WARMUP_CALLS = 3


def backends(device: str, weights: Path) -> list[tuple[str, str]]:
    """(backend, device) pairs to time: all available, or those of one `device`."""
    import torch

    pairs = [("torch", "cpu")]
    if onnxruntime_available():
        pairs.append(("onnx", "cpu"))
        if int8_path(weights).is_file():
            pairs.append(("onnx-int8", "cpu"))
    if torch.cuda.is_available():
        pairs.append(("torch", "cuda"))
    return [pair for pair in pairs if device == "auto" or pair[1] == device]


def time_interleaved(engines: list[Engine], crops: list[np.ndarray], batch: int, seconds: float) -> list[dict]:
    """Per engine: median wall time per face over `predict` calls (preprocessing included, as in the
    pipeline) and CPU time per face. The engines take turns call by call, so a change in the
    machine's load affects all alike and their ratios stay fair on a busy machine."""
    batch_crops = [crops[i % len(crops)] for i in range(batch)]
    for engine in engines:
        for _ in range(WARMUP_CALLS):
            engine.predict(batch_crops)
    durations: list[list[float]] = [[] for _ in engines]
    cpu = [0.0] * len(engines)
    deadline = time.perf_counter() + seconds * len(engines)
    while len(durations[0]) < MIN_REPEATS or time.perf_counter() < deadline:
        for i, engine in enumerate(engines):
            cpu_started, started = time.process_time(), time.perf_counter()
            engine.predict(batch_crops)
            durations[i].append(time.perf_counter() - started)
            cpu[i] += time.process_time() - cpu_started
    timings = []
    for calls, cpu_seconds in zip(durations, cpu, strict=True):
        ms_per_face = statistics.median(calls) / batch * 1000
        timings.append(
            {
                "batch": batch,
                "ms_per_face": round(ms_per_face, 3),
                "cpu_ms_per_face": round(cpu_seconds / (len(calls) * batch) * 1000, 3),
                "faces_per_s": round(1000 / ms_per_face, 1),
                "calls": len(calls),
            }
        )
    return timings


def run(args, weights: Path) -> tuple[dict, list[dict[str, str]]]:
    import torch

    faces = [load_face(name, 224, args.data) for name in BENCH_FACES]
    results, rows = [], []
    for device in ("cpu", "cuda"):
        engines = [
            Engine(weights, device, args.threads, backend, args.prior)
            for backend, where in backends(args.device, weights)
            if where == device
        ]
        if not engines:
            continue
        crops = [fit_crop(face, engines[0].config) for face in faces]
        batches = args.batches + ([256] if device == "cuda" and 256 not in args.batches else [])
        per_batch = [time_interleaved(engines, crops, batch, args.seconds) for batch in batches]
        for i, engine in enumerate(engines):
            precision = {"cuda": "fp16 (autocast)"}.get(device, "int8" if engine.backend == "onnx-int8" else "fp32")
            timings = [timings_of_batch[i] for timings_of_batch in per_batch]
            results.append(
                {"backend": engine.backend, "device": engine.device_name, "precision": precision, "timings": timings}
            )
        if device == "cuda":
            torch.cuda.empty_cache()
    ratios = speedups(results)
    for entry in results:
        summary = ", ".join(
            f"batch {t['batch']}: {t['ms_per_face']} ms/face ({t['cpu_ms_per_face']} CPU-ms)" for t in entry["timings"]
        )
        ratio_key = speedup_key(entry["backend"])
        if ratio_key in ratios:
            summary += "; vs torch on CPU: " + ", ".join(
                f"{ratio}× at batch {batch}" for batch, ratio in ratios[ratio_key].items()
            )
        print(f"model: {entry['device']} {entry['precision']}: {summary}", file=sys.stderr)
        rows.append({"settings": f"{entry['device']}, {entry['precision']}", "results": summary})
    return {"torch_threads": torch.get_num_threads(), "backends": results, **ratios}, rows


def speedup_key(backend: str) -> str:
    return f"{backend.replace('-', '_')}_speedup_over_torch_cpu"


def speedups(results: list[dict]) -> dict:
    """Each onnxruntime backend's speed-up over torch on the CPU per batch size, measured in this run."""
    by_backend = {r["backend"]: r for r in results if r["device"].startswith("CPU")}
    if "torch" not in by_backend:
        return {}
    torch_ms = {t["batch"]: t["ms_per_face"] for t in by_backend["torch"]["timings"]}
    return {
        speedup_key(backend): {
            str(t["batch"]): round(torch_ms[t["batch"]] / t["ms_per_face"], 2) for t in by_backend[backend]["timings"]
        }
        for backend in ("onnx", "onnx-int8")
        if backend in by_backend
    }
