"""What the benchmark ran on (CPU, cores, GPU, load) and how much memory it holds."""

from __future__ import annotations

import os
import platform
import resource
import threading
from pathlib import Path

MB = 2**20


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def machine_info() -> dict:
    """CPU model and usable cores, GPU, and the 1-minute load average at the start: fps on a
    machine busy with other work (load ≥ cores) is lower than the same machine idle."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu_name(), "cores": cores, "gpu": gpu_name(), "load_average_1min": load}


def describe_machine(machine: dict) -> str:
    text = f"{machine['cpu']}, {machine['cores']} cores, {machine['gpu'] or 'no GPU'}"
    if machine["load_average_1min"] is not None:
        text += f", load {machine['load_average_1min']:.1f}"
    return text


def rss_mb() -> float | None:
    """Current resident memory (Linux /proc), None elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * resource.getpagesize() / MB


def process_peak_rss_mb() -> float:
    """Highest resident memory of this process so far (kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MB if platform.system() == "Darwin" else peak / 1024


class RssSampler:
    """Samples RSS every `interval` s in a thread while used as a context manager; `peak_mb` is the
    highest sample, i.e. the peak of this run alone (ru_maxrss covers the whole process)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak_mb: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def _sample(self) -> None:
        now = rss_mb()
        if now is not None:
            self.peak_mb = now if self.peak_mb is None else max(self.peak_mb, now)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
