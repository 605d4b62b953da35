"""The window's status bar: one message at a time, wrapped onto more lines rather than cut off.

QStatusBar paints a temporary message in whatever width its permanent widgets (the rates, the
recording clock) leave, so a long message lost its end ("cannot create session folder …" without
the reason) and messages could be drawn under those widgets. Here the message is an ordinary
label that takes that width and grows the bar in height; showMessage/currentMessage/clearMessage
keep QStatusBar's meaning, so every caller goes through this one mechanism.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget


class WrappingLabel(QLabel):
    """A word-wrapped label as tall as its text needs at the width the layout gives it.

    QLabel's own height-for-width is computed at its minimum width inside a status bar, which
    makes the bar several times too tall; this one reports the height at its current width."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def needed_height(self) -> int:
        return self.heightForWidth(max(self.width(), 1)) if self.text() else 0

    def hasHeightForWidth(self) -> bool:
        return False

    def sizeHint(self) -> QSize:
        return QSize(200, self.needed_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.needed_height())

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)
        self.updateGeometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.height() != self.needed_height():  # a new width wraps differently
            self.updateGeometry()


class MessageStatusBar(QStatusBar):
    """A status bar whose message is a WrappingLabel; a new message replaces the one shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.message_label = WrappingLabel()
        self.addWidget(self.message_label, 1)
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int = 0) -> None:
        """Show `text` (for `timeout` ms; 0: until the next message)."""
        self._expiry.stop()
        self.message_label.setText(text)
        self.messageChanged.emit(text)  # as QStatusBar does, for whoever listens
        if timeout > 0:
            self._expiry.start(timeout)

    def currentMessage(self) -> str:
        return self.message_label.text()

    def clearMessage(self) -> None:
        self._expiry.stop()
        self.message_label.setText("")
        self.messageChanged.emit("")
