"""The threaded stream gives exactly the frame-by-frame results, and detect-every-k stays close to them."""

from __future__ import annotations

import itertools
import threading
from contextlib import closing

import numpy as np
import pytest

from fer_live.errors import FerLiveError, SourceError
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.sources import Frame, open_source
from fer_live.pipeline.stream import StageTimes, process_stream


def exact(result) -> tuple:
    """Everything a FrameResult says, bit for bit."""
    faces = tuple(
        (f.face_id, f.box, f.det_score, f.probs.tobytes(), f.valence, f.arousal, geometry_values(f.geometry))
        for f in result.faces
    )
    return result.frame, result.time_s, faces


def geometry_values(geometry) -> tuple | None:
    if geometry is None:
        return None
    values = {k: v for k, v in geometry.__dict__.items() if k != "landmarks"}
    return tuple(values.items()) + (geometry.landmarks.tobytes(),)


def sequential(video, weights, settings) -> list:
    with open_source(video) as source, Pipeline(settings, weights) as pipeline:
        return [pipeline.process(frame.index, frame.time_s, frame.image) for frame in source]


def streamed(video, weights, settings, times=None) -> list:
    with open_source(video) as source, Pipeline(settings, weights) as pipeline:
        return list(process_stream(source, pipeline, times))


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_stream_equals_frame_by_frame_on_two_real_faces(crossing_faces_video, random_weights, backend):
    # One thread: torch's intra-op threads spin, which stalls badly on a busy 2-core machine.
    settings = PipelineSettings(device="cpu", backend=backend, threads=1, smoothing=0.5)
    expected = sequential(crossing_faces_video[0], random_weights, settings)
    times = StageTimes()
    got = streamed(crossing_faces_video[0], random_weights, settings, times)
    assert [exact(r) for r in got] == [exact(r) for r in expected]
    assert len(got) == 90 and sum(len(r.faces) for r in got) >= 160  # two faces in nearly every frame
    assert set(times.seconds) == {"decode", "detect", "crop", "mesh", "model"}
    assert all(seconds > 0 for seconds in times.seconds.values())


def test_stream_equals_frame_by_frame_with_geometry(crossing_faces_video, random_weights):
    """The mesh runs in the locating thread, per-face geometry state in the caller's: same results."""
    settings = PipelineSettings(device="cpu", threads=1, geometry=True)
    expected = sequential(crossing_faces_video[0], random_weights, settings)
    got = streamed(crossing_faces_video[0], random_weights, settings)
    assert [exact(r) for r in got] == [exact(r) for r in expected]
    measured = [f.geometry for r in got for f in r.faces if f.geometry is not None]
    assert len(measured) >= 160


def test_onnx_engine_is_batch_invariant_on_real_faces(crossing_faces_video, random_weights):
    """What lets the stream batch faces of several frames without changing a bit of the results."""
    with open_source(crossing_faces_video[0]) as source, Pipeline(PipelineSettings(device="cpu"), random_weights) as p:
        frames = list(itertools.islice(source, 6))
        crops = [crop for frame in frames for crop in p.crop_faces(frame.image, p.locate(frame.image))]
        assert p.engine.batch_invariant and len(crops) >= 10
        probs, va, _ = p.engine.predict(crops)
        for i, crop in enumerate(crops):
            one_probs, one_va, _ = p.engine.predict([crop])
            assert np.array_equal(one_probs[0], probs[i]) and np.array_equal(one_va[0], va[i])


def test_detect_every_2_halves_detections_and_stays_close(one_face_video, random_weights):
    every_frame = sequential(one_face_video[0], random_weights, PipelineSettings(device="cpu"))
    settings = PipelineSettings(device="cpu", detect_every=2)
    with open_source(one_face_video[0]) as source, Pipeline(settings, random_weights) as pipeline:
        calls = []
        detect = pipeline.detector.detect
        pipeline.detector.detect = lambda image: calls.append(1) or detect(image)
        every_other = list(process_stream(source, pipeline))
    assert len(calls) == 45
    # The threaded path and Pipeline.process agree for k > 1 too.
    assert [exact(r) for r in every_other] == [
        exact(r) for r in sequential(one_face_video[0], random_weights, settings)
    ]
    pairs = [(a.faces[0], b.faces[0]) for a, b in zip(every_frame, every_other, strict=True)]
    assert len(pairs) == 90 and all(a.face_id == b.face_id == 1 for a, b in pairs)
    box_error = np.array([np.subtract(a.box, b.box) for a, b in pairs])
    # The tolerance documented in Pipeline.locate: about the detector's own frame-to-frame jitter.
    assert np.abs(box_error).max() <= 20 and np.abs(box_error).mean() <= 5
    assert max(np.abs(a.probs - b.probs).max() for a, b in pairs) < 0.05
    assert max(max(abs(a.valence - b.valence), abs(a.arousal - b.arousal)) for a, b in pairs) < 0.1


class FailingSource:
    """Real frames, then a read error, as a camera that is unplugged mid-stream."""

    def __init__(self, video, fail_at: int):
        self.video, self.fail_at = video, fail_at

    def __iter__(self):
        with open_source(self.video) as source:
            for frame in source:
                if frame.index == self.fail_at:
                    raise SourceError("camera 0 stopped delivering frames (disconnected?)")
                yield frame


def test_a_source_error_reaches_the_caller_after_the_frames_before_it(one_face_video, random_weights):
    got = []
    with Pipeline(PipelineSettings(device="cpu"), random_weights) as pipeline:
        with pytest.raises(SourceError, match="stopped delivering"):
            for result in process_stream(FailingSource(one_face_video[0], 7), pipeline):
                got.append(result.frame)
    assert got == list(range(7))
    assert not [t for t in threading.enumerate() if t.name.startswith("fer_live-")]


def test_stopping_early_ends_the_worker_threads(one_face_video, random_weights):
    with open_source(one_face_video[0]) as source, Pipeline(PipelineSettings(device="cpu"), random_weights) as pipeline:
        with closing(process_stream(source, pipeline)) as stream:
            first = [next(stream).frame for _ in range(3)]
        assert first == [0, 1, 2]
        assert not [t for t in threading.enumerate() if t.name.startswith("fer_live-")]


def test_frames_from_any_iterable(random_weights, one_face_video):
    """A plain iterator of Frames works as a source (the benchmark's synthetic video is one)."""
    with open_source(one_face_video[0]) as source:
        frames = [Frame(f.index + 100, f.time_s, f.image) for f in itertools.islice(source, 5)]
    with Pipeline(PipelineSettings(device="cpu"), random_weights) as pipeline:
        assert [r.frame for r in process_stream(iter(frames), pipeline)] == [100, 101, 102, 103, 104]


def test_detect_every_must_be_positive(random_weights):
    with pytest.raises(FerLiveError, match="k >= 1"):
        Pipeline(PipelineSettings(detect_every=0), random_weights)


CTRL_C_SCRIPT = """
import os, signal, sys, threading, time
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.sources import open_source
from fer_live.pipeline.stream import process_stream

def slowly(frames):
    for frame in frames:
        time.sleep(0.05)
        yield frame

with open_source(sys.argv[1]) as source, Pipeline(PipelineSettings(device="cpu"), sys.argv[2]) as pipeline:
    seen = 0
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        for result in process_stream(slowly(source), pipeline):
            seen += 1
    except KeyboardInterrupt:
        workers = [t for t in threading.enumerate() if t.name.startswith("fer_live-")]
        print("interrupted", seen, len(workers))
"""


def test_ctrl_c_reaches_the_caller_and_stops_the_workers(one_face_video, random_weights):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_SCRIPT, str(one_face_video[0]), str(random_weights)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    word, seen, workers = done.stdout.split()
    assert word == "interrupted" and 0 < int(seen) < 90 and workers == "0"
