"""Valence and arousal of the selected face over the last N seconds, scrolling with the video, with
a reviewed session's markers as labelled vertical lines."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from fer_live.gui.palette import AROUSAL_COLOUR, VALENCE_COLOUR
from fer_live.results import FrameResult

MARKER_COLOUR = "#e0c060"
GAP_COLOUR = (200, 60, 60, 60)  # translucent red: time with no results


class Timeline(pg.PlotWidget):
    def __init__(self, window_seconds: float = 20.0, parent=None):
        super().__init__(parent)
        self.window_seconds = window_seconds
        self.face_id: int | None = None
        self._history: dict[int, deque[tuple[float, float, float]]] = {}
        self._latest = 0.0
        self._marker_lines: list[pg.InfiniteLine] = []
        self._gap_regions: list[pg.LinearRegionItem] = []
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setYRange(-1.1, 1.1, padding=0)
        self.getAxis("left").setTicks([[(v, f"{v:g}") for v in (-1.0, -0.5, 0.0, 0.5, 1.0)]])
        self.setLabel("bottom", "time", units="s")
        self.showGrid(x=True, y=True, alpha=0.15)
        self.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#555555")))
        legend = self.addLegend(offset=(8, 4), colCount=2)
        self._valence = self.plot(pen=pg.mkPen(VALENCE_COLOUR, width=2), name="valence")
        self._arousal = self.plot(pen=pg.mkPen(AROUSAL_COLOUR, width=2), name="arousal")
        legend.setLabelTextColor("#cccccc")
        self.setTitle("no face")
        self._scroll()

    def add_result(self, result: FrameResult) -> None:
        """Record every face's valence/arousal (so switching faces shows history) and scroll."""
        self._latest = result.time_s
        for face in result.faces:
            self._history.setdefault(face.face_id, deque()).append((result.time_s, face.valence, face.arousal))
        oldest = result.time_s - self.window_seconds
        for face_id in list(self._history):
            points = self._history[face_id]
            while points and points[0][0] < oldest:
                points.popleft()
            if not points:
                del self._history[face_id]
        self._redraw()

    def show_face(self, face_id: int | None) -> None:
        """Plot face `face_id`'s history; the title names the face."""
        if face_id != self.face_id:
            self.face_id = face_id
            self.setTitle("no face" if face_id is None else f"face #{face_id}: valence and arousal")
            self._redraw()

    def reset(self) -> None:
        self._history.clear()
        self._latest = 0.0
        self._redraw()

    def set_markers(self, markers: list[tuple[float, str]]) -> None:
        """Vertical lines at (time, text) pairs, on the results' clock; they stay through resets."""
        for line in self._marker_lines:
            self.removeItem(line)
        self._marker_lines = []
        for time_s, text in markers:
            line = pg.InfiniteLine(
                time_s,
                angle=90,
                pen=pg.mkPen(MARKER_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                label=text,
                labelOpts={"position": 0.92, "color": MARKER_COLOUR, "anchors": [(0, 0.5), (0, 0.5)]},
            )
            self.addItem(line)
            self._marker_lines.append(line)

    def set_gaps(self, gaps: list[tuple[float, float]]) -> None:
        """Shade (start, end) spans of the results' clock that have no results (a reviewed session
        whose frames.csv was cut off), so missing data is not mistaken for a face that left."""
        for region in self._gap_regions:
            self.removeItem(region)
        self._gap_regions = []
        for start, end in gaps:
            region = pg.LinearRegionItem((start, end), movable=False, brush=pg.mkBrush(GAP_COLOUR), pen=pg.mkPen(None))
            region.setToolTip("no results recorded here")
            self.addItem(region)
            self._gap_regions.append(region)

    def gaps(self) -> list[tuple[float, float]]:
        """(start, end) of the shaded no-results spans."""
        return [tuple(region.getRegion()) for region in self._gap_regions]

    def markers(self) -> list[tuple[float, str]]:
        """(time, text) of the marker lines."""
        return [(line.value(), line.label.toPlainText()) for line in self._marker_lines]

    def series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(time, valence, arousal) of the curves on display."""
        times, valence = self._valence.getData()
        _, arousal = self._arousal.getData()
        empty = np.zeros(0)
        return (empty, empty, empty) if times is None else (times, valence, arousal)

    def _redraw(self) -> None:
        points = self._history.get(self.face_id, ()) if self.face_id is not None else ()
        if points:
            data = np.array(points, dtype=float)
            self._valence.setData(data[:, 0], data[:, 1])
            self._arousal.setData(data[:, 0], data[:, 2])
        else:
            self._valence.setData([], [])
            self._arousal.setData([], [])
        self._scroll()

    def _scroll(self) -> None:
        end = max(self._latest, self.window_seconds)
        self.setXRange(end - self.window_seconds, end, padding=0)
