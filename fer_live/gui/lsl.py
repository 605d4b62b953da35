"""The window's Lab Streaming Layer output ("Stream to LSL" in Settings, `fer-live gui --lsl`).

While the setting is on, every source the window runs gets its own streams (fer_live.pipeline.lsl):
the InferenceThread pushes each processed frame stamped with its capture time, and session markers
and calibration events go out as they happen. A replayed session is not streamed (nothing is
inferred). The status bar says what is streamed, or once why streaming is off; the app carries on.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QMainWindow

from fer_live.pipeline.lsl import LslOutput, pipeline_provenance

MESSAGE_MS = 8000


class LslStreaming(QObject):
    """`window` is gui/window.py's MainWindow, typed as its Qt base class (window.py imports this module)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.output = LslOutput(say=self._say)
        self.status_label = QLabel()
        window.statusBar().addPermanentWidget(self.status_label)
        window.inference.lsl = self.output
        window.source_started.connect(lambda capture: self.update())

    def update(self) -> None:
        """Stream the window's current source if the setting is on; stop otherwise."""
        window = self.window
        capture = window.capture
        if not window.settings.stream_lsl or capture is None or capture.session is not None:
            self.output.close()
            self.status_label.setText("" if not window.settings.stream_lsl else "LSL: nothing to stream")
            return
        source = capture.source
        if self.output.open(source.description, source.fps, pipeline_provenance(window.inference.pipeline)):
            self.status_label.setText(f"LSL: streaming '{self.output.streams.name}'")
        else:
            self.status_label.setText("LSL: off (failed)")
            self.status_label.setToolTip(self.output.failure or "")

    def setting_changed(self, enabled: bool) -> None:
        if enabled:
            self.output.failure = None  # switched on again: try again, and say again if it fails
        self.update()

    def mark(self, text: str) -> None:
        """An event (a session marker, a calibration step) on the marker stream, if streaming."""
        self.output.mark(text)

    def close(self) -> None:
        self.output.close()

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message, MESSAGE_MS)
