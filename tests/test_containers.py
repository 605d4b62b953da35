"""Containers OpenCV cannot rewind by seeking (issue 25): every frame of each is read, indexed
0..N-1 and timed forwards, and annotate's sidecar says complete only when it is. The files are
small cuts of the bundled demo made by tests/data/containers/make.sh (ffmpeg) and committed, so
the tests need no ffmpeg."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_live import cli
from fer_live.pipeline.sources import VideoFileSource, open_source

CONTAINERS = Path(__file__).parent / "data" / "containers"

# The frames ffmpeg wrote into each (`ffprobe -count_frames`).
FRAMES_WRITTEN = {
    "camcorder.mts": 60,  # H.264 in MPEG-TS
    "browser.webm": 60,  # VP8, live WebM as MediaRecorder writes it: no duration, no frame count
    "raw.h264": 60,  # an elementary stream: no container, no timestamps
    "program_stream.mpg": 60,  # MPEG-2 in MPEG-PS
    "short.ts": 120,
    "clock_reset.ts": 60,  # two 1 s recordings joined: the clock goes back at frame 30
    "one_frame.mp4": 1,
    "still.jpg": 1,  # a still image given as a video
}
CLOCK_RESET_AT = 30


def first_decoded(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    ok, image = capture.read()
    capture.release()
    assert ok
    return image


@pytest.mark.parametrize("name", FRAMES_WRITTEN)
def test_every_frame_is_read_from_the_first_in_order_and_time(name):
    path = CONTAINERS / name
    with open_source(path) as source:
        assert isinstance(source, VideoFileSource)
        frames = list(source)
    count = FRAMES_WRITTEN[name]
    assert [f.index for f in frames] == list(range(count))
    np.testing.assert_array_equal(frames[0].image, first_decoded(path))
    times = [f.time_s for f in frames]
    assert times[0] == 0.0
    assert all(later > earlier for earlier, later in zip(times, times[1:], strict=False))
    # Read whole: the count is what was decoded, whatever the header guessed, and nothing is missing.
    assert source.frame_count == count
    assert (source.skipped_frames, source.missing_at_end) == ([], 0)
    assert source.retimed_frames == ([CLOCK_RESET_AT] if name == "clock_reset.ts" else [])


def test_a_clock_reset_is_moved_on_at_the_frame_rate_and_reported():
    with VideoFileSource(CONTAINERS / "clock_reset.ts") as source:
        times = [f.time_s for f in source]
    np.testing.assert_allclose(np.diff(times), 1 / 30, atol=1e-3)
    assert source.damage() == (
        f"timestamps jump back at frame {CLOCK_RESET_AT} (a timestamp reset); "
        "times from there continue from the frame before"
    )
    assert source.damage_info() == {"skipped_frames": [], "missing_at_end": 0, "retimed_frames": [CLOCK_RESET_AT]}


def test_seeking_back_to_the_start_reads_every_frame_again():
    """The GUI's loop: a container without a frame index starts over from its first frame."""
    with VideoFileSource(CONTAINERS / "browser.webm") as source:
        first_pass = list(source)
        source.seek(0)
        second_pass = list(source)
    assert [f.index for f in second_pass] == [f.index for f in first_pass] == list(range(60))
    assert [f.time_s for f in second_pass] == [f.time_s for f in first_pass]


@pytest.mark.parametrize("name", FRAMES_WRITTEN)
def test_annotate_writes_every_frame_and_says_complete(name, tmp_path, capfd, random_weights):
    path = CONTAINERS / name
    status = cli.main(["annotate", str(path), "-o", str(tmp_path), "--weights", str(random_weights), "--threads", "1"])
    err = capfd.readouterr().err
    count = FRAMES_WRITTEN[name]
    stem = path.stem
    with open(tmp_path / f"{stem}.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted({int(row["frame"]) for row in rows}) == list(range(count))
    times = [float(row["time_s"]) for row in rows]
    assert times == sorted(times)
    sidecar = json.loads((tmp_path / f"{stem}.json").read_text())
    assert sidecar["status"] == "complete"
    assert (sidecar["frames_written"], sidecar["source"]["frame_count"], sidecar["missing_at_end"]) == (count, count, 0)
    if name == "clock_reset.ts":  # every frame is there, but their times are not all the file's
        assert status == 1 and sidecar["retimed_frames"] == [CLOCK_RESET_AT]
        assert f"timestamps jump back at frame {CLOCK_RESET_AT}" in err
    else:
        assert status == 0, err
        assert sidecar["retimed_frames"] == []


def test_record_keeps_every_frame_of_a_browser_recording(tmp_path, random_weights):
    out = tmp_path / "session"
    code = cli.main(
        ["record", "--source", str(CONTAINERS / "browser.webm"), "--out", str(out), "--weights", str(random_weights)]
    )
    assert code == 0
    info = json.loads((out / "session.json").read_text())
    assert info["frames_recorded"] == 60 and "source_damage" not in info
