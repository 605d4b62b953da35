"""Horizontal bars of the selected face's 8 expression probabilities, in label-table order and colours."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from fer_live.labels import COLOURS, EXPRESSIONS, NUM_CLASSES
from fer_live.results import FaceResult

# Top-to-bottom in the table's order: neutral first.
ROWS = np.arange(NUM_CLASSES)[::-1].astype(float)


class EmotionBars(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setXRange(0, 1.04, padding=0)
        self.setYRange(-0.6, NUM_CLASSES - 0.4, padding=0)
        self.getAxis("left").setTicks([[(float(row), name) for row, name in zip(ROWS, EXPRESSIONS, strict=True)]])
        self.getAxis("bottom").setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.showGrid(x=True, y=False, alpha=0.2)
        self._title = ""
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
        if face is not None:
            title = f"face #{face.face_id}: {face.label} ({face.confidence:.0%})"
        else:
            title = "no face" if face_id is None else f"face #{face_id}: not in view"
        if title != self._title:
            self._title = title
            self.setTitle(title)

    def values(self) -> np.ndarray:
        """The probabilities on display, in EXPRESSIONS order."""
        return np.array(self._bars.opts["width"], dtype=float)
