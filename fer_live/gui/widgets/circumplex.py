"""Russell's circumplex: valence (x) by arousal (y), one moving point per tracked face with a fading trail."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from fer_live.gui.palette import FACE_COLOURS, face_colour
from fer_live.labels import CIRCUMPLEX, COLOURS
from fer_live.results import FrameResult

# Quadrant names at the corners: (valence sign, arousal sign) → name.
QUADRANTS = {(1, 1): "excited", (-1, 1): "tense", (-1, -1): "depressed", (1, -1): "calm"}
ALPHA_LEVELS = 16  # trail transparency steps (brushes are cached per face colour and level)
TRAIL_SPACING_S = 0.1  # trail points at most this often: a sparse trail is cheap to redraw at 30 fps
# Class labels sit above their marker, except where two classes are close neighbours.
LABEL_ANCHORS = {"fear": (1.1, 0.3), "anger": (-0.1, 0.9)}


class CircumplexPlot(pg.PlotWidget):
    def __init__(self, trail_seconds: float = 3.0, parent=None):
        super().__init__(parent)
        self.trail_seconds = trail_seconds
        self.selected_id: int | None = None
        self._trails: dict[int, deque[tuple[float, float, float]]] = {}
        self._current: dict[int, tuple[float, float]] = {}
        self._brushes: dict[tuple[int, int], QColor] = {}
        self._id_texts: dict[int, pg.TextItem] = {}
        self._draw_background()
        self._trail_item = pg.ScatterPlotItem(pen=None, size=6)
        self._head_item = pg.ScatterPlotItem(size=15)
        self.addItem(self._trail_item)
        self.addItem(self._head_item)

    def _draw_background(self) -> None:
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setAspectLocked(True)
        self.setRange(xRange=(-1.15, 1.15), yRange=(-1.15, 1.15), padding=0)
        self.setLabel("bottom", "valence")
        self.setLabel("left", "arousal")
        angles = np.linspace(0, 2 * np.pi, 181)
        self.addItem(pg.PlotCurveItem(np.cos(angles), np.sin(angles), pen=pg.mkPen("#666666", width=1), antialias=True))
        for line in (pg.InfiniteLine(0, angle=90), pg.InfiniteLine(0, angle=0)):
            line.setPen(pg.mkPen("#444444", width=1))
            self.addItem(line)
        for (vx, vy), name in QUADRANTS.items():
            # Anchored at the plot's corners, text extending inwards so it is never clipped.
            text = pg.TextItem(name, color="#8a8a8a", anchor=(0.5 + 0.5 * vx, 0.5 - 0.5 * vy))
            text.setPos(1.12 * vx, 1.12 * vy)
            self.addItem(text)
        for name, (valence, arousal) in CIRCUMPLEX.items():
            self.addItem(pg.ScatterPlotItem([valence], [arousal], symbol="d", size=9, pen=None, brush=COLOURS[name]))
            label = pg.TextItem(name, color=COLOURS[name], anchor=LABEL_ANCHORS.get(name, (0.5, 1.1)))
            label.setPos(valence, arousal)
            self.addItem(label)

    def add_result(self, result: FrameResult) -> None:
        """Move each face's point to its new valence/arousal; forget faces gone for a whole trail."""
        for face in result.faces:
            trail = self._trails.setdefault(face.face_id, deque())
            if trail and result.time_s - trail[-1][0] < TRAIL_SPACING_S:
                trail.pop()  # keep the trail sparse (cheap to redraw); its newest point is always current
            trail.append((result.time_s, face.valence, face.arousal))
        oldest = result.time_s - self.trail_seconds
        for face_id in list(self._trails):
            trail = self._trails[face_id]
            while trail and trail[0][0] < oldest:
                trail.popleft()
            if not trail:
                del self._trails[face_id]
        self._current = {face.face_id: (face.valence, face.arousal) for face in result.faces}
        self._redraw(result.time_s)

    def set_selected(self, face_id: int | None) -> None:
        self.selected_id = face_id
        self._redraw(None)

    def reset(self) -> None:
        self._trails.clear()
        self._current = {}
        self._redraw(None)

    def points(self) -> dict[int, tuple[float, float]]:
        """Face ID → (valence, arousal) of the points on display now."""
        data = self._head_item.data
        return {int(d["data"]): (float(d["x"]), float(d["y"])) for d in data}

    def _redraw(self, now: float | None) -> None:
        xs, ys, brushes = [], [], []
        for face_id, trail in self._trails.items():
            latest = trail[-1][0]
            reference = latest if now is None else now
            for time_s, valence, arousal in list(trail)[:-1]:
                age = min(max((reference - time_s) / self.trail_seconds, 0.0), 1.0)
                xs.append(valence)
                ys.append(arousal)
                brushes.append(self._trail_brush(face_id, age))
        self._trail_item.setData(xs, ys, brush=brushes)
        ids = list(self._current)
        self._head_item.setData(
            [self._current[i][0] for i in ids],
            [self._current[i][1] for i in ids],
            data=ids,
            brush=[face_colour(i) for i in ids],
            pen=[pg.mkPen("#ffffff", width=3) if i == self.selected_id else pg.mkPen("#000000", width=1) for i in ids],
        )
        for face_id in list(self._id_texts):
            if face_id not in self._current:
                self.removeItem(self._id_texts.pop(face_id))
        for face_id, (valence, arousal) in self._current.items():
            if face_id not in self._id_texts:
                self._id_texts[face_id] = pg.TextItem(f"#{face_id}", color=face_colour(face_id), anchor=(-0.3, 1.2))
                self.addItem(self._id_texts[face_id])
            self._id_texts[face_id].setPos(valence, arousal)

    def _trail_brush(self, face_id: int, age: float) -> QColor:
        level = min(int(age * ALPHA_LEVELS), ALPHA_LEVELS - 1)
        key = ((face_id - 1) % len(FACE_COLOURS), level)  # bounded: IDs grow forever, colours repeat
        if key not in self._brushes:
            colour = face_colour(face_id)
            colour.setAlphaF(0.8 * (1 - level / ALPHA_LEVELS))
            self._brushes[key] = pg.mkBrush(colour)
        return self._brushes[key]
