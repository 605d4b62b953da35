"""Reviewing a recorded session in the window: its video plays with the overlays, bars, circumplex and
timeline drawn from frames.csv (never inferred again), and a marker list seeks to each marker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFileDialog, QListWidget, QListWidgetItem, QMainWindow

from fer_live.errors import FerLiveError
from fer_live.gui.session_dialog import remembered_parent_folder
from fer_live.gui.toolbar import format_clock
from fer_live.gui.worker import CapturedFrame, CaptureThread, ProcessedFrame
from fer_live.pipeline.slots import LatestSlot
from fer_live.results import FrameResult
from fer_live.sessions.files import SESSION_JSON
from fer_live.sessions.reader import Session

MARKER_ROLE = Qt.ItemDataRole.UserRole  # list item → index into Session.markers


def is_session_folder(spec: str | Path | None) -> bool:
    """True for a folder holding a session.json (`fer-live gui --source SESSION_DIR`)."""
    return spec is not None and (Path(spec) / SESSION_JSON).is_file()


class SessionReplayThread(CaptureThread):
    """Plays a session's recorded video. Each frame goes straight into the window's results slot
    with the results recorded for it, so the inference thread (and the engine) never sees it."""

    result_ready = Signal()  # as InferenceThread.result_ready: a ProcessedFrame waits in the slot

    def __init__(self, session: Session, results: LatestSlot[ProcessedFrame], paced: bool = True, loop: bool = True):
        super().__init__(session.open_video(), results, paced=paced, loop=loop)
        self.session = session

    def deliver(self, captured: CapturedFrame) -> None:
        frame = captured.frame
        # A frame without results of its own (one the model did not process, or in an older session
        # a copy of the previous image) shows the latest results before it, as the live window did.
        result = self.session.latest_result(frame.index) or FrameResult(frame.index, frame.time_s)
        if self.frames.put(ProcessedFrame(captured, result)):
            self.result_ready.emit()


class SessionReview(QObject):
    """The review side of the window: "Open session…", the marker dock and the timeline's marker lines.
    `window` is gui/window.py's MainWindow, typed as its Qt base class (window.py imports this module)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.session: Session | None = None
        self.marker_list = QListWidget()
        self.marker_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay the window's shortcuts
        self.marker_list.itemClicked.connect(self._seek_to_marker)
        self.dock = QDockWidget("Markers", window)
        self.dock.setObjectName("markers")
        self.dock.setWidget(self.marker_list)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        window.source_started.connect(self._on_source_started)

    def choose_session(self) -> None:
        start = remembered_parent_folder(self.window.store)
        folder = QFileDialog.getExistingDirectory(
            self.window, "Open session", str(start if start.is_dir() else Path.home())
        )
        if folder:
            self.open_session(folder)

    def open_session(self, path: str | Path) -> bool:
        """Review the session in `path`; on failure show why in one line and keep the current source."""
        try:
            session = Session.load(path)
        except FerLiveError as exc:
            self.window.show_error(f"Cannot open session: {exc}")
            return False
        if session.video_frame_count == 0:
            self.window.show_error(f"Cannot open session: no recorded video in {session.path}")
            return False
        self.window.play_session(session)
        if missing := session.missing_results():
            self.window.statusBar().showMessage(f"{missing}: frames after that show no results")
        return True

    def _on_source_started(self, capture: CaptureThread) -> None:
        self.session = capture.session
        markers = self.session.markers if self.session is not None else []
        self.marker_list.clear()
        for index, marker in enumerate(markers):
            item = QListWidgetItem(f"{format_clock(marker.time_s)}  [{marker.key}] {marker.text}")
            item.setData(MARKER_ROLE, index)
            self.marker_list.addItem(item)
        self.window.timeline.set_markers([(marker.time_s, marker.text) for marker in markers])
        self.window.timeline.set_gaps(_gaps_without_results(self.session) if self.session is not None else [])
        self.dock.setVisible(self.session is not None)

    def _seek_to_marker(self, item: QListWidgetItem) -> None:
        if self.session is not None:
            self.window.seek_to_frame(self.session.markers[item.data(MARKER_ROLE)].video_frame)


def _gaps_without_results(session: Session) -> list[tuple[float, float]]:
    """Session time spans of the video frames that frames.csv has no results for."""
    frames = session.frames_without_results
    if not frames:
        return []
    return [(session.time_at(frames.start), session.time_at(frames.stop - 1) + 1 / session.fps)]
