"""The action unit panel and the label's evidence in the live window, offscreen (issue 27): the
followed face's AUs from the engine and from a reviewed session, names and plain-words tooltips,
the label's supporting AUs in the bars' title, the state of weights without AUs, no re-layout.

Models are random (mechanics only); made-up results give exact texts.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from fer_live.evidence import au_title, supporting_aus  # noqa: E402
from fer_live.gui import settings as gui_settings  # noqa: E402
from fer_live.gui.settings import GuiSettings  # noqa: E402
from fer_live.gui.widgets.bars import EmotionBars  # noqa: E402
from fer_live.gui.window import MainWindow  # noqa: E402
from fer_live.inference.engine import Engine  # noqa: E402
from fer_live.labels import AU_COLUMNS  # noqa: E402
from fer_live.results import FaceResult, FrameResult  # noqa: E402
from fer_live.sessions.reader import Session  # noqa: E402
from tests.au_sessions import face_aus, record_session  # noqa: E402

TEST_SETTINGS = GuiSettings(smoothing=0.0, loop_video=False, device="cpu")
FRAME = np.full((480, 640, 3), 90, dtype=np.uint8)
HAPPY = np.array([0.02, 0.86, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02], dtype=np.float32)


@pytest.fixture
def make_window(qtbot, tmp_path):
    def make(weights) -> MainWindow:
        store = gui_settings.open_store(tmp_path / "gui.ini")
        window = MainWindow(Engine(weights, "cpu", threads=1), TEST_SETTINGS, store)
        qtbot.addWidget(window)  # closed (threads stopped) at teardown
        window.show()
        return window

    return make


def play_until(qtbot, window: MainWindow, count: int) -> None:
    shown = []
    window.result_displayed.connect(shown.append)
    qtbot.waitUntil(lambda: len(shown) >= count, timeout=30_000)
    window.set_playing(False)
    qtbot.wait(300)  # a frame already in inference lands; nothing follows it


def bars_title(window: MainWindow) -> str:
    return title_text(window.bars)


def title_text(bars: EmotionBars) -> str:
    """The bars' title as read (its evidence is in a smaller font: markup)."""
    return re.sub(r"<[^>]+>", "", bars.plotItem.titleLabel.text)


def smiling(aus: dict[str, float], face_id: int = 1) -> FaceResult:
    """A happy face with the given AU intensities, every other AU at 0.1."""
    vector = np.full(len(AU_COLUMNS), 0.1, dtype=np.float32)
    for column, value in aus.items():
        vector[AU_COLUMNS.index(column)] = value
    return FaceResult(face_id, (100.0, 100.0, 120.0, 120.0), 0.9, HAPPY, 0.6, 0.3, aus=vector)


def test_the_panel_shows_the_followed_faces_action_units(make_window, qtbot, random_au_weights):
    window = make_window(random_au_weights)
    assert window.open_source_spec("demo")
    play_until(qtbot, window, 6)
    face = window.last_displayed.result.face(window.follower.face_id)
    assert face is not None and face.aus is not None and face.aus.shape == (len(AU_COLUMNS),)

    panel = window.action_units
    np.testing.assert_array_equal(panel.aus, face.aus.astype(float))
    assert panel.title == f"face #{face.face_id}: action units (0–1)"
    assert panel.row_titles() == [au_title(column) for column in AU_COLUMNS]
    assert panel.row_titles()[AU_COLUMNS.index("au12")] == "AU12 lip corner puller"
    assert panel.supporting == supporting_aus(face.label, face.aus)
    assert bars_title(window).startswith(f"face #{face.face_id}: {face.confidence:.0%} {face.label}")

    # Hovering a row tells what the AU looks like; the title line has no tooltip.
    au12 = panel.row_rect(AU_COLUMNS.index("au12")).center()
    assert panel.tooltip_at(au12.x(), au12.y()) == (
        "AU12 lip corner puller: the lip corners are pulled up and back (smile)"
    )
    au1 = panel.row_rect(0).center()
    assert panel.tooltip_at(au1.x(), au1.y()) == "AU1 inner brow raiser: the inner ends of the eyebrows go up"
    assert panel.tooltip_at(10, 3) is None
    # Every row is inside the panel at the window's default size, none over another.
    rects = [panel.row_rect(index) for index in range(len(AU_COLUMNS))]
    assert all(panel.rect().toRectF().contains(rect) for rect in rects)
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])


def test_the_bars_title_names_the_supporting_action_units_as_width_allows(make_window, qtbot, random_au_weights):
    window = make_window(random_au_weights)
    smile = smiling({"au06": 0.9, "au12": 0.7, "au25": 0.2})
    window.display_frame(FRAME, FrameResult(0, 0.0, (smile,)), 0.0)
    # The strongest supporting AU first (AU25 is under the threshold); AU12 too where the width allows.
    assert bars_title(window).startswith("face #1: 86% happy — AU6 cheek raiser")
    assert window.action_units.supporting == ["au06", "au12"]

    # Narrower bars keep the strongest AU, then the label alone: the title never widens the plot.
    bars = EmotionBars()
    qtbot.addWidget(bars)
    bars.show()
    bars.set_face(smile)
    for width, expected in ((600, "AU6 cheek raiser, AU12 lip corner puller"), (400, "AU6 cheek raiser"), (250, "")):
        bars.resize(width, 300)
        QApplication.processEvents()
        assert title_text(bars) == "face #1: 86% happy" + (f" — {expected}" if expected else "")
        assert bars.plotItem.width() <= width

    # Neutral has no prototype AUs: just the label.
    neutral = FaceResult(1, (100.0, 100.0, 120.0, 120.0), 0.9, np.roll(HAPPY, -1), 0.0, 0.0, aus=np.ones(17))
    window.display_frame(FRAME, FrameResult(1, 0.1, (neutral,)), 0.0)
    assert bars_title(window) == "face #1: 86% neutral" and window.action_units.supporting == []


def test_new_action_units_repaint_the_panel_without_a_relayout(make_window, random_au_weights):
    window = make_window(random_au_weights)
    central = window.centralWidget()

    class LayoutRequests(QObject):
        """Layouts asked for among the window's panels (the status bar relayouts once a second)."""

        count = 0

        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.LayoutRequest and isinstance(watched, QWidget):
                self.count += watched is central or central.isAncestorOf(watched)
            return False

    def show(index: int) -> None:
        face = smiling({"au06": 0.9, "au12": 0.5 + index / 100})  # the same evidence, new values
        window.display_frame(FRAME, FrameResult(index, index / 30, (face,)), 0.0)
        QApplication.processEvents()

    QApplication.processEvents()  # the window's first layout, after show()
    show(0)
    requests = LayoutRequests()
    QApplication.instance().installEventFilter(requests)
    try:
        for index in range(1, 30):
            show(index)
    finally:
        QApplication.instance().removeEventFilter(requests)
    assert requests.count == 0
    assert window.action_units.aus[AU_COLUMNS.index("au12")] == pytest.approx(0.79)


def test_weights_without_action_units_say_so(make_window, qtbot, random_weights):
    window = make_window(random_weights)
    assert window.inference.pipeline.engine.action_units == ()
    panel = window.action_units
    assert panel.title == "no face" and len(panel.row_titles()) == len(AU_COLUMNS)  # empty rows until a face shows

    assert window.open_source_spec("demo")
    play_until(qtbot, window, 3)
    face = window.last_displayed.result.face(window.follower.face_id)
    assert face is not None and face.aus is None
    assert panel.title == f"face #{face.face_id}: these weights read no action units"
    assert panel.aus is None and panel.row_titles() == [] and panel.supporting == []
    centre = panel.rect().center()
    assert panel.tooltip_at(centre.x(), centre.y()) is None
    assert bars_title(window) == f"face #{face.face_id}: {face.confidence:.0%} {face.label}"


def test_review_shows_the_recorded_action_units(make_window, qtbot, random_weights, tmp_path):
    path = record_session(tmp_path / "session", with_aus=True)
    session = Session.load(path)
    window = make_window(random_weights)  # without AUs: review reads frames.csv, never the engine
    assert window.review.open_session(path)
    play_until(qtbot, window, 3)
    window.seek_to_frame(30)
    qtbot.waitUntil(lambda: window.last_displayed.captured.frame.index == 30, timeout=10_000)

    panel = window.action_units
    np.testing.assert_array_equal(panel.aus, session.result_at(30).face(1).aus.astype(float))
    np.testing.assert_allclose(panel.aus, face_aus(30), atol=5e-5)
    assert panel.title == "face #1: action units (0–1)" and panel.supporting == ["au12", "au06"]
    assert bars_title(window).startswith("face #1: 86% happy — AU12 lip corner puller")
