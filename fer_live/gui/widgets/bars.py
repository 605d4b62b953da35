"""Horizontal bars of the selected face's 8 expression probabilities, in label-table order and colours;
the title names the label and the action units that support it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

from fer_live.evidence import SUPPORT_LIMIT, evidence
from fer_live.labels import COLOURS, EXPRESSIONS, NUM_CLASSES
from fer_live.results import FaceResult

# Top-to-bottom in the table's order: neutral first.
ROWS = np.arange(NUM_CLASSES)[::-1].astype(float)
TITLE_POINT_SIZE = 11  # pyqtgraph's title size
EVIDENCE_POINT_SIZE = 9  # the supporting action units after the label, smaller: the label comes first
TITLE_MARGIN_PX = 12  # the title's text frame (4 px a side) and some air
AXIS_TEXT_PX = 8  # pyqtgraph's gap between tick labels and the axis line, and some air


class EmotionBars(pg.PlotWidget):
    # pyqtgraph resizes the widget while it is constructed (before __init__ below sets this) and
    # while it is closed (after its plot is gone): the title is fitted only in between.
    _title_metrics: QFontMetricsF | None = None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setXRange(0, 1.04, padding=0)
        self.setYRange(-0.6, NUM_CLASSES - 0.4, padding=0)
        left = self.getAxis("left")
        left.setTicks([[(float(row), name) for row, name in zip(ROWS, EXPRESSIONS, strict=True)]])
        # A fixed width (the longest name and the axis' offset) tells the title how much room it has.
        metrics = QFontMetricsF(self.font())
        self._left_axis_width = max(metrics.horizontalAdvance(name) for name in EXPRESSIONS) + AXIS_TEXT_PX
        left.setWidth(self._left_axis_width)
        self.getAxis("bottom").setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.showGrid(x=True, y=False, alpha=0.2)
        self._title = ""
        self._face: FaceResult | None = None
        self._face_id: int | None = None
        self._title_metrics = _metrics(self.font(), TITLE_POINT_SIZE)
        self._evidence_metrics = _metrics(self.font(), EVIDENCE_POINT_SIZE)
        self._bars = pg.BarGraphItem(
            x0=0, y=ROWS, height=0.7, width=np.zeros(NUM_CLASSES), brushes=[COLOURS[n] for n in EXPRESSIONS], pen=None
        )
        self.addItem(self._bars)
        self._texts = []
        for row in ROWS:
            text = pg.TextItem("", color="#dddddd", anchor=(0, 0.5))
            text.setPos(0, row)
            self.addItem(text)
            self._texts.append(text)
        self.set_face(None)

    def set_face(self, face: FaceResult | None, face_id: int | None = None) -> None:
        """Show `face`'s probabilities; empty bars when no face is followed, or when face `face_id`
        is followed but out of view in this frame (the title says which)."""
        values = np.zeros(NUM_CLASSES) if face is None else np.asarray(face.probs, dtype=float)
        self._bars.setOpts(width=values)
        # Text items and the title relayout when set, so they are touched only when their text changes.
        for text, row, value in zip(self._texts, ROWS, values, strict=True):
            label = f"{value:.0%}" if face is not None else ""
            if label != text.toPlainText():
                text.setText(label)
            text.setPos(min(value, 0.86) + 0.01, row)
        self._face, self._face_id = face, face_id
        self._show_title()

    def _show_title(self) -> None:
        title = self._title_text()
        if title != self._title:
            self._title = title
            self.setTitle(title)

    def _title_text(self) -> str:
        face = self._face
        if face is None:
            return "no face" if self._face_id is None else f"face #{self._face_id}: not in view"
        # The label, then the action units that support it, as many as fit the width (the strongest
        # first): a title wider than the plot would widen the plot past the window's edge.
        label = f"face #{face.face_id}: {face.confidence:.0%} {face.label}"
        room = self.width() - self._left_axis_width - TITLE_MARGIN_PX
        room -= self._title_metrics.horizontalAdvance(label)
        for limit in range(SUPPORT_LIMIT, 0, -1):
            shown = evidence(face.label, face.aus, limit)
            if not shown:
                break
            if self._evidence_metrics.horizontalAdvance(f" — {shown}") <= room:
                return f"{label}<span style='font-size: {EVIDENCE_POINT_SIZE}pt'> — {shown}</span>"
        return label

    def resizeEvent(self, event) -> None:
        # Fitted before pyqtgraph lays the plot out at the new size, so that a shorter title lets it shrink.
        if self._title_metrics is not None and not self.closed:
            self._show_title()
        super().resizeEvent(event)

    def values(self) -> np.ndarray:
        """The probabilities on display, in EXPRESSIONS order."""
        return np.array(self._bars.opts["width"], dtype=float)


def _metrics(font: QFont, point_size: float) -> QFontMetricsF:
    sized = QFont(font)
    sized.setPointSizeF(point_size)
    return QFontMetricsF(sized)
