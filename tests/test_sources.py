"""Frame sources: clear errors for bad inputs, container timestamps, image folders, damaged frames."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_live.errors import SourceError
from fer_live.pipeline.sources import ImageFolderSource, VideoFileSource, open_source
from tests.bad_inputs import BAD_FILES, damage_mjpeg_frame, make_bad_file
from tests.videos import DEFAULT_FACES, make_face_video


def test_video_file_frames_sizes_and_timestamps(one_face_video):
    path, _ = one_face_video
    with VideoFileSource(path) as source:
        assert (source.fps, source.frame_count, source.size) == (30.0, 90, (640, 480))
        frames = list(source)
    assert [f.index for f in frames] == list(range(90))
    assert frames[0].image.shape == (480, 640, 3) and frames[0].image.dtype == np.uint8
    steps = np.diff([f.time_s for f in frames])
    assert frames[0].time_s == 0.0
    np.testing.assert_allclose(steps, 1 / 30, atol=1e-3)
    assert source.skipped_frames == []


def test_seek_continues_from_the_requested_frame(one_face_video):
    with VideoFileSource(one_face_video[0]) as source:
        source.seek(60)
        frames = list(source)
    assert [f.index for f in frames] == list(range(60, 90))
    assert frames[0].time_s == pytest.approx(2.0, abs=1e-3)


EXPECTED_MESSAGES = {
    "missing": "not found",
    "zero-bytes": "empty (0 bytes)",
    "directory": "directory",
    "random-bytes": "corrupt or unsupported",
    "text": "corrupt or unsupported",
    "truncated": "corrupt or unsupported",
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_video_files_raise_a_clear_source_error(tmp_path, one_face_video, kind):
    path = make_bad_file(kind, tmp_path, one_face_video[0])
    with pytest.raises(SourceError) as caught:
        VideoFileSource(path)
    assert EXPECTED_MESSAGES[kind] in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_undecodable_frame_in_the_middle_is_skipped_and_reported(tmp_path, shared_data):
    path = tmp_path / "damaged.avi"
    make_face_video(path, DEFAULT_FACES[:1], n_frames=30, size=(320, 240), side=120)
    damage_mjpeg_frame(path, 12)
    with VideoFileSource(path) as source:
        frames = list(source)
    assert source.skipped_frames == [12]
    assert [f.index for f in frames] == [i for i in range(30) if i != 12]
    # The frame after the gap keeps its own container time, so the timeline has a hole, not a shift.
    by_index = {f.index: f.time_s for f in frames}
    assert by_index[13] == pytest.approx(13 / 30, abs=1e-3)
    assert by_index[29] == pytest.approx(29 / 30, abs=1e-3)


def test_camera_that_does_not_exist_is_a_clear_error(capfd):
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        open_source("7")
    assert str(caught.value) == "camera 7 could not be opened (is it connected and free?)"
    assert time.monotonic() - started < 10
    # OpenCV's own per-backend warnings stay quiet; the error above says it all.
    assert capfd.readouterr().err == ""


def test_image_folder_yields_images_in_name_order(tmp_path, shared_data):
    folder = tmp_path / "images"
    folder.mkdir()
    names = ["b.jpg", "a.jpg", "c.png"]
    for name, face in zip(names, DEFAULT_FACES, strict=False):
        image = cv2.imread(str(shared_data / face))
        cv2.imwrite(str(folder / name), image)
    (folder / "notes.txt").write_text("not an image")
    source = open_source(folder)
    assert isinstance(source, ImageFolderSource)
    assert source.frame_count == 3
    frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2]
    assert [f.time_s for f in frames] == pytest.approx([0, 1 / 30, 2 / 30])
    expected_first = cv2.imread(str(shared_data / DEFAULT_FACES[1]))  # a.jpg
    assert frames[0].image.shape == expected_first.shape
    assert np.abs(frames[0].image.astype(int) - expected_first.astype(int)).mean() < 3  # re-encoded JPEG


def test_image_folder_errors(tmp_path):
    with pytest.raises(SourceError, match="image folder not found"):
        ImageFolderSource(tmp_path / "nowhere")
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path)


def test_open_source_picks_the_kind(one_face_video, tmp_path, shared_data):
    shutil.copy(one_face_video[0], tmp_path / "copy.mp4")
    with open_source(str(tmp_path / "copy.mp4")) as source:
        assert isinstance(source, VideoFileSource)
    shutil.copy(shared_data / DEFAULT_FACES[0], tmp_path / "face.jpg")
    with open_source(tmp_path) as source:
        assert isinstance(source, ImageFolderSource) and source.frame_count == 1


def test_unreadable_video_file_is_a_clear_error(tmp_path, one_face_video, monkeypatch):
    path = tmp_path / "locked.mp4"
    path.write_bytes(one_face_video[0].read_bytes())
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the permission check see what a user would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode))
    with pytest.raises(SourceError, match=f"no permission to read video file: {path}"):
        VideoFileSource(path)
