"""Russell's circumplex: valence (x) by arousal (y), one moving point per tracked face with a fading trail.

Face points are labelled with their ID where the label overlaps no other label or point (the
followed face first); a face whose label would collide is told by its colour alone.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor

from fer_live.gui.palette import FaceColours
from fer_live.labels import CIRCUMPLEX, COLOURS
from fer_live.results import FrameResult

# Quadrant names at the corners: (valence sign, arousal sign) → name.
QUADRANTS = {(1, 1): "excited", (-1, 1): "tense", (-1, -1): "depressed", (1, -1): "calm"}
ALPHA_LEVELS = 16  # trail transparency steps (brushes are cached per face colour and level)
TRAIL_SPACING_S = 0.1  # trail points at most this often: a sparse trail is cheap to redraw at 30 fps
# Class labels sit above their marker, except where two classes are close neighbours.
LABEL_ANCHORS = {"fear": (1.1, 0.3), "anger": (-0.1, 0.9)}
# Where a face's ID label may go, tried in turn: above right, above left, below right, below left,
# right, left, above, below.
ID_ANCHORS = ((-0.3, 1.2), (1.3, 1.2), (-0.3, -0.2), (1.3, -0.2), (-0.4, 0.5), (1.4, 0.5), (0.5, 1.4), (0.5, -0.4))
HEAD_SIZE = 15  # px, a face point's diameter


class CircumplexPlot(pg.PlotWidget):
    def __init__(self, trail_seconds: float = 3.0, colours: FaceColours | None = None, parent=None):
        super().__init__(parent)
        self.trail_seconds = trail_seconds
        self.colours = colours or FaceColours()
        self.selected_id: int | None = None
        self._title = ""
        self._trails: dict[int, deque[tuple[float, float, float]]] = {}
        self._current: dict[int, tuple[float, float]] = {}
        self._brushes: dict[tuple[str, int], QColor] = {}
        self._class_labels: list[pg.TextItem] = []
        self._id_texts: dict[int, pg.TextItem] = {}
        self._draw_background()
        self._trail_item = pg.ScatterPlotItem(pen=None, size=6)
        self._head_item = pg.ScatterPlotItem(size=HEAD_SIZE)
        self.addItem(self._trail_item)
        self.addItem(self._head_item)
        # Labels are placed in pixels: a new plot size needs a new placement.
        self.getPlotItem().getViewBox().sigResized.connect(lambda *_: self._place_id_labels())

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
            self._class_labels.append(label)
        self._set_title()

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
        self._set_title()
        self._redraw(None)

    def _set_title(self) -> None:
        title = "every face" + (f" · #{self.selected_id} ringed" if self.selected_id is not None else "")
        if title != self._title:  # the title relayouts the plot when set
            self._title = title
            self.setTitle(title)

    def reset(self) -> None:
        self._trails.clear()
        self._current = {}
        self._redraw(None)

    def points(self) -> dict[int, tuple[float, float]]:
        """Face ID → (valence, arousal) of the points on display now."""
        data = self._head_item.data
        return {int(d["data"]): (float(d["x"]), float(d["y"])) for d in data}

    def point_colours(self) -> dict[int, str]:
        """Face ID → the colour (#rrggbb) of its point on display now."""
        data = self._head_item.data
        return {int(d["data"]): d["brush"].color().name() for d in data}

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
            brush=[self.colours.colour(i) for i in ids],
            pen=[pg.mkPen("#ffffff", width=3) if i == self.selected_id else pg.mkPen("#000000", width=1) for i in ids],
        )
        for face_id in list(self._id_texts):
            if face_id not in self._current:
                self.removeItem(self._id_texts.pop(face_id))
        for face_id, (valence, arousal) in self._current.items():
            if face_id not in self._id_texts:
                self._id_texts[face_id] = pg.TextItem(f"#{face_id}")
                self.addItem(self._id_texts[face_id])
            text, colour = self._id_texts[face_id], self.colours.colour(face_id)
            if text.color != colour:  # setting it repaints the label
                text.setColor(colour)
            text.setPos(valence, arousal)
        self._place_id_labels()

    def _place_id_labels(self) -> None:
        """Put each face's ID label where it overlaps no class label, point or other ID label, the
        followed face's first; a label with no free place is hidden."""
        view = self.getPlotItem().getViewBox()
        if view.width() <= 0:
            return  # not laid out yet: nothing to measure against
        taken = [self._label_rect(label, view, label.anchor) for label in self._class_labels]
        for valence, arousal in self._current.values():
            centre = view.mapViewToScene(QPointF(valence, arousal))
            taken.append(QRectF(centre.x() - HEAD_SIZE / 2, centre.y() - HEAD_SIZE / 2, HEAD_SIZE, HEAD_SIZE))
        order = sorted(self._id_texts, key=lambda face_id: (face_id != self.selected_id, face_id))
        for face_id in order:
            text = self._id_texts[face_id]
            for anchor in ID_ANCHORS:
                rect = self._label_rect(text, view, pg.Point(*anchor))
                if not any(rect.intersects(other) for other in taken):
                    text.setAnchor(anchor)
                    text.setVisible(True)
                    taken.append(rect)
                    break
            else:
                text.setVisible(False)

    @staticmethod
    def _label_rect(label: pg.TextItem, view: pg.ViewBox, anchor) -> QRectF:
        """Where `label`'s text is drawn with `anchor`, in scene pixels (a TextItem keeps its pixel
        size), without the empty margin around it."""
        size = label.textItem.boundingRect().size()
        at = view.mapViewToScene(label.pos())
        width, height = size.width(), size.height()
        margin = label.textItem.document().documentMargin()
        box = QRectF(at.x() - anchor[0] * width, at.y() - anchor[1] * height, width, height)
        return box.adjusted(margin, margin, -margin, -margin)

    def id_label_rects(self) -> dict[int, QRectF]:
        """Face ID → where its ID label is drawn (scene pixels), for the labels on display."""
        view = self.getPlotItem().getViewBox()
        return {
            face_id: self._label_rect(text, view, text.anchor)
            for face_id, text in self._id_texts.items()
            if text.isVisible()
        }

    def class_label_rects(self) -> list[QRectF]:
        view = self.getPlotItem().getViewBox()
        return [self._label_rect(label, view, label.anchor) for label in self._class_labels]

    def _trail_brush(self, face_id: int, age: float) -> QColor:
        level = min(int(age * ALPHA_LEVELS), ALPHA_LEVELS - 1)
        colour = self.colours.colour(face_id)
        key = (colour.name(), level)  # bounded: one brush per palette colour and level
        if key not in self._brushes:
            colour.setAlphaF(0.8 * (1 - level / ALPHA_LEVELS))
            self._brushes[key] = pg.mkBrush(colour)
        return self._brushes[key]
