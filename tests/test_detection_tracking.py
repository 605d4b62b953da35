"""Face detection and persistent IDs on real faces moving through test videos."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np
import pytest

from fer_live.faces.detection import Detection, FaceDetector, native_stderr_muted
from fer_live.faces.tracking import FaceTracker, iou
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.sources import VideoFileSource
from tests.videos import DEFAULT_FACES, PlacedFace, load_face

RANGES = ("full", "short")


@pytest.fixture(scope="module")
def face_boxes(shared_data) -> dict[str, dict[tuple[int, int], tuple[float, float, float, float]]]:
    """Where each detector range puts its box within each test face photo: range → (face index,
    side) → box relative to the photo's top-left corner, found with the photo alone on a grey frame."""
    boxes = {}
    for detector_range in RANGES:
        boxes[detector_range] = {}
        with FaceDetector(detector_range) as detector:
            for face, side in ((0, 200), (0, 160), (1, 160)):
                canvas = np.full((480, 640, 3), 110, np.uint8)
                canvas[100 : 100 + side, 200 : 200 + side] = load_face(DEFAULT_FACES[face], side)
                (found,) = detector.detect(canvas)
                x, y, w, h = found.box
                boxes[detector_range][face, side] = (x - 200, y - 100, w, h)
    return boxes


def expected_box(placed: PlacedFace, boxes) -> tuple[float, float, float, float]:
    dx, dy, w, h = boxes[placed.face, placed.side]
    return placed.x + dx, placed.y + dy, w, h


def detect_all(path, detector_range: str) -> list[list[Detection]]:
    with FaceDetector(detector_range) as detector, VideoFileSource(path) as source:
        return [detector.detect(frame.image) for frame in source]


@pytest.fixture(scope="module")
def one_face_detections(one_face_video) -> dict[str, list[list[Detection]]]:
    return {r: detect_all(one_face_video[0], r) for r in RANGES}


@pytest.fixture(scope="module")
def crossing_detections(crossing_faces_video) -> dict[str, list[list[Detection]]]:
    return {r: detect_all(crossing_faces_video[0], r) for r in RANGES}


def match(detection: Detection, placed: list[PlacedFace], boxes) -> tuple[int, float]:
    """(face index, IoU) of the placed face whose expected box overlaps `detection` most."""
    scored = [(iou(detection.box, expected_box(p, boxes)), p.face) for p in placed]
    best_iou, face = max(scored)
    return face, best_iou


@pytest.mark.parametrize("detector_range", RANGES)
def test_detector_finds_the_face_in_every_frame(one_face_video, one_face_detections, face_boxes, detector_range):
    _, placed = one_face_video
    detections = one_face_detections[detector_range]
    assert [len(d) for d in detections] == [1] * 90
    boxes = face_boxes[detector_range]
    overlaps = [match(found[0], [p], boxes)[1] for found, p in zip(detections, placed, strict=True)]
    assert min(overlaps) > 0.5, f"worst IoU {min(overlaps):.2f}"
    assert np.mean(overlaps) > 0.7
    for (det,) in detections:
        x, y, w, h = det.box
        assert det.score > 0.5
        for eye_x, eye_y in (det.left_eye, det.right_eye):
            assert x < eye_x < x + w and y < eye_y < y + h
    # The photo only moves, it never turns: the head roll read from the eyes (about -18° for this
    # tilted head, jittering by a few degrees with the eye keypoints) stays put.
    angles = np.degrees([found[0].angle for found in detections])
    assert np.std(angles) < 4 and np.all(np.abs(angles) < 30), f"roll {angles.min():.1f}..{angles.max():.1f}°"


@pytest.mark.parametrize("detector_range", RANGES)
def test_detector_finds_both_crossing_faces(crossing_faces_video, crossing_detections, face_boxes, detector_range):
    _, placed = crossing_faces_video
    detections = crossing_detections[detector_range]
    both = 0
    for index, found in enumerate(detections):
        here = [p for p in placed if p.frame == index]
        matched = [match(d, here, face_boxes[detector_range]) for d in found]
        assert all(overlap > 0.5 for _, overlap in matched), f"frame {index}: {matched}"
        both += sorted(face for face, _ in matched) == [0, 1]
    assert both >= 0.8 * len(detections)


def test_min_face_size_drops_small_faces(one_face_video, one_face_detections):
    side = one_face_detections["full"][0][0].box[2]
    with FaceDetector("full", min_face_size=int(side) + 20) as detector, VideoFileSource(one_face_video[0]) as source:
        assert detector.detect(next(iter(source)).image) == []


def test_one_face_keeps_one_id(one_face_detections):
    tracker = FaceTracker()
    ids = [tracker.update(found) for found in one_face_detections["full"]]
    assert ids == [[1]] * 90


def test_crossing_faces_keep_their_ids_after_passing(crossing_faces_video, crossing_detections, face_boxes):
    _, placed = crossing_faces_video
    tracker = FaceTracker()
    face_of_id: dict[int, set[int]] = {}
    for index, found in enumerate(crossing_detections["full"]):
        here = [p for p in placed if p.frame == index]
        for face_id, det in zip(tracker.update(found), found, strict=True):
            face_of_id.setdefault(face_id, set()).add(match(det, here, face_boxes["full"])[0])
    assert face_of_id == {1: {0}, 2: {1}} or face_of_id == {1: {1}, 2: {0}}
    # They did swap sides: the first face ends right of centre, the second left of it.
    last = {p.face: p.x + p.side / 2 for p in placed if p.frame == 89}
    assert last[0] > 320 > last[1]


def test_a_face_gone_longer_than_max_missed_comes_back_with_a_new_id(one_face_video, random_weights):
    max_missed = 5
    with VideoFileSource(one_face_video[0]) as source:
        frames = [frame.image for frame, _ in zip(source, range(30), strict=False)]
    blank = cv2.GaussianBlur(frames[0], (0, 0), 25)  # the scene with the face smeared beyond recognition
    # 8 frames with the face, gone for max_missed + 1, back for 8, gone for exactly max_missed, back.
    sequence = frames[:8] + [blank] * (max_missed + 1) + frames[8:16] + [blank] * max_missed + frames[16:24]
    settings = PipelineSettings(max_missed=max_missed, device="cpu", threads=1)
    with Pipeline(settings, weights=random_weights) as pipeline:
        ids = [[f.face_id for f in pipeline.process(i, i / 30, image).faces] for i, image in enumerate(sequence)]
    gap = max_missed + 1
    assert ids[:8] == [[1]] * 8
    assert ids[8 : 8 + gap] == [[]] * gap
    assert ids[8 + gap : 16 + gap] == [[2]] * 8, "after more than max_missed frames away the face is new"
    assert ids[16 + gap : 16 + gap + max_missed] == [[]] * max_missed
    assert ids[16 + gap + max_missed :] == [[2]] * 8, "after max_missed frames away it is the same face"


def test_pipeline_closes_its_detector(one_face_video, random_weights):
    closed = []
    with pytest.raises(ZeroDivisionError):
        with Pipeline(PipelineSettings(device="cpu", threads=1), weights=random_weights) as pipeline:
            original_close = pipeline.detector.close
            pipeline.detector.close = lambda: (closed.append(True), original_close())
            with VideoFileSource(one_face_video[0]) as source:
                result = pipeline.process(0, 0.0, next(iter(source)).image)
            assert len(result.faces) == 1
            1 / 0  # noqa: B018 — the detector is closed even when the block fails
    assert closed == [True]
    with pytest.raises(RuntimeError, match="closed"):
        pipeline.detector.detect(np.zeros((48, 48, 3), np.uint8))


def test_detector_is_quiet(capfd, one_face_video):
    with FaceDetector("full") as detector, VideoFileSource(one_face_video[0]) as source:
        for frame, _ in zip(source, range(10), strict=False):
            detector.detect(frame.image)
    with FaceDetector("short"):
        pass
    assert capfd.readouterr().err == ""


def test_muting_drops_only_native_chatter(capfd):
    with native_stderr_muted():
        os.write(2, b"INFO: [environment.cc:36] Creating LiteRT environment with options\n")
        os.write(2, b"W0000 00:00:1795463679.191162    5742 inference_runner_litert.cc:1418] aligned?\n")
        os.write(2, b"E0000 00:00:1795463679.191162    5742 graph.cc:1] a real error\n")
        print("a line from Python", file=sys.stderr, flush=True)
    # (Under pytest, Python's own stderr is captured apart from fd 2, so the order may differ.)
    assert sorted(capfd.readouterr().err.splitlines()) == [
        "E0000 00:00:1795463679.191162    5742 graph.cc:1] a real error",
        "a line from Python",
    ]
    with pytest.raises(ValueError), native_stderr_muted():
        os.write(2, b"INFO: said just before failing\n")
        raise ValueError("the muted step failed")
    assert capfd.readouterr().err == "INFO: said just before failing\n"
