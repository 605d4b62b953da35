"""The live window's prior setting and participant calibration, offscreen with qtbot: countdown on the
face, the calibrated mark, refusal, clear, save/load, and the prior remembered."""

from __future__ import annotations

import json

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
    assert window.calibration.last_message.startswith("Face ") and "calibrated" in window.calibration.last_message
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
