"""A regular (not editable) install carries the weights, the detector models and the demo video."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installed_outside_the_checkout_annotates_the_demo_video(tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("fer_live-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for bundled in (
        "fer_live/bundled/fer_live_se_resnet.pt",
        "fer_live/bundled/fer_live_se_resnet.int8.onnx",
        "fer_live/bundled/models/face_detection_full_range_sparse.tflite",
        "fer_live/bundled/models/LICENSE.mediapipe",
        "fer_live/bundled/demo/demo.mp4",
    ):
        assert bundled in names

    # A fresh environment: the wheel unpacked as its only copy of fer_live; the dependencies come from
    # this environment's site-packages through a plain path entry, which skips the editable finder.
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    zipfile.ZipFile(wheel).extractall(site)
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = subprocess.run(
        [python, "-c", "import fer_live.assets as a; print(a.__file__); print(a.ROOT)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    module_file, root = where.stdout.split()
    assert Path(module_file).is_relative_to(site) and Path(root) == site / "fer_live" / "bundled"

    out = tmp_path / "out"
    done = subprocess.run(
        [
            python,
            "-m",
            "fer_live",
            "annotate",
            "--backend",
            "onnx-int8",
            str(Path(root) / "demo" / "demo.mp4"),
            "-o",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    with (out / "demo.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len({row["frame"] for row in rows}) > 100 and sum(bool(row["face_id"]) for row in rows) > 100
    sidecar = json.loads((out / "demo.json").read_text())
    assert sidecar["status"] == "complete" and Path(sidecar["weights"]["file"]).is_relative_to(site)
