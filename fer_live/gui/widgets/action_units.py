"""The followed face's FACS action units: one row per AU (number, name, a 0–1 bar and its value).

The AUs that support the face's label (fer_live.evidence) are drawn in the label's colour, the
rest in grey, so the bars say why the label was given. The panel paints itself: a new frame only
repaints it, and its size never depends on the values, so the window never re-lays out for it.
The rows stand in two columns, to fit beside the timeline; hovering a row tells what the AU looks like.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QToolTip, QWidget

from fer_live.evidence import au_meaning, au_title, supporting_aus
from fer_live.labels import AU_COLUMNS, COLOURS, NUM_ACTION_UNITS
from fer_live.results import FaceResult

NO_ACTION_UNITS = "these weights read no action units"
BACKGROUND = QColor("#16181d")  # the plots' background (gui/app.py), so the panel sits among them
TEXT = QColor("#dddddd")
TRACK = QColor("#2a2d35")  # the bar's empty 0–1 range
UNSUPPORTING = QColor("#8a8f99")  # light enough to read on the track, apart from every label colour
TITLE_POINT_SIZE = 11  # as the plots' titles beside it
PAD = 4.0
COLUMN_GAP = 18.0
ROW_GAP = 2.0
BAR_MIN_WIDTH = 60.0
COLUMNS = 2
ROWS = math.ceil(NUM_ACTION_UNITS / COLUMNS)
NAME_ALIGNMENT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
VALUE_ALIGNMENT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ActionUnitPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = ""
        self.aus: np.ndarray | None = None  # the intensities on display, AU_COLUMNS order
        self.supporting: list[str] = []  # the AU columns drawn in the label's colour
        self._label_colour = UNSUPPORTING
        self._shows_rows = True
        self.set_face(None)

    def set_face(self, face: FaceResult | None, face_id: int | None = None) -> None:
        """Show `face`'s AUs; empty bars when no face is followed, or when face `face_id` is followed
        but out of view in this frame; a message instead of rows when the face carries no AUs."""
        if face is None:
            self.title = "no face" if face_id is None else f"face #{face_id}: not in view"
            self.aus, self.supporting, self._shows_rows = None, [], True
        elif face.aus is None:
            self.title = f"face #{face.face_id}: {NO_ACTION_UNITS}"
            self.aus, self.supporting, self._shows_rows = None, [], False
        else:
            self.title = f"face #{face.face_id}: action units (0–1)"
            self.aus = np.asarray(face.aus, dtype=float)
            self.supporting = supporting_aus(face.label, self.aus)
            self._label_colour = QColor(COLOURS[face.label])
            self._shows_rows = True
        self.update()

    def row_titles(self) -> list[str]:
        """The rows' names as painted, in AU_COLUMNS order ("AU12 lip corner puller")."""
        return [au_title(column) for column in AU_COLUMNS] if self._shows_rows else []

    # -- geometry -----------------------------------------------------------------------------
    def _metrics(self) -> QFontMetricsF:
        return QFontMetricsF(self.font())

    def _name_width(self) -> float:
        metrics = self._metrics()
        return max(metrics.horizontalAdvance(au_title(column)) for column in AU_COLUMNS)

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(TITLE_POINT_SIZE)
        return font

    def _title_height(self) -> float:
        return QFontMetricsF(self._title_font()).height() + ROW_GAP

    def _row_height(self) -> float:
        return self._metrics().height() + ROW_GAP

    def _column_width(self) -> float:
        """The narrowest column that fits the longest name, a usable bar and a value."""
        return self._name_width() + BAR_MIN_WIDTH + self._metrics().horizontalAdvance("0.00") + 2 * PAD + COLUMN_GAP

    def sizeHint(self):
        return self.minimumSizeHint()

    def minimumSizeHint(self):
        """Room for every row, under the title line."""
        size = super().minimumSizeHint()
        size.setWidth(round(COLUMNS * self._column_width() + 2 * PAD - COLUMN_GAP))
        size.setHeight(round(self._title_height() + self._row_height() * ROWS + 2 * PAD))
        return size

    def row_rect(self, index: int) -> QRectF:
        """Where row `index` (AU_COLUMNS order) is painted."""
        width = (self.width() - 2 * PAD - (COLUMNS - 1) * COLUMN_GAP) / COLUMNS
        top = PAD + self._title_height()
        row_height = min(self._row_height(), (self.height() - top - PAD) / ROWS)
        column, row = divmod(index, ROWS)
        return QRectF(PAD + column * (width + COLUMN_GAP), top + row * row_height, width, row_height)

    def tooltip_at(self, x: float, y: float) -> str | None:
        """What hovering (x, y) tells: the AU of the row there, in plain words."""
        if not self._shows_rows:
            return None
        index = next((i for i in range(NUM_ACTION_UNITS) if self.row_rect(i).contains(x, y)), None)
        return None if index is None else au_meaning(AU_COLUMNS[index])

    # -- painting and tooltips ----------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setPen(TEXT)
        painter.setFont(self._title_font())
        title = QRectF(PAD, PAD, self.width() - 2 * PAD, self._title_height())
        painter.drawText(title, Qt.AlignmentFlag.AlignCenter, self.title)
        if self._shows_rows:
            painter.setFont(self.font())
            self._paint_rows(painter)
        painter.end()

    def _paint_rows(self, painter: QPainter) -> None:
        name_width = self._name_width() + PAD
        value_width = self._metrics().horizontalAdvance("0.00") + PAD
        for index, column in enumerate(AU_COLUMNS):
            row = self.row_rect(index)
            painter.drawText(QRectF(row.left(), row.top(), name_width, row.height()), NAME_ALIGNMENT, au_title(column))
            bar_width = max(row.width() - name_width - value_width, 1.0)
            track = QRectF(row.left() + name_width, row.top() + 2, bar_width, row.height() - 4)
            painter.fillRect(track, TRACK)
            if self.aus is None:
                continue
            value = float(np.clip(self.aus[index], 0.0, 1.0))
            colour = self._label_colour if column in self.supporting else UNSUPPORTING
            painter.fillRect(QRectF(track.left(), track.top(), track.width() * value, track.height()), colour)
            number = QRectF(track.right(), row.top(), value_width, row.height())
            painter.drawText(number, VALUE_ALIGNMENT, f"{value:.2f}")

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(event.pos().x(), event.pos().y())
            if text is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)
