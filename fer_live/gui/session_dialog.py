"""The dialog shown before a recording starts: who and what is recorded, and where sessions go."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from fer_live.sessions.recorder import SessionMetadata

PARENT_FOLDER_KEY = "sessions/parent_directory"
DEFAULT_PARENT_FOLDER = Path.home() / "fer_live_sessions"


def remembered_parent_folder(store: QSettings) -> Path:
    """The folder the last session was recorded under (new sessions go there, "Open session…" starts there)."""
    return Path(str(store.value(PARENT_FOLDER_KEY, str(DEFAULT_PARENT_FOLDER))))


class SessionDialog(QDialog):
    """Collects the session's metadata and the folder new session folders are created in."""

    def __init__(self, parent_folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Record a session")
        self.participant = QLineEdit()
        self.participant.setPlaceholderText("e.g. P07 (part of the folder name)")
        self.condition = QLineEdit()
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(72)
        self.folder = QLineEdit(str(parent_folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start recording")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Participant", self.participant)
        form.addRow("Condition", self.condition)
        form.addRow("Notes", self.notes)
        form.addRow("Sessions folder", folder_row)
        form.addRow(buttons)
        self.resize(460, self.sizeHint().height())

    def metadata(self) -> SessionMetadata:
        return SessionMetadata(
            participant=self.participant.text().strip(),
            condition=self.condition.text().strip(),
            notes=self.notes.toPlainText().strip(),
        )

    def parent_folder(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Sessions folder", self.folder.text())
        if folder:
            self.folder.setText(folder)
