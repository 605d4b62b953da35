"""The live window, offscreen: widgets hold exactly the engine's numbers, selection, seeking,
clean shutdown, and bad sources that leave the app usable.

The model is random (mechanics only); faces are real (the bundled demo video and fixture videos).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from fer_live import cli  # noqa: E402
from fer_live.assets import DEMO_VIDEO
from fer_live.errors import SourceError  # noqa: E402
from fer_live.gui import settings as gui_settings  # noqa: E402
from fer_live.gui.settings import GuiSettings  # noqa: E402
from fer_live.gui.window import MainWindow  # noqa: E402
from fer_live.inference.engine import Engine  # noqa: E402
from fer_live.pipeline.frames import Pipeline, PipelineSettings  # noqa: E402
from fer_live.pipeline.sources import VideoFileSource  # noqa: E402
from tests.bad_inputs import VanishingCamera  # noqa: E402

# Raw predictions (no smoothing) and no looping keep the expected values easy to recompute.
TEST_SETTINGS = GuiSettings(smoothing=0.0, loop_video=False, device="cpu")


@pytest.fixture
def gui_store(tmp_path):
    """Settings in a temp INI file: tests never touch the user's remembered settings."""
    return gui_settings.open_store(tmp_path / "gui.ini")


@pytest.fixture
def make_window(qtbot, random_weights, gui_store):
    def make(settings: GuiSettings = TEST_SETTINGS, paced: bool = True) -> MainWindow:
        window = MainWindow(Engine(random_weights, "cpu", threads=1), settings, gui_store, paced=paced)
        qtbot.addWidget(window)  # closed (threads stopped) at teardown
        window.show()
        return window

    return make


def play_until(qtbot, window: MainWindow, count: int) -> list:
    """Results shown while playing until `count` more have been displayed (then paused, settled)."""
    shown = []
    window.result_displayed.connect(shown.append)
    qtbot.waitUntil(lambda: len(shown) >= count, timeout=30_000)
    window.set_playing(False)
    qtbot.wait(300)  # a frame already in inference lands; nothing follows it
    return shown


def decoded_frame(path, index: int) -> np.ndarray:
    with VideoFileSource(path) as source:
        return next(frame.image for frame in source if frame.index == index)


def test_widgets_hold_the_engine_results_for_the_shown_frames(make_window, qtbot, random_weights):
    window = make_window()
    assert window.open_source_spec("demo")
    shown = play_until(qtbot, window, 12)
    last = window.last_displayed
    assert last is shown[-1]
    result = last.result
    assert len(result.faces) == 2  # the demo shows two faces throughout

    # The frame on screen is the file's frame with that index, and the engine's result for it
    # is what a fresh pipeline computes from it (raw predictions: no smoothing history).
    frame = last.captured.frame
    np.testing.assert_array_equal(frame.image, decoded_frame(DEMO_VIDEO, frame.index))
    with Pipeline(PipelineSettings(smoothing=0.0, device="cpu"), weights=random_weights) as fresh:
        again = fresh.process(frame.index, frame.time_s, frame.image)
    assert len(again.faces) == 2
    for face in result.faces:
        twin = min(again.faces, key=lambda f: np.abs(np.subtract(f.box, face.box)).sum())
        np.testing.assert_allclose(twin.box, face.box)
        np.testing.assert_allclose(twin.probs, face.probs, atol=1e-5)
        np.testing.assert_allclose([twin.valence, twin.arousal], [face.valence, face.arousal], atol=1e-5)

    # The side widgets follow one face (the largest when following began) and hold exactly its numbers.
    selected = result.face(window.follower.face_id)
    assert selected is not None
    np.testing.assert_array_equal(window.bars.values(), selected.probs.astype(float))
    assert window.circumplex.points() == {f.face_id: (f.valence, f.arousal) for f in result.faces}
    assert window.circumplex.selected_id == selected.face_id
    history = [
        (p.result.time_s, f.valence, f.arousal)
        for p in shown
        if p.captured.generation == last.captured.generation and (f := p.result.face(selected.face_id))
    ]
    times, valence, arousal = window.timeline.series()
    np.testing.assert_array_equal(np.column_stack([times, valence, arousal]), np.array(history))
    assert window.toolbar.slider.value() == frame.index


def test_clicking_a_face_switches_the_side_widgets(make_window, qtbot):
    window = make_window()
    assert window.open_source_spec("demo")
    play_until(qtbot, window, 8)
    result = window.last_displayed.result
    other = next(f for f in result.faces if f.face_id != window.follower.face_id)

    x, y, w, h = other.box
    qtbot.mouseClick(
        window.video_view, Qt.MouseButton.LeftButton, pos=window.video_view.widget_point(x + w / 2, y + h / 2).toPoint()
    )
    assert window.selected_face_id == other.face_id
    np.testing.assert_array_equal(window.bars.values(), other.probs.astype(float))
    assert window.circumplex.selected_id == other.face_id
    times, valence, arousal = window.timeline.series()
    assert (times[-1], valence[-1], arousal[-1]) == (result.time_s, other.valence, other.arousal)

    # The selection sticks while playing on.
    window.set_playing(True)
    play_until(qtbot, window, 5)
    following = window.last_displayed.result.face(other.face_id)
    assert following is not None
    np.testing.assert_array_equal(window.bars.values(), following.probs.astype(float))

    # Clicking beside every face goes back to following the largest one.
    qtbot.mouseClick(window.video_view, Qt.MouseButton.LeftButton, pos=window.video_view.widget_point(2, 2).toPoint())
    assert window.selected_face_id is None
    assert window.circumplex.selected_id == window.last_displayed.result.largest_face().face_id


def test_seeking_moves_the_position_and_starts_fresh_tracks(make_window, qtbot):
    window = make_window()
    assert window.open_source_spec("demo")
    before = play_until(qtbot, window, 6)
    old_ids = {f.face_id for p in before for f in p.result.faces}
    position = window.last_displayed.captured.frame.index

    window.seek_by_seconds(5.0)  # what the → key does
    window.set_playing(True)
    after = play_until(qtbot, window, 6)
    index = window.last_displayed.captured.frame.index
    assert position + 150 <= after[0].captured.frame.index <= index < position + 150 + 60
    assert window.toolbar.slider.value() == index
    new_ids = {f.face_id for p in after for f in p.result.faces}
    assert new_ids and min(new_ids) > max(old_ids)  # tracks were reset, IDs are never reused
    times, _, _ = window.timeline.series()
    assert times.min() >= after[0].result.time_s  # history before the seek is gone
    assert set(window.circumplex.points()) <= new_ids

    window.seek_to_frame(30)  # the slider's path, while paused: one frame is shown at the new place
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index == 30, timeout=10_000)


def test_unpaced_playback_drops_frames_instead_of_queueing_them(make_window, qtbot, one_face_video):
    path, _ = one_face_video
    window = make_window(paced=False)
    assert window.open_source_spec(str(path))
    qtbot.waitUntil(lambda: "End of video" in window.statusBar().currentMessage(), timeout=20_000)
    qtbot.wait(300)
    assert window.capture.frames_read == 90  # the whole file, read as fast as it decodes
    assert not window.playing
    # Inference could not keep up, so frames were skipped rather than queued (a queue would show
    # all 90, the last ones seconds late), and the newest frame always won: the last one is shown.
    assert 0 < window.stats.displayed < 90
    assert max(window.stats.latencies) < 1.0
    assert window.last_displayed.captured.frame.index == 89


def test_keyboard_shortcuts_play_pause_and_seek(make_window, qtbot):
    window = make_window()
    assert window.open_source_spec("demo")
    window.activateWindow()
    qtbot.waitUntil(lambda: window.last_displayed is not None, timeout=20_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playing
    position = window.last_displayed.captured.frame.index
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index >= position + 150, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playing


def test_closing_during_playback_releases_everything_quickly(make_window, qtbot):
    window = make_window()
    assert window.open_source_spec("demo")
    qtbot.waitUntil(lambda: window.stats.displayed >= 3, timeout=20_000)
    capture, inference = window.capture, window.inference
    assert window.playing
    start = time.monotonic()
    window.close()
    assert time.monotonic() - start < 2.0
    assert capture.isFinished() and inference.isFinished()
    assert inference.pipeline.detector._detector is None  # the MediaPipe graph was closed
    assert not capture.source._capture.isOpened()  # the video file was released


def test_a_corrupt_file_shows_a_message_and_another_source_can_be_chosen(make_window, qtbot, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    window = make_window()
    assert not window.open_source_spec(str(broken))
    assert "corrupt" in window.video_view.message and str(broken) in window.video_view.message
    assert "corrupt" in window.statusBar().currentMessage()
    assert not window.open_source_spec(str(tmp_path / "missing.mp4"))
    assert "not found" in window.video_view.message

    assert window.open_source_spec("demo")
    assert window.video_view.message == ""
    qtbot.waitUntil(lambda: window.stats.displayed >= 3, timeout=20_000)


def test_a_camera_that_disappears_shows_a_message_and_the_app_keeps_running(make_window, qtbot, one_face_video):
    path, _ = one_face_video
    with VideoFileSource(path) as source:
        images = [frame.image for frame, _ in zip(source, range(15), strict=False)]
    window = make_window()
    camera = VanishingCamera(images)
    window.play_source(camera, "camera 7")
    qtbot.waitUntil(lambda: "disconnected" in window.video_view.message, timeout=20_000)
    assert camera.closed
    assert window.stats.displayed >= 1
    assert not window.playing

    assert window.open_source_spec(str(path))
    qtbot.waitUntil(lambda: window.stats.displayed >= 5, timeout=20_000)
    assert window.video_view.message == ""


def test_without_a_camera_the_demo_plays_and_the_status_bar_says_so(make_window, qtbot, monkeypatch):
    import fer_live.gui.window as window_module

    real_open = window_module.open_source

    def no_cameras(spec):
        if str(spec).isdigit():
            raise SourceError(f"camera {spec} could not be opened (is it connected and free?)")
        return real_open(spec)

    monkeypatch.setattr(window_module, "open_source", no_cameras)
    window = make_window()
    window.open_default_source()
    assert window.source_spec == "demo"
    assert "demo" in window.statusBar().currentMessage()
    assert window.video_view.message == ""
    qtbot.waitUntil(lambda: window.stats.displayed >= 2, timeout=20_000)


def test_settings_apply_to_the_pipeline_and_are_remembered(make_window, qtbot, gui_store):
    window = make_window()
    assert window.open_source_spec("demo")
    changed = GuiSettings(
        device="cpu",
        detector_range="short",
        min_confidence=0.6,
        smoothing=0.3,
        show_va=False,
        loop_video=True,
        trail_seconds=2.0,
        timeline_seconds=10.0,
    )
    window.apply_settings(changed)
    qtbot.waitUntil(lambda: window.inference.pipeline.settings.detector_range == "short", timeout=20_000)
    applied = window.inference.pipeline.settings
    assert (applied.min_confidence, applied.smoothing) == (0.6, 0.3)
    assert not window.video_view.show_va and window.timeline.window_seconds == 10.0
    assert window.capture.loop
    assert gui_settings.load(gui_store) == changed


def test_settings_fall_back_to_defaults_when_the_stored_ones_are_unusable(gui_store):
    gui_store.setValue("settings/detector_range", "telescope")
    gui_store.setValue("settings/smoothing", "lots")
    assert gui_settings.load(gui_store) == GuiSettings()


def test_a_hand_edited_settings_file_is_read_value_by_value_like_the_command_line(tmp_path):
    ini = tmp_path / "gui.ini"
    ini.write_text(
        "[settings]\nsmoothing=0,5\nmin_confidence=0.5,0.6\ntrail_seconds=inf\ntimeline_seconds=nan\n"
        "pose_limit=1e308\nshow_boxes=yes\nprior=0.7\ndetector_range=short\ncalibration_seconds=2.5\n"
    )
    said = []
    loaded = gui_settings.load(gui_settings.open_store(ini), say=said.append)
    # The usable values are kept, each unusable one is its default.
    assert loaded == GuiSettings(prior="0.7", detector_range="short", calibration_seconds=2.5)
    assert said == [
        f"settings file {ini}: min_confidence: not a number: '0.5,0.6'; smoothing: not a number: '0,5'; "
        "show_boxes: must be true or false, not 'yes'; pose_limit: must be within [0, 90], not 1e308; "
        "trail_seconds: not a finite number: 'inf'; timeline_seconds: not a finite number: 'nan'; "
        "their defaults are used instead"
    ]


def test_the_window_starts_from_a_damaged_settings_file_with_one_line(tmp_path, capsys, qapp):
    ini = tmp_path / "gui.ini"
    ini.write_text("[settings]\nsmoothing=0,5\n")
    # Missing weights stop it before the window opens, after the settings were read.
    assert (
        cli.main(["gui", "--source", "demo", "--weights", str(tmp_path / "none.pt"), "--settings-file", str(ini)]) == 2
    )
    warning, error = capsys.readouterr().err.splitlines()
    assert warning == (
        f"fer-live: warning: settings file {ini}: smoothing: not a number: '0,5'; their defaults are used instead"
    )
    assert error.startswith("fer-live: error:") and "not found" in error


def test_every_setting_is_read_and_the_dialog_offers_its_stored_range(qapp):
    from dataclasses import fields

    from fer_live.gui.settings_dialog import SettingsDialog

    assert set(gui_settings._READERS) == {spec.name for spec in fields(GuiSettings)}
    dialog = SettingsDialog(GuiSettings())
    assert (dialog._trail.minimum(), dialog._trail.maximum()) == gui_settings.TRAIL_SECONDS_RANGE
    assert (dialog._timeline.minimum(), dialog._timeline.maximum()) == gui_settings.TIMELINE_SECONDS_RANGE


def test_cli_refuses_missing_or_corrupt_weights_with_one_line(tmp_path, capsys, qapp):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a weights file")
    for weights, words in ((tmp_path / "missing.pt", "not found"), (corrupt, "corrupt")):
        code = cli.main(
            ["gui", "--source", "demo", "--weights", str(weights), "--settings-file", str(tmp_path / "gui.ini")]
        )
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert len(err) == 1 and err[0].startswith("fer-live: error:") and words in err[0]


def test_cli_without_a_display_says_so(tmp_path, capsys, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert cli.main(["gui", "--source", "demo", "--settings-file", str(tmp_path / "gui.ini")]) == 2
    assert "no display" in capsys.readouterr().err


def test_benchmark_reports_rates_and_latency(one_face_video, random_weights, capsys, qapp):
    import json

    from fer_live.gui.tools import bench

    path, _ = one_face_video
    args = ["--source", str(path), "--seconds", "2", "--warmup", "0.5", "--weights", str(random_weights)]
    assert bench.main([*args, "--device", "cpu"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frame_size"] == [640, 480] and report["source_fps"] == 30.0
    # Paced like a camera: never faster than 30 frames per second of playing time.
    assert 15 * report["seconds"] <= report["captured_frames"] <= 30 * report["seconds"] + 3
    # Up to two frames captured before the measured span (in inference, awaiting display) show in it.
    assert 0 < report["displayed_frames"] <= report["captured_frames"] + 2
    assert report["dropped_frames"] == max(0, report["captured_frames"] - report["displayed_frames"])
    assert 0 < report["latency_ms"]["median"] <= report["latency_ms"]["p95"] <= report["latency_ms"]["max"]
    assert report["peak_rss_mb"] > 0


def test_screenshot_tool_writes_a_png_of_the_window(tmp_path, random_weights, qapp):
    from PySide6.QtGui import QImage

    from fer_live.gui.tools import screenshot

    out = tmp_path / "shot.png"
    args = ["--out", str(out), "--seconds", "1.5", "--size", "960x600", "--weights", str(random_weights)]
    assert screenshot.main(args) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (960, 600)


def test_none_keeps_enough_references_while_a_window_draws(make_window, qtbot):
    """PySide6 6.12.0 on Python 3.11 loses references to None and True on many Qt calls; the
    window's guard must keep their counts far from zero (elsewhere the probe finds no leak)."""
    import sys

    from fer_live.gui import none_guard

    window = make_window()
    assert window.open_source_spec("demo")
    qtbot.waitUntil(lambda: window.stats.displayed >= 10, timeout=20_000)
    if none_guard.pyside_leaks_none():
        for singleton in (None, True, False):
            assert sys.getrefcount(singleton) > none_guard.FLOOR // 2


def test_settings_dialog_round_trips_settings(qtbot):
    from fer_live.gui.settings_dialog import SettingsDialog

    chosen = GuiSettings(
        device="cpu",
        detector_range="short",
        min_confidence=0.65,
        smoothing=0.8,
        show_boxes=False,
        show_labels=False,
        geometry=True,
        show_mesh=False,
        pose_limit=30.0,
        loop_video=False,
        trail_seconds=4.5,
        timeline_seconds=30.0,
    )
    dialog = SettingsDialog(chosen)
    qtbot.addWidget(dialog)
    assert dialog.settings() == chosen


def test_source_menu_lists_demo_file_and_only_cameras_that_open(make_window, monkeypatch):
    import fer_live.gui.window as window_module

    monkeypatch.setattr(window_module, "available_cameras", lambda skip=frozenset(): [2])
    window = make_window()
    window._fill_source_menu()
    entries = [(a.text(), a.isEnabled()) for a in window.toolbar.source_menu.actions() if not a.isSeparator()]
    assert entries == [("Demo video", True), ("Open video file…", True), ("Open session…", True), ("Camera 2", True)]

    monkeypatch.setattr(window_module, "available_cameras", lambda skip=frozenset(): [])
    window._fill_source_menu()
    entries = [(a.text(), a.isEnabled()) for a in window.toolbar.source_menu.actions() if not a.isSeparator()]
    assert entries[-1] == ("No camera found", False)


def test_geometry_setting_draws_the_mesh_fills_the_panel_and_greys_out_turned_faces(make_window, qtbot, one_face_video):
    from dataclasses import replace

    from fer_live.gui.video_view import UNTRUSTED

    window = make_window(replace(TEST_SETTINGS, geometry=True))
    assert window.inference.pipeline.settings.geometry
    assert window.open_source_spec(str(one_face_video[0]))
    shown = play_until(qtbot, window, 5)
    face = shown[-1].result.faces[0]
    geometry = face.geometry
    assert geometry is not None and geometry.landmarks.shape == (468, 2) and geometry.pose_ok
    text = window.geometry_panel.text()
    assert f"head yaw {geometry.yaw:+.0f}°" in text and "eyes open" in text
    # The mesh and axes are drawn on the face, and only there.
    with_mesh = window.video_view.grab().toImage()
    window.video_view.show_mesh = False
    without = window.video_view.grab().toImage()
    changed = [
        (x, y) for x in range(0, with_mesh.width(), 2) for y in range(0, with_mesh.height(), 2)
        if with_mesh.pixelColor(x, y) != without.pixelColor(x, y)
    ]  # fmt: skip
    assert len(changed) > 200
    x0, y0, w, h = face.box
    corner, far = window.video_view.widget_point(x0, y0), window.video_view.widget_point(x0 + w, y0 + h)
    inside = [corner.x() - 5 <= x <= far.x() + 5 and corner.y() - 5 <= y <= far.y() + 5 for x, y in changed]
    assert np.mean(inside) > 0.9
    # A pose limit below this face's pose greys its label out, and the panel says why.
    limit = max(abs(geometry.yaw), abs(geometry.pitch)) / 2
    window.apply_settings(replace(window.settings, pose_limit=limit))
    window.set_playing(True)
    qtbot.waitUntil(lambda: window.inference.pipeline.settings.pose_limit == limit, timeout=20_000)
    shown = play_until(qtbot, window, 3)
    assert not shown[-1].result.faces[0].geometry.pose_ok
    assert "greyed out" in window.geometry_panel.text()
    assert UNTRUSTED.name() == "#8a8a8a"


def test_without_geometry_the_panel_says_how_to_turn_it_on(make_window, qtbot, one_face_video):
    from fer_live.gui.widgets.geometry_panel import OFF

    window = make_window()
    assert window.open_source_spec(str(one_face_video[0]))
    shown = play_until(qtbot, window, 2)
    assert shown[-1].result.faces[0].geometry is None
    assert window.geometry_panel.text() == OFF
