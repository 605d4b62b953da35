"""`fer-live annotate`: CSV contents on real faces, parallel and sharded runs, and the bad-input matrix.

A few cases run the real command in a subprocess (quiet stderr, Ctrl-C, exit status); the rest
call cli.main in-process, which is much cheaper.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fer_live import cli
from fer_live.cli.annotate import select_videos
from fer_live.errors import FerLiveError
from fer_live.model import ModelConfig, SEResNet, save_weights
from fer_live.pipeline.sources import VideoFileSource
from fer_live.results import AU_COLUMNS, CSV_COLUMNS, GEOMETRY_COLUMNS, read_results_csv
from tests.bad_inputs import BAD_FILES, damage_mjpeg_frame, make_bad_file, write_random_bytes
from tests.videos import DEFAULT_FACES, make_face_video

REPO = Path(__file__).resolve().parents[1]
SMALL = ModelConfig(widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1))
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def csv_rows(path: Path, extra: tuple[str, ...] = ()) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_COLUMNS + extra + GEOMETRY_COLUMNS + AU_COLUMNS
        return list(reader)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("fer-live: error:")]


def assert_one_error_about(stderr: str, mentioned: Path | str) -> str:
    assert "Traceback" not in stderr
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert str(mentioned) in lines[0]
    # Nothing else on stderr: no native library chatter, only our own lines.
    assert all(line.startswith("fer-live:") for line in stderr.splitlines()), stderr
    return lines[0]


def fer_live_subprocess(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fer_live", *args], cwd=REPO, capture_output=True, text=True, timeout=300, **kwargs
    )


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, one_face_video, crossing_faces_video, random_weights):
    """The real command, in its own process, on the one-face and the crossing video."""
    out_dir = tmp_path_factory.mktemp("reference")
    videos = [str(one_face_video[0]), str(crossing_faces_video[0])]
    done = fer_live_subprocess(
        "annotate", *videos, "-o", str(out_dir), "--weights", str(random_weights), "--threads", "1"
    )
    return done, out_dir


def annotate(capfd, *args) -> tuple[int, str, str]:
    # One torch thread everywhere, so runs with different --jobs compute bit-identical numbers.
    status = cli.main(["annotate", *map(str, args), "--threads", "1"])
    captured = capfd.readouterr()
    return status, captured.out, captured.err


# ---------------------------------------------------------------------------------------------
# Contents


def test_one_face_video_gives_one_row_per_frame_with_one_id(reference_run, one_face_video):
    done, out_dir = reference_run
    assert done.returncode == 0, done.stderr
    # Quiet: no MediaPipe/LiteRT/FFmpeg lines, no progress bar when stderr is not a terminal.
    assert done.stderr == ""
    rows = csv_rows(out_dir / "one_face.csv")
    assert len(rows) == 90
    assert [int(r["frame"]) for r in rows] == list(range(90))
    assert {r["face_id"] for r in rows} == {"1"}
    _, placed = one_face_video
    for row, face in zip(rows, placed, strict=True):
        centre_x = float(row["x"]) + float(row["w"]) / 2
        assert abs(centre_x - (face.x + face.side / 2)) < face.side / 4
        assert sum(float(row[f"p_{c}"]) for c in ("neutral", "happy", "sad", "surprise")) <= 1.0
        assert -1 <= float(row["valence"]) <= 1 and -1 <= float(row["arousal"]) <= 1
    frames = read_results_csv(out_dir / "one_face.csv")
    assert [len(f.faces) for f in frames] == [1] * 90
    assert frames[45].time_s == pytest.approx(1.5, abs=1e-3)


def test_each_csv_has_a_provenance_sidecar(reference_run, one_face_video, random_weights):
    from fer_live import __version__
    from fer_live.checksums import file_sha256

    _, out_dir = reference_run
    sidecar = json.loads((out_dir / "one_face.json").read_text())
    assert sidecar["format"] == "fer_live.annotation/1" and sidecar["fer_live_version"] == __version__
    assert sidecar["status"] == "complete" and sidecar["error"] is None and sidecar["csv"] == "one_face.csv"
    assert sidecar["weights"]["sha256"] == file_sha256(random_weights)
    assert sidecar["source"] == {"video": str(one_face_video[0]), "frame_count": 90}
    assert sidecar["frames_written"] == 90 and sidecar["skipped_frames"] == []
    assert sidecar["settings"]["detector_range"] == "full" and sidecar["settings"]["smoothing"] == 0.0
    assert sidecar["backend"] in ("onnx", "torch") and sidecar["device"].startswith("CPU")
    assert sidecar["start_time"] <= sidecar["end_time"]


def test_a_video_that_fails_to_open_keeps_the_earlier_csv_and_its_sidecar(capfd, tmp_path, short_video, random_weights):
    out_dir = tmp_path / "out"
    assert annotate(capfd, short_video, "-o", out_dir, "--weights", random_weights)[0] == 0
    earlier = {name: (out_dir / name).read_bytes() for name in ("good.csv", "good.json")}
    broken = write_random_bytes(tmp_path / "good.mp4")  # same stem, so the same output files
    status, _, err = annotate(capfd, broken, "-o", out_dir, "--weights", random_weights)
    assert status == 1
    assert_one_error_about(err, broken)
    assert {name: (out_dir / name).read_bytes() for name in earlier} == earlier


def test_summary_line_per_video(reference_run, one_face_video):
    done, out_dir = reference_run
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    one_face = next(line for line in lines if line.startswith("one_face.mp4:"))
    assert one_face.startswith("one_face.mp4: 90 frames, 90 with a face, 1 face ID, ")
    assert one_face.endswith(f" fps -> {out_dir / 'one_face.csv'}")
    crossing = next(line for line in lines if line.startswith("crossing.mp4:"))
    assert crossing.startswith("crossing.mp4: 90 frames, 90 with a face, 2 face IDs, ")


def test_crossing_video_has_a_row_per_visible_face(reference_run, crossing_faces_video):
    _, out_dir = reference_run
    rows = csv_rows(out_dir / "crossing.csv")
    per_frame: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        per_frame.setdefault(int(row["frame"]), []).append(row)
    assert sorted(per_frame) == list(range(90))
    assert all(1 <= len(faces) <= 2 for faces in per_frame.values())
    both = [faces for faces in per_frame.values() if len(faces) == 2]
    assert len(both) >= 72  # the detector misses one of the two in a few frames
    assert len(rows) == 90 + len(both)
    assert all({r["face_id"] for r in faces} == {"1", "2"} for faces in both)
    # The face that starts on the left (top row) keeps its ID all the way to the right.
    _, placed = crossing_faces_video
    top_id = next(r["face_id"] for r in per_frame[0] if float(r["y"]) < 240)
    for frame, faces in per_frame.items():
        top_face = next(p for p in placed if p.frame == frame and p.face == 0)
        for row in faces:
            is_top = abs(float(row["y"]) - top_face.y) < 100
            assert (row["face_id"] == top_id) == is_top, f"frame {frame}: {row['face_id']} at y={row['y']}"


# ---------------------------------------------------------------------------------------------
# Many videos: parallel jobs and shards give the single run's files


def test_jobs_give_identical_csvs_and_report_bad_videos(
    capfd, tmp_path, reference_run, one_face_video, crossing_faces_video, random_weights
):
    _, reference = reference_run
    missing = tmp_path / "missing.mp4"
    status, out, err = annotate(
        capfd,
        one_face_video[0],
        crossing_faces_video[0],
        missing,
        "-o",
        tmp_path / "out",
        "--weights",
        random_weights,
        "--jobs",
        "2",
    )
    assert status == 1
    assert_one_error_about(err, missing)
    assert len(out.splitlines()) == 2
    for name in ("one_face.csv", "crossing.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (reference / name).read_bytes()


def test_shards_together_give_the_single_run(
    capfd, tmp_path, reference_run, one_face_video, crossing_faces_video, random_weights
):
    _, reference = reference_run
    # The same list in another order and with a repeat: shards see the same sorted, unique list.
    lists = {
        1: [one_face_video[0], crossing_faces_video[0]],
        2: [crossing_faces_video[0], one_face_video[0], crossing_faces_video[0]],
    }
    written = []
    for shard, videos in lists.items():
        out_dir = tmp_path / f"shard{shard}"
        status, out, err = annotate(capfd, *videos, "-o", out_dir, "--weights", random_weights, "--shard", f"{shard}/2")
        assert (status, err) == (0, "")
        assert len(out.splitlines()) == 1
        written += sorted(p.name for p in out_dir.glob("*.csv"))
        for path in out_dir.glob("*.csv"):
            assert path.read_bytes() == (reference / path.name).read_bytes()
    assert sorted(written) == ["crossing.csv", "one_face.csv"]


def test_select_videos_sorts_dedupes_and_slices(tmp_path):
    names = [f"v{i:02d}.mp4" for i in range(10)]
    paths = [str(tmp_path / n) for n in reversed(names)] + [str(tmp_path / "sub" / ".." / "v03.mp4")]
    everything = select_videos(paths)
    assert [p.name for p in everything] == names
    shards = [select_videos(paths, (k, 3)) for k in (1, 2, 3)]
    assert [len(s) for s in shards] == [3, 3, 4]
    assert [p.name for s in shards for p in s] == names
    assert select_videos(paths[:1], (1, 2)) == [] and len(select_videos(paths[:1], (2, 2))) == 1
    with pytest.raises(FerLiveError, match="would both write v01.csv"):
        select_videos([str(tmp_path / "a" / "v01.mp4"), str(tmp_path / "b" / "v01.avi")])


# ---------------------------------------------------------------------------------------------
# Bad videos: one error line each, the other videos still annotated


@pytest.mark.parametrize("kind", [*BAD_FILES, "unreadable"])
def test_bad_video_is_reported_and_the_others_still_annotated(
    capfd, monkeypatch, tmp_path, kind, short_video, random_weights
):
    if kind == "unreadable":
        bad = tmp_path / "unreadable.mp4"
        bad.write_bytes(short_video.read_bytes())
        bad.chmod(0)
        if AS_ROOT:  # root reads anything: make the permission check see what a user would
            real_access = os.access
            monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == bad else real_access(p, mode))
    else:
        bad = make_bad_file(kind, tmp_path, short_video)
    status, out, err = annotate(capfd, bad, short_video, "-o", tmp_path / "out", "--weights", random_weights)
    assert status == 1
    assert_one_error_about(err, bad)
    assert not (tmp_path / "out" / f"{bad.stem}.csv").exists()
    rows = csv_rows(tmp_path / "out" / "good.csv")
    assert len(rows) == 10 and all(r["face_id"] == "1" for r in rows)
    assert out.startswith("good.mp4: 10 frames, 10 with a face, 1 face ID")


def test_undecodable_frame_is_skipped_reported_and_the_rest_annotated(tmp_path, shared_data, random_weights):
    video = tmp_path / "damaged.avi"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=30, size=(320, 240), side=120)
    damage_mjpeg_frame(video, 12)
    out_dir = tmp_path / "out"
    done = fer_live_subprocess("annotate", str(video), "-o", str(out_dir), "--weights", str(random_weights))
    assert done.returncode == 1
    line = assert_one_error_about(done.stderr, video)
    assert "1 undecodable frame skipped (frame 12)" in line
    rows = csv_rows(out_dir / "damaged.csv")
    assert [int(r["frame"]) for r in rows] == [i for i in range(30) if i != 12]
    assert all(r["face_id"] == "1" for r in rows)
    assert float(rows[12]["time_s"]) == pytest.approx(13 / 30, abs=1e-3)
    assert done.stdout.startswith("damaged.avi: 29 frames, 29 with a face, 1 face ID")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("no_faces", lambda p: make_face_video(p, (), n_frames=10, size=(320, 240))),
        ("tiny_1x1", lambda p: write_frames(p, [np.full((1, 1, 3), 128, np.uint8)] * 5)),
    ],
)
def test_video_without_faces_gives_rows_with_empty_face_fields(capfd, tmp_path, name, make, random_weights):
    video = tmp_path / f"{name}.{'avi' if name == 'tiny_1x1' else 'mp4'}"
    make(video)
    status, out, err = annotate(capfd, video, "-o", tmp_path, "--weights", random_weights)
    assert (status, err) == (0, "")
    rows = csv_rows(tmp_path / f"{name}.csv")
    count = 10 if name == "no_faces" else 5
    assert [int(r["frame"]) for r in rows] == list(range(count))
    assert all(r[c] == "" for r in rows for c in CSV_COLUMNS[2:])
    assert out.startswith(f"{video.name}: {count} frames, 0 with a face, 0 face IDs")


def write_frames(path: Path, frames: list[np.ndarray]) -> None:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


@pytest.mark.parametrize(
    ("name", "options"),
    [("grey", {"grey": True, "size": (640, 480), "side": 200}), ("uhd_4k", {"size": (3840, 2160), "side": 900})],
)
def test_grey_and_4k_videos_are_annotated(capfd, tmp_path, shared_data, name, options, random_weights):
    video = tmp_path / f"{name}.mp4"
    # 10 frames: fewer would make the face jump across the frame from one to the next.
    placed = make_face_video(video, DEFAULT_FACES[:1], n_frames=10, **options)
    with VideoFileSource(video) as source:
        assert source.size == options["size"]
        first = next(iter(source)).image
    if options.get("grey"):  # decoded as BGR, with three equal channels
        assert np.array_equal(first[..., 0], first[..., 1]) and np.array_equal(first[..., 1], first[..., 2])
    status, out, err = annotate(capfd, video, "-o", tmp_path, "--weights", random_weights)
    assert (status, err) == (0, "")
    rows = csv_rows(tmp_path / f"{name}.csv")
    assert len(rows) == 10 and {r["face_id"] for r in rows} == {"1"}
    for row, face in zip(rows, placed, strict=True):
        assert abs(float(row["x"]) + float(row["w"]) / 2 - (face.x + face.side / 2)) < face.side / 4
        assert 0.5 * face.side < float(row["w"]) < 1.1 * face.side


# ---------------------------------------------------------------------------------------------
# Bad outputs and weights: one line, non-zero, nothing half-written


def test_output_path_that_is_a_file(capfd, tmp_path, short_video, random_weights):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    status, out, err = annotate(capfd, short_video, "-o", blocker, "--weights", random_weights)
    assert status == 2 and out == ""
    assert "not a folder" in assert_one_error_about(err, blocker)
    status, _, err = annotate(capfd, short_video, "-o", blocker / "sub", "--weights", random_weights)
    assert status == 2
    assert "not writable" in assert_one_error_about(err, blocker / "sub")


def test_read_only_output_folder(capfd, monkeypatch, tmp_path, short_video, random_weights):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if AS_ROOT:  # root writes into read-only folders: let the folder refuse as it would for a user
        import fer_live.cli.annotate

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr(fer_live.cli.annotate.tempfile, "NamedTemporaryFile", refuse)
    status, _, err = annotate(capfd, short_video, "-o", locked, "--weights", random_weights)
    assert status == 2
    assert "not writable" in assert_one_error_about(err, locked)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_from_the_start(capfd, tmp_path, short_video, one_face_video, random_weights):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # annotate writes one_face.csv.partial, renamed on completion; every write to it fails with ENOSPC
    (out_dir / "one_face.csv.partial").symlink_to("/dev/full")
    status, out, err = annotate(capfd, one_face_video[0], short_video, "-o", out_dir, "--weights", random_weights)
    assert status == 1
    assert "No space left on device" in assert_one_error_about(err, out_dir / "one_face.csv")
    assert len(csv_rows(out_dir / "good.csv")) == 10


class FillingDisk(io.FileIO):
    """A file on a disk with `capacity` bytes free: the write that crosses it lands partly, then ENOSPC."""

    capacity = 0

    def write(self, data) -> int:
        room = self.capacity - self.tell()
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(bytes(data)[:room])


def test_disk_filling_up_keeps_every_complete_frame(capfd, monkeypatch, tmp_path, one_face_video, random_weights):
    import fer_live.results_csv

    FillingDisk.capacity = 1200  # the header and a handful of rows

    def open_on_filling_disk(path, mode, newline=None):
        return io.TextIOWrapper(io.BufferedWriter(FillingDisk(path, "w")), encoding="utf-8", newline=newline)

    monkeypatch.setattr(fer_live.results_csv, "open", open_on_filling_disk, raising=False)
    out_csv = tmp_path / "one_face.csv"
    status, out, err = annotate(capfd, one_face_video[0], "-o", tmp_path, "--weights", random_weights)
    assert status == 1 and out == ""
    line = assert_one_error_about(err, out_csv)
    assert "No space left on device" in line
    data = out_csv.read_bytes()
    rows = csv_rows(out_csv)
    row_bytes = (len(data) - data.index(b"\n") - 1) / len(rows)
    # Cut back to the end of the last whole row, losing only the part of the row that did not fit.
    assert data.endswith(b"\r\n") and FillingDisk.capacity - row_bytes < len(data) <= FillingDisk.capacity
    assert len(rows) >= 3
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    assert all(r["arousal"] and r["face_id"] == "1" for r in rows)
    assert f"kept {len(rows)} complete frames" in line


def different_architecture_weights(path: Path) -> Path:
    """A weights file whose tensors come from another architecture than its config says."""
    save_weights(path, SEResNet(SMALL))
    payload = torch.load(path, weights_only=True)
    payload["config"] = ModelConfig(widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1)).to_dict()
    torch.save(payload, path)
    return path


@pytest.mark.parametrize(
    ("kind", "make", "message"),
    [
        ("missing", lambda p: p, "weights file not found"),
        ("random-bytes", write_random_bytes, "weights file"),
        ("plain-state-dict", lambda p: torch.save(SEResNet(SMALL).state_dict(), p) or p, "not a fer_live"),
        ("other-architecture", different_architecture_weights, "do not match the architecture"),
    ],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bad_weights_are_one_clear_line(capfd, tmp_path, short_video, kind, make, message, jobs):
    weights = make(tmp_path / f"{kind}.pt")
    status, out, err = annotate(capfd, short_video, "-o", tmp_path / "out", "--weights", weights, "--jobs", jobs)
    assert status == 2 and out == ""
    assert message in assert_one_error_about(err, weights)
    assert list((tmp_path / "out").glob("*.csv")) == []


# ---------------------------------------------------------------------------------------------
# Ctrl-C


def test_ctrl_c_keeps_a_complete_csv_and_exits_130(tmp_path, shared_data, random_weights):
    video = tmp_path / "long.mp4"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=240, size=(320, 240), side=120)
    out_csv = tmp_path / "out" / "long.csv"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fer_live",
            "annotate",
            str(video),
            "-o",
            str(out_csv.parent),
            "--weights",
            str(random_weights),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        partial = out_csv.with_name(out_csv.name + ".partial")  # renamed to out_csv when done
        if partial.exists() and partial.read_text().count("\n") > 6:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert error_lines(err) == []
    (interrupted,) = err.splitlines()
    rows = csv_rows(out_csv)
    assert interrupted == f"fer-live: interrupted: {video} stopped after {len(rows)} frames, all of them in {out_csv}"
    assert 6 <= len(rows) < 240
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    assert all(None not in r.values() and r["arousal"] != "" for r in rows)  # no half-written row
    assert out_csv.read_text().endswith("\n")
    sidecar = json.loads(out_csv.with_suffix(".json").read_text())
    assert sidecar["status"] == "interrupted" and sidecar["frames_written"] == len(rows)
    assert sidecar["source"] == {"video": str(video), "frame_count": 240}


def test_jobs_are_capped_by_cores_and_free_memory_and_say_so(monkeypatch):
    from fer_live.cli import pool

    monkeypatch.setattr(pool.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(pool, "available_memory", lambda: 3 * pool.WORKER_BYTES + 1)
    assert pool.affordable_jobs(64) == (3, "--jobs 64 capped to 3 (8 cores, 1.8 GB free at ~0.6 GB a worker)")
    assert pool.affordable_jobs(2) == (2, None)
    monkeypatch.setattr(pool, "available_memory", lambda: None)
    assert pool.affordable_jobs(64) == (8, "--jobs 64 capped to 8 (8 cores)")


def test_photo_names_a_spreadsheet_would_run_are_written_as_text_and_read_back(tmp_path, shared_data, random_weights):
    from fer_live import read_results

    folder = tmp_path / "stimuli"
    folder.mkdir()
    for name in ("=1+2.jpg", "@SUM(A1).jpg", "plain.jpg"):
        shutil.copy(shared_data / "diffusionfer" / "images" / "aaaaaaaa_6.jpg", folder / name)
    out = tmp_path / "out"
    assert cli.main(["annotate", str(folder), "-o", str(out), "--weights", str(random_weights)]) == 0
    rows = csv_rows(out / "stimuli.csv", extra=("source_file",))
    assert [r["source_file"] for r in rows] == ["'=1+2.jpg", "'@SUM(A1).jpg", "plain.jpg"]
    assert list(read_results(out / "stimuli.csv")["source_file"]) == ["=1+2.jpg", "@SUM(A1).jpg", "plain.jpg"]


def test_photos_and_image_folders_annotate_as_stills_with_their_file_names(tmp_path, shared_data, random_au_weights):
    folder = tmp_path / "stimuli"
    folder.mkdir()
    for name in ("aaaaaaaa_6.jpg", "aawkxnwq_6.jpg"):
        shutil.copy(shared_data / "diffusionfer" / "images" / name, folder / name)
    (folder / "broken.png").write_bytes(b"not a png")
    weights = ["--weights", str(random_au_weights)]
    out = tmp_path / "out"
    status = cli.main(["annotate", str(folder), "-o", str(out), *weights])
    assert status == 1  # the unreadable photo is damage: counted and named, everything else written
    rows = csv_rows(out / "stimuli.csv", extra=("source_file",))
    assert [r["source_file"] for r in rows] == ["aaaaaaaa_6.jpg", "aawkxnwq_6.jpg"]
    assert [r["face_id"] for r in rows] == ["1", "2"]  # stills: a new face each, never smoothed across
    sidecar = json.loads((out / "stimuli.json").read_text())
    assert sidecar["status"] == "complete" and sidecar["skipped_frames"] == [2]  # broken.png, third by name
    assert sidecar["made_as"]["video"]["photos"] == ["aaaaaaaa_6.jpg", "aawkxnwq_6.jpg", "broken.png"]
    # The API reads the same photos to the same numbers.
    from fer_live import Detector

    with Detector(random_au_weights, device="cpu") as detector:
        frame = detector.detect_image([folder / "aaaaaaaa_6.jpg", folder / "aawkxnwq_6.jpg"])
    assert [f"{v:.4f}" for v in frame["p_happy"]] == [r["p_happy"] for r in rows]
    # Photos named one by one: one CSV for their folder, with just those photos; a lone photo's is its own.
    loose = tmp_path / "loose"
    photos = [str(folder / "aawkxnwq_6.jpg"), str(folder / "aaaaaaaa_6.jpg")]
    assert cli.main(["annotate", *photos, "-o", str(loose), *weights]) == 0
    named = [r["source_file"] for r in csv_rows(loose / "stimuli.csv", extra=("source_file",))]
    assert named == ["aaaaaaaa_6.jpg", "aawkxnwq_6.jpg"]
    assert cli.main(["annotate", photos[0], "-o", str(loose), *weights]) == 0
    assert [r["source_file"] for r in csv_rows(loose / "aawkxnwq_6.csv", extra=("source_file",))] == ["aawkxnwq_6.jpg"]
    assert cli.main(["annotate", str(folder / "missing.jpg"), "-o", str(loose), *weights]) == 2
