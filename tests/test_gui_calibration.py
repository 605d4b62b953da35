"""The live window's prior setting and participant calibration, offscreen with qtbot: countdown on the
face, the calibrated mark, refusal, clear, save/load, and the prior remembered."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

pytest.importorskip("pytestqt")

from fer_live.gui import settings as gui_settings  # noqa: E402
from fer_live.gui.settings import GuiSettings  # noqa: E402
from fer_live.gui.settings_dialog import SettingsDialog  # noqa: E402
from fer_live.gui.window import MainWindow  # noqa: E402
from fer_live.inference import operating_point  # noqa: E402
from fer_live.inference.engine import Engine  # noqa: E402

SETTINGS = GuiSettings(smoothing=0.0, loop_video=True, device="cpu", calibration_seconds=1.0)


@pytest.fixture
def window(qtbot, tmp_path, calibratable_weights):
    store = gui_settings.open_store(tmp_path / "gui.ini")
    window = MainWindow(Engine(calibratable_weights, "cpu", threads=1), SETTINGS, store)
    qtbot.addWidget(window)
    window.show()
    assert window.open_source_spec("demo")
    qtbot.waitUntil(
        lambda: window.last_displayed is not None and bool(window.last_displayed.result.faces), timeout=30_000
    )
    return window


def shown_faces(window):
    return window.last_displayed.result.faces


def test_calibrate_counts_down_on_the_face_then_marks_it_and_clear_removes_it(window, qtbot, monkeypatch):
    events = []
    monkeypatch.setattr(window.lsl, "mark", events.append)  # the LSL marker stream's input
    progress = []
    window.result_displayed.connect(
        lambda p: progress.extend(f.calibration_progress for f in p.result.faces if f.calibration_progress is not None)
    )
    window.actions_by_name["Calibrate every face"].trigger()
    assert window.calibration.last_message.startswith("Calibrating")
    qtbot.waitUntil(lambda: any(f.calibrated for f in shown_faces(window)), timeout=30_000)
    assert progress and min(progress) < 0.5 < max(progress)  # the countdown ran on the face
    # (The window may show the face calibrated a moment before the outcome's message comes.)
    qtbot.waitUntil(lambda: window.calibration.last_message.startswith("Face "), timeout=10_000)
    assert "calibrated" in window.calibration.last_message
    assert window.calibration.baselines
    window.actions_by_name["Clear calibration"].trigger()
    qtbot.waitUntil(lambda: not any(f.calibrated for f in shown_faces(window)), timeout=10_000)
    assert window.calibration.baselines == {}
    assert events[0].startswith("calibration started: face ") and events[0].endswith(", 1 s")
    assert any(e.startswith("calibration done: face ") for e in events)
    assert events[-1] == "calibration cleared: every face"


def test_a_face_that_is_not_neutral_is_refused_in_one_line(window, qtbot, monkeypatch):
    monkeypatch.setattr(operating_point, "NOT_NEUTRAL_PROBABILITY", 0.0)  # every face reads "not neutral"
    window.actions_by_name["Calibrate"].trigger()
    qtbot.waitUntil(lambda: "refused" in window.calibration.last_message, timeout=30_000)
    message = window.calibration.last_message
    assert "the face did not look neutral" in message and "\n" not in message
    assert not any(f.calibrated for f in shown_faces(window))


def test_save_and_load_a_calibration(window, qtbot, tmp_path):
    assert not window.calibration.save(str(tmp_path / "none.json"))
    assert "No calibrated face to save" in window.calibration.last_message
    window.actions_by_name["Calibrate every face"].trigger()
    qtbot.waitUntil(lambda: bool(window.calibration.baselines), timeout=30_000)
    path = tmp_path / "calibration.json"
    assert window.calibration.save(str(path))
    assert json.loads(path.read_text())["settings"]["seconds"] == 1.0
    window.actions_by_name["Clear calibration"].trigger()
    qtbot.waitUntil(lambda: not any(f.calibrated for f in shown_faces(window)), timeout=10_000)
    assert window.calibration.load(str(path))
    qtbot.waitUntil(lambda: any(f.calibrated for f in shown_faces(window)), timeout=10_000)
    (tmp_path / "foreign.json").write_text(path.read_text().replace('"weights_sha256": "', '"weights_sha256": "0'))
    assert not window.calibration.load(str(tmp_path / "foreign.json"))
    assert "made with other model weights" in window.calibration.last_message


def test_no_face_in_view_is_said(window, qtbot):
    window.last_displayed = None
    window.calibration.calibrate()
    assert window.calibration.last_message == "No face to calibrate: a face has to be in view"


def test_prior_and_calibration_time_are_remembered_and_applied(window, qtbot, tmp_path):
    changed = GuiSettings(smoothing=0.0, device="cpu", prior="balanced", calibration_seconds=2.5)
    window.apply_settings(changed)
    qtbot.waitUntil(lambda: window.inference.pipeline.engine.operating_point.tau == 1.0, timeout=20_000)
    assert window.video_view.calibration_seconds == 2.5
    assert gui_settings.load(window.store) == changed
    window.store.setValue("settings/prior", "sometimes")  # unusable: that value alone is its default
    assert gui_settings.load(window.store) == GuiSettings(smoothing=0.0, device="cpu", calibration_seconds=2.5)


def test_settings_dialog_explains_and_keeps_the_prior(qtbot):
    dialog = SettingsDialog(GuiSettings(prior="0.7", calibration_seconds=4.0))
    qtbot.addWidget(dialog)
    assert dialog.settings().prior == "0.7" and dialog.settings().calibration_seconds == 4.0
    dialog._prior.setCurrentIndex(dialog._prior.findData("balanced"))
    assert dialog.settings().prior == "balanced"
    assert dialog._prior.currentText() == "Posed / lab / demo (every expression equally likely)"


def two_faces_video(path, second_from: int = 0, frames: int = 1800):
    """Two real faces side by side, still, for a minute; the right one (the one the detector lists
    first in this picture) only from frame `second_from` on."""
    import cv2

    from fer_live.bench.videos import DEFAULT_FACES, FaceScene

    scene = FaceScene(DEFAULT_FACES[:2], 2, (640, 480), 160)
    alone, both = scene.draw(0, hidden=frozenset({1}))[0], scene.draw(0)[0]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 480))
    for index in range(frames):
        writer.write(alone if index < second_from else both)
    writer.release()
    return path


@pytest.fixture
def two_face_window(qtbot, tmp_path, calibratable_weights, shared_data):
    def make(second_from: int = 0) -> MainWindow:
        store = gui_settings.open_store(tmp_path / "gui.ini")
        # 3 s to calibrate: enough frames for a baseline (5) on a busy machine too.
        settings = replace(SETTINGS, loop_video=False, calibration_seconds=3.0)
        window = MainWindow(Engine(calibratable_weights, "cpu", threads=1), settings, store)
        qtbot.addWidget(window)
        window.show()
        assert window.open_source_spec(str(two_faces_video(tmp_path / "two.mp4", second_from)))
        return window

    return make


def face_ids_in_view(window) -> set[int]:
    return {face.face_id for face in shown_faces(window)} if window.last_displayed is not None else set()


def calibrated_ids(window) -> set[int]:
    return {face.face_id for face in shown_faces(window) if face.calibrated} if window.last_displayed else set()


def test_a_settings_change_keeps_each_baseline_with_its_face(two_face_window, qtbot, tmp_path):
    """The left face is #1, the right one, in view from frame 20, #2 and calibrated. A new smoothing
    value renumbered the faces in the detector's order (the right one first): the left face became
    #2 and carried the right one's baseline, with no word said. Recorded, so frames.csv shows whose."""
    import csv

    from fer_live.sessions.recorder import SessionMetadata

    window = two_face_window(second_from=20)
    folder = window.recording.start(SessionMetadata("P16"), tmp_path / "sessions")
    qtbot.waitUntil(lambda: face_ids_in_view(window) == {1, 2}, timeout=60_000)
    window.select_face(2)
    window.actions_by_name["Calibrate"].trigger()
    qtbot.waitUntil(lambda: calibrated_ids(window) == {2}, timeout=60_000)
    pipeline = window.inference.pipeline
    window.apply_settings(replace(window.settings, smoothing=0.5))
    qtbot.waitUntil(lambda: window.inference.pipeline is not pipeline, timeout=20_000)
    processed = window.inference.frames_processed
    qtbot.waitUntil(lambda: window.inference.frames_processed > processed + 20, timeout=60_000)
    window.recording.stop()

    rows = [row for row in csv.DictReader(open(folder / "frames.csv", newline="")) if row["face_id"]]
    side = {row["face_id"]: set() for row in rows}
    for row in rows:
        side[row["face_id"]].add("right" if float(row["x"]) > 250 else "left")
    assert side == {"1": {"left"}, "2": {"right"}}  # each number stays with its person
    calibrated = {("right" if float(row["x"]) > 250 else "left") for row in rows if row["calibrated"] == "1"}
    assert calibrated == {"right"}  # the baseline too, after the change as before it


def test_k_with_no_face_selected_keeps_good_baselines_and_every_result_is_said(two_face_window, qtbot):
    """K with nothing selected recalibrated every face: face 1's baseline went, and only the last
    face's result stayed in the status bar."""
    window = two_face_window()
    qtbot.waitUntil(lambda: face_ids_in_view(window) == {1, 2}, timeout=60_000)
    window.select_face(1)
    window.actions_by_name["Calibrate"].trigger()
    qtbot.waitUntil(lambda: calibrated_ids(window) == {1}, timeout=60_000)
    face_1 = window.calibration.baselines[1]
    window.select_face(0)  # back to automatic: nothing selected
    marks = []
    window.result_displayed.connect(lambda processed: marks.append(calibrated_ids(window)))
    window.actions_by_name["Calibrate"].trigger()
    assert window.calibration.last_message.startswith("Calibrating face 2:")  # the one without a baseline
    # (The window may show the face calibrated a moment before the outcome's message comes.)
    qtbot.waitUntil(lambda: window.calibration.last_message.startswith("Face 2 calibrated ("), timeout=60_000)
    qtbot.waitUntil(lambda: calibrated_ids(window) == {1, 2}, timeout=10_000)
    assert window.calibration.baselines[1] is face_1 and all(1 in shown for shown in marks)

    window.actions_by_name["Calibrate"].trigger()  # every face in view has its baseline
    assert window.calibration.last_message.startswith("Every face in view is calibrated")
    assert window.calibration.baselines[1] is face_1

    # Asked for every face again (Shift+K): each face's result is said, in one line.
    window.actions_by_name["Calibrate every face"].trigger()
    qtbot.waitUntil(lambda: "; face" in window.calibration.last_message, timeout=60_000)
    message = window.calibration.last_message
    assert message.startswith("Face 1 calibrated (") and "; face 2 calibrated (" in message and "\n" not in message
    assert window.calibration.baselines[1] is not face_1
