"""Messages and help of every command (issue 17, item 13): a wrong kind of input says what was
expected, in one line, with the same exit status in every command; the help states defaults,
the settings file and the marker syntax."""

from __future__ import annotations

import json
import pickle
import shutil
import warnings

import pytest

from fer_live import cli
from fer_live.assets import WEIGHTS
from fer_live.inference.int8 import int8_path
from tests.videos import DEFAULT_FACES

ERROR = "fer-live: error: "


def run(capsys, *argv) -> tuple[int, str]:
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), err
    return lines[0]


def text_file(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not weights\n")
    return path


def onnx_file(tmp_path):
    return shutil.copy(int8_path(WEIGHTS), tmp_path / "model.onnx")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp, "weights path is a folder"),
        (text_file, "not a fer_live weights file"),
        (onnx_file, "is an ONNX model, not a fer_live weights file"),
    ],
    ids=["folder", "text", "onnx"],
)
@pytest.mark.parametrize("command", ["annotate", "record"])
def test_the_wrong_kind_of_weights_file_says_a_fer_live_pt_is_expected(
    capsys, tmp_path, one_face_video, make, expected, command
):
    weights = make(tmp_path)
    video, _ = one_face_video
    if command == "annotate":
        argv = ["annotate", video, "-o", tmp_path / "out", "--weights", weights]
    else:
        argv = ["record", "--source", video, "--out", tmp_path / "session", "--weights", weights]
    status, err = run(capsys, *argv)
    line = one_line(err)
    assert status == 2 and expected in line and "expected a fer_live .pt weights file" in line
    assert "Error" not in line  # no exception class names (KeyError, UnpicklingError)
    assert not (tmp_path / "session").exists() and not list((tmp_path / "out").glob("*.csv"))


def test_a_raw_pickle_as_weights_is_one_line_without_torchs_warning(capsys, tmp_path, one_face_video):
    weights = tmp_path / "pickled.pt"
    weights.write_bytes(pickle.dumps({"state_dict": [1.0, 2.0]}, protocol=4))
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        status, err = run(capsys, "annotate", one_face_video[0], "-o", tmp_path / "out", "--weights", weights)
    assert status == 2 and "not a fer_live weights file" in one_line(err)
    assert [str(w.message) for w in warned] == []  # torch's "Detected pickle protocol 4 …" (2 lines) is not shown


def test_report_of_a_file_says_a_session_folder_is_expected(capsys, one_face_video):
    video, _ = one_face_video
    status, err = run(capsys, "report", video)
    assert status == 2
    assert one_line(err) == f"{ERROR}not a session folder: {video} is a file (give the folder fer-live record wrote)"


def test_a_negative_camera_index_is_not_called_a_missing_video(capsys, tmp_path):
    status, err = run(capsys, "record", "--source", "-1", "--out", tmp_path / "session")
    assert status == 2
    assert one_line(err).startswith(f"{ERROR}no camera -1: camera indices start at 0")
    assert not (tmp_path / "session").exists()


@pytest.mark.parametrize("command", ["annotate", "record", "gui"])
def test_a_number_that_is_not_finite_is_refused_by_every_command(capfd, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--smooth", "nan"])
    err = capfd.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1
    assert "argument --smooth: not a finite number: 'nan'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record", "--source", "0", "--out", "s", "--segment-seconds", "1e308"],
         "fer-live record: error: argument --segment-seconds: must be at most 86400, not 1e308"),
        (["annotate", "v.mp4", "-o", "o", "--threads", "3000000000"],
         "fer-live annotate: error: argument --threads: must be at most 1024, not 3000000000"),
        (["record", "--source", "0", "--out", "s", "--threads", "3000000000"],
         "fer-live record: error: argument --threads: must be at most 1024, not 3000000000"),
    ],
)  # fmt: skip
def test_a_number_too_large_to_use_is_an_argument_error(capfd, args, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    assert exit_info.value.code == 2
    assert capfd.readouterr().err == f"{message} (see {message.split(': error')[0]} --help)\n"


def help_text(capsys, command: str) -> str:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())  # unwrapped


def test_help_states_defaults_the_settings_file_and_the_marker_syntax(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    gui = help_text(capsys, "gui")
    settings_file = tmp_path / "config" / "fer_live" / "fer_live.ini"
    assert f"(default:theuser'sfile,{settings_file})" in "".join(gui.split())  # argparse breaks long words
    assert "remembered; first 0.5" in gui and "annotate and record default to 0, raw" in gui

    annotate = help_text(capsys, "annotate")
    for option, default in [
        ("--jobs N", "(default 1)"),
        ("--detector {full,short}", "(default full)"),
        ("--min-confidence C", "(default 0.5)"),
        ("--min-face-size PX", "(default 0"),
        ("--smooth S", "(default 0, raw; the live window's default is 0.5)"),
    ]:
        assert default in annotate.split(option, 2)[2].split(" --")[0], option

    record = help_text(capsys, "record")
    assert "'1' to '9', optionally followed by a note, marks a numbered event" in record
    assert "'m TEXT' marks a free-text one" in record


def test_the_help_names_the_file_qsettings_uses(monkeypatch, tmp_path, qapp):
    from fer_live.gui.settings import open_store
    from fer_live.gui.settings_location import user_settings_file

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert open_store().fileName() == str(user_settings_file())


def test_a_missing_input_has_one_status_in_every_command(capsys, tmp_path, one_face_video):
    """Bad input and nothing done is 2 everywhere; a batch that did the rest says 1 (README's table)."""
    missing = tmp_path / "missing.mp4"
    expected = f"{ERROR}video file not found: {missing}"
    status, err = run(capsys, "annotate", missing, "-o", tmp_path / "out")
    assert (status, one_line(err)) == (2, expected)
    status, err = run(capsys, "record", "--source", missing, "--out", tmp_path / "session")
    assert (status, one_line(err)) == (2, expected)
    status, err = run(capsys, "report", tmp_path / "no session")
    assert (status, one_line(err)) == (2, f"{ERROR}session folder not found: {tmp_path / 'no session'}")


def test_a_damaged_jpeg_is_reported_in_our_words_not_libjpegs(capfd, tmp_path, shared_data, random_weights):
    import cv2

    from fer_live.bench.videos import FaceScene

    folder = tmp_path / "stills"
    folder.mkdir()
    scene = FaceScene(DEFAULT_FACES[:1], 3, size=(320, 240), side=120)
    for index in range(3):
        cv2.imwrite(str(folder / f"{index:02d}.jpg"), scene.draw(index)[0])
    data = (folder / "01.jpg").read_bytes()
    (folder / "01.jpg").write_bytes(data[: len(data) * 2 // 3])  # an interrupted copy

    status = cli.main(
        ["record", "--source", str(folder), "--out", str(tmp_path / "s"), "--weights", str(random_weights)]
    )
    err = capfd.readouterr().err
    assert status == 1
    assert "Premature end of JPEG file" not in err.replace("(01.jpg: Premature end of JPEG file)", "")
    errors = [line for line in err.splitlines() if line.startswith(ERROR)]
    assert errors == [
        f"{ERROR}{folder}: 1 damaged image used as decoded (01.jpg: Premature end of JPEG file); "
        "every frame read is recorded"
    ]
    info = json.loads((tmp_path / "s" / "session.json").read_text())
    assert info["source_damage"]["decoder_complaints"] == {"01.jpg": "Premature end of JPEG file"}
