"""Face geometry on real faces: checks that need no labels (rotation → roll, mirror → yaw sign,
closed eyes → lower openness, a made-up blink sequence → its exact blink count)."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from fer_live.faces.detection import FaceDetector
from fer_live.faces.geometry import GeometryTracker, euler_angles, load_reference, rotation_matrix
from fer_live.faces.mesh import MIN_FACE_SIDE, FaceMesh, eye_outlines
from fer_live.landmarks_file import read_landmarks
from fer_live.results import AU_COLUMNS, GEOMETRY_COLUMNS, FaceGeometry, read_results_csv
from tests.videos import SHARED_DATA

# DiffusionFER test faces (colour, 224 px): varied sex, age, expression and head pose.
FACES = (
    "diffusionfer/images/amzejdso_6.jpg",
    "diffusionfer/images/daqasxqt_6.jpg",
    "diffusionfer/images/owyrcnuw_6.jpg",
    "diffusionfer/images/sbcfbaku_6.jpg",
    "diffusionfer/images/mjuoeoyf_6.jpg",
    "diffusionfer/images/rmsnclox_6.jpg",
)


@pytest.fixture(scope="module")
def measure(shared_data):
    """frame → FaceGeometry of its largest face (None without one), each call a fresh face state
    unless a tracker is given."""
    reference = load_reference()
    with FaceDetector("short") as detector, FaceMesh() as mesh:

        def run(frame: np.ndarray, tracker: GeometryTracker | None = None) -> FaceGeometry | None:
            faces = detector.detect(frame)
            found = mesh.measure(frame, faces[0].box, faces[0].angle) if faces else None
            if found is None:
                return None
            return (tracker or GeometryTracker(reference)).measure(1, found)

        yield run


def framed(relative: str) -> np.ndarray:
    """A 224 px face in the middle of a 640×480 frame (edges repeated)."""
    face = cv2.imread(str(SHARED_DATA / relative))
    return cv2.copyMakeBorder(cv2.resize(face, (224, 224)), 128, 128, 208, 208, cv2.BORDER_REPLICATE)


def rotated(frame: np.ndarray, degrees: float) -> np.ndarray:
    """The frame turned clockwise on screen by `degrees` about its centre."""
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -degrees, 1.0)
    return cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def with_eyes_closed(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Each eye covered by the skin just above it, with a dark lash line along the lower lid."""
    out = frame.copy()
    for outline in eye_outlines(landmarks):
        polygon = np.round(outline).astype(np.int32)
        _, _, _, height = cv2.boundingRect(polygon)
        pad = max(3, height // 2)
        mask = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(mask, [polygon], 255)
        mask = cv2.dilate(mask, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8))
        above = np.roll(frame, height + 2 * pad, axis=0)
        weight = cv2.GaussianBlur(mask, (0, 0), pad / 2).astype(np.float32)[..., None] / 255
        out = (out * (1 - weight) + above * weight).astype(np.uint8)
        cv2.polylines(out, [polygon[:9]], False, (40, 30, 30), 2, cv2.LINE_AA)
    return out


def test_roll_follows_in_plane_rotation_within_3_degrees(measure):
    errors = []
    for relative in FACES:
        frame = framed(relative)
        upright = measure(frame)
        for angle in (-25, -10, 10, 25):
            turned = measure(rotated(frame, angle))
            errors.append((turned.roll - upright.roll) - angle)
            # Turning the image about the camera axis leaves yaw and pitch nearly alone (up to the
            # mesh's own noise on a turned face: 5.5° at most here).
            assert abs(turned.yaw - upright.yaw) < 6 and abs(turned.pitch - upright.pitch) < 6
    assert max(abs(e) for e in errors) <= 3.0, np.round(errors, 2)


def test_mirrored_face_changes_yaw_sign(measure):
    turned = 0
    for relative in FACES:
        frame = framed(relative)
        original, mirrored = measure(frame), measure(np.ascontiguousarray(frame[:, ::-1]))
        assert abs(original.yaw + mirrored.yaw) < 3.0, (relative, original.yaw, mirrored.yaw)
        assert abs(original.roll + mirrored.roll) < 3.0
        assert abs(original.pitch - mirrored.pitch) < 3.0
        if abs(original.yaw) > 5:
            turned += 1
            assert np.sign(mirrored.yaw) == -np.sign(original.yaw)
    assert turned >= 2  # the set holds faces that are really turned


def test_closed_eyes_read_less_open(measure):
    ratios = []
    for relative in FACES:
        frame = framed(relative)
        open_eyes = measure(frame)
        closed = measure(with_eyes_closed(frame, open_eyes.landmarks))
        for before, after in ((open_eyes.eye_open_l, closed.eye_open_l), (open_eyes.eye_open_r, closed.eye_open_r)):
            assert after < before
            ratios.append(after / before)
        assert 0.6 < open_eyes.eye_open_l < 1.5 and 0.6 < open_eyes.eye_open_r < 1.5
    assert np.mean(ratios) < 0.7, np.round(ratios, 2)


def test_blink_sequence_gives_exactly_its_blinks(measure):
    frame = framed(FACES[5])  # the face whose edited eyes close best (openness 0.15/0.24)
    closed = with_eyes_closed(frame, measure(frame).landmarks)
    # 15 open frames to settle, then blinks of 2 to 6 frames (67–200 ms at 30 fps) between open stretches.
    pattern = [0] * 15
    for length in (3, 2, 4, 6, 3, 2, 5):
        pattern += [1] * length + [0] * 10
    tracker = GeometryTracker(load_reference())
    states = [measure(closed if shut else frame, tracker).blink for shut in pattern]
    assert tracker.blink_count(1) == 7
    assert states == [bool(shut) for shut in pattern]


def test_face_too_small_for_the_mesh_gives_no_geometry(shared_data):
    frame = framed(FACES[0])
    with FaceMesh() as mesh:
        assert mesh.measure(frame, (300.0, 220.0, MIN_FACE_SIDE - 1.0, MIN_FACE_SIDE - 1.0), 0.0) is None
        # A box on plain background: the model's face-presence score rejects it.
        assert mesh.measure(np.full((480, 640, 3), 128, np.uint8), (200.0, 150.0, 160.0, 160.0), 0.0) is None


def test_reference_face_is_mirror_symmetric():
    reference = load_reference()
    partner = reference.mirror
    assert (partner[partner] == np.arange(468)).all()
    mirrored = reference.points[partner] * [-1, 1, 1]
    assert np.abs(mirrored - reference.points).max() < 1e-3
    assert 0.2 < reference.open_eye_aspect < 0.5


def test_rotation_matrix_inverts_euler_angles():
    for angles in ((0.0, 0.0, 0.0), (30.0, -20.0, 10.0), (-60.0, 45.0, -170.0)):
        assert np.allclose(euler_angles(rotation_matrix(*angles)), angles)
    # yaw > 0 turns the nose (toward the camera, −z) to the image's right; pitch > 0 turns it up.
    nose = rotation_matrix(20.0, 0.0, 0.0) @ (0.0, 0.0, -1.0)
    assert nose[0] > 0.3
    assert (rotation_matrix(0.0, 20.0, 0.0) @ (0.0, 0.0, -1.0))[1] < -0.3


def test_geometry_columns_follow_todays_columns():
    assert GEOMETRY_COLUMNS == (
        "yaw",
        "pitch",
        "roll",
        "eye_open_l",
        "eye_open_r",
        "blink",
        "gaze_yaw",
        "gaze_pitch",
        "mouth_open",
        "pose_ok",
    )


def test_annotate_with_geometry_fills_the_columns_and_the_landmarks_file(
    capfd, tmp_path, one_face_video, random_weights
):
    from fer_live import cli

    video, placed = one_face_video
    status = cli.main(
        ["annotate", str(video), "-o", str(tmp_path), "--weights", str(random_weights), "--threads", "1",
         "--geometry", "--landmarks"]
    )  # fmt: skip
    assert status == 0, capfd.readouterr().err
    frames = read_results_csv(tmp_path / "one_face.csv")
    faces = [frame.faces[0] for frame in frames]
    assert len(faces) == 90 and all(face.geometry is not None for face in faces)
    pose = np.array([(f.geometry.yaw, f.geometry.pitch, f.geometry.roll) for f in faces])
    # The same face image drifts across the frame: its pose, taken against the line of sight, stays
    # put up to the mesh's jitter (≤ 3.4° between frames, ≤ 6° overall when measured).
    assert np.abs(np.diff(pose, axis=0)).max() < 5
    assert (pose.max(axis=0) - pose.min(axis=0)).max() < 8
    assert all(f.geometry.pose_ok and not f.geometry.blink for f in faces)
    assert all(0.6 < f.geometry.eye_open_l < 1.4 and 0.6 < f.geometry.eye_open_r < 1.4 for f in faces)
    saved = read_landmarks(tmp_path / "one_face.landmarks.npz")
    assert saved["landmarks"].shape == (90, 468, 2)
    assert not (tmp_path / "one_face.landmarks.npz.partial").exists()  # written as they came, then made the .npz
    assert list(saved["frame"]) == list(range(90)) and set(saved["face_id"]) == {1}
    for points, face in zip(saved["landmarks"], placed, strict=True):
        # The mesh lies on the pasted face.
        inside = (points >= (face.x, face.y)) & (points <= (face.x + face.side, face.y + face.side))
        assert inside.all(axis=1).mean() > 0.95


@pytest.mark.parametrize("command", ["annotate", "record"])
def test_landmarks_without_geometry_is_one_clear_error(capfd, tmp_path, one_face_video, random_weights, command):
    from fer_live import cli

    video, out = str(one_face_video[0]), str(tmp_path / "out")
    args = ["annotate", video, "-o", out] if command == "annotate" else ["record", "--source", video, "--out", out]
    status = cli.main([*args, "--no-geometry", "--landmarks"])
    err = capfd.readouterr().err
    assert status != 0 and "Traceback" not in err
    assert "--landmarks needs geometry (the landmarks come from the face mesh; drop --no-geometry)" in err
    assert not (tmp_path / "out").exists()


def test_a_face_too_small_for_the_mesh_gets_empty_geometry_fields(random_weights, shared_data):
    from fer_live.faces.detection import Detection
    from fer_live.pipeline.frames import Pipeline, PipelineSettings
    from fer_live.results import result_rows

    frame = framed(FACES[0])
    side = MIN_FACE_SIDE - 2.0
    tiny = Detection((300.0, 220.0, side, side), 0.9, (305.0, 230.0), (320.0, 230.0))
    with Pipeline(PipelineSettings(geometry=True), weights=random_weights) as pipeline:
        pipeline.locate = lambda image, still=False: [tiny]
        result = pipeline.process(0, 0.0, frame)
    assert len(result.faces) == 1 and result.faces[0].geometry is None
    row = result_rows(result)[0]
    assert row["label"] and all(row[c] == "" for c in GEOMETRY_COLUMNS)


def test_recorded_session_with_geometry_reports_its_blinks_and_head_pose(tmp_path, measure, random_weights):
    """A video of a face that blinks 4 times, recorded with --geometry, then reported."""
    from fer_live import cli
    from tests.videos import FOURCC

    frame = framed(FACES[5])
    closed = with_eyes_closed(frame, measure(frame).landmarks)
    pattern = [0] * 15
    for length in (3, 4, 2, 5):
        pattern += [1] * length + [0] * 12
    video = tmp_path / "blinks.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*FOURCC[".mp4"]), 30.0, (640, 480))
    for shut in pattern:
        writer.write(closed if shut else frame)
    writer.release()
    session = tmp_path / "session"
    assert cli.main(
        ["record", "--source", str(video), "--out", str(session), "--weights", str(random_weights), "--geometry",
         "--landmarks"]
    ) == 0  # fmt: skip
    saved = read_landmarks(session / "landmarks.npz")
    assert not (session / "landmarks.npz.partial").exists()
    assert saved["landmarks"].shape == (len(pattern), 468, 2) and list(saved["frame"]) == list(range(len(pattern)))
    with open(session / "frames.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    extra = ["wall_time", "video_frame", "source_file", "source_frame", "source_loop", "processed"]
    last = len(GEOMETRY_COLUMNS) + len(AU_COLUMNS)  # geometry, then the action units, close every row
    assert reader.fieldnames[-last - len(extra) : -last] == extra
    assert [r["blink"] for r in rows] == [str(shut) for shut in pattern]
    assert cli.main(["report", str(session), "--out", str(tmp_path / "report")]) == 0
    report = tmp_path / "report"
    assert (report / "face1_head_pose.png").is_file() and (report / "face1_blinks.png").is_file()
    seconds = len(pattern) / 30
    html = (report / "report.html").read_text()
    assert f"4 blinks ({60 * 4 / seconds:.1f} per minute)" in html


def test_head_pose_follows_a_turning_head_without_jumps(measure):
    """A face turning steadily in the image plane, 0° → 36° over 37 frames, through one tracker."""
    frame = framed(FACES[4])
    tracker = GeometryTracker(load_reference())
    rolls = np.array([measure(rotated(frame, angle), tracker).roll for angle in range(0, 37)])
    steps = np.diff(rolls)
    assert np.abs(steps - 1.0).max() < 1.5  # each frame turns 1°: no jumps
    assert abs((rolls[-1] - rolls[0]) - 36.0) < 2.0
