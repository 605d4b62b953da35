"""The playback toolbar: source menu, play/pause, seek slider with time, session recording, settings."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QMenu, QSlider, QStyle, QToolBar, QToolButton, QWidget


def format_clock(seconds: float) -> str:
    """mm:ss, for positions, recording lengths and marker times."""
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    return f"{minutes:02d}:{secs:02d}"


class PlaybackToolbar(QToolBar):
    play_clicked = Signal()
    seek_requested = Signal(int)  # frame index
    settings_clicked = Signal()
    record_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Playback", parent)
        self.setMovable(False)
        self.source_menu = QMenu(self)
        source_button = QToolButton()
        source_button.setText("Source")
        source_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        source_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        source_button.setMenu(self.source_menu)
        self.addWidget(source_button)
        self.source_label = QLabel()
        self.source_label.setMinimumWidth(120)
        self.source_label.setContentsMargins(6, 0, 12, 0)
        self.addWidget(self.source_label)
        self.addSeparator()

        self.play_button = QToolButton()
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.play_clicked)
        self.addWidget(self.play_button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows seek through the window's shortcuts
        self.slider.setToolTip("Seek (← / → jump 5 s)")
        self.slider.sliderReleased.connect(lambda: self.seek_requested.emit(self.slider.value()))
        self.slider.actionTriggered.connect(self._on_slider_action)
        self.addWidget(self.slider)
        self.time_label = QLabel()
        self.time_label.setContentsMargins(8, 0, 8, 0)
        self.addWidget(self.time_label)
        self.addSeparator()
        self.record_button = QToolButton()
        self.record_button.setCheckable(True)  # checked while a session is being recorded
        self.record_button.setToolTip("Record a research session: clean video, per-frame results, markers (Ctrl+R)")
        # The window decides whether recording starts (a dialog can be cancelled), then sets the state.
        self.record_button.clicked.connect(lambda: self.set_recording(not self.record_button.isChecked()))
        self.record_button.clicked.connect(self.record_clicked)
        self.addWidget(self.record_button)
        self.calibrate_menu = QMenu(self)
        self.calibrate_button = QToolButton()
        self.calibrate_button.setText("Calibrate")
        self.calibrate_button.setToolTip(
            "Participant calibration: the selected face (or every face) holds a neutral face for a few seconds (K)"
        )
        self.calibrate_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.calibrate_button.setMenu(self.calibrate_menu)
        self.addWidget(self.calibrate_button)
        self.settings_button = QToolButton()
        self.settings_button.setText("Settings")
        self.settings_button.setToolTip("Device, detector, smoothing, overlays (Ctrl+,)")
        self.settings_button.clicked.connect(self.settings_clicked)
        self.addWidget(self.settings_button)
        self._fps = 30.0
        self._frame_count: int | None = None
        self.set_playing(False)
        self.set_recording(False)
        self.set_duration(None, 30.0)

    def set_recording(self, recording: bool) -> None:
        self.record_button.setChecked(recording)
        self.record_button.setText("■ Stop recording" if recording else "● Record")

    def set_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setProperty("playing", playing)

    def set_duration(self, frame_count: int | None, fps: float) -> None:
        """Frame count of a file (seekable), or None for a live source."""
        self._frame_count, self._fps = frame_count, fps
        self.slider.setEnabled(bool(frame_count))
        self.slider.setRange(0, max((frame_count or 1) - 1, 0))
        self.slider.setValue(0)
        self.set_position(0)

    def set_position(self, frame_index: int) -> None:
        if self._frame_count is None:
            self.time_label.setText("live")
            return
        if not self.slider.isSliderDown():  # the user's drag wins over playback
            self.slider.setValue(frame_index)
        self.time_label.setText(
            f"{format_clock(frame_index / self._fps)} / {format_clock(self._frame_count / self._fps)}"
        )

    def _on_slider_action(self, action: int) -> None:
        # Clicks on the groove and keyboard steps seek at once; drags seek on release.
        if action != QSlider.SliderAction.SliderMove.value:
            self.seek_requested.emit(self.slider.sliderPosition())
