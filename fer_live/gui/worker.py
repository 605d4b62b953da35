"""Capture and inference threads of the live window.

Capture reads frames (paced to the file's frame rate, like a camera) into a one-frame slot;
inference takes the newest frame, runs the Pipeline and puts the result into a second one-item
slot for the GUI. Both slots drop stale items, so when inference or drawing is slower than the
source, frames are skipped and capture-to-display latency does not grow. A recording still gets
every captured frame: capture also hands each one to inference's recording queue, and the frames
inference skipped are written, without results, before the next one it processed.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QThread, Signal

from fer_live.errors import FerLiveError, SourceError
from fer_live.inference.engine import Engine
from fer_live.pipeline.clock import wall_clock_iso_at
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.lsl import LslOutput
from fer_live.pipeline.pacing import FramePacer
from fer_live.pipeline.slots import LatestSlot
from fer_live.pipeline.sources import Frame, Source
from fer_live.results import FrameResult
from fer_live.sessions.recorder import Recorder, SourceStep

# Every seek, loop and new source starts a new generation; results of an older one are stale.
_generations = itertools.count(1)
_generations_lock = threading.Lock()


# Captured frames a recording holds while inference has not reached them (2 s at 30 fps): beyond,
# the oldest are written without results at once, so a stalled inference (a model loading after a
# settings change) does not pile frames up in memory.
MAX_UNWRITTEN_FRAMES = 60


def next_generation() -> int:
    with _generations_lock:
        return next(_generations)


@dataclass(frozen=True)
class CapturedFrame:
    frame: Frame
    captured_at: float  # time.monotonic() when the frame was read
    generation: int
    # The generation plays the source from its start (newly opened, looped, replayed after its end),
    # not from a seek: face IDs may start at 1 again.
    starts_over: bool = False


@dataclass(frozen=True)
class ProcessedFrame:
    captured: CapturedFrame
    result: FrameResult


class CaptureThread(QThread):
    """Reads one source into `frames`. Control methods may be called from any thread."""

    failed = Signal(str)  # the source broke (camera unplugged, unreadable file); the thread ends
    reached_end = Signal()  # a file ended and loop is off; capture pauses
    session = None  # the recorded session being replayed (gui/review.py), None for a live source or file

    def __init__(
        self,
        source: Source,
        frames: LatestSlot[CapturedFrame],
        paced: bool = True,
        loop: bool = True,
        keep_for_recording: Callable[[CapturedFrame], None] | None = None,
    ):
        """`keep_for_recording` is given every frame delivered, before inference can take it
        (InferenceThread.keep_for_recording)."""
        super().__init__()
        self.source = source
        self.frames = frames
        self.keep_for_recording = keep_for_recording
        self.paced = paced and not source.is_live
        self.loop = loop
        self.frames_read = 0
        self.last_delivered: CapturedFrame | None = None  # a recording that stops at the end waits for this one
        self.generation = next_generation()
        self._starts_over = True
        self._condition = threading.Condition()
        self._stopping = False
        self._paused = False
        self._at_end = False
        self._deliver_one = False  # show one frame after a seek while paused
        self._pending_seek: int | None = None
        self._pacer = FramePacer()

    # -- control (any thread) --------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        with self._condition:
            if not paused and self._at_end:
                self._request_seek(0, starts_over=True)
            self._paused = paused
            self._pacer.restart()
            self._condition.notify_all()

    def seek(self, frame_index: int) -> int:
        """Jump to `frame_index`; returns the generation whose results belong to the new position."""
        with self._condition:
            return self._request_seek(frame_index)

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()

    def _request_seek(self, frame_index: int, starts_over: bool = False) -> int:
        self._pending_seek = max(0, frame_index)
        self.generation = next_generation()
        self._starts_over = starts_over
        self._deliver_one = self._paused
        self._at_end = False
        self._condition.notify_all()
        return self.generation

    # -- thread body ---------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._capture_loop()
        except SourceError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # an unexpected decoder failure must not kill the app silently
            self.failed.emit(f"reading {self.source.description} failed: {exc}")
        finally:
            self.source.close()

    def _capture_loop(self) -> None:
        frames = iter(self.source)
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._stopping or not self._paused or self._deliver_one)
                if self._stopping:
                    return
                if self._pending_seek is not None:
                    self.source.seek(self._pending_seek)
                    self._pending_seek = None
                    frames = iter(self.source)
                    self.frames.clear()
                    self._pacer.restart()
                generation, starts_over = self.generation, self._starts_over
            frame = next(frames, None)
            if frame is None:
                self._end_of_file()
                continue
            if self.paced:
                delay = self._pacer.delay(frame.time_s)
                if delay > 0 and self._interrupted_within(delay, generation):
                    continue  # a seek or stop came in while this frame waited: it is stale
            with self._condition:
                if generation != self.generation:
                    continue
                self._deliver_one = False
            self.last_delivered = CapturedFrame(frame, time.monotonic(), generation, starts_over)
            self.deliver(self.last_delivered)
            self.frames_read += 1

    def deliver(self, captured: CapturedFrame) -> None:
        """Hand a frame on (to a recording, then to inference); a replay of recorded results delivers elsewhere."""
        if self.keep_for_recording is not None:
            self.keep_for_recording(captured)
        self.frames.put(captured)

    def _interrupted_within(self, delay: float, generation: int) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self._stopping or self.generation != generation, delay)

    def _end_of_file(self) -> None:
        if self.source.is_live:
            raise SourceError(f"{self.source.description} stopped delivering frames")
        with self._condition:
            if self._pending_seek is not None:
                return
            if self.loop and self.source.frame_count:
                self._request_seek(0, starts_over=True)
                return
            self._at_end = True
            self._paused = True
        self.reached_end.emit()


class InferenceThread(QThread):
    """Turns the newest captured frame into a FrameResult; owns the Pipeline and closes it on exit."""

    result_ready = Signal()  # a ProcessedFrame waits in `results` (emitted only when the slot was empty)
    failed = Signal(str)
    device_changed = Signal(str)
    recording_failed = Signal(object, str)  # (recorder, why): it could not write and has been detached
    calibration_finished = Signal(object)  # a faces.baselines.Outcome: a face's baseline, or why it was refused

    def __init__(self, pipeline: Pipeline, frames: LatestSlot[CapturedFrame], results: LatestSlot[ProcessedFrame]):
        super().__init__()
        self.pipeline = pipeline
        self.frames = frames
        self.results = results
        self.frames_processed = 0
        self._lock = threading.Lock()
        self._pending_settings: PipelineSettings | None = None
        self._stopping = False
        # Held while a frame is written, so detaching waits for that write and finish() never races it.
        self._recorder_lock = threading.Lock()
        self._recorder: Recorder | None = None
        # Frames captured while recording and not written yet, in capture order (taken under
        # _recorder_lock first when frames are written from it, so they are written in that order).
        self._unwritten: deque[CapturedFrame] = deque()
        self._unwritten_lock = threading.Lock()
        self._keeping = False  # capture's frames go into _unwritten
        self._recorded_generation: int | None = None  # of the last frame written
        self.lsl: LslOutput | None = None  # streams every processed frame when set (gui/lsl.py)

    def set_recorder(self, recorder: Recorder | None) -> None:
        """Record every frame captured from now on into `recorder`, each with its result when
        inference processes it (None: stop; the frames captured before, which inference has not
        reached, are written without results). Recording here rather than in the GUI thread keeps
        the GUI free of encoding."""
        with self._recorder_lock:
            with self._unwritten_lock:
                left = list(self._unwritten)
                self._unwritten.clear()
                self._keeping = recorder is not None
            self._write_in_order(left)
            self._recorder = recorder
            self._recorded_generation = None

    def keep_for_recording(self, captured: CapturedFrame) -> None:
        """Capture's every frame (any thread): while recording, it waits here until it is written."""
        with self._unwritten_lock:
            if not self._keeping:
                return
            self._unwritten.append(captured)
            overdue = len(self._unwritten) > MAX_UNWRITTEN_FRAMES
        if overdue:
            with self._recorder_lock:
                with self._unwritten_lock:
                    frames = [self._unwritten.popleft() for _ in range(len(self._unwritten) - MAX_UNWRITTEN_FRAMES)]
                self._write_in_order(frames)

    def request_calibration(self, face_ids: list[int] | None, seconds: float) -> None:
        """Collect neutral baselines for these faces (None: every face) from the next frame on."""
        with self._lock:
            self.pipeline.request_calibration(face_ids, seconds)

    def clear_calibration(self, face_ids: list[int] | None = None) -> None:
        """Stop applying these faces' baselines (None: all); a recording notes it."""
        with self._lock:
            self.pipeline.request_clear_calibration(face_ids)
        self._note_calibration(None if face_ids is None else face_ids, None, None)

    def use_baselines(self, baselines: dict) -> None:
        """Apply loaded baselines (track ID → Baseline) from the next frame on."""
        with self._lock:
            self.pipeline.request_baselines(baselines)
        for face_id, baseline in baselines.items():
            self._note_calibration([face_id], baseline.to_dict(), None)

    def configure(self, settings: PipelineSettings) -> None:
        """Use new detector/smoothing/device settings from the next frame on."""
        with self._lock:
            self._pending_settings = settings

    def stop(self) -> None:
        self._stopping = True
        self.frames.close()

    def run(self) -> None:
        generation = None
        try:
            while not self._stopping:
                captured = self.frames.take(timeout=0.5)
                if captured is None or self._stopping:
                    continue
                self._apply_pending_settings()
                if captured.generation != generation:
                    # A seek, loop or new source: old tracks mean nothing here. IDs start at 1 again
                    # when the source starts over, except in a recording, whose IDs stay unique.
                    with self._recorder_lock:
                        recording = self._recorder is not None
                    self.pipeline.reset(restart_ids=captured.starts_over and not recording)
                    generation = captured.generation
                frame = captured.frame
                result = self.pipeline.process(frame.index, frame.time_s, frame.image, frame.still)
                self._record(captured, result)
                if self.lsl is not None:
                    self.lsl.push(result, captured.captured_at)
                while self.pipeline.calibration_outcomes:
                    outcome = self.pipeline.calibration_outcomes.pop(0)
                    baseline = outcome.baseline.to_dict() if outcome.baseline else None
                    self._note_calibration([outcome.track_id], baseline, outcome.refusal)
                    self.calibration_finished.emit(outcome)
                self.frames_processed += 1
                if self.results.put(ProcessedFrame(captured, result)):
                    self.result_ready.emit()
        except Exception as exc:  # shown in the window; the GUI stays usable
            self.failed.emit(f"inference stopped: {exc}")
        finally:
            self.pipeline.close()

    def _record(self, captured: CapturedFrame, result: FrameResult) -> None:
        """Write a processed frame with its result, after the frames captured before it that
        inference skipped (without results). A frame captured before the recording began, or
        already written without results, is not written again."""
        with self._recorder_lock:
            with self._unwritten_lock:
                if not any(kept is captured for kept in self._unwritten):
                    return
                skipped = []
                while (kept := self._unwritten.popleft()) is not captured:
                    skipped.append(kept)
            self._write_in_order(skipped)
            self._write_in_order([captured], result)

    def _write_in_order(self, frames: list[CapturedFrame], last_result: FrameResult | None = None) -> None:
        """Write `frames` (the last one with `last_result`, the others without results) to the
        recorder, under _recorder_lock. A write that fails (the disk is full) detaches the recorder:
        inference and display go on."""
        for captured in frames:
            if self._recorder is None:
                return
            step = SourceStep.NEXT
            if self._recorded_generation not in (None, captured.generation):
                step = SourceStep.WRAP if captured.starts_over else SourceStep.SEEK
            self._recorded_generation = captured.generation
            result = last_result if captured is frames[-1] else None
            try:
                self._recorder.write(captured.frame, result, wall_clock_iso_at(captured.captured_at), step)
            except FerLiveError as exc:
                self.recording_failed.emit(self._recorder, str(exc))
                self._recorder = None
                with self._unwritten_lock:
                    self._unwritten.clear()
                    self._keeping = False

    def _note_calibration(self, face_ids: list[int] | None, baseline: dict | None, refusal: str | None) -> None:
        with self._recorder_lock:
            if self._recorder is None:
                return
            for face_id in face_ids if face_ids is not None else [None]:
                self._recorder.add_calibration(face_id, baseline, refusal)

    def _apply_pending_settings(self) -> None:
        with self._lock:
            settings, self._pending_settings = self._pending_settings, None
            if settings is not None:
                self._replace_pipeline(settings)

    def _replace_pipeline(self, settings: PipelineSettings) -> None:
        """A pipeline with new settings that keeps the faces' tracks and baselines (under self._lock,
        so no calibration request reaches the old pipeline after its baselines moved)."""
        try:
            engine = self.pipeline.engine
            if settings.device != self.pipeline.settings.device:
                engine = Engine(
                    engine.weights_path, settings.device, settings.threads, settings.backend, settings.prior
                )
            elif settings.prior != self.pipeline.settings.prior:
                engine.set_prior(settings.prior)
            pipeline = Pipeline(settings, engine=engine)
            pipeline.adopt_faces(self.pipeline)
        except FerLiveError as exc:
            self.failed.emit(f"settings not applied: {exc}")
            return
        self.pipeline.close()
        self.pipeline = pipeline
        self.device_changed.emit(engine.device_name)
