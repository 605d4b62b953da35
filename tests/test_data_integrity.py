"""Nothing lost, nothing misread (issue 17, items 1-8, headless part): one run at a time writes an
annotate output and existing outputs follow one rule; an image folder is a set of stills; a video
cut off at the end and an unreadable image are reported and counted; a cut-off frames.csv is
noticed; annotate workers die with their parent; SIGTERM stops annotate like Ctrl-C; a full disk
ends a recording cleanly. The GUI's part (review, SIGTERM) is in test_gui_sessions.py.
"""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_live import cli
from fer_live.atomic import write_json_atomic
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.sources import ImageFolderSource, VideoFileSource
from fer_live.pipeline.stream import process_stream
from fer_live.results import FrameResult
from fer_live.results_csv import CompleteFramesCsv
from fer_live.sessions.reader import Session
from tests.videos import DEFAULT_FACES, load_face, make_face_video

REPO = Path(__file__).resolve().parents[1]


def annotate(capfd, *args) -> tuple[int, str, str]:
    status = cli.main(["annotate", *map(str, args), "--threads", "1"])
    captured = capfd.readouterr()
    return status, captured.out, captured.err


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def fer_live_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fer_live", *map(str, args)]


def wait_for(condition, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            out, err = process.communicate()
            raise AssertionError(f"gave up waiting (exit status {process.returncode}): {err[-2000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, shared_data) -> Path:
    """Four stills of two different people, alternating, each face at the same place."""
    folder = tmp_path_factory.mktemp("stills") / "faces"
    folder.mkdir()
    background = np.full((240, 320, 3), 110, np.uint8)
    for index in range(4):
        image = background.copy()
        image[40:200, 80:240] = load_face(DEFAULT_FACES[index % 2], 160)
        cv2.imwrite(str(folder / f"still_{index}.png"), image)
    return folder


# ---------------------------------------------------------------------------------------------
# 1. One writer per annotate output; existing outputs


def test_an_output_another_run_is_writing_is_left_to_it(capfd, tmp_path, short_video, random_weights):
    out_csv = tmp_path / "out" / "good.csv"
    out_csv.parent.mkdir()
    with CompleteFramesCsv(out_csv) as other_run:  # another annotate run, in the middle of the video
        other_run.write(FrameResult(0, 0.0))
        status, out, err = annotate(capfd, short_video, "-o", out_csv.parent, "--weights", random_weights)
        assert status == 1 and out == ""
        (line,) = err.splitlines()
        assert line == (
            f"fer-live: error: {out_csv} is being written by another fer-live run "
            "(its good.csv.partial is locked); left to that run"
        )
        assert not out_csv.exists()
        assert len(rows_of(other_run.partial)) == 1  # its rows untouched, no rows of ours mixed in
        other_run.close()
        other_run.commit()
    assert [row["frame"] for row in rows_of(out_csv)] == ["0"]


def test_existing_outputs_are_kept_redone_or_refused(capfd, tmp_path, short_video, random_weights):
    out_dir = tmp_path / "out"
    out_csv, sidecar = out_dir / "good.csv", out_dir / "good.json"
    run = ("-o", out_dir, "--weights", random_weights)
    assert annotate(capfd, short_video, *run)[0] == 0
    written = out_csv.read_bytes(), out_csv.stat().st_mtime_ns
    assert sorted(p.name for p in out_dir.iterdir()) == ["good.csv", "good.json"]  # no .partial left

    # The same run again (a rerun of a batch): nothing redone.
    status, out, err = annotate(capfd, short_video, *run)
    assert (status, err) == (0, "")
    assert out == f"good.mp4: already annotated the same way, kept {out_csv} (--overwrite redoes it)\n"
    assert (out_csv.read_bytes(), out_csv.stat().st_mtime_ns) == written

    # Other settings: refused without --overwrite, the file left as it was.
    status, out, err = annotate(capfd, short_video, *run, "--smooth", "0.5", "--detector", "short")
    assert status == 1 and out == ""
    assert err == (
        f"fer-live: error: {short_video}: {out_csv} exists, made another way (detector_range 'full' -> 'short', "
        "smoothing 0.0 -> 0.5); --overwrite replaces it\n"
    )
    assert out_csv.read_bytes() == written[0]
    status, out, _ = annotate(capfd, short_video, *run, "--smooth", "0.5", "--overwrite")
    assert status == 0 and out.startswith("good.mp4: 10 frames")
    assert json.loads(sidecar.read_text())["settings"]["smoothing"] == 0.5

    # An output an earlier run left interrupted is simply redone.
    info = json.loads(sidecar.read_text())
    write_json_atomic(sidecar, {**info, "status": "interrupted"})
    assert annotate(capfd, short_video, *run)[0] == 0
    assert json.loads(sidecar.read_text())["status"] == "complete"

    # A CSV without its sidecar is not ours to replace unasked.
    sidecar.unlink()
    status, _, err = annotate(capfd, short_video, *run)
    assert status == 1 and "exists, with no good.json saying how it was made; --overwrite" in err


# ---------------------------------------------------------------------------------------------
# Issue 25, items 3-5: a file named like a sidecar, a kept CSV that changed, --overwrite


@pytest.mark.parametrize("content", ['{"transcript": "I said"}', "not json", "[" * 100_000, "1" * 5000, ""])
def test_a_file_at_the_sidecar_path_that_is_not_a_sidecar_is_never_replaced(
    capfd, tmp_path, short_video, random_weights, content
):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    transcript = out_dir / "good.json"
    transcript.write_text(content)
    for overwrite in ((), ("--overwrite",)):
        status, out, err = annotate(capfd, short_video, "-o", out_dir, "--weights", random_weights, *overwrite)
        assert (status, out) == (1, "")
        assert err == (
            f"fer-live: error: {short_video}: {transcript} exists and is not a fer_live annotation sidecar; "
            "left as it is: move it, or annotate into another folder\n"
        )
        assert transcript.read_text() == content
        assert sorted(p.name for p in out_dir.iterdir()) == ["good.json"]


def test_a_kept_csv_must_be_the_one_its_sidecar_describes(capfd, tmp_path, short_video, random_weights):
    out_dir = tmp_path / "out"
    out_csv, sidecar = out_dir / "good.csv", out_dir / "good.json"
    run = ("-o", out_dir, "--weights", random_weights)
    assert annotate(capfd, short_video, *run)[0] == 0
    written = out_csv.read_bytes()
    info = json.loads(sidecar.read_text())
    assert (info["csv_bytes"], info["frames_written"]) == (len(written), 10)

    # Cut short by hand: refused, not "kept".
    lines = written.splitlines(keepends=True)
    out_csv.write_bytes(b"".join(lines[:4]))
    status, out, err = annotate(capfd, short_video, *run)
    assert (status, out) == (1, "")
    assert err == (
        f"fer-live: error: {short_video}: {out_csv} exists, changed since it was written "
        f"({len(b''.join(lines[:4]))} bytes; good.json says {len(written)} bytes, 10 frames); "
        "--overwrite replaces it\n"
    )
    # The same size, other numbers.
    out_csv.write_bytes(written.replace(b",0.", b",1.", 1))
    status, out, err = annotate(capfd, short_video, *run)
    assert (status, out) == (1, "")
    assert "exists, changed since it was written (its sha256 is not the one good.json records)" in err
    # A sidecar from before fer_live recorded the CSV's size and sha256 cannot vouch for it.
    out_csv.write_bytes(written)
    write_json_atomic(sidecar, {k: v for k, v in info.items() if k not in ("csv_bytes", "csv_sha256")})
    status, out, err = annotate(capfd, short_video, *run)
    assert status == 1 and "made by an older fer_live whose good.json does not record the CSV's size" in err
    assert out_csv.read_bytes() == written


def test_overwrite_redoes_a_csv_that_would_be_kept(capfd, tmp_path, short_video, random_weights):
    out_dir = tmp_path / "out"
    run = ("-o", out_dir, "--weights", random_weights)
    assert annotate(capfd, short_video, *run)[0] == 0
    started = json.loads((out_dir / "good.json").read_text())["start_time"]
    status, out, _ = annotate(capfd, short_video, *run)
    assert (status, out) == (
        0,
        f"good.mp4: already annotated the same way, kept {out_dir / 'good.csv'} (--overwrite redoes it)\n",
    )
    time.sleep(0.01)  # start times are to the millisecond
    status, out, _ = annotate(capfd, short_video, *run, "--overwrite")
    assert status == 0 and out.startswith("good.mp4: 10 frames, 10 with a face")
    assert json.loads((out_dir / "good.json").read_text())["start_time"] > started


# ---------------------------------------------------------------------------------------------
# 2, 4. Image folders: each image a still; an unreadable one skipped and counted


def test_each_image_of_a_folder_is_a_still_of_its_own(face_folder, random_weights):
    def run(smoothing: float, detect_every: int = 1) -> list[FrameResult]:
        settings = PipelineSettings(smoothing=smoothing, device="cpu", threads=1, detect_every=detect_every)
        with ImageFolderSource(face_folder) as source, Pipeline(settings, random_weights) as pipeline:
            return list(process_stream(source, pipeline))

    raw, smoothed, sparse = run(0.0), run(0.9), run(0.9, detect_every=3)
    assert [len(r.faces) for r in raw] == [1, 1, 1, 1]
    # New face IDs on every image, and nothing smoothed over from the image before.
    assert [r.faces[0].face_id for r in smoothed] == [1, 2, 3, 4]
    for other in (smoothed, sparse):
        for plain, same in zip(raw, other, strict=True):
            np.testing.assert_array_equal(plain.faces[0].probs, same.faces[0].probs)
            assert plain.faces[0].box == same.faces[0].box  # detected on each image, never reused


def test_record_names_each_image_and_skips_an_unreadable_one(tmp_path, face_folder, random_weights):
    folder = tmp_path / "faces"
    shutil.copytree(face_folder, folder)
    (folder / "still_2.png").write_bytes(b"not a png")
    out = tmp_path / "session"
    done = subprocess.run(
        fer_live_command("record", "--source", folder, "--out", out, "--weights", random_weights, "--smooth", "0.9"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"fer-live: error: {folder}: 1 unreadable image skipped (image still_2.png); every frame read is recorded"
    )
    rows = rows_of(out / "frames.csv")
    assert [(row["frame"], row["source_frame"], row["source_file"], row["face_id"]) for row in rows] == [
        ("0", "0", "still_0.png", "1"),
        ("1", "1", "still_1.png", "2"),
        ("2", "3", "still_3.png", "3"),
    ]  # frame counts the recording's frames; the source's index says which image
    info = json.loads((out / "session.json").read_text())
    assert info["end_time"] and info["source_damage"] == {"skipped_frames": [2], "missing_at_end": 0}


def test_a_fifo_named_like_an_image_is_skipped_and_counted_not_waited_on(tmp_path, face_folder):
    import os
    import threading

    folder = tmp_path / "faces"
    shutil.copytree(face_folder, folder)
    (folder / "still_2.png").unlink()
    os.mkfifo(folder / "still_2.png")  # nothing will ever write to it
    read: list[str] = []

    def read_all() -> None:
        with ImageFolderSource(folder) as source:
            read.extend(frame.file for frame in source)
            read.append(source.damage())

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(timeout=60)
    if reader.is_alive():  # blocked opening the FIFO: open its other end so the thread can end
        os.close(os.open(folder / "still_2.png", os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=10)
        pytest.fail("reading the image folder waited on a FIFO")
    assert read == ["still_0.png", "still_1.png", "still_3.png", "1 unreadable image skipped (image still_2.png)"]


# ---------------------------------------------------------------------------------------------
# 3. A video cut off at the end


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory, shared_data) -> tuple[Path, int]:
    """An MJPG AVI of 120 frames with its second half of bytes gone; (path, frames that decode)."""
    folder = tmp_path_factory.mktemp("cut")
    whole = folder / "whole.avi"
    make_face_video(whole, DEFAULT_FACES[:1], n_frames=120, size=(320, 240), side=120)
    cut = folder / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    capture = cv2.VideoCapture(str(cut))
    readable = 0
    while capture.read()[0]:
        readable += 1
    capture.release()
    assert 30 < readable < 90
    return cut, readable


def test_a_video_cut_off_at_the_end_is_reported_by_annotate(capfd, tmp_path, cut_video, random_weights):
    video, readable = cut_video
    with VideoFileSource(video) as source:
        assert sum(1 for _ in source) == readable
        assert source.missing_at_end == 120 - readable and source.skipped_frames == []
    status, out, err = annotate(capfd, video, "-o", tmp_path, "--weights", random_weights)
    assert status == 1
    assert out.startswith(f"cut.avi: {readable} frames")
    assert err == (
        f"fer-live: error: {video}: ends after {readable} of the 120 frames its header announces "
        f"({120 - readable} missing: the file is cut off); every frame read is in {tmp_path / 'cut.csv'}\n"
    )
    assert len(rows_of(tmp_path / "cut.csv")) == readable
    assert json.loads((tmp_path / "cut.json").read_text())["missing_at_end"] == 120 - readable
    # A rerun keeps the CSV and says again what was wrong with the video, with the same status.
    status, again, err_again = annotate(capfd, video, "-o", tmp_path, "--weights", random_weights)
    assert (status, err_again) == (1, err) and again.startswith("cut.avi: already annotated the same way, kept")


def test_a_video_cut_off_at_the_end_is_reported_by_record(tmp_path, cut_video, random_weights):
    video, readable = cut_video
    out = tmp_path / "session"
    done = subprocess.run(
        fer_live_command("record", "--source", video, "--out", out, "--weights", random_weights),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"fer-live: error: {video}: ends after {readable} of the 120")
    info = json.loads((out / "session.json").read_text())
    assert info["source_damage"] == {"skipped_frames": [], "missing_at_end": 120 - readable}
    assert info["frames_recorded"] == readable


# ---------------------------------------------------------------------------------------------
# 5. A cut-off or emptied frames.csv


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, shared_data, random_weights) -> Path:
    video = tmp_path_factory.mktemp("rec") / "v.avi"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=60, size=(320, 240), side=120)
    out = video.parent / "session"
    code = cli.main(["record", "--source", str(video), "--out", str(out), "--weights", str(random_weights)])
    assert code == 0
    return out


def cut_frames_csv(session: Path, tmp_path: Path, keep_rows: int | None) -> Path:
    copy = tmp_path / session.name
    shutil.copytree(session, copy)
    frames_csv = copy / "frames.csv"
    lines = frames_csv.read_text().splitlines(keepends=True)
    frames_csv.write_text("" if keep_rows is None else "".join(lines[: 1 + keep_rows]))
    return copy


def test_a_cut_off_frames_csv_is_reported_and_not_drawn_stale(capfd, tmp_path, recorded):
    assert Session.load(recorded).missing_results() is None
    session_dir = cut_frames_csv(recorded, tmp_path, keep_rows=30)
    session = Session.load(session_dir)
    assert session.frames_without_results == range(30, 60)
    assert session.latest_result(29).frame == 29
    assert session.latest_result(30) is None and session.latest_result(59) is None  # not row 29's, stale
    message = session.missing_results()
    assert message == (
        f"{session_dir / 'frames.csv'} holds 30 of the 60 recorded frames (cut off or emptied?); "
        "no results after 0.97 s (video frames 30-59)"
    )
    assert cli.main(["report", str(session_dir)]) == 1
    err = capfd.readouterr().err
    assert err == f"fer-live: error: {message}; the report covers only the frames it holds\n"
    assert "holds 30 of the 60 recorded frames" in (session_dir / "report" / "report.html").read_text()


def test_an_empty_frames_csv_is_not_a_session_without_faces(capfd, tmp_path, recorded):
    session_dir = cut_frames_csv(recorded, tmp_path, keep_rows=None)
    assert cli.main(["report", str(session_dir)]) == 1
    assert "holds 0 of the 60 recorded frames" in capfd.readouterr().err
    page = (session_dir / "report" / "report.html").read_text()
    assert "holds 0 of the 60 recorded frames" in page and "No face was detected" not in page


# ---------------------------------------------------------------------------------------------
# 6, 7. Annotate workers die with their parent; SIGTERM is a clean stop


def children_running(parent: int) -> list[int]:
    """PIDs of `parent`'s pool workers (spawned interpreters)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its entry waits to be reaped


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
def test_annotate_workers_die_with_their_parent(tmp_path, shared_data, random_weights):
    videos = []
    for index in range(4):
        videos.append(tmp_path / f"v{index}.avi")
        make_face_video(videos[-1], DEFAULT_FACES[:1], n_frames=600, size=(320, 240), side=120)
    out = tmp_path / "out"
    parent = subprocess.Popen(
        fer_live_command("annotate", *videos, "-o", out, "--jobs", "2", "--weights", random_weights),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(list(out.glob("*.csv.partial"))) == 2, parent)  # both workers are writing
    workers = children_running(parent.pid)
    assert len(workers) == 2
    parent.kill()
    parent.communicate()
    killed = time.monotonic()
    while any(is_running(pid) for pid in workers) and time.monotonic() - killed < 30:
        time.sleep(0.1)
    assert not any(is_running(pid) for pid in workers), "workers outlived their parent by 30 s"
    # Each stopped after its current frame, its whole frames kept and marked interrupted; no new video begun.
    kept = sorted(out.glob("*.csv"))
    assert len(kept) == 2 and not list(out.glob("*.partial"))
    for path in kept:
        frames = [int(row["frame"]) for row in rows_of(path)]
        assert frames == list(range(len(frames))) and 0 < len(frames) < 600
        assert json.loads(path.with_suffix(".json").read_text())["status"] == "interrupted"


def test_sigterm_stops_annotate_like_ctrl_c(tmp_path, shared_data, random_weights):
    video = tmp_path / "long.avi"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=600, size=(320, 240), side=120)
    out_csv = tmp_path / "out" / "long.csv"
    process = subprocess.Popen(
        fer_live_command("annotate", video, "-o", out_csv.parent, "--weights", random_weights),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = out_csv.with_name("long.csv.partial")
    wait_for(lambda: partial.exists() and partial.read_text().count("\n") > 6, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    rows = rows_of(out_csv)
    assert err == (
        f"fer-live: interrupted by SIGTERM: {video} stopped after {len(rows)} frames, all of them in {out_csv}\n"
    )
    assert [int(row["frame"]) for row in rows] == list(range(len(rows))) and all(row["arousal"] for row in rows)
    assert json.loads(out_csv.with_suffix(".json").read_text())["status"] == "interrupted"


# ---------------------------------------------------------------------------------------------
# 8. A full disk


def test_a_failed_json_write_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "session.json"
    write_json_atomic(path, {"a": 1})

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", disk_full)
    with pytest.raises(OSError):
        write_json_atomic(path, {"a": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]
    assert json.loads(path.read_text()) == {"a": 1}


def test_record_stops_cleanly_before_the_disk_is_full(tmp_path, monkeypatch, shared_data, random_weights):
    import fer_live.sessions.recorder as recorder_module

    video = tmp_path / "v.avi"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=60, size=(320, 240), side=120)
    real_usage = shutil.disk_usage
    frames_seen = []

    def filling_disk(path):  # room for 20 frames, then only the finishing reserve
        frames_seen.append(path)
        usage = real_usage(path)
        free = 10**9 if len(frames_seen) <= 20 else recorder_module.FINISH_RESERVE_BYTES
        return usage._replace(free=free)

    monkeypatch.setattr(recorder_module.shutil, "disk_usage", filling_disk)
    out = tmp_path / "session"
    code = cli.main(["record", "--source", str(video), "--out", str(out), "--weights", str(random_weights)])
    assert code == 2
    info = json.loads((out / "session.json").read_text())
    assert info["end_time"] and info["stopped_by"].startswith("error: the disk holding")
    assert "recording stopped, the 20 frames before it are kept" in info["stopped_by"]
    assert info["frames_recorded"] == info["video_frames"] == 20
    assert len(rows_of(out / "frames.csv")) == 20
    assert not list(out.glob("*.tmp"))


def unshare_tmpfs_works() -> bool:
    try:
        return (
            subprocess.run(
                ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, timeout=30
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not unshare_tmpfs_works(), reason="needs a private mount namespace (unshare -rm) for a tiny tmpfs")
def test_record_on_a_really_full_disk_is_one_line_and_a_finished_session(tmp_path, shared_data, random_weights):
    video = tmp_path / "v.avi"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=300, size=(320, 240), side=120)
    disk = tmp_path / "disk"
    disk.mkdir()
    command = " ".join(fer_live_command("record", "--source", video, "--out", disk / "s", "--weights", random_weights))
    done = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=1m tmpfs {disk} && {command}; echo rc=$?; ls {disk}/s; cat {disk}/s/session.json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    status, files, info = done.stdout.partition("{")[0].split("\n", 1) + [done.stdout.partition("{")[1:]]
    assert status == "rc=2", done.stderr
    # One line from us, no OpenCV warnings; every file closed and listed, no temp file left.
    assert (
        done.stderr.splitlines()[1:]
        == [line for line in done.stderr.splitlines() if line.startswith("fer-live: error: the disk holding")]
        and len(done.stderr.splitlines()) == 2
    ), done.stderr
    assert sorted(files.split()) == sorted(
        ["frames.csv", "markers.csv", "session.json", *(f"segment_{i:04d}.avi" for i in range(files.count("segment")))]
    )
    info = json.loads("".join(info))
    assert info["end_time"] and 0 < info["frames_recorded"] == info["video_frames"] < 300
