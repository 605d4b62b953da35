"""The live window: video with overlays, emotion bars, circumplex, timeline, action units, status bar and controls.

The window only draws. A CaptureThread reads the source and an InferenceThread runs the Pipeline;
the newest result reaches the GUI thread through a signal. `display_frame` draws any (frame, result)
pair: reviewing a recorded session feeds it the results read from frames.csv instead (review.py),
and recording writes every captured frame, with its results where inference processed it (recording.py).
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from fer_live.errors import SourceError
from fer_live.gui import none_guard
from fer_live.gui import settings as gui_settings
from fer_live.gui.calibration import ParticipantCalibration
from fer_live.gui.cameras import available_cameras
from fer_live.gui.follow import FaceFollower
from fer_live.gui.lsl import LslStreaming
from fer_live.gui.palette import FaceColours
from fer_live.gui.recording import SessionRecording
from fer_live.gui.review import SessionReplayThread, SessionReview
from fer_live.gui.settings import GuiSettings
from fer_live.gui.settings_dialog import SettingsDialog
from fer_live.gui.status import MessageStatusBar
from fer_live.gui.toolbar import PlaybackToolbar
from fer_live.gui.video_view import VideoView
from fer_live.gui.widgets.action_units import ActionUnitPanel
from fer_live.gui.widgets.bars import EmotionBars
from fer_live.gui.widgets.circumplex import CircumplexPlot
from fer_live.gui.widgets.geometry_panel import GeometryPanel
from fer_live.gui.widgets.timeline import Timeline
from fer_live.gui.worker import CaptureThread, InferenceThread, ProcessedFrame
from fer_live.inference.engine import Engine
from fer_live.pipeline.frames import Pipeline
from fer_live.pipeline.slots import LatestSlot
from fer_live.pipeline.sources import Source, open_source
from fer_live.pipeline.stats import PlaybackStats
from fer_live.results import FaceResult, FrameResult
from fer_live.sessions.reader import Session

SEEK_STEP_S = 5.0
THREAD_STOP_TIMEOUT_MS = 3000
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"


class MainWindow(QMainWindow):
    result_displayed = Signal(object)  # the ProcessedFrame every widget now shows
    source_started = Signal(object)  # the CaptureThread of a source that replaced the previous one

    def __init__(self, engine: Engine, settings: GuiSettings, store: QSettings, paced: bool = True):
        """`paced=False` plays files as fast as they decode; a camera is always real time."""
        super().__init__()
        none_guard.install(self)
        self.setWindowTitle("fer_live")
        self.settings = settings
        self.store = store
        self.paced = paced
        self.stats = PlaybackStats()
        self.capture: CaptureThread | None = None
        self.source_name = ""
        self.source_spec = ""  # what open_source_spec was given ("demo", "0", a path)
        self.follower = FaceFollower()  # the face the side panels show
        self.face_colours = FaceColours()  # one colour per face in view, for the video and the circumplex
        self.last_displayed: ProcessedFrame | None = None
        self._accept_from = 0  # results of older generations (before a seek or source switch) are stale
        self._shown_generation: int | None = None
        self._frames = LatestSlot()
        self._results = LatestSlot()
        self._shut_down = False
        self._stuck_threads: list[CaptureThread] = []
        self._device_name = engine.device_name

        self.inference = InferenceThread(
            Pipeline(settings.pipeline_settings(), engine=engine), self._frames, self._results
        )
        self.inference.result_ready.connect(self._on_result_ready)
        self.inference.failed.connect(self.show_error)
        self.inference.device_changed.connect(self._on_device_changed)
        self._build_ui()
        self._build_shortcuts()
        self.lsl = LslStreaming(self)
        self.recording = SessionRecording(self)
        self.review = SessionReview(self)
        self.calibration = ParticipantCalibration(self)
        self._apply_view_settings()
        self.resize(1280, 800)
        geometry = store.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self._update_status)
        self._status_timer.start()
        self.inference.start()

    # -- layout -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.toolbar = PlaybackToolbar(self)
        self.addToolBar(self.toolbar)
        self.toolbar.source_menu.aboutToShow.connect(self._fill_source_menu)
        self.toolbar.play_clicked.connect(self.toggle_playing)
        self.toolbar.seek_requested.connect(self.seek_to_frame)
        self.toolbar.settings_clicked.connect(self.open_settings)

        self.video_view = VideoView(self.face_colours)
        self.video_view.face_clicked.connect(self.select_face)
        self.video_view.frame_painted.connect(self.stats.frame_displayed)
        self.bars = EmotionBars()
        self.geometry_panel = GeometryPanel()
        self.circumplex = CircumplexPlot(self.settings.trail_seconds, self.face_colours)
        self.timeline = Timeline(self.settings.timeline_seconds)
        self.action_units = ActionUnitPanel()

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 8, 0)
        side_layout.addWidget(self.bars, 2)
        side_layout.addWidget(self.geometry_panel)
        side_layout.addWidget(self.circumplex, 3)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.video_view)
        top.addWidget(side)
        top.setStretchFactor(0, 1)
        # The AU panel sits under the side widgets, beside the timeline: its rows fit there in two
        # columns without squeezing the bars and the circumplex.
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.timeline)
        bottom.addWidget(self.action_units)
        bottom.setStretchFactor(0, 1)
        central = QSplitter(Qt.Orientation.Vertical)
        central.addWidget(top)
        central.addWidget(bottom)
        central.setSizes([600, 200])
        top.setSizes([760, 520])
        bottom.setSizes([700, 580])
        self.setCentralWidget(central)

        self.setStatusBar(MessageStatusBar())
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        # Counted from the frame on screen, when it is drawn: the rates above are sampled once a second.
        self.face_count_label = QLabel()
        self.statusBar().addPermanentWidget(self.face_count_label)

    def _build_shortcuts(self) -> None:
        shortcuts = (
            ("Play / pause", "Space", self.toggle_playing),
            ("Back 5 s", "Left", lambda: self.seek_by_seconds(-SEEK_STEP_S)),
            ("Forward 5 s", "Right", lambda: self.seek_by_seconds(SEEK_STEP_S)),
            ("Full screen", "F", self.toggle_fullscreen),
            ("Leave full screen", "Escape", self.showNormal),
            ("Open video file", QKeySequence.StandardKey.Open, self.choose_file),
            ("Settings", "Ctrl+,", self.open_settings),
            ("Quit", QKeySequence.StandardKey.Quit, self.close),
        )
        self.actions_by_name: dict[str, QAction] = {}
        for name, keys, slot in shortcuts:
            self.add_shortcut(name, keys, slot)

    def add_shortcut(self, name: str, keys, slot) -> QAction:
        """A window-wide keyboard shortcut (the recording controller adds its own)."""
        action = QAction(name, self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions_by_name[name] = action
        return action

    def _fill_source_menu(self) -> None:
        menu = self.toolbar.source_menu
        menu.clear()
        menu.addAction("Demo video", lambda: self.open_source_spec("demo"))
        menu.addAction("Open video file…", self.choose_file)
        menu.addAction("Open session…", self.review.choose_session)
        menu.addSeparator()
        in_use = self._camera_in_use()
        cameras = available_cameras(skip={in_use} if in_use is not None else set())
        if in_use is not None:
            cameras = sorted([*cameras, in_use])
        for index in cameras:
            text = f"Camera {index}" + (" (in use)" if index == in_use else "")
            menu.addAction(text, lambda index=index: self.open_source_spec(str(index))).setEnabled(index != in_use)
        if not cameras:
            menu.addAction("No camera found").setEnabled(False)

    def _camera_in_use(self) -> int | None:
        if self.source_spec.isdigit() and self.capture is not None and self.capture.isRunning():
            return int(self.source_spec)
        return None

    # -- sources ------------------------------------------------------------------------------
    def open_default_source(self) -> None:
        """Camera 0, or the bundled demo video when no camera opens."""
        if self.open_source_spec("0", report_errors=False):
            return
        if self.open_source_spec("demo"):
            self.statusBar().showMessage("No camera found: playing the demo video (choose another in Source).")

    def open_source_spec(self, spec: str, report_errors: bool = True) -> bool:
        """Open `demo`, a camera index or a file path; on failure show why and keep the current state."""
        try:
            source = open_source(spec)
        except SourceError as exc:
            if report_errors:
                self.show_error(str(exc))
            return False
        self.play_source(source, source_display_name(spec), spec)
        return True

    def play_source(self, source: Source, name: str, spec: str = "") -> None:
        """Start capturing `source` for inference (closing the previous one); the window owns it from now on."""
        capture = CaptureThread(
            source,
            self._frames,
            paced=self.paced,
            loop=self.settings.loop_video,
            keep_for_recording=self.inference.keep_for_recording,
        )
        self._start_capture(capture, name, spec)

    def play_session(self, session: Session) -> None:
        """Play a recorded session with the results recorded for each frame (no inference)."""
        replay = SessionReplayThread(session, self._results, paced=self.paced, loop=self.settings.loop_video)
        replay.result_ready.connect(self._on_result_ready)
        self._start_capture(replay, f"session {session.path.name}", str(session.path))

    def _start_capture(self, capture: CaptureThread, name: str, spec: str) -> None:
        self._stop_capture()
        self.source_name = name
        self.source_spec = spec
        source = capture.source
        self.toolbar.source_label.setText(name)
        self.toolbar.set_duration(source.frame_count if not source.is_live else None, source.fps)
        self.video_view.set_message("")
        self.statusBar().clearMessage()
        capture.failed.connect(self._on_capture_failed)
        capture.reached_end.connect(self._on_reached_end)
        self.capture = capture
        self._accept_from = capture.generation
        self._reset_widgets()
        self.source_started.emit(capture)
        capture.start()
        self.toolbar.set_playing(True)

    def choose_file(self) -> None:
        folder = str(self.store.value("paths/last_directory", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open video", folder, VIDEO_FILTER)
        if path:
            self.store.setValue("paths/last_directory", str(Path(path).parent))
            self.open_source_spec(path)

    def _stop_capture(self) -> None:
        if self.capture is None:
            return
        self.capture.stop()
        if not self.capture.wait(THREAD_STOP_TIMEOUT_MS):
            # Still blocked in a device read: keep a reference, a QThread destroyed while running aborts.
            self._stuck_threads.append(self.capture)
        self._frames.clear()

    def _on_capture_failed(self, message: str) -> None:
        if self.sender() is self.capture:  # not a late signal from a source already replaced
            self.toolbar.set_playing(False)
            self.show_error(f"{message}. Choose another source in the Source menu.")

    def _on_reached_end(self) -> None:
        if self.sender() is self.capture:
            self.toolbar.set_playing(False)
            self.statusBar().showMessage("End of video: press Space to play it again.")

    # -- playback control ---------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.capture is not None and self.capture.isRunning() and not self.capture.paused

    def set_playing(self, playing: bool) -> None:
        if self.capture is None or not self.capture.isRunning():
            return
        self.capture.set_paused(not playing)
        self.toolbar.set_playing(playing)

    def toggle_playing(self) -> None:
        self.set_playing(not self.playing)

    def seek_to_frame(self, frame_index: int) -> None:
        """Jump within a file; tracks and the side widgets' history start afresh at the new position."""
        if self.capture is None or not self.capture.source.frame_count or not self.capture.isRunning():
            return
        frame_index = min(max(frame_index, 0), self.capture.source.frame_count - 1)
        self._accept_from = self.capture.seek(frame_index)
        self._reset_widgets()
        self.toolbar.set_position(frame_index)

    def seek_by_seconds(self, seconds: float) -> None:
        if self.capture is None:
            return
        current = self.last_displayed.captured.frame.index if self.last_displayed else self.toolbar.slider.value()
        self.seek_to_frame(current + round(seconds * self.capture.source.fps))

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # -- results ------------------------------------------------------------------------------
    def _on_result_ready(self) -> None:
        processed = self._results.take(timeout=0)
        if processed is None or processed.captured.generation < self._accept_from:
            return
        if processed.captured.generation != self._shown_generation:
            self._reset_widgets()
            self._shown_generation = processed.captured.generation
        captured = processed.captured
        self.last_displayed = processed
        self.display_frame(captured.frame.image, processed.result, captured.captured_at)
        self.toolbar.set_position(captured.frame.index)
        self.result_displayed.emit(processed)

    def display_frame(self, image: np.ndarray, result: FrameResult, captured_at: float) -> None:
        """Draw one frame and its result in every widget."""
        self.face_colours.update((face.face_id for face in result.faces), result.time_s)
        face = self.follower.follow(result)
        self.video_view.set_frame(image, result, self.follower.face_id, captured_at)
        self.circumplex.add_result(result)
        self.timeline.add_result(result)
        self._show_followed(face)
        self._show_face_count(len(result.faces))

    @property
    def selected_face_id(self) -> int | None:
        """The face the user clicked, while the side widgets still follow it (None: chosen automatically)."""
        return self.follower.face_id if self.follower.clicked else None

    def select_face(self, face_id: int) -> None:
        """Follow `face_id` in the side widgets (0: choose automatically again, the largest face first)."""
        result = self.last_displayed.result if self.last_displayed is not None else None
        face = self.follower.select(face_id or None, result)
        self.video_view.set_selected(self.follower.face_id)
        self._show_followed(face)

    def _show_followed(self, face: FaceResult | None) -> None:
        """Every side widget shows, and names in its title, the one face the follower chose."""
        face_id = self.follower.face_id
        self.bars.set_face(face, face_id)
        self.action_units.set_face(face, face_id)
        self.geometry_panel.set_face(face)
        self.circumplex.set_selected(face_id)
        self.timeline.show_face(face_id)

    def _show_face_count(self, count: int) -> None:
        text = f"{count} face{'s' if count != 1 else ''}"
        if text != self.face_count_label.text():
            self.face_count_label.setText(text)

    def _reset_widgets(self) -> None:
        self.follower.reset()
        self.face_colours.reset()
        self.circumplex.reset()
        self.timeline.reset()
        self._show_followed(None)
        self._show_face_count(0)

    def show_error(self, message: str) -> None:
        self.video_view.set_message(message)
        self.statusBar().showMessage(message)

    def _on_device_changed(self, device_name: str) -> None:
        self._device_name = device_name

    def _update_status(self) -> None:
        capture = self.capture
        rates = self.stats.sample(
            {
                "captured": capture.frames_read if capture is not None else 0,
                "processed": self.inference.frames_processed,
            }
        )
        latency = f"{rates['latency_ms']:.0f} ms" if "latency_ms" in rates else "–"
        self.status_label.setText(
            f"source {rates.get('captured', 0):.1f} fps · processed {rates.get('processed', 0):.1f} fps · "
            f"shown {rates.get('displayed', 0):.1f} fps · latency {latency} · {self._device_name} ·"
        )

    # -- settings -----------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.settings())

    def apply_settings(self, settings: GuiSettings) -> None:
        """Use and remember new settings; detector/smoothing/device changes rebuild the pipeline."""
        previous, self.settings = self.settings, settings
        if settings.pipeline_settings() != previous.pipeline_settings():
            self.inference.configure(settings.pipeline_settings())
        if self.capture is not None:
            self.capture.loop = settings.loop_video
        if settings.stream_lsl != previous.stream_lsl:
            self.lsl.setting_changed(settings.stream_lsl)
        self._apply_view_settings()
        gui_settings.save(self.store, settings)

    def _apply_view_settings(self) -> None:
        self.video_view.show_boxes = self.settings.show_boxes
        self.video_view.show_labels = self.settings.show_labels
        self.video_view.show_va = self.settings.show_va
        self.video_view.show_mesh = self.settings.show_mesh
        self.geometry_panel.enabled = self.settings.geometry
        self.video_view.calibration_seconds = self.settings.calibration_seconds
        self.video_view.update()
        self.circumplex.trail_seconds = self.settings.trail_seconds
        self.timeline.window_seconds = self.settings.timeline_seconds

    # -- shutdown -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the threads, release the source and the detector, remember settings. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self._status_timer.stop()
        self._stop_capture()
        self.inference.stop()
        self.inference.wait(THREAD_STOP_TIMEOUT_MS)
        self.recording.stop("window closed")  # after inference, so the frame it was processing is written too
        self.lsl.close()
        gui_settings.save(self.store, self.settings)
        self.store.setValue("window/geometry", self.saveGeometry())
        self.store.sync()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)


def dispose(window: MainWindow) -> None:
    """Close and delete the window now, while the interpreter is whole: Qt objects left for the
    interpreter's final garbage collection can crash it on the way out."""
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def source_display_name(spec: str) -> str:
    if spec == "demo":
        return "demo video"
    if spec.isdigit():
        return f"camera {spec}"
    return Path(spec).name
