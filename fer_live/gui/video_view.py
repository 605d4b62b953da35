"""The video panel: the current frame, scaled to fit, with per-face boxes, labels and V/A readouts,
and with face geometry on, each face's mesh and head-pose axes.

Overlays are painted by Qt on top of the untouched frame (crisp text at any window size, and the
frame itself stays clean for recording). Clicking a face selects it.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from fer_live.faces.geometry import rotation_matrix
from fer_live.gui.palette import FaceColours, expression_colour
from fer_live.results import FaceResult, FrameResult

BACKGROUND = QColor("#111317")
# An expression read from a face turned beyond the pose limit: shown, but in grey.
UNTRUSTED = QColor("#8a8a8a")
MESH_COLOUR = QColor(180, 255, 230, 150)
# Head-pose axes: the face's right-hand side (image right when frontal), down, and forward (toward
# the camera); red, green, blue as in most 3-D tools.
POSE_AXES = (
    ((1.0, 0.0, 0.0), QColor("#ff5050")),
    ((0.0, 1.0, 0.0), QColor("#50ff70")),
    ((0.0, 0.0, -1.0), QColor("#5090ff")),
)
NOSE_TIP = 1  # mesh index where the axes start


class VideoView(QWidget):
    face_clicked = Signal(int)  # face ID, or 0 when the click hit no face
    frame_painted = Signal(float, float)  # captured_at, painted_at (time.monotonic())

    def __init__(self, colours: FaceColours | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.colours = colours or FaceColours()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # keeps the buffer behind _image alive
        self._scaled: QImage | None = None  # _image resized to the view, made once per frame and size
        self._scaled_pixels: np.ndarray | None = None
        self._result: FrameResult | None = None
        self._selected_id: int | None = None
        self._captured_at: float | None = None  # of a frame set but not painted yet
        self.message = ""
        self.show_boxes = True
        self.show_labels = True
        self.show_va = True
        self.show_mesh = True  # draws only faces that carry geometry
        self.calibration_seconds = 3.0  # the countdown drawn on a face whose baseline is being collected

    # -- content ------------------------------------------------------------------------------
    def set_frame(self, image: np.ndarray, result: FrameResult, selected_id: int | None, captured_at: float) -> None:
        """Show a BGR frame with its result; `frame_painted` fires once it is on screen."""
        pixels = np.ascontiguousarray(image)
        height, width = pixels.shape[:2]
        if pixels.ndim == 2:
            self._image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_Grayscale8)
        else:
            self._image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_BGR888)
        self._pixels = pixels
        self._scaled = None
        self._result = result
        self._selected_id = selected_id
        self._captured_at = captured_at
        self.update()

    def set_selected(self, face_id: int | None) -> None:
        self._selected_id = face_id
        self.update()

    def set_message(self, text: str) -> None:
        """A notice drawn across the view (errors, 'opening…'); empty to hide it."""
        self.message = text
        self.update()

    # -- geometry -----------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the frame is drawn: as large as fits, centred, aspect kept."""
        if self._image is None:
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def widget_point(self, x: float, y: float) -> QPointF:
        """Frame pixel coordinates → widget coordinates."""
        rect = self.image_rect()
        scale = rect.width() / self._image.width() if self._image is not None else 1.0
        return QPointF(rect.x() + x * scale, rect.y() + y * scale)

    def frame_point(self, point: QPointF) -> tuple[float, float]:
        """Widget coordinates → frame pixel coordinates."""
        rect = self.image_rect()
        scale = rect.width() / self._image.width() if self._image is not None else 1.0
        return (point.x() - rect.x()) / scale, (point.y() - rect.y()) / scale

    def face_at(self, point: QPointF) -> FaceResult | None:
        """The smallest face whose box contains the widget point (nested boxes: the inner one)."""
        if self._result is None or self._image is None:
            return None
        x, y = self.frame_point(point)
        hits = [
            f
            for f in self._result.faces
            if f.box[0] <= x <= f.box[0] + f.box[2] and f.box[1] <= y <= f.box[1] + f.box[3]
        ]
        return min(hits, key=lambda f: f.box[2] * f.box[3], default=None)

    # -- events -------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            face = self.face_at(event.position())
            self.face_clicked.emit(face.face_id if face is not None else 0)
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is not None:
            rect = self.image_rect()
            painter.drawImage(rect.topLeft(), self._scaled_image(rect))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            scale = rect.width() / self._image.width()
            for face in self._result.faces if self._result is not None else ():
                self._paint_face(painter, face, rect, scale)
        if self.message:
            self._paint_message(painter)
        painter.end()
        if self._captured_at is not None:
            captured_at, self._captured_at = self._captured_at, None
            self.frame_painted.emit(captured_at, time.monotonic())

    def _scaled_image(self, rect: QRectF) -> QImage:
        """The frame at the size it is drawn. cv2 scales several times faster than QPainter's smooth
        transform and releases the GIL, which keeps the GUI thread's share of each frame small."""
        size = (max(1, round(rect.width())), max(1, round(rect.height())))
        if self._scaled is None or (self._scaled.width(), self._scaled.height()) != size:
            pixels = cv2.resize(self._pixels, size, interpolation=cv2.INTER_LINEAR)
            image_format = QImage.Format.Format_Grayscale8 if pixels.ndim == 2 else QImage.Format.Format_BGR888
            self._scaled = QImage(pixels.data, size[0], size[1], pixels.strides[0], image_format)
            self._scaled_pixels = pixels
        return self._scaled

    def _paint_face(self, painter: QPainter, face: FaceResult, rect: QRectF, scale: float) -> None:
        x, y, w, h = face.box
        box = QRectF(rect.x() + x * scale, rect.y() + y * scale, w * scale, h * scale)
        trusted = face.geometry is None or face.geometry.pose_ok
        colour = expression_colour(face.label) if trusted else UNTRUSTED
        selected = face.face_id == self._selected_id
        if self.show_mesh and face.geometry is not None and face.geometry.landmarks is not None:
            self._paint_mesh(painter, face, rect, scale)
        if self.show_boxes:
            painter.setPen(QPen(colour, 4 if selected else 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box)
        font = QFont(self.font())
        font.setPixelSize(max(11, min(16, int(box.width() / 9))))
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        pad = 3.0
        if self.show_labels:
            # The ID chip carries the face's own colour, the one its circumplex point has.
            chip_text = f"#{face.face_id}"
            label_text = f"{face.label} {face.confidence:.0%}" + ("" if trusted else " (turned away)")
            chip_w = metrics.horizontalAdvance(chip_text) + 2 * pad
            label_w = metrics.horizontalAdvance(label_text) + 2 * pad
            tag_h = metrics.height() + 2 * pad
            top = box.top() - tag_h if box.top() - tag_h >= rect.top() else box.top()
            chip = QRectF(box.left(), top, chip_w, tag_h)
            label = QRectF(chip.right(), top, label_w, tag_h)
            painter.fillRect(chip, self.colours.colour(face.face_id))
            painter.fillRect(label, colour)
            painter.setPen(QColor("#000000"))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, chip_text)
            painter.setPen(_text_colour_on(colour))
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, label_text)
        if face.calibration_progress is not None:
            self._paint_countdown(painter, face.calibration_progress, box, metrics)
        elif face.calibrated:
            # A calibrated face carries a small mark, so readers know its values are relative to its own neutral.
            side = metrics.height() + 2 * pad
            mark = QRectF(box.right() - side, box.top(), side, side)
            painter.fillRect(mark, QColor(20, 120, 60, 220))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(mark, Qt.AlignmentFlag.AlignCenter, "N")
        if self.show_va:
            va_text = f"V {face.valence:+.2f}  A {face.arousal:+.2f}"
            va_rect = QRectF(
                box.left(), box.bottom(), metrics.horizontalAdvance(va_text) + 2 * pad, metrics.height() + 2 * pad
            )
            if va_rect.bottom() > rect.bottom():
                va_rect.moveBottom(box.bottom())
            painter.fillRect(va_rect, QColor(0, 0, 0, 170))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(va_rect, Qt.AlignmentFlag.AlignCenter, va_text)

    def _paint_mesh(self, painter: QPainter, face: FaceResult, rect: QRectF, scale: float) -> None:
        geometry = face.geometry
        points = geometry.landmarks * scale + (rect.x(), rect.y())
        painter.setPen(QPen(MESH_COLOUR, 1.6))
        painter.drawPoints(QPolygonF([QPointF(x, y) for x, y in points]))
        rotation = rotation_matrix(geometry.yaw, geometry.pitch, geometry.roll)
        if not np.isfinite(rotation).all():
            return
        origin = QPointF(*points[NOSE_TIP])
        length = 0.45 * face.box[2] * scale
        for axis, colour in POSE_AXES:
            direction = rotation @ axis
            painter.setPen(QPen(colour, 2.5))
            painter.drawLine(origin, origin + QPointF(direction[0] * length, direction[1] * length))

    def _paint_countdown(self, painter: QPainter, progress: float, box: QRectF, metrics: QFontMetricsF) -> None:
        """Seconds left and a filling bar across the face while its neutral baseline is collected."""
        left = max(0.0, (1.0 - progress) * self.calibration_seconds)
        text = f"neutral face · {left:.0f} s" if left >= 0.5 else "neutral face · done"
        bar_h = max(6.0, box.height() / 14)
        track = QRectF(box.left(), box.bottom() - bar_h, box.width(), bar_h)
        painter.fillRect(track, QColor(0, 0, 0, 150))
        painter.fillRect(QRectF(track.left(), track.top(), track.width() * progress, bar_h), QColor(80, 200, 120, 230))
        banner = QRectF(box.left(), box.center().y() - metrics.height(), box.width(), 2 * metrics.height())
        painter.fillRect(banner, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(banner, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_message(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPixelSize(16)
        painter.setFont(font)
        area = QRectF(self.rect()).adjusted(24, 0, -24, 0)
        bounds = painter.boundingRect(area, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter, self.message)
        banner = QRectF(0, (self.height() - bounds.height()) / 2 - 12, self.width(), bounds.height() + 24)
        painter.fillRect(banner, QColor(120, 20, 20, 215))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(
            banner.adjusted(24, 0, -24, 0), Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter, self.message
        )


def _text_colour_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on `background`."""
    return QColor("#000000") if background.lightnessF() > 0.55 else QColor("#ffffff")
