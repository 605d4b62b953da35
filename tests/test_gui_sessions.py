"""Research sessions in the window, offscreen: recording writes every captured frame on the
recording's own clock (with its result where inference processed it), metadata and the markers
pressed; review replays frames.csv (never the engine), seeks to markers; bad session folders give
one line and leave the app running.

The model is random (mechanics only); faces are real (the one-face fixture video).
"""

from __future__ import annotations

import csv
import itertools
import shutil
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QInputDialog  # noqa: E402

from fer_live import cli  # noqa: E402
from fer_live.errors import FerLiveError  # noqa: E402
from fer_live.gui import settings as gui_settings  # noqa: E402
from fer_live.gui.session_dialog import SessionDialog, remembered_parent_folder  # noqa: E402
from fer_live.gui.settings import GuiSettings  # noqa: E402
from fer_live.gui.window import MainWindow  # noqa: E402
from fer_live.inference.engine import Engine  # noqa: E402
from fer_live.pipeline.frames import Pipeline, PipelineSettings  # noqa: E402
from fer_live.pipeline.sources import VideoFileSource  # noqa: E402
from fer_live.results import FrameResult  # noqa: E402
from fer_live.sessions.reader import Session  # noqa: E402
from fer_live.sessions.recorder import Recorder, SessionMetadata  # noqa: E402
from tests.bad_inputs import VanishingCamera  # noqa: E402

# Raw predictions and no looping: a recording of the fixture video stops when the file ends.
TEST_SETTINGS = GuiSettings(smoothing=0.0, loop_video=False, device="cpu")
SKIPPED_FRAMES = range(20, 25)  # recorded without results, as the live window records frames it skipped
MARKED_FRAMES = {15: ("1", ""), 30: ("m", "door opened"), 45: ("2", "")}


@pytest.fixture
def gui_store(tmp_path):
    return gui_settings.open_store(tmp_path / "gui.ini")


@pytest.fixture
def make_window(qtbot, random_weights, gui_store):
    def make(settings: GuiSettings = TEST_SETTINGS) -> MainWindow:
        window = MainWindow(Engine(random_weights, "cpu", threads=1), settings, gui_store)
        qtbot.addWidget(window)  # closed (threads stopped, recording finished) at teardown
        window.show()
        return window

    return make


@pytest.fixture(scope="module")
def recorded_session(tmp_path_factory, one_face_video, random_weights):
    """60 frames of the one-face video recorded through the Recorder API, frames 20–24 without
    results, and markers at frames 15, 30 and 45."""
    out = tmp_path_factory.mktemp("review") / "session"
    settings = PipelineSettings(smoothing=0.0, device="cpu", threads=1)
    with VideoFileSource(one_face_video[0]) as source, Pipeline(settings, random_weights) as pipeline:
        recorder = Recorder.for_pipeline(out, source, pipeline, metadata=SessionMetadata("P03", "review"))
        for frame in source:
            if frame.index >= 60:
                break
            skipped = frame.index in SKIPPED_FRAMES
            recorder.write(frame, None if skipped else pipeline.process(frame.index, frame.time_s, frame.image))
            if frame.index in MARKED_FRAMES:
                recorder.add_marker(*MARKED_FRAMES[frame.index])
        recorder.finish("source ended")
    return out


def assert_same_results(shown: FrameResult, expected: FrameResult, rounded_by_csv: bool = False) -> None:
    """Same faces with the same numbers; exactly, or up to the decimals frames.csv keeps (4 for
    probabilities and valence/arousal, 1 for boxes) when `expected` was read back from it."""
    atol, box_atol = (5.1e-5, 0.051) if rounded_by_csv else (0.0, 0.0)
    assert [f.face_id for f in shown.faces] == [f.face_id for f in expected.faces]
    for face, twin in zip(shown.faces, expected.faces, strict=True):
        np.testing.assert_allclose(face.probs, twin.probs, atol=atol, rtol=0)
        np.testing.assert_allclose([face.valence, face.arousal], [twin.valence, twin.arousal], atol=atol, rtol=0)
        np.testing.assert_allclose(face.box, twin.box, atol=box_atol, rtol=0)


def wait_until_inference_is_idle(qtbot, window: MainWindow) -> int:
    """Frames processed once the frame in inference (if any) has landed while the source is paused."""
    processed = -1
    while processed != window.inference.frames_processed:
        processed = window.inference.frames_processed
        qtbot.wait(300)
    return processed


def source_frame(path, index: int) -> np.ndarray:
    with VideoFileSource(path) as source:
        return next(frame.image for frame in source if frame.index == index)


def frame_rows(folder) -> list[dict[str, str]]:
    """frames.csv's first row of each recorded frame, in order."""
    with open(folder / "frames.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row for index, row in enumerate(rows) if index == 0 or row["frame"] != rows[index - 1]["frame"]]


def slowed_inference(window: MainWindow, seconds: float) -> None:
    """The engine takes at least `seconds` a frame: the window skips frames, as it does on a busy machine."""
    engine = window.inference.pipeline.engine
    predict = engine.predict

    def slow_predict(crops):
        time.sleep(seconds)
        return predict(crops)

    engine.predict = slow_predict


def test_recording_writes_every_captured_frame_with_metadata_and_markers(
    make_window, qtbot, one_face_video, tmp_path, monkeypatch
):
    path, _ = one_face_video
    window = make_window()
    assert window.open_source_spec(str(path))
    qtbot.waitUntil(lambda: window.last_displayed is not None, timeout=20_000)
    window.set_playing(False)
    processed_before = wait_until_inference_is_idle(qtbot, window)
    shown = []
    window.result_displayed.connect(shown.append)

    folder = window.recording.start(SessionMetadata("P07", "calm", "pilot run"), tmp_path / "sessions")
    assert folder is not None and folder.parent == tmp_path / "sessions" and folder.name.endswith("_P07")
    assert window.toolbar.record_button.isChecked()
    window.set_playing(True)
    # Early, so the keys land while recording even when a busy machine makes inference slow.
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=20_000)
    assert window.recording.status_label.text().startswith("● Recording 00:0")
    assert window.recording.status_label.toolTip() == f"Recording to {folder}"
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("door  opened", True))
    window.activateWindow()
    for key in (Qt.Key.Key_1, Qt.Key.Key_3, Qt.Key.Key_M):
        qtbot.keyClick(window, key)
    qtbot.waitUntil(lambda: not window.recording.active, timeout=20_000)  # the file ended
    assert not window.toolbar.record_button.isChecked()
    assert window.statusBar().currentMessage().startswith(f"Session saved: {folder}")
    processed = window.inference.frames_processed - processed_before

    session = Session.load(folder)
    info = session.info
    assert (info["participant"], info["condition"], info["notes"]) == ("P07", "calm", "pilot run")
    assert info["stopped_by"] == "source ended" and session.complete
    assert info["settings"]["smoothing"] == 0.0 and info["resolution"] == [640, 480]
    # Every frame the source gave from the start of the recording to the file's end, once, on the
    # recording's clock: those inference processed with their results, the others without.
    rows = frame_rows(folder)
    first = int(rows[0]["source_frame"])
    assert [int(row["source_frame"]) for row in rows] == list(range(first, 90))
    assert [int(row["frame"]) for row in rows] == [int(row["video_frame"]) for row in rows] == list(range(90 - first))
    assert [float(row["time_s"]) for row in rows] == pytest.approx([n / 30 for n in range(90 - first)], abs=1e-3)
    assert session.video_frame_count == len(rows) == info["frames_recorded"]
    assert len(session.results) == processed and info["unprocessed_frames"] == len(rows) - processed
    assert [row["processed"] for row in rows].count("1") == processed
    processed_rows = zip(session.video_frames, session.results, strict=True)
    recorded = {int(rows[video_frame]["source_frame"]): result for video_frame, result in processed_rows}
    # What the window showed is what was recorded (frames.csv keeps 4 decimals), on the session clock.
    assert 0 < len(shown) <= processed
    for processed_frame in shown:
        row = recorded[processed_frame.captured.frame.index]
        assert_same_results(processed_frame.result, row, rounded_by_csv=True)
        assert row.time_s == pytest.approx(processed_frame.result.time_s - first / 30, abs=2e-3)
    # The video holds the clean source frame (MJPG is lossy, overlays would differ far more).
    written = session.video_frames[len(session.video_frames) // 2]
    with session.open_video() as video:
        difference = np.abs(video.read(written).astype(int) - source_frame(path, first + written).astype(int))
    assert difference.mean() < 3

    assert [(m.key, m.label, m.note) for m in session.markers] == [
        ("1", "event 1", ""),
        ("3", "event 3", ""),
        ("m", "note", "door opened"),
    ]
    assert all(m.time_s == pytest.approx(session.time_at(m.video_frame)) for m in session.markers)


def test_a_looping_video_is_recorded_frame_by_frame_on_the_recordings_own_clock(
    make_window, qtbot, tmp_path, shared_data
):
    """A 1 s video looping while recorded for 2.5 s, the model slower than the video: frame and time
    restarted at 0 on every loop (markers after it at 0.000 s, session.json 1 s long at 75 fps), and
    the frames the model skipped were copies of the one before in the video."""
    from fer_live.sessions.report import write_report
    from tests.videos import DEFAULT_FACES, make_face_video

    video = tmp_path / "second.mp4"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=30, size=(320, 240), side=120)
    window = make_window(replace(TEST_SETTINGS, loop_video=True))
    slowed_inference(window, 0.08)
    assert window.open_source_spec(str(video))
    folder = window.recording.start(SessionMetadata("P14"), tmp_path / "sessions")
    assert folder is not None
    for key, recorded in (("1", 10), ("2", 40), ("3", 70)):  # before the first loop, after it, after the second
        qtbot.waitUntil(lambda recorded=recorded: window.recording.recorder.frames_recorded >= recorded, timeout=30_000)
        window.recording.add_marker(key)
    qtbot.waitUntil(lambda: window.recording.recorder.frames_recorded >= 80, timeout=30_000)
    window.recording.stop()
    assert "without results (the model skipped them)" in window.statusBar().currentMessage()

    rows = frame_rows(folder)
    count = len(rows)
    assert [int(row["frame"]) for row in rows] == [int(row["video_frame"]) for row in rows] == list(range(count))
    times = [float(row["time_s"]) for row in rows]
    assert times == pytest.approx([n / 30 for n in range(count)], abs=1e-3)  # every frame a 30 fps period on
    # Where each frame was in the file: the next frame, or the first one again, a loop further.
    positions = [(int(row["source_loop"]), int(row["source_frame"])) for row in rows]
    for (loop, frame), following in itertools.pairwise(positions):
        assert following in ((loop, frame + 1), (loop + 1, 0))
    assert positions[-1][0] >= 2
    session = Session.load(folder)
    info = session.info
    assert info["frames_recorded"] == info["video_frames"] == count and info["source_wraps"] == positions[-1][0]
    assert info["duration_s"] == pytest.approx(times[-1], abs=1e-3)
    assert info["measured_fps"] == pytest.approx(30, abs=0.1)
    unprocessed = [n for n, row in enumerate(rows) if row["processed"] == "0"]
    assert unprocessed and info["unprocessed_frames"] == len(unprocessed)

    marker_times = [marker.time_s for marker in session.markers]
    assert marker_times == sorted(marker_times) and marker_times[0] < 1 < marker_times[1] < 2 < marker_times[2]
    assert all(marker.time_s == pytest.approx(session.time_at(marker.video_frame)) for marker in session.markers)
    # A frame the model skipped holds its own image, not a copy of the frame before it.
    skipped = next(n for n in unprocessed if rows[n - 1]["processed"] == "1" and rows[n]["source_frame"] != "0")
    with session.open_video() as recorded_video:
        image, before = recorded_video.read(skipped).astype(int), recorded_video.read(skipped - 1).astype(int)
    own = source_frame(video, int(rows[skipped]["source_frame"])).astype(int)
    assert np.abs(image - own).mean() < 3 < np.abs(image - before).mean()

    html = write_report(session, tmp_path / "report").html.read_text()
    assert f"{len(unprocessed)} of the {count} recorded frames" in html  # said, and in the duration row
    assert f"{count} frames ({len(unprocessed)} without results)" in html


def test_frames_inference_has_not_reached_are_written_when_too_many_wait_or_the_recording_stops(
    qapp, tmp_path, one_face_video, random_weights
):
    """A model that stalls (loading after a settings change) holds at most MAX_UNWRITTEN_FRAMES
    captured frames: older ones are written without results at once, and the rest when recording stops."""
    from fer_live.gui.worker import MAX_UNWRITTEN_FRAMES, CapturedFrame, InferenceThread
    from fer_live.pipeline.slots import LatestSlot

    with VideoFileSource(one_face_video[0]) as source:
        frames = [frame for frame, _ in zip(source, range(MAX_UNWRITTEN_FRAMES + 10), strict=False)]
    with Pipeline(PipelineSettings(device="cpu", threads=1), random_weights) as pipeline:
        inference = InferenceThread(pipeline, LatestSlot(), LatestSlot())  # not started: it never takes a frame
        recorder = Recorder.for_pipeline(tmp_path / "session", source, pipeline)
        inference.set_recorder(recorder)
        for frame in frames:
            inference.keep_for_recording(CapturedFrame(frame, time.monotonic(), generation=1))
        assert recorder.frames_recorded == 10
        inference.set_recorder(None)
    recorder.finish()
    rows = frame_rows(tmp_path / "session")
    assert [int(row["source_frame"]) for row in rows] == [frame.index for frame in frames]
    assert {row["processed"] for row in rows} == {"0"}


def test_blinks_per_minute_count_the_recordings_time_not_its_processed_frames(
    make_window, qtbot, tmp_path, shared_data
):
    """The report's face geometry time was processed frames ÷ fps: a window recording that skipped
    most frames looked a fraction as long as it was, and its blinks per minute as many times higher."""
    import re

    from fer_live.sessions.report import write_report
    from tests.videos import DEFAULT_FACES, make_face_video

    video = tmp_path / "two_seconds.mp4"
    make_face_video(video, DEFAULT_FACES[:1], n_frames=60, size=(320, 240), side=140)
    window = make_window(replace(TEST_SETTINGS, geometry=True))
    slowed_inference(window, 0.08)
    window.set_playing(False)
    assert window.open_source_spec(str(video))
    folder = window.recording.start(SessionMetadata("P15"), tmp_path / "sessions")
    window.set_playing(True)
    qtbot.waitUntil(lambda: not window.recording.active, timeout=60_000)  # the file ended
    session = Session.load(folder)
    (face_id,) = {face.face_id for result in session.results for face in result.faces}
    measured = [r.time_s for r in session.results if (face := r.face(face_id)) is not None and face.geometry]
    html = write_report(session, tmp_path / "report").html.read_text()
    said = re.search(r"Face geometry over ([\d.]+) s: (\d+) blinks \(([\d.]+) per", html)
    seconds, blinks, per_minute = said.groups()
    # The measured frames span the recording, each standing for the time up to the next processed frame.
    assert float(seconds) == pytest.approx(measured[-1] - measured[0] + 1 / 30, abs=0.05)
    assert float(seconds) > 0.8 * session.duration_s
    assert float(per_minute) == pytest.approx(60 * int(blinks) / float(seconds), rel=0.05, abs=0.1)  # 0.1 s shown
    assert len(session.unprocessed_frames) > len(session.results)  # the window skipped most frames


def test_record_button_asks_for_the_session_stops_on_ctrl_r_and_reports_errors(
    make_window, qtbot, one_face_video, tmp_path, monkeypatch, gui_store
):
    def fill_in_and_accept(dialog: SessionDialog) -> QDialog.DialogCode:
        dialog.participant.setText("P02")
        dialog.condition.setText("stress")
        dialog.notes.setPlainText("second visit")
        dialog.folder.setText(str(tmp_path / "studies"))
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(SessionDialog, "exec", fill_in_and_accept)
    window = make_window(replace(TEST_SETTINGS, loop_video=True))
    assert window.open_source_spec(str(one_face_video[0]))
    qtbot.waitUntil(lambda: window.last_displayed is not None, timeout=20_000)

    qtbot.mouseClick(window.toolbar.record_button, Qt.MouseButton.LeftButton)
    assert window.recording.active and window.toolbar.record_button.isChecked()
    qtbot.waitUntil(lambda: window.recording.recorder.frames_recorded >= 5, timeout=20_000)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert not window.recording.active and not window.toolbar.record_button.isChecked()
    (folder,) = (tmp_path / "studies").iterdir()
    session = Session.load(folder)
    assert (session.info["participant"], session.info["condition"]) == ("P02", "stress")
    assert session.info["notes"] == "second visit" and session.info["stopped_by"] == "stopped"
    assert len(frame_rows(folder)) >= 5 and session.results
    assert remembered_parent_folder(gui_store) == tmp_path / "studies"
    # Number keys mark nothing (and break nothing) when no session is being recorded.
    qtbot.keyClick(window, Qt.Key.Key_1)

    # A folder that cannot be created: a message, no recording, and the video plays on.
    blocker = tmp_path / "a file"
    blocker.write_text("")
    assert window.recording.start(SessionMetadata("P09"), blocker) is None
    assert window.statusBar().currentMessage().startswith("Recording not started: cannot create session folder")
    assert not window.recording.active and not window.toolbar.record_button.isChecked()
    displayed = window.stats.displayed
    qtbot.waitUntil(lambda: window.stats.displayed > displayed + 3, timeout=20_000)

    # A write that fails (a full disk) stops the recording with a message; the video plays on.
    folder = window.recording.start(SessionMetadata("P10"), tmp_path / "studies")

    def disk_full(*args, **kwargs):
        raise FerLiveError(f"cannot write session in {folder}: No space left on device")

    window.recording.recorder.write = disk_full
    qtbot.waitUntil(lambda: not window.recording.active, timeout=20_000)
    assert window.video_view.message.startswith("Recording stopped: cannot write session")
    assert Session.load(folder).info["stopped_by"].startswith("error: cannot write session")
    displayed = window.stats.displayed
    qtbot.waitUntil(lambda: window.stats.displayed > displayed + 3, timeout=20_000)

    # Closing the window finishes a session being recorded.
    folder = window.recording.start(SessionMetadata("P12"), tmp_path / "studies")
    qtbot.waitUntil(lambda: window.recording.recorder.frames_recorded >= 3, timeout=20_000)
    window.close()
    session = Session.load(folder)
    assert session.complete and session.info["stopped_by"] == "window closed"
    assert len(frame_rows(folder)) >= 3


def test_a_camera_that_fails_finishes_the_session(make_window, qtbot, one_face_video, tmp_path):
    with VideoFileSource(one_face_video[0]) as source:
        images = [frame.image for frame, _ in zip(source, range(30), strict=False)]
    window = make_window()
    slowed_inference(window, 0.1)  # a camera's frames come faster than the model reads them
    window.play_source(VanishingCamera(images), "camera 7")
    folder = window.recording.start(SessionMetadata("P11"), tmp_path)
    assert folder is not None
    qtbot.waitUntil(lambda: not window.recording.active, timeout=20_000)
    assert "disconnected" in window.video_view.message  # the window still says what happened
    session = Session.load(folder)
    assert session.complete and session.info["source_is_live"]
    assert session.info["stopped_by"].startswith("source failed: camera 7 stopped delivering frames")
    # Every frame the camera gave once recording began is in the video, those the model skipped
    # without results (they were once lost, the video repeating the frame before in their place).
    rows = frame_rows(folder)
    first = int(rows[0]["source_frame"])
    assert [int(row["source_frame"]) for row in rows] == list(range(first, 30))
    assert session.video_frame_count == len(rows) and 0 < len(session.results) < len(rows)
    assert session.info["unprocessed_frames"] == len(session.unprocessed_frames) == len(rows) - len(session.results)


def test_review_replays_recorded_results_without_the_engine_and_seeks_to_markers(
    make_window, qtbot, recorded_session, one_face_video, monkeypatch
):
    session = Session.load(recorded_session)
    window = make_window()
    engine = window.inference.pipeline.engine
    predictions = []
    real_predict = engine.predict
    engine.predict = lambda crops: predictions.append(len(crops)) or real_predict(crops)
    shown = []
    window.result_displayed.connect(shown.append)

    assert window.review.open_session(recorded_session)
    qtbot.waitUntil(lambda: len(shown) >= 12, timeout=20_000)
    window.set_playing(False)
    qtbot.wait(300)
    # Every shown frame carries the results recorded for it: exactly frames.csv's numbers.
    for processed in shown:
        expected = session.latest_result(processed.captured.frame.index)
        assert (processed.result.frame, processed.result.time_s) == (expected.frame, expected.time_s)
        assert_same_results(processed.result, expected)
    last = window.last_displayed
    video_frame = last.captured.frame.index
    expected = session.latest_result(video_frame)
    face = expected.largest_face()
    assert face is not None
    np.testing.assert_array_equal(window.bars.values(), face.probs.astype(float))
    assert window.circumplex.points() == {f.face_id: (f.valence, f.arousal) for f in expected.faces}
    times, valence, arousal = window.timeline.series()
    assert (times[-1], valence[-1], arousal[-1]) == (expected.time_s, face.valence, face.arousal)
    assert window.toolbar.slider.value() == video_frame
    with session.open_video() as video:
        np.testing.assert_array_equal(last.captured.frame.image, video.read(video_frame))

    # A frame recorded without results shows the latest results before it, as the live window did.
    window.seek_to_frame(22)
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index == 22, timeout=10_000)
    assert session.result_at(22) is None and window.last_displayed.result.frame == 19
    assert_same_results(window.last_displayed.result, session.result_at(19))

    # Markers: listed in the dock, drawn on the timeline, and a click seeks to the marker's frame.
    assert window.review.dock.isVisible()
    markers = session.markers
    assert [m.video_frame for m in markers] == [15, 30, 45]  # frames without results keep their place
    assert window.timeline.markers() == [(m.time_s, m.text) for m in markers]
    texts = [window.review.marker_list.item(i).text() for i in range(window.review.marker_list.count())]
    assert texts == ["00:00  [1] event 1", "00:01  [m] door opened", "00:01  [2] event 2"]
    marker_list = window.review.marker_list
    item = marker_list.item(2)
    qtbot.mouseClick(marker_list.viewport(), Qt.MouseButton.LeftButton, pos=marker_list.visualItemRect(item).center())
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index == markers[2].video_frame, timeout=10_000)
    expected = session.result_at(markers[2].video_frame)
    np.testing.assert_array_equal(window.bars.values(), expected.largest_face().probs.astype(float))
    assert window.toolbar.slider.value() == markers[2].video_frame

    # A reviewed session is not recorded again: Record says why before asking for metadata.
    monkeypatch.setattr(SessionDialog, "exec", lambda dialog: pytest.fail("the dialog opened"))
    window.recording.toggle()
    assert window.statusBar().currentMessage().startswith("A session under review is already recorded")
    assert not window.recording.active and not window.toolbar.record_button.isChecked()

    assert predictions == [] and window.inference.frames_processed == 0
    # Another source leaves review: no markers, no dock, inference again.
    assert window.open_source_spec(str(one_face_video[0]))
    assert window.review.session is None and not window.review.dock.isVisible()
    assert window.timeline.markers() == []
    qtbot.waitUntil(lambda: window.inference.frames_processed > 0, timeout=20_000)


def test_a_bad_session_folder_shows_one_line_and_the_app_keeps_running(
    make_window, qtbot, recorded_session, one_face_video, tmp_path
):
    empty = tmp_path / "empty"
    empty.mkdir()
    corrupt_json = tmp_path / "corrupt_json"
    shutil.copytree(recorded_session, corrupt_json)
    (corrupt_json / "session.json").write_text('{"format": "fer_live.session/1", "fps":')
    corrupt_rows = tmp_path / "corrupt_rows"
    shutil.copytree(recorded_session, corrupt_rows)
    with open(corrupt_rows / "frames.csv", "a") as handle:
        handle.write("61,not a time,1,,,,,,,,,,,,,,,,,,,,\n")

    window = make_window()
    assert window.open_source_spec(str(one_face_video[0]))
    for folder, words in ((empty, "no session.json"), (corrupt_json, "cannot read"), (corrupt_rows, "corrupt")):
        assert not window.review.open_session(folder)
        message = window.video_view.message
        assert message.startswith("Cannot open session:") and words in message and str(folder) in message
        assert "\n" not in message and window.statusBar().currentMessage() == message
        assert window.review.session is None
    displayed = window.stats.displayed
    qtbot.waitUntil(lambda: window.stats.displayed > displayed + 3, timeout=20_000)  # the video plays on


def test_cli_gui_reviews_a_session_folder_and_refuses_a_corrupt_one(
    recorded_session, random_weights, tmp_path, capsys, qapp, qtbot, monkeypatch
):
    options = ["--weights", str(random_weights), "--settings-file", str(tmp_path / "gui.ini")]
    corrupt = tmp_path / "corrupt"
    shutil.copytree(recorded_session, corrupt)
    (corrupt / "session.json").write_text("{")
    assert cli.main(["gui", "--source", str(corrupt), *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fer-live: error:") and str(corrupt) in err[0]

    # The real event loop is replaced by one that waits for frames: quitting a real exec() inside the
    # test process would leave Qt unable to deliver the threads' signals to later tests.
    seen = {}

    def exec_until_frames_show() -> int:
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        qtbot.waitUntil(lambda: window.stats.displayed >= 3, timeout=20_000)
        seen.update(session=window.review.session, processed=window.inference.frames_processed)
        return 0

    monkeypatch.setattr(qapp, "exec", exec_until_frames_show)
    assert cli.main(["gui", "--source", str(recorded_session), *options]) == 0
    assert seen["session"].path == recorded_session and seen["processed"] == 0


def test_review_of_a_cut_off_frames_csv_draws_no_stale_boxes_and_marks_the_gap(
    make_window, qtbot, recorded_session, tmp_path
):
    cut = tmp_path / "cut"
    shutil.copytree(recorded_session, cut)
    lines = (cut / "frames.csv").read_text().splitlines(keepends=True)
    (cut / "frames.csv").write_text("".join(lines[:36]))  # header + 35 rows: video frames 0-34
    session = Session.load(cut)
    assert session.frames_without_results == range(35, 60)
    window = make_window()
    assert window.review.open_session(cut)
    assert window.statusBar().currentMessage() == f"{session.missing_results()}: frames after that show no results"
    assert window.timeline.gaps() == [pytest.approx((session.time_at(35), session.time_at(59) + 1 / session.fps))]
    qtbot.waitUntil(lambda: window.last_displayed is not None, timeout=20_000)
    window.set_playing(False)
    window.seek_to_frame(45)  # a smiling (or any) face on screen, but no row for it in frames.csv
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index == 45, timeout=10_000)
    assert window.last_displayed.result.faces == () and window.video_view._result.faces == ()
    window.seek_to_frame(25)
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index == 25, timeout=10_000)
    assert_same_results(window.last_displayed.result, session.result_at(25))


def test_sigterm_finishes_a_recording_before_the_window_closes(make_window, qtbot, one_face_video, tmp_path):
    import os
    import signal

    from fer_live.gui.app import close_on_stop_signals

    window = make_window()
    assert window.open_source_spec(str(one_face_video[0]))
    folder = window.recording.start(SessionMetadata("P12"), tmp_path)
    assert folder is not None
    qtbot.waitUntil(
        lambda: window.recording.recorder is not None and window.recording.recorder.frames_recorded > 3, timeout=20_000
    )
    restore = close_on_stop_signals(window)
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` would; the handler runs at the next bytecode
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    finally:
        restore()
    assert not window.recording.active
    session = Session.load(folder)
    assert session.complete and session.info["stopped_by"] == "window closed"
    assert session.info["frames_recorded"] == len(frame_rows(folder)) > 3 and session.missing_results() is None


def test_a_gui_recording_of_a_folder_names_each_image_and_counts_an_unreadable_one(make_window, qtbot, tmp_path):
    from tests.videos import DEFAULT_FACES, load_face

    folder = tmp_path / "stills"
    folder.mkdir()
    for index in range(6):
        image = np.full((240, 320, 3), 110, np.uint8)
        image[40:200, 80:240] = load_face(DEFAULT_FACES[index % 2], 160)
        cv2.imwrite(str(folder / f"still_{index}.png"), image)
    (folder / "still_4.png").write_bytes(b"not a png")
    window = make_window()
    assert window.open_source_spec(str(folder))
    window.set_playing(False)  # before the unreadable still, 4 stills (133 ms) on
    session_dir = window.recording.start(SessionMetadata("P13"), tmp_path / "sessions")
    assert session_dir is not None
    window.seek_to_frame(0)  # the stills shown before the recording began are recorded too
    window.set_playing(True)
    qtbot.waitUntil(lambda: not window.recording.active, timeout=30_000)  # the folder ended
    session = Session.load(session_dir)
    assert session.info["source_damage"] == {"skipped_frames": [4], "missing_at_end": 0}
    rows = list(csv.DictReader(open(session_dir / "frames.csv", newline="")))
    # Every readable still, once; one the live view skipped on a busy machine has no results.
    assert [row["source_file"] for row in rows] == [f"still_{index}.png" for index in (0, 1, 2, 3, 5)]
    ids = [row["face_id"] for row in rows if row["processed"] == "1"]
    assert ids and len(set(ids)) == len(ids) and "" not in ids  # a new face on every image
