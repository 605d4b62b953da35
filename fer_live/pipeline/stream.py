"""Pipelined frame processing: decoding, face location and inference overlap in separate threads.

`process_stream(frames, pipeline)` yields exactly the FrameResults that `pipeline.process` gives
frame by frame, in the same order: one thread decodes, one runs `pipeline.locate`,
`pipeline.crop_faces` and `pipeline.mesh_faces`, and the caller's thread runs the model and
`pipeline.assemble` (tracking, smoothing, the iris model and face geometry). OpenCV, MediaPipe
and onnxruntime release the GIL, so the stages overlap; bounded queues keep memory flat however
long the video.

When the model falls behind, the faces of all waiting frames (up to BATCH_FRAMES) go through it in
one batch, cheaper per face; only when the engine's outputs do not depend on the batch
(`Engine.batch_invariant`), so results stay identical to frame-by-frame processing.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fer_live.pipeline.frames import Pipeline
from fer_live.pipeline.sources import Frame
from fer_live.results import FrameResult

# Decoded frames in flight: enough to ride out a slow frame, few enough to hold little memory
# even for 4K video. Located frames carry only their crops, so more of them may wait.
DECODED_QUEUE_SIZE = 4
LOCATED_QUEUE_SIZE = 16
BATCH_FRAMES = 8
_END = object()


class StageTimes:
    """Wall-clock seconds spent per stage (decode, detect, crop, model), for benchmarks."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started


class _Failure:
    """An exception raised in a worker thread, carried to the caller's thread to be raised there."""

    def __init__(self, error: BaseException):
        self.error = error


def process_stream(
    frames: Iterable[Frame],
    pipeline: Pipeline,
    times: StageTimes | None = None,
) -> Iterator[FrameResult]:
    """FrameResults of `frames` (e.g. a Source), in order; an error of any stage is raised here.

    Closing the generator early (break, an exception in the loop, Ctrl-C) stops and joins the
    worker threads before it returns, so the caller may close the source right after; wrap it in
    `contextlib.closing` to have that happen at a known point.
    """
    times = times or StageTimes()
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(DECODED_QUEUE_SIZE)
    located: queue.Queue = queue.Queue(LOCATED_QUEUE_SIZE)
    batch_frames = BATCH_FRAMES if pipeline.engine.batch_invariant else 1

    def put(target: queue.Queue, item) -> bool:
        """Blocks while `target` is full; False once the consumer has stopped."""
        while not stop.is_set():
            try:
                target.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take(source: queue.Queue):
        """The next item, or _END once the consumer has stopped."""
        while not stop.is_set():
            try:
                return source.get(timeout=0.1)
            except queue.Empty:
                continue
        return _END

    def decode() -> None:
        try:
            iterator = iter(frames)
            while True:
                with times.measure("decode"):
                    frame = next(iterator, None)
                if frame is None or not put(decoded, frame):
                    break
        except BaseException as error:  # any failure belongs to the caller
            put(decoded, _Failure(error))
            return
        put(decoded, _END)

    def locate() -> None:
        while True:
            frame = take(decoded)
            if frame is _END or isinstance(frame, _Failure):
                put(located, frame)
                return
            try:
                detections, crops, meshes = locate_timed(pipeline, frame, times)
            except BaseException as error:
                put(located, _Failure(error))
                return
            if not put(located, (frame.index, frame.time_s, frame.still, detections, crops, meshes)):
                return

    workers = [
        threading.Thread(target=decode, name="fer_live-decode", daemon=True),
        threading.Thread(target=locate, name="fer_live-locate", daemon=True),
    ]
    for worker in workers:
        worker.start()
    try:
        while True:
            batch = [_wait_for(located)]
            while isinstance(batch[-1], tuple) and len(batch) < batch_frames:
                try:
                    batch.append(located.get_nowait())
                except queue.Empty:
                    break
            yield from _analyse(pipeline, [item for item in batch if isinstance(item, tuple)], times)
            if batch[-1] is _END:
                return
            if isinstance(batch[-1], _Failure):
                raise batch[-1].error
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def locate_timed(pipeline: Pipeline, frame: Frame, times: StageTimes) -> tuple[list, list, list]:
    """The locating half of `Pipeline.process` on one frame (detections, crops, meshes), each step timed."""
    with times.measure("detect"):
        detections = pipeline.locate(frame.image, frame.still)
    with times.measure("crop"):
        crops = pipeline.crop_faces(frame.image, detections)
    with times.measure("mesh"):
        meshes = pipeline.mesh_faces(frame.image, detections)
    return detections, crops, meshes


def _wait_for(source: queue.Queue):
    """The next item; waits in short slices so that Ctrl-C reaches this thread even if no frame comes."""
    while True:
        try:
            return source.get(timeout=0.1)
        except queue.Empty:
            continue


def _analyse(pipeline: Pipeline, located: list[tuple], times: StageTimes) -> Iterator[FrameResult]:
    """Results of located frames, their faces run through the model in one batch."""
    with times.measure("model"):
        prediction = pipeline.engine.predict([crop for *_, crops, _ in located for crop in crops])
    start = 0
    for frame_index, time_s, still, detections, crops, meshes in located:
        end = start + len(crops)
        with times.measure("model"):
            result = pipeline.assemble(frame_index, time_s, detections, prediction.rows(start, end), meshes, still)
        start = end
        yield result
