"""Recording a research session from the live window: Record button / Ctrl+R, marker keys, status line.

The InferenceThread writes every captured frame into the Recorder, with its result where it
processed the frame and without results where it skipped it (see `InferenceThread.set_recorder`),
so the session's video holds every frame the source gave and the GUI thread never encodes video.
This controller starts and stops the recorder and adds markers from the GUI.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QInputDialog, QLabel, QMainWindow

from fer_live.errors import FerLiveError
from fer_live.gui.session_dialog import PARENT_FOLDER_KEY, SessionDialog, remembered_parent_folder
from fer_live.gui.toolbar import format_clock
from fer_live.gui.worker import CapturedFrame, ProcessedFrame
from fer_live.pipeline.lsl import marker_event
from fer_live.pipeline.sources import Source
from fer_live.sessions.files import MARKER_KEYS, TEXT_MARKER_KEY, Marker
from fer_live.sessions.recorder import Recorder, SessionMetadata, new_session_dir

# When a file ends, its last frame may still be in inference; the recording waits this long at most
# for it to be written (it is usually a few tens of milliseconds).
LAST_FRAME_WAIT_MS = 3000
MARKER_MESSAGE_MS = 4000


class SessionRecording(QObject):
    """The recording controller of the window. `window` is gui/window.py's MainWindow, typed as its
    Qt base class because window.py imports this module (no import circle)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.recorder: Recorder | None = None
        self._source: Source | None = None  # the source being recorded
        self._skipped_before = 0  # its skipped frames when recording started
        self.status_label = QLabel()
        window.statusBar().insertPermanentWidget(1, self.status_label)  # right after the message
        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._show_status)
        self._awaited_last_frame: CapturedFrame | None = None
        self._last_frame_timeout = QTimer(self)
        self._last_frame_timeout.setSingleShot(True)
        self._last_frame_timeout.setInterval(LAST_FRAME_WAIT_MS)
        self._last_frame_timeout.timeout.connect(lambda: self.stop("source ended"))

        window.add_shortcut("Record / stop recording", "Ctrl+R", self.toggle)
        # `*_` takes the `checked` argument QAction.triggered passes, which would otherwise become `key`.
        self.marker_actions = [
            window.add_shortcut(f"Marker {key}", key, lambda *_, key=key: self.add_marker(key)) for key in MARKER_KEYS
        ]
        self.marker_actions.append(window.add_shortcut("Marker with a note", "M", self.ask_note_marker))
        self._enable_markers(False)
        window.toolbar.record_clicked.connect(self.toggle)
        window.inference.recording_failed.connect(self._on_write_failed)
        window.result_displayed.connect(self._on_result_displayed)
        window.source_started.connect(self._on_source_started)

    @property
    def active(self) -> bool:
        return self.recorder is not None

    # -- start / stop ---------------------------------------------------------------------------
    def toggle(self) -> None:
        """Stop a recording, or ask for the session's metadata and start one."""
        if self.active:
            self.stop()
            return
        reason = self._why_not_recordable()
        if reason is not None:  # said before the dialog, not after the researcher filled it in
            self._refuse(reason)
            return
        dialog = SessionDialog(remembered_parent_folder(self.window.store), self.window)
        if dialog.exec():
            self.start(dialog.metadata(), dialog.parent_folder())

    def start(self, metadata: SessionMetadata, parent_folder: Path) -> Path | None:
        """Record the current source into a new session folder under `parent_folder`; the folder,
        or None (with the reason in the status bar) when recording cannot start."""
        window = self.window
        capture = window.capture
        if self.active:
            return self.recorder.path
        reason = self._why_not_recordable()
        if reason is not None:
            return self._refuse(reason)
        window.store.setValue(PARENT_FOLDER_KEY, str(parent_folder))
        try:
            recorder = Recorder.for_pipeline(
                new_session_dir(parent_folder, metadata.participant),
                capture.source,
                window.inference.pipeline,
                metadata=metadata,
            )
        except FerLiveError as exc:
            return self._refuse(f"Recording not started: {exc}")
        self.recorder = recorder
        # Damage the source reports from now on goes into session.json (as `fer-live record` does).
        self._source = capture.source
        self._skipped_before, self._retimed_before = len(self._source.skipped_frames), len(self._source.retimed_frames)
        window.inference.set_recorder(recorder)
        window.toolbar.set_recording(True)
        self._enable_markers(True)
        self._show_status()
        self._clock.start()
        window.statusBar().showMessage(f"Recording to {recorder.path}")
        return recorder.path

    def stop(self, stopped_by: str = "stopped") -> None:
        """Finish the session (nothing happens when none is being recorded)."""
        if self.recorder is None:
            return
        recorder, self.recorder = self.recorder, None
        self.window.inference.set_recorder(None)  # waits for a frame being written: finish() never races it
        self._awaited_last_frame = None
        self._last_frame_timeout.stop()
        self._clock.stop()
        self.status_label.clear()
        self.status_label.setToolTip("")
        self.window.toolbar.set_recording(False)
        self._enable_markers(False)
        try:
            recorder.finish(stopped_by, self._source_damage())
        except FerLiveError as exc:
            self.window.show_error(f"Recording not finished properly: {exc}")
            return
        unprocessed = recorder.unprocessed_frames
        without_results = f", {unprocessed} of them without results (the model skipped them)" if unprocessed else ""
        self.window.statusBar().showMessage(
            f"Session saved: {recorder.path} ({recorder.frames_recorded} frames{without_results}, "
            f"{format_clock(recorder.duration_s)}, {len(recorder.markers)} markers)"
        )

    def _source_damage(self) -> dict | None:
        """What the source could not read while this session recorded it (`Source.damage_info()`)."""
        skipped = list(self._source.skipped_frames[self._skipped_before :])
        missing = self._source.missing_at_end
        retimed = list(self._source.retimed_frames[self._retimed_before :])
        damage = {"skipped_frames": skipped, "missing_at_end": missing}
        if retimed:
            damage["retimed_frames"] = retimed
        return damage if skipped or missing or retimed else None

    # -- markers --------------------------------------------------------------------------------
    def add_marker(self, key: str, note: str = "", at: tuple[float, int] | None = None) -> Marker | None:
        """Mark the current frame (or `at`, a `Recorder.position()`): `key` 1–9, or "m" with the text in `note`."""
        if self.recorder is None:
            return None
        try:
            marker = self.recorder.add_marker(key, note, at)
        except FerLiveError as exc:
            self.window.statusBar().showMessage(f"Marker not added: {exc}", MARKER_MESSAGE_MS)
            return None
        self.window.lsl.mark(marker_event(marker.key, marker.text))
        self.window.statusBar().showMessage(
            f"Marker '{marker.text}' at {format_clock(marker.time_s)}", MARKER_MESSAGE_MS
        )
        return marker

    def ask_note_marker(self) -> None:
        """A free-text marker at the moment M was pressed, not when the note is confirmed seconds later."""
        if self.recorder is None:
            return
        pressed_at = self.recorder.position()
        text, accepted = QInputDialog.getText(self.window, "Marker", "Note for this moment:")
        if accepted and text.strip():
            self.add_marker(TEXT_MARKER_KEY, text, pressed_at)

    # -- events ---------------------------------------------------------------------------------
    def _on_source_started(self, capture) -> None:
        self.stop("source changed")  # a session records one source
        capture.reached_end.connect(self._on_source_ended)
        capture.failed.connect(self._on_source_failed)

    def _on_source_ended(self) -> None:
        """A file ended: stop once its last frame has been processed and written (it usually
        is still in inference when the end is noticed)."""
        capture = self.window.capture
        if self.recorder is None or self.sender() is not capture:
            return
        shown = self.window.last_displayed
        if capture.last_delivered is None or (shown is not None and shown.captured is capture.last_delivered):
            self.stop("source ended")
            return
        self._awaited_last_frame = capture.last_delivered
        self._last_frame_timeout.start()

    def _on_result_displayed(self, processed: ProcessedFrame) -> None:
        # Displayed means written: inference records a frame before it hands the result on.
        if self._awaited_last_frame is not None and processed.captured is self._awaited_last_frame:
            self.stop("source ended")

    def _on_source_failed(self, message: str) -> None:
        if self.sender() is self.window.capture:
            self.stop(f"source failed: {message}")

    def _on_write_failed(self, recorder: Recorder, message: str) -> None:
        if recorder is not self.recorder:  # a session already stopped (the signal is queued)
            return
        self.window.show_error(f"Recording stopped: {message}")
        self.stop(f"error: {message}")

    def _why_not_recordable(self) -> str | None:
        capture = self.window.capture
        if capture is None or not capture.isRunning():
            return "Open a camera or video before recording (Source menu)."
        if capture.session is not None:
            return "A session under review is already recorded: open a camera or video to record."
        return None

    # -- display --------------------------------------------------------------------------------
    def _refuse(self, message: str) -> None:
        self.window.statusBar().showMessage(message)
        self.window.toolbar.set_recording(False)

    def _enable_markers(self, enabled: bool) -> None:
        for action in self.marker_actions:
            action.setEnabled(enabled)

    def _show_status(self) -> None:
        # Short, so messages keep the status bar's width; the folder is in the tooltip and in the
        # messages at the start and the end of the recording.
        if self.recorder is not None:
            self.status_label.setText(f"● Recording {format_clock(self.recorder.duration_s)}")
            self.status_label.setToolTip(f"Recording to {self.recorder.path}")
