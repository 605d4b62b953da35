"""The Calibrate action: a face holds a neutral expression for a few seconds and becomes its own baseline.

The inference thread collects and applies baselines (fer_live.pipeline.frames); this controller asks
for them, tells the outcomes in the status bar (one line for every face asked for, refusals
included) and on the LSL marker stream (so calibration lines up with other recorded signals), keeps
the accepted baselines for saving, and loads saved ones (made with the same weights only).
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from fer_live.errors import FerLiveError
from fer_live.faces.baselines import Outcome, load_calibration, save_calibration
from fer_live.inference.operating_point import Baseline

STATUS_MS = 8000
FILE_FILTER = "fer_live calibration (*.json);;All files (*)"


class ParticipantCalibration(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.baselines: dict[int, Baseline] = {}  # accepted baselines, by face ID, as the inference thread has them
        # The faces of the latest request, each with its outcome in words once it has one (None before).
        self._asked: dict[int, str | None] = {}
        self.last_message = ""
        window.inference.calibration_finished.connect(self._on_finished)
        window.toolbar.calibrate_button.clicked.connect(lambda: self.calibrate())
        menu = window.toolbar.calibrate_menu
        window.add_shortcut("Calibrate", "K", lambda: self.calibrate())
        menu.addAction(window.actions_by_name["Calibrate"])
        for name, keys, slot in (
            ("Calibrate every face", "Shift+K", lambda: self.calibrate(every_face=True)),
            ("Clear calibration", "Ctrl+Shift+K", self.clear),
            ("Save calibration…", None, self.save),
            ("Load calibration…", None, self.load),
        ):
            menu.addAction(window.add_shortcut(name, keys, slot) if keys else self._action(name, slot))

    def _action(self, name: str, slot) -> QAction:
        action = QAction(name, self.window)
        action.triggered.connect(lambda: slot())
        return action

    def _faces_in_view(self) -> list[int]:
        shown = self.window.last_displayed
        return [f.face_id for f in shown.result.faces] if shown is not None else []

    def calibrate(self, every_face: bool = False) -> None:
        """The selected face starts collecting its baseline; with none selected, every face in view
        without a baseline (a good baseline is not thrown away unasked); with `every_face`, every
        face in view."""
        faces = self._faces_in_view()
        if not faces:
            self.tell("No face to calibrate: a face has to be in view")
            return
        selected = self.window.selected_face_id
        if every_face:
            chosen = faces
        elif selected in faces:
            chosen = [selected]
        else:
            chosen = [face_id for face_id in faces if face_id not in self.baselines]
        if not chosen:
            self.tell(
                "Every face in view is calibrated: select a face and press K to calibrate it again, "
                "or Shift+K for every face"
            )
            return
        seconds = self.window.settings.calibration_seconds
        self._asked = dict.fromkeys(chosen)
        for face_id in chosen:
            self.baselines.pop(face_id, None)
        self.window.inference.request_calibration(chosen, seconds)
        who = f"face {chosen[0]}" if len(chosen) == 1 else f"{len(chosen)} faces"
        self.tell(f"Calibrating {who}: hold a relaxed, neutral face for {seconds:g} s")
        for face_id in chosen:
            self.stream_event(f"calibration started: face {face_id}, {seconds:g} s")

    def clear(self) -> None:
        selected = self.window.selected_face_id
        if selected is not None and selected in self.baselines:
            self.baselines.pop(selected)
            self.window.inference.clear_calibration([selected])
            self.tell(f"Calibration of face {selected} cleared")
            self.stream_event(f"calibration cleared: face {selected}")
        else:
            self.baselines.clear()
            self.window.inference.clear_calibration(None)
            self.tell("Calibration cleared for every face")
            self.stream_event("calibration cleared: every face")

    def save(self, path: str | None = None) -> bool:
        if not self.baselines:
            self.tell("No calibrated face to save: calibrate first (K)")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Save calibration", "calibration.json", FILE_FILTER)
            if not path:
                return False
        engine = self.window.inference.pipeline.engine
        settings = {"seconds": self.window.settings.calibration_seconds, **engine.operating_point.describe()}
        try:
            save_calibration(path, self.baselines, engine.weights_sha256, settings)
        except (FerLiveError, OSError) as exc:
            self.tell(f"Calibration not saved: {exc}")
            return False
        self.tell(f"Saved the calibration of {len(self.baselines)} face(s) to {path}")
        return True

    def load(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Load calibration", "", FILE_FILTER)
            if not path:
                return False
        try:
            baselines = load_calibration(path, self.window.inference.pipeline.engine.weights_sha256)
        except (FerLiveError, OSError) as exc:
            self.tell(f"Calibration not loaded: {exc}")
            return False
        self.baselines.update(baselines)
        self.window.inference.use_baselines(baselines)
        faces = ", ".join(map(str, sorted(baselines)))
        self.tell(f"Loaded the calibration of face(s) {faces} from {path}")
        self.stream_event(f"calibration loaded: face(s) {faces}")
        return True

    def _on_finished(self, outcome: Outcome) -> None:
        """Say the outcome with those of the other faces asked for with it: one message each
        would leave only the last in the status bar."""
        face_id = outcome.track_id
        if outcome.baseline is None:
            said = f"face {face_id}: calibration refused: {outcome.refusal}"
            self.stream_event(f"calibration refused: face {face_id}: {outcome.refusal}")
        else:
            self.baselines[face_id] = outcome.baseline
            said = f"face {face_id} calibrated ({outcome.baseline.frames} frames)"
            self.stream_event(f"calibration done: face {face_id}, {outcome.baseline.frames} frames")
        if face_id not in self._asked:  # asked for before the latest request
            self.tell(said[0].upper() + said[1:])
            return
        self._asked[face_id] = said
        message = "; ".join(text for _, text in sorted(self._asked.items()) if text is not None)
        self.tell(message[0].upper() + message[1:])

    def stream_event(self, text: str) -> None:
        """A calibration step on the LSL marker stream (sent only while streaming)."""
        self.window.lsl.mark(text)

    def tell(self, message: str) -> None:
        self.last_message = message  # what the status bar said last (tests read it)
        self.window.statusBar().showMessage(message, STATUS_MS)
