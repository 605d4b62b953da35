"""`fer-live annotate` runs through the threaded stream and writes the CSV the frame-by-frame loop wrote."""

from __future__ import annotations

import pytest

from fer_live import cli
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.sources import open_source
from fer_live.results import ResultsCsvWriter, read_results_csv


def frame_by_frame_csv(video, weights, out_csv, settings: PipelineSettings) -> None:
    """What annotate wrote before it used fer_live.pipeline.stream: Pipeline.process on each frame in turn."""
    with open_source(video) as source, Pipeline(settings, weights) as pipeline, ResultsCsvWriter(out_csv) as writer:
        for frame in source:
            writer.write(pipeline.process(frame.index, frame.time_s, frame.image))


@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_annotate_csv_is_unchanged_by_the_stream(capfd, tmp_path, crossing_faces_video, random_weights, backend):
    video = crossing_faces_video[0]
    status = cli.main(
        ["annotate", str(video), "-o", str(tmp_path), "--weights", str(random_weights), "--threads", "1",
         "--backend", backend, "--no-geometry"]
    )  # fmt: skip
    assert status == 0, capfd.readouterr().err
    expected = tmp_path / "expected.csv"
    frame_by_frame_csv(video, random_weights, expected, PipelineSettings(threads=1, backend=backend))
    got = (tmp_path / f"{video.stem}.csv").read_bytes()
    assert got == expected.read_bytes()
    results = read_results_csv(expected)
    assert len(results) == 90 and sum(len(r.faces) for r in results) >= 160


def test_detect_every_option_reaches_the_pipeline(capfd, tmp_path, one_face_video, random_weights):
    video = one_face_video[0]
    every_frame, every_other = tmp_path / "k1", tmp_path / "k2"
    for out_dir, k in ((every_frame, "1"), (every_other, "2")):
        status = cli.main(
            ["annotate", str(video), "-o", str(out_dir), "--weights", str(random_weights), "--threads", "1",
             "--detect-every", k, "--no-geometry"]
        )  # fmt: skip
        assert status == 0, capfd.readouterr().err
    first = read_results_csv(every_frame / f"{video.stem}.csv")
    second = read_results_csv(every_other / f"{video.stem}.csv")
    assert len(first) == len(second) == 90
    # Odd frames reuse the box of the frame before; per-frame detection moves it.
    assert all(second[i].faces[0].box == second[i - 1].faces[0].box for i in range(1, 90, 2))
    assert sum(first[i].faces[0].box != first[i - 1].faces[0].box for i in range(1, 90, 2)) > 30
    expected = tmp_path / "expected.csv"
    frame_by_frame_csv(video, random_weights, expected, PipelineSettings(threads=1, detect_every=2))
    assert (every_other / f"{video.stem}.csv").read_bytes() == expected.read_bytes()


def test_detect_every_must_be_at_least_one(capfd, tmp_path, one_face_video):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["annotate", str(one_face_video[0]), "-o", str(tmp_path), "--detect-every", "0"])
    assert exit_info.value.code == 2
    assert "--detect-every: must be at least 1, not 0" in capfd.readouterr().err
