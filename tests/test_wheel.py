"""A regular (not editable) install, from the sdist too, carries the weights, the detector models and the demo video."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def clean_copy(dest: Path) -> Path:
    """The checkout's files as a clean clone has them: no build/ left from an earlier build (stale
    modules there would ride along into the wheel) and nothing written into the checkout."""
    listed = subprocess.check_output(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    for name in filter(None, listed.decode().split("\0")):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def run_ok(command: list, cwd: Path, timeout: int = 300) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_wheel_installed_outside_the_checkout_annotates_the_demo_video(tmp_path):
    # checkout → sdist → wheel, the path of `pip install <sdist>`; the sdist must carry assets/ too.
    source = clean_copy(tmp_path / "source")
    build_sdist = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    sdist_name = run_ok([sys.executable, "-c", build_sdist, str(tmp_path)], cwd=source).split()[-1]
    sdist = tmp_path / sdist_name
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"assets/fer_live_se_resnet.pt", "assets/models/face_detection_full_range_sparse.tflite"} <= in_sdist
    assert "assets/demo/demo.mp4" in in_sdist and "setup.py" in in_sdist
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w"]
    run_ok([*pip_wheel, str(tmp_path), str(sdist)], cwd=tmp_path)
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

    # Every file fer_live.assets names (weights, detector, mesh and iris models, ...) is installed.
    probe = (
        "import pathlib, fer_live.assets as a\n"
        "named = [v for k, v in vars(a).items() if k.isupper() and k != 'ROOT']\n"
        "paths = [p for v in named for p in (v.values() if isinstance(v, dict) else [v])]\n"
        "print(a.__file__, a.ROOT, len(paths), *[p for p in paths if not p.is_file()])"
    )
    module_file, root, named, *missing = run_ok([python, "-c", probe], cwd=tmp_path, timeout=120).split()
    assert Path(module_file).is_relative_to(site) and Path(root) == site / "fer_live" / "bundled"
    assert int(named) >= 5 and missing == []
    assert not [name for name in names if name.startswith("fer_live/bundled/") and name.endswith(".py")]

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
