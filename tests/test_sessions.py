"""Research sessions: record (CLI and API), markers, a recording killed with SIGKILL, the reader's
video-frame mapping, and the report's per-interval numbers against a direct computation."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_live import __version__, cli
from fer_live.errors import FerLiveError
from fer_live.labels import EXPRESSIONS
from fer_live.pipeline.clock import wall_clock_iso_at
from fer_live.pipeline.sources import Frame
from fer_live.results import FaceResult, FrameResult
from fer_live.sessions.files import parse_marker_labels
from fer_live.sessions.reader import Session
from fer_live.sessions.recorder import Recorder, SessionMetadata, SourceStep, new_session_dir
from fer_live.sessions.summary import marker_intervals
from tests.bad_inputs import VanishingCamera
from tests.videos import DEFAULT_FACES, make_face_video

SESSION_KEYS = {
    "format", "app_version", "start_time", "end_time", "stopped_by", "source", "source_is_live", "resolution",
    "fps", "device", "weights", "settings", "participant", "condition", "notes", "marker_labels",
    "segment_seconds", "segments", "video_frames", "duration_s",
}  # fmt: skip
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def run_cli(*argv: str, stdin_text: str | None = None) -> tuple[int, str]:
    """fer-live in this process: (exit code, stderr); `stdin_text` is what a user would type."""
    stderr = io.StringIO()
    with contextlib.ExitStack() as stack:
        if stdin_text is not None:
            read_fd, write_fd = os.pipe()
            os.write(write_fd, stdin_text.encode())
            os.close(write_fd)
            stack.enter_context(pytest.MonkeyPatch.context()).setattr(sys, "stdin", os.fdopen(read_fd))
        stack.enter_context(contextlib.redirect_stderr(stderr))
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:  # bad arguments: argparse's one line, exit status 2
            code = exit_.code
    return code, stderr.getvalue()


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def segment_frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


@pytest.fixture(scope="module")
def cli_session(tmp_path_factory, one_face_video, random_weights) -> tuple[Path, str]:
    """Two seconds of the one-face video recorded by the CLI, markers typed on stdin."""
    out = tmp_path_factory.mktemp("cli") / "session"
    code, stderr = run_cli(
        "record", "--source", str(one_face_video[0]), "--out", str(out), "--weights", str(random_weights),
        "--duration", "2", "--segment-seconds", "1", "--participant", "P01", "--condition", "calm",
        "--notes", "pilot run", "--markers-labels", "1=start,2=task", "--markers-from-stdin",
        stdin_text="1\nm free text\n2 hard part\nbogus\n",
    )  # fmt: skip
    assert code == 0, stderr
    return out, stderr


@pytest.fixture(scope="module")
def api_session(tmp_path_factory, crossing_faces_video, random_weights) -> Path:
    """The two-face video recorded through the Recorder API, with markers at frames 20, 50 and 70."""
    from fer_live.pipeline.frames import Pipeline, PipelineSettings
    from fer_live.pipeline.sources import open_source

    out = tmp_path_factory.mktemp("api") / "session"
    with open_source(crossing_faces_video[0]) as source, Pipeline(PipelineSettings(), random_weights) as pipeline:
        recorder = Recorder.for_pipeline(
            out, source, pipeline, metadata=SessionMetadata("P02", "stress", ""), marker_labels={"1": "start"}
        )
        for frame in source:
            recorder.write(frame, pipeline.process(frame.index, frame.time_s, frame.image))
            if frame.index == 20:
                recorder.add_marker(1)
            elif frame.index == 50:
                recorder.add_marker("m", "phone rang")
            elif frame.index == 70:
                recorder.add_marker(2, "second task")
        recorder.finish("source ended")
    return out


def test_cli_record_writes_a_complete_session(cli_session, random_weights):
    out, stderr = cli_session
    assert "stopped after --duration: recorded 60 frames" in stderr
    assert "ignored marker 'bogus'" in stderr

    info = json.loads((out / "session.json").read_text())
    assert SESSION_KEYS <= set(info)
    assert info["end_time"] and info["stopped_by"] == "duration"
    assert info["measured_fps"] == pytest.approx(30.0, abs=0.01)
    assert (info["participant"], info["condition"], info["notes"]) == ("P01", "calm", "pilot run")
    assert info["app_version"] == __version__
    assert (info["resolution"], info["fps"]) == ([640, 480], 30.0)
    assert info["weights"]["sha256"] == hashlib.sha256(random_weights.read_bytes()).hexdigest()
    assert info["weights"]["model_version"] == "unknown"
    assert info["settings"]["detector_range"] == "full" and info["settings"]["smoothing"] == 0.0
    assert info["marker_labels"]["1"] == "start" and info["marker_labels"]["3"] == "event 3"

    # One row per face per frame (a face-less row where none), for exactly the 60 frames of 2 s.
    rows = read_rows(out / "frames.csv")
    by_frame = defaultdict(list)
    for row in rows:
        by_frame[int(row["video_frame"])].append(row)
    assert sorted(by_frame) == list(range(60))
    for video_frame, frame_rows in by_frame.items():
        assert all(int(row["frame"]) == video_frame for row in frame_rows)
        assert abs(float(frame_rows[0]["time_s"]) - video_frame / 30) < 0.002
        assert all(row["face_id"] for row in frame_rows) or len(frame_rows) == 1
        assert ISO_MS.match(frame_rows[0]["wall_time"])
    assert sum(1 for row in rows if row["face_id"]) >= 55  # the detector finds the face in nearly every frame

    # Segments: listed, closed, and their frames add up to the rows' video_frame range.
    segments = info["segments"]
    assert [(s["file"], s["first_frame"], s["frames"]) for s in segments] == [
        ("segment_0000.avi", 0, 30),
        ("segment_0001.avi", 30, 30),
    ]
    assert [segment_frame_count(out / s["file"]) for s in segments] == [30, 30]
    assert info["video_frames"] == 60

    markers = read_rows(out / "markers.csv")
    assert [(m["key"], m["label"], m["note"]) for m in markers] == [
        ("1", "start", ""),
        ("m", "note", "free text"),
        ("2", "task", "hard part"),
    ]
    for marker in markers:
        assert 0 <= int(marker["video_frame"]) < 60 and ISO_MS.match(marker["wall_time"])


def test_record_api_markers_and_reader_mapping(tmp_path):
    """Synthetic frames (grey level = frame number) through the Recorder; the reader maps every
    video frame to its segment and reads back the right image, sequentially and after seeks."""

    def image(index: int) -> np.ndarray:
        size = (48, 64) if index < 22 else (60, 80)  # the size changes at frame 22: a new segment
        return np.full((*size, 3), 8 * index, np.uint8)

    def result(index: int) -> FrameResult:
        probs = np.eye(8, dtype=np.float32)[index % 8]
        faces = tuple(FaceResult(f, (1.0, 2.0, 10.0, 10.0), 0.9, probs, 0.1 * f, -0.1) for f in range(index % 3))
        return FrameResult(index + 100, 5.0 + index / 10, faces)

    recorder = Recorder(
        tmp_path / "s", source="synthetic", fps=10, settings={"smoothing": 0.0}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "unknown"}, segment_seconds=1.0,
    )  # fmt: skip
    for index in range(25):
        recorder.write(Frame(index + 100, 5.0 + index / 10, image(index)), result(index))
        if index == 3:
            first = recorder.add_marker(1, "go")
        if index == 12:
            second = recorder.add_marker("m", "  free\ntext ")
    with pytest.raises(FerLiveError):
        recorder.add_marker("x")
    with pytest.raises(FerLiveError):
        recorder.add_marker("m", "")
    recorder.finish("stopped")
    with pytest.raises(FerLiveError):
        recorder.write(Frame(0, 0.0, image(0)), result(0))
    assert (first.video_frame, first.time_s, first.text) == (3, pytest.approx(0.3), "event 1: go")
    assert (second.video_frame, second.note) == (12, "free text")

    session = Session.load(tmp_path / "s")
    assert session.complete and session.video_frame_count == 25
    segments = [(s.first_frame, s.frames, s.width) for s in session.segments]
    assert segments == [(0, 10, 64), (10, 10, 64), (20, 2, 64), (22, 3, 80)]
    expected_segment = [0] * 10 + [1] * 10 + [2] * 2 + [3] * 3
    starts = {0: 0, 1: 10, 2: 20, 3: 22}
    for video_frame in range(25):
        path, index = session.locate(video_frame)
        segment = expected_segment[video_frame]
        assert (path.name, index) == (f"segment_{segment:04d}.avi", video_frame - starts[segment])
        found = session.result_at(video_frame)
        assert found.frame == video_frame and len(found.faces) == video_frame % 3  # the recording's frame
        assert found.time_s == pytest.approx(video_frame / 10, abs=1e-3)  # session time from the first frame
    rows = read_rows(tmp_path / "s" / "frames.csv")
    assert {(int(r["video_frame"]), int(r["source_frame"]), r["source_loop"]) for r in rows} == {
        (video_frame, video_frame + 100, "0") for video_frame in range(25)
    }  # the source's own frame index beside it
    assert session.result_at(25) is None
    assert [m.text for m in session.markers] == ["event 1: go", "free text"]
    assert session.video_frame_at(1.25) == 12
    assert session.face_ids() == [0, 1]  # face 0 is in 16 frames, face 1 in 8
    times, valence, arousal = session.track(1)
    assert np.array_equal(np.isnan(valence), [index % 3 != 2 for index in range(25)])
    assert np.nanmax(np.abs(valence - 0.1)) < 1e-4 and times[12] == pytest.approx(1.2)

    video = session.open_video()
    levels = [(frame.index, int(round(frame.image.mean()))) for frame in video]
    assert [index for index, _ in levels] == list(range(25))
    assert all(abs(level - 8 * index) <= 2 for index, level in levels)
    for video_frame in (17, 3, 24, 21, 22, 0):
        assert abs(video.read(video_frame).mean() - 8 * video_frame) <= 2
    video.seek(13)
    assert next(iter(video)).index == 13
    video.close()


def test_a_marker_keeps_the_moment_it_was_asked_for(tmp_path):
    """A note typed for a few seconds still marks the frame shown when the researcher pressed M."""
    recorder = Recorder(
        tmp_path / "s", source="camera 0", fps=10, settings={}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "unknown"}, is_live=True,
    )  # fmt: skip
    for index in range(30):
        recorder.write(Frame(index, index / 10, np.zeros((16, 16, 3), np.uint8)), FrameResult(index, index / 10))
        if index == 12:
            pressed_at = recorder.position()
    recorder.add_marker("m", "door opened", at=pressed_at)
    recorder.add_marker(1)
    recorder.finish()
    rows = read_rows(tmp_path / "s" / "markers.csv")
    assert pressed_at == (pytest.approx(1.2), 12)
    assert [(float(r["time_s"]), int(r["video_frame"]), r["note"]) for r in rows] == [
        (pytest.approx(1.2), 12, "door opened"),
        (pytest.approx(2.9), 29, ""),
    ]


def test_frames_without_results_are_recorded_once_and_the_clock_never_goes_back(tmp_path):
    """Every frame given is in the video once, those without results (a live view skipped them) as
    rows without results; the recording's clock goes on by the source's time, and by one frame
    period where the source jumped (a seek, a loop) or its clock did not advance."""
    recorder = Recorder(
        tmp_path / "s", source="video.mp4", fps=10, settings={}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "unknown"},
    )  # fmt: skip
    # (source frame, source time, processed, how it follows the frame before)
    given = [
        (5, 0.5, True, SourceStep.NEXT), (6, 0.6, False, SourceStep.NEXT), (7, 0.7, True, SourceStep.NEXT),
        (0, 0.0, True, SourceStep.WRAP), (1, 0.1, False, SourceStep.NEXT), (9, 0.9, True, SourceStep.SEEK),
        (9, 0.9, True, SourceStep.NEXT),
    ]  # fmt: skip
    for index, (source_frame, time_s, processed, step) in enumerate(given):
        image = np.full((32, 32, 3), 30 * index, np.uint8)
        result = FrameResult(source_frame, time_s) if processed else None
        recorder.write(Frame(source_frame, time_s, image), result, step=step)
    recorder.finish()
    rows = read_rows(tmp_path / "s" / "frames.csv")
    assert [int(r["frame"]) for r in rows] == [int(r["video_frame"]) for r in rows] == list(range(7))
    assert [float(r["time_s"]) for r in rows] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert [(int(r["source_frame"]), int(r["source_loop"])) for r in rows] == [
        (5, 0), (6, 0), (7, 0), (0, 1), (1, 1), (9, 1), (9, 1)
    ]  # fmt: skip
    assert [r["processed"] for r in rows] == ["1", "0", "1", "1", "0", "1", "1"]
    info = json.loads((tmp_path / "s" / "session.json").read_text())
    assert (info["frames_recorded"], info["unprocessed_frames"], info["video_frames"]) == (7, 2, 7)
    assert (info["source_wraps"], info["source_seeks"], info["duration_s"]) == (1, 1, 0.6)
    session = Session.load(tmp_path / "s")
    assert session.video_frames == [0, 2, 3, 5, 6] and session.unprocessed_frames == [1, 4]
    assert session.missing_results() is None and session.unprocessed_note().startswith("2 of the 7 recorded frames")
    assert [int(round(frame.image.mean() / 30)) for frame in session.open_video()] == list(range(7))
    assert session.result_at(1) is None and session.latest_result(1).frame == 0
    assert session.time_at(4) == pytest.approx(0.4) and session.duration_s == pytest.approx(0.6)


def test_report_numbers_match_a_direct_computation(api_session, tmp_path):
    code, stderr = run_cli("report", str(api_session), "--out", str(tmp_path / "report"), "--csv")
    assert code == 0, stderr
    report = tmp_path / "report"
    html = (report / "report.html").read_text()
    pngs = sorted(p.name for p in report.glob("*.png"))
    kinds = ("expressions", "valence_arousal", "circumplex")
    assert pngs == sorted(f"face{face}_{kind}.png" for face in (1, 2) for kind in kinds)
    for png in pngs:
        assert (report / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert html.count("data:image/png;base64,") == 6
    assert "P02" in html and "phone rang" in html

    # Direct computation from frames.csv and markers.csv.
    frames = defaultdict(list)
    for row in read_rows(api_session / "frames.csv"):
        frames[int(row["video_frame"])].append(row)
    times = {vf: float(rows[0]["time_s"]) for vf, rows in frames.items()}
    markers = read_rows(api_session / "markers.csv")
    bounds = [0.0, *(float(m["time_s"]) for m in markers), max(times.values())]
    assert len(bounds) == 5 and bounds == sorted(bounds)

    def expected(lo: float, hi: float, last: bool, face: str) -> dict:
        inside = [vf for vf, t in times.items() if lo <= t < hi or (last and t == hi)]
        rows = [r for vf in inside for r in frames[vf] if r["face_id"] and face in ("all", r["face_id"])]
        labels = Counter(r["label"] for r in rows)
        return {
            "frames": len(inside),
            "face_frames": len({int(r["video_frame"]) for r in rows}),
            "valence": np.mean([float(r["valence"]) for r in rows]),
            "arousal": np.mean([float(r["arousal"]) for r in rows]),
            "dominant": max(EXPRESSIONS, key=lambda e: (labels[e], -EXPRESSIONS.index(e))),
        }

    summary = read_rows(report / "intervals.csv")
    assert [(r["interval"], r["face"]) for r in summary] == [
        (str(i), f) for i in range(1, 5) for f in ("all", "1", "2")
    ]
    assert [r["end"] for r in summary[::3]] == ["start", "phone rang", "event 2: second task", "session end"]
    for row in summary:
        k = int(row["interval"]) - 1
        want = expected(bounds[k], bounds[k + 1], k == 3, row["face"])
        assert int(row["frames"]) == want["frames"] and int(row["face_frames"]) == want["face_frames"]
        assert float(row["face_frames_pct"]) == pytest.approx(100 * want["face_frames"] / want["frames"], abs=0.06)
        assert float(row["mean_valence"]) == pytest.approx(want["valence"], abs=1e-4)
        assert float(row["mean_arousal"]) == pytest.approx(want["arousal"], abs=1e-4)
        assert row["dominant_expression"] == want["dominant"]
    assert sum(int(r["frames"]) for r in summary[::3]) == 90


def test_sigkill_keeps_rows_markers_and_playable_segments(tmp_path, shared_data, random_weights):
    video = tmp_path / "long.avi"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=240, size=(320, 240), side=120)
    out = tmp_path / "killed"
    command = [
        sys.executable, "-m", "fer_live", "record", "--source", str(video), "--out", str(out),
        "--weights", str(random_weights), "--realtime", "--segment-seconds", "0.5", "--markers-from-stdin",
    ]  # fmt: skip
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=stderr)
    try:
        wait_for(lambda: len(json.loads((out / "session.json").read_text())["segments"]) >= 2, process, log)
        process.stdin.write(b"3 before the kill\n")
        process.stdin.flush()
        wait_for(lambda: "before the kill" in (out / "markers.csv").read_text(), process, log)
        time.sleep(0.4)
        killed_at = datetime.now().astimezone()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    info = json.loads((out / "session.json").read_text())
    assert info["end_time"] is None
    closed = info["segments"]
    assert len(closed) >= 2
    for segment in closed:
        assert segment_frame_count(out / segment["file"]) == segment["frames"]

    session = Session.load(out)  # every complete row parses
    assert not session.complete
    assert session.video_frames == list(range(len(session.video_frames)))
    assert len(session.video_frames) >= sum(s["frames"] for s in closed)  # every frame on video has its row
    last_wall_time = read_rows(out / "frames.csv")[-1]["wall_time"]
    behind_s = (killed_at - datetime.fromisoformat(last_wall_time)).total_seconds()
    assert 0 <= behind_s < 1.5, behind_s
    assert [(m.key, m.note) for m in session.markers] == [("3", "before the kill")]
    assert session.video_frame_count >= sum(s["frames"] for s in closed)
    last_closed = sum(s["frames"] for s in closed) - 1
    assert session.open_video().read(last_closed).shape == (240, 320, 3)


def wait_for(condition, process: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
            if condition():
                return
        assert process.poll() is None, log.read_text()
        time.sleep(0.05)
    pytest.fail("the recording did not get there in time")


def test_ctrl_c_finishes_the_session_cleanly(tmp_path, one_face_video, random_weights):
    out = tmp_path / "session"
    stray_signals = []

    def interrupt_once_recording() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                if (out / "frames.csv").read_text().count("\n") > 5:
                    os.kill(os.getpid(), signal.SIGINT)
                    return
            time.sleep(0.01)

    # The recording installs its own handler; this one only catches a signal that misses it.
    previous = signal.signal(signal.SIGINT, lambda *_: stray_signals.append(True))
    watcher = threading.Thread(target=interrupt_once_recording)
    try:
        watcher.start()
        code, stderr = run_cli(
            "record", "--source", str(one_face_video[0]), "--out", str(out), "--weights", str(random_weights)
        )
        watcher.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not stray_signals
    assert code == 0 and "stopped on interrupt: recorded" in stderr
    info = json.loads((out / "session.json").read_text())
    assert info["end_time"] and info["stopped_by"] == "interrupt"
    recorded = info["video_frames"]
    assert 5 <= recorded < 90
    assert len({row["video_frame"] for row in read_rows(out / "frames.csv")}) == recorded
    assert sum(segment_frame_count(out / s["file"]) for s in info["segments"]) == recorded


def test_recording_error_keeps_what_was_recorded(tmp_path, monkeypatch, random_weights):
    import fer_live.pipeline.sources

    images = [np.full((120, 160, 3), 40 * index, np.uint8) for index in range(4)]
    monkeypatch.setattr(fer_live.pipeline.sources, "open_source", lambda spec: VanishingCamera(images))
    out = tmp_path / "session"
    code, stderr = run_cli("record", "--source", "7", "--out", str(out), "--weights", str(random_weights))
    assert code == 2
    assert stderr.strip().splitlines()[-1] == "fer-live: error: camera 7 stopped delivering frames (disconnected?)"
    info = json.loads((out / "session.json").read_text())
    assert info["end_time"] and info["stopped_by"].startswith("error: camera 7 stopped")
    assert info["resolution"] == [160, 120] and info["segments"][0]["frames"] == 4
    rows = read_rows(out / "frames.csv")
    assert [row["video_frame"] for row in rows] == ["0", "1", "2", "3"] and not any(row["face_id"] for row in rows)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "missing.mp4"], "video file not found: missing.mp4"),
        (["--source", "demo", "--markers-labels", "0=zero"], "must look like KEY=LABEL"),
        (["--source", "demo", "--duration", "-1"], "--duration: must be greater than 0, not -1"),
        (["--source", "demo", "--smooth", "1.5"], "--smooth: must be within [0, 1), not 1.5"),
    ],
)
def test_record_bad_input_is_one_line_and_creates_nothing(tmp_path, argv, message):
    code, stderr = run_cli("record", "--out", str(tmp_path / "s"), *argv)
    assert code == 2 and stderr.count("\n") == 1 and message in stderr and stderr.startswith("fer-live")
    assert not (tmp_path / "s").exists()


def test_record_never_overwrites_and_report_needs_a_session(tmp_path):
    (tmp_path / "keep.txt").write_text("data")
    code, stderr = run_cli("record", "--source", "missing.mp4", "--out", str(tmp_path))
    assert code == 2 and "is not empty" in stderr and (tmp_path / "keep.txt").read_text() == "data"
    code, stderr = run_cli("report", str(tmp_path))
    assert code == 2 and stderr == f"fer-live: error: not a session folder (no session.json): {tmp_path}\n"


@pytest.fixture(scope="module")
def small_session(tmp_path_factory) -> Path:
    """12 synthetic frames of one face in two segment files, recorded and finished."""
    path = tmp_path_factory.mktemp("small") / "session"
    recorder = Recorder(
        path, source="synthetic", fps=10, settings={"smoothing": 0.0, "pose_limit": 45.0}, device="CPU",
        weights={"file": "none", "sha256": "", "model_version": "unknown"}, segment_seconds=1.0,
    )  # fmt: skip
    probs = np.eye(8, dtype=np.float32)[1]
    for index in range(12):
        face = FaceResult(1, (1.0, 2.0, 10.0, 10.0), 0.9, probs, 0.1, -0.1)
        recorder.write(Frame(index, index / 10, np.full((48, 64, 3), 8 * index, np.uint8)),
                       FrameResult(index, index / 10, (face,)))  # fmt: skip
    recorder.finish("stopped")
    return path


def _segment(index: int, **values):
    return lambda info: info["segments"][index].update(values)


# Hand edits of session.json, each a traceback in `report` or the review before, and what is said.
DAMAGED_SESSION_JSON = {
    "participant a number": (lambda info: info.update(participant=7), "participant is 7, not text"),
    "notes null": (lambda info: info.update(notes=None), "notes is None, not text"),
    "condition a list": (lambda info: info.update(condition=["a"]), "condition is ['a'], not text"),
    "end_time a number": (lambda info: info.update(end_time=5), "end_time is 5, not a time (text) or null"),
    "fps missing": (lambda info: info.pop("fps"), "fps is missing"),
    "fps a string": (lambda info: info.update(fps="thirty"), "fps is 'thirty', not a number above 0"),
    "fps 0": (lambda info: info.update(fps=0), "fps is 0, not a number above 0"),
    "fps NaN": (lambda info: info.update(fps=math.nan), "fps is nan, not a number above 0"),
    "frames_recorded text": (
        lambda info: info.update(frames_recorded="x"),
        "frames_recorded is 'x', not a whole number ≥ 0",
    ),
    "video_frames null": (lambda info: info.update(video_frames=None), "video_frames is None, not a whole number ≥ 0"),
    "settings a list": (lambda info: info.update(settings=[]), "settings is [], not an object"),
    "pose_limit text": (
        lambda info: info["settings"].update(pose_limit="wide"),
        "settings.pose_limit is 'wide', not a number",
    ),
    "weights text": (lambda info: info.update(weights="abc"), "weights is 'abc', not an object"),
    "action unit without column": (
        lambda info: info["weights"].update(action_units=[{"labels": "teacher"}]),
        "weights.action_units[0] is {'labels': 'teacher'}, not an action unit with its column (au01 …)",
    ),
    "segments null": (lambda info: info.update(segments=None), "segments is None, not a list"),
    "segment a string": (lambda info: info["segments"].__setitem__(0, "x"), "segments[0] is 'x', not an object"),
    "segment without frames": (lambda info: info["segments"][0].pop("frames"), "segments[0] has no frames"),
    "segment frames text": (_segment(0, frames="10"), "segments[0].frames is '10', not a whole number ≥ 0"),
    "segment width negative": (_segment(1, width=-64), "segments[1].width is -64, not a whole number ≥ 0"),
    "segment file a number": (
        _segment(0, file=3),
        "segments[0].file is 3, not the name of a file in the session folder",
    ),
    "segment file elsewhere": (
        _segment(0, file="/etc/passwd"),
        "segments[0].file is '/etc/passwd', not the name of a file in the session folder",
    ),
    "segments apart": (
        _segment(1, first_frame=20),
        "segments[1].first_frame is 20, not 10 (where the one before ends)",
    ),
    "long value": (
        lambda info: info.update(notes=list(range(100))),
        "notes is [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11..., not text",
    ),
}


@pytest.mark.parametrize("case", DAMAGED_SESSION_JSON)
def test_a_damaged_session_json_is_one_line_naming_the_field(tmp_path, small_session, case):
    edit, said = DAMAGED_SESSION_JSON[case]
    session = tmp_path / "session"
    shutil.copytree(small_session, session)
    info = json.loads((session / "session.json").read_text())
    edit(info)
    (session / "session.json").write_text(json.dumps(info))
    message = f"{session / 'session.json'} is damaged: {said}"
    with pytest.raises(FerLiveError) as refused:
        Session.load(session)  # as the window's review opens it
    assert str(refused.value) == message
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = cli.main(["report", str(session)])
    assert (status, err.getvalue()) == (2, f"fer-live: error: {message}\n")


@pytest.mark.parametrize(
    "text, said",
    [("[" * 100_000, "JSON nested too deeply"), ('{"fps": ' + "1" * 5000 + "}", "Exceeds the limit (4300 digits)")],
)
def test_session_json_too_deep_or_too_long_to_read_is_one_line(tmp_path, small_session, text, said):
    session = tmp_path / "session"
    shutil.copytree(small_session, session)
    (session / "session.json").write_text(text)
    with pytest.raises(FerLiveError, match=re.escape(f"cannot read {session / 'session.json'}: {said}")):
        Session.load(session)


def test_the_session_as_recorded_and_with_a_byte_order_mark_loads(tmp_path, small_session):
    session = tmp_path / "session"
    shutil.copytree(small_session, session)
    assert Session.load(session).video_frame_count == 12
    (session / "session.json").write_text("\ufeff" + (session / "session.json").read_text(), encoding="utf-8")
    assert Session.load(session).video_frame_count == 12


def test_new_session_dir_names(tmp_path):
    first = new_session_dir(tmp_path, "P 07/a")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_P-07-a", first.name) and not first.exists()
    first.mkdir()
    second = new_session_dir(tmp_path, "P 07/a")  # same second: a suffix keeps it new
    assert second != first and not second.exists()


def test_marker_labels_and_intervals():
    assert parse_marker_labels(" 1=start , 3 = rest ")["3"] == "rest"
    assert parse_marker_labels("")["9"] == "event 9"
    then = datetime.fromisoformat(wall_clock_iso_at(time.monotonic() - 2.0))
    assert 1.9 < (datetime.now().astimezone() - then).total_seconds() < 2.5
    for bad in ("1=a,1=b", "start", "10=x", "2="):
        with pytest.raises(FerLiveError):
            parse_marker_labels(bad)
    from fer_live.sessions.files import Marker

    at = [Marker(t, 0, "", "1", "x") for t in (0.0, 2.0, 2.0)]
    spans = [(i.start_s, i.end_s, i.is_last) for i in marker_intervals(at, 5.0)]
    assert spans == [(0.0, 2.0, False), (2.0, 5.0, True)]  # empty intervals between coincident markers are dropped
    assert [(i.start_s, i.end_s) for i in marker_intervals([], 3.0)] == [(0.0, 3.0)]
    assert math.isclose(marker_intervals([Marker(4.0, 0, "", "m", "note", "late")], 3.0)[-1].end_s, 4.0)


def test_record_takes_o_for_its_output_folder_like_annotate_and_xdf2csv():
    from fer_live import cli

    args = cli.build_parser().parse_args(["record", "--source", "demo", "-o", "session"])
    assert args.out == Path("session")
