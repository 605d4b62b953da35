"""The Python API: `Detector` gives annotate's numbers as DataFrames; pictures as stills; one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_live import Detector, cli, read_results
from fer_live.errors import FerLiveError
from fer_live.results import AU_COLUMNS, CSV_COLUMNS, GEOMETRY_COLUMNS

REPO = Path(__file__).resolve().parents[1]
# Two happy and two neutral DiffusionFER faces, and one picture with no face.
PHOTOS = ("images/aaaaaaaa_6.jpg", "images/aawkxnwq_6.jpg")


@pytest.fixture(scope="module")
def detector(random_au_weights):
    with Detector(random_au_weights, device="cpu") as detector:
        yield detector


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, shared_data) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:
        shutil.copy(shared_data / "diffusionfer" / name, folder / Path(name).name)
    gradient = np.tile(np.linspace(40, 220, 160, dtype=np.uint8), (120, 1))
    cv2.imwrite(str(folder / "z_no_face.png"), gradient)
    return folder


def test_detect_video_is_annotate_s_csv_number_for_number(tmp_path, detector, one_face_video, random_au_weights):
    video = one_face_video[0]
    assert cli.main(["annotate", str(video), "-o", str(tmp_path), "--weights", str(random_au_weights)]) == 0
    from_cli = read_results(tmp_path / "one_face.csv")
    df = detector.detect_video(video)
    assert list(df.columns) == [*CSV_COLUMNS, *GEOMETRY_COLUMNS, *AU_COLUMNS]
    assert len(df) == len(from_cli) == 90
    numeric = [c for c in df.columns if c != "label"]
    np.testing.assert_allclose(df[numeric].to_numpy(float), from_cli[numeric].to_numpy(float), atol=1e-6)
    assert (df["label"] == from_cli["label"]).all()
    assert df["au12"].notna().all() and df["pose_ok"].notna().all()
    assert df.attrs["weights"]["sha256"] == from_cli.attrs["weights"]["sha256"]
    assert df.attrs["settings"]["geometry"] is True and df.attrs["operating_point"]["prior"] == "recommended"
    summary = df.fer.summary()
    assert list(summary.index) == [1] and summary.loc[1, "frames"] == 90
    assert summary.loc[1, "mean_p_happy"] == pytest.approx(df["p_happy"].mean())
    shares = summary.loc[1, [c for c in summary.columns if c.startswith("share_")]]
    assert shares.sum() == pytest.approx(1.0)
    figure = df.fer.plot()
    assert len(figure.axes) == 4  # expressions, V/A, AUs and the AUs' colour bar


def test_detect_video_every_start_end_select_frames(detector, one_face_video):
    df = detector.detect_video(one_face_video[0], every=3, start=1.0, end=2.0)
    assert list(df["frame"]) == list(range(30, 60, 3))
    assert df["time_s"].between(1.0, 2.0).all()


def test_pictures_as_paths_arrays_pil_and_a_folder_give_the_same_numbers(detector, photo_folder):
    from PIL import Image

    paths = sorted(photo_folder.glob("*.jpg"))
    by_path = detector.detect_image([str(p) for p in paths])
    by_array = detector.detect_image([cv2.imread(str(p)) for p in paths])
    by_pil = detector.detect_image(Image.open(paths[0]))
    assert list(by_path["source"]) == [p.name for p in paths] and list(by_array["source"]) == ["0", "1"]
    numbers = [c for c in by_path.columns if c not in ("source", "label")]
    np.testing.assert_array_equal(by_path[numbers].to_numpy(float), by_array[numbers].to_numpy(float))
    np.testing.assert_allclose(by_pil[numbers].to_numpy(float)[0], by_path[numbers].to_numpy(float)[0], atol=2e-3)
    # Stills: every picture's face is a new face, never smoothed with the one before.
    assert list(by_path["face_id"]) == [1, 2]
    folder = detector.detect_image(photo_folder)
    assert list(folder["source"]) == ["aaaaaaaa_6.jpg", "aawkxnwq_6.jpg", "z_no_face.png"]
    assert folder["face_id"].isna().tolist() == [False, False, True]  # the face-less picture keeps its row


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda d: d.detect_video("/no/such/video.mp4"), FileNotFoundError, "no such file: /no/such/video.mp4"),
        (lambda d: d.detect_image([1, 2]), FerLiveError, "picture 0 is not an image"),
        (lambda d: d.detect_image([]), FerLiveError, "no pictures given (an empty list)"),
        (lambda d: d.detect_image(np.zeros((4, 4, 2), np.uint8)), FerLiveError, "the picture has 2 channels"),
        (lambda d: d.detect_video(REPO / "README.md"), FerLiveError, "cannot open video"),
        (lambda d: d.detect_video(REPO / "assets/demo/demo.mp4", every=0), FerLiveError, "every must be at least 1"),
    ],
)
def test_bad_input_raises_one_line(detector, call, error, message):
    with pytest.raises(error) as caught:
        call(detector)
    text = str(caught.value)
    assert message in text and "\n" not in text


def test_bad_settings_raise_one_line(random_au_weights):
    with pytest.raises(FerLiveError, match=r"^smooth must be within \[0, 1\), not 2$"):
        Detector(random_au_weights, smooth=2)
    with pytest.raises(FerLiveError, match="detect every k frames needs k >= 1"):
        Detector(random_au_weights, detect_every=0)
    with pytest.raises(FerLiveError, match="^device must be auto, cpu or cuda"):
        Detector(random_au_weights, device="tpu")


def test_read_results_refuses_a_csv_that_is_not_ours(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FerLiveError, match="is not a fer_live results CSV"):
        read_results(tmp_path / "notes.csv")


def test_importing_fer_live_stays_cheap():
    probe = "import sys, fer_live; print(sorted(m for m in ('torch', 'pandas', 'cv2') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.stdout.strip() == "[]", done.stderr


def test_quickstart_notebook_runs_top_to_bottom_with_outputs_stripped():
    import json

    import matplotlib

    matplotlib.use("Agg")
    notebook = json.loads((REPO / "examples" / "quickstart.ipynb").read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    namespace: dict = {}
    for cell in code:
        exec(compile("".join(cell["source"]), "quickstart.ipynb", "exec"), namespace)  # noqa: S102
    assert namespace["video"]["frame"].max() == 299  # the demo's first 10 s at 30 fps
    assert list(namespace["stills"]["source"].unique()) == ["frame_02s.jpg", "frame_12s.jpg", "frame_22s.jpg"]


def test_a_closed_detector_refuses_and_foreign_sidecars_are_not_provenance(detector, random_au_weights, tmp_path):
    closed = Detector(random_au_weights, device="cpu")
    closed.close()
    with pytest.raises(FerLiveError, match="^this Detector is closed: make a new one$"):
        closed.detect_image(np.zeros((64, 64, 3), np.uint8))
    stills = detector.detect_image(np.zeros((64, 64, 1), np.uint8))  # grey H×W×1: read as grey
    assert stills.attrs["settings"]["smoothing"] == 0.0 and len(stills) == 1
    stills.to_csv(tmp_path / "talk.csv", index=False)
    (tmp_path / "talk.json").write_text('["a transcript, not a sidecar"]')
    assert read_results(tmp_path / "talk.csv").attrs == {}
