"""One video file → its per-frame results CSV and a provenance sidecar (`<stem>.json`) beside it.

The loop behind `fer-live annotate`: decoding, detection and the model overlap in threads
(pipeline/stream.py); rows are flushed frame by frame, so an interrupted run keeps whole frames.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from fer_live import __version__
from fer_live.atomic import write_json_atomic
from fer_live.errors import FerLiveError
from fer_live.inference.engine import Engine
from fer_live.landmarks_file import LandmarksFile, landmarks_path
from fer_live.model.weights import weights_info
from fer_live.pipeline.clock import wall_clock_iso
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.lsl import LslOutput, pipeline_provenance
from fer_live.pipeline.sources import VideoFileSource
from fer_live.pipeline.stream import process_stream
from fer_live.results_csv import CompleteFramesCsv

PROVENANCE_FORMAT = "fer_live.annotation/1"


def csv_path(out_dir: Path, video: Path) -> Path:
    return out_dir / f"{video.stem}.csv"


def provenance_path(out_csv: Path) -> Path:
    return out_csv.with_suffix(".json")


@dataclass(frozen=True)
class VideoSummary:
    """What happened to one video: counts for the summary line, or why it failed."""

    video: Path
    csv: Path
    frames: int = 0
    frames_with_face: int = 0
    face_ids: int = 0
    seconds: float = 0.0
    skipped_frames: tuple[int, ...] = ()
    error: str | None = None
    interrupted: bool = False
    # Participant calibration per face (--calibrate-seconds): face ID → its baseline's dict or its refusal.
    calibration: tuple[tuple[int, dict | str], ...] = ()

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def refusals(self) -> list[str]:
        """One line per face whose baseline was refused."""
        return [
            f"{self.video.name}: face {face}: calibration refused: {r}"
            for face, r in self.calibration
            if isinstance(r, str)
        ]

    def line(self) -> str:
        ids = f"{self.face_ids} face ID" + ("" if self.face_ids == 1 else "s")
        return (
            f"{self.video.name}: {self.frames} frames, {self.frames_with_face} with a face, {ids}, "
            f"{self.fps:.1f} fps -> {self.csv}"
        )


def annotate_video(
    video: Path,
    out_csv: Path,
    settings: PipelineSettings,
    engine: Engine,
    progress: bool = True,
    progress_position: int | None = None,
    stop_requested: Callable[[], bool] | None = None,
    with_landmarks: bool = False,
    lsl: LslOutput | None = None,
    lsl_wait_s: float = 0.0,
) -> VideoSummary:
    """Annotate one video into `out_csv`, one flushed frame at a time, then write its provenance
    sidecar (`<stem>.json`); `with_landmarks` (needs settings.geometry) also writes the face-mesh
    points to `<stem>.landmarks.npz` (what was measured, also when the run fails or is interrupted).

    Never raises for a bad video or output: the summary carries the error. Ctrl-C (or
    `stop_requested()` turning true) ends it after the last complete frame, marked interrupted.
    With `lsl`, each frame's readings are also streamed (after waiting up to `lsl_wait_s` for a
    consumer), stamped by the video clock from the LSL time the first frame was sent.
    """
    from tqdm import tqdm

    started_at = wall_clock_iso()
    frames = frames_with_face = 0
    face_ids: set[int] = set()
    seconds = 0.0
    output: CompleteFramesCsv | None = None
    skipped: tuple[int, ...] = ()
    frame_count = None
    outcome: dict = {}
    landmarks = LandmarksFile(landmarks_path(out_csv)) if with_landmarks and settings.geometry else None
    try:
        with VideoFileSource(video) as source, Pipeline(settings, engine=engine) as pipeline:
            frame_count = source.frame_count
            output = CompleteFramesCsv(out_csv)
            if lsl is not None and lsl.open(str(video), source.fps, pipeline_provenance(pipeline)):
                lsl.wait_for_consumer(lsl_wait_s, stop_requested)
            bar = tqdm(
                total=source.frame_count,
                desc=video.name,
                unit="frame",
                file=sys.stderr,
                leave=False,
                disable=None if progress else True,
                position=progress_position,
                dynamic_ncols=True,
            )
            started = time.perf_counter()
            # Decoding, detection and the model overlap in threads; the results are those of
            # pipeline.process frame by frame. closing() stops the threads before the source closes.
            with bar, closing(process_stream(source, pipeline)) as results:
                for result in results:
                    output.write(result)
                    if landmarks is not None:
                        landmarks.add(result)
                    if lsl is not None:
                        lsl.push(result)  # stamped by the video clock: the file runs faster than real time
                    frames += 1
                    frames_with_face += bool(result.faces)
                    face_ids.update(face.face_id for face in result.faces)
                    bar.update()
                    if stop_requested is not None and stop_requested():
                        raise KeyboardInterrupt
            seconds = time.perf_counter() - started
            skipped = tuple(source.skipped_frames)
            output.close()
            pipeline.finish_calibrations()
            ended = pipeline.calibration_outcomes
            outcome = {
                "calibration": tuple((o.track_id, o.baseline.to_dict() if o.baseline else o.refusal) for o in ended)
            }
    except KeyboardInterrupt:
        if output is not None:
            output.abandon()
            frames = output.frames_written
        outcome = {"interrupted": True}
    except FerLiveError as exc:
        if output is not None:
            output.abandon()
        outcome = {"error": str(exc)}
    except Exception:
        if output is not None:
            output.abandon()
        raise
    finally:
        if lsl is not None:
            lsl.close()
    summary = VideoSummary(video, out_csv, frames, frames_with_face, len(face_ids), seconds, skipped, **outcome)
    # Only a run that opened the CSV writes beside it: a video that fails to open leaves an earlier
    # run's CSV untouched, and its sidecar and landmarks too.
    wrote_csv = output is not None and out_csv.is_file()
    if landmarks is not None and wrote_csv:
        try:
            landmarks.save()
        except FerLiveError as exc:
            if summary.error is None:
                summary = replace(summary, error=str(exc))
    if wrote_csv:
        sidecar = provenance_path(out_csv)
        try:
            write_json_atomic(sidecar, provenance(summary, frame_count, settings, engine, started_at, wall_clock_iso()))
        except OSError as exc:
            if summary.error is None:
                summary = replace(summary, error=f"cannot write {sidecar}: {exc.strerror or exc}")
    return summary


def provenance(
    summary: VideoSummary, frame_count: int | None, settings: PipelineSettings, engine: Engine, started: str, ended: str
) -> dict:
    """What made a results CSV: fer_live's version, the weights, the runtime and settings, the video."""
    status = "failed" if summary.error else "interrupted" if summary.interrupted else "complete"
    return {
        "format": PROVENANCE_FORMAT,
        "fer_live_version": __version__,
        "csv": summary.csv.name,
        "status": status,
        "error": summary.error,
        "source": {"video": str(summary.video), "frame_count": frame_count},
        "frames_written": summary.frames,
        "skipped_frames": list(summary.skipped_frames),
        "weights": weights_info(engine.weights_path, engine.meta),
        "operating_point": engine.operating_point.describe(),
        "calibration": calibration_provenance(settings, summary),
        "backend": engine.backend,
        "device": engine.device_name,
        "settings": settings.to_dict(),
        "start_time": started,
        "end_time": ended,
    }


def calibration_provenance(settings: PipelineSettings, summary: VideoSummary) -> dict | None:
    """How the faces were calibrated: None (not at all), from a file, or from each track's first seconds.

    Rows with `calibrated` = 1 hold calibrated values; the raw ones are recoverable from the
    baseline b recorded here: raw logits = log p + w·(b.log_probs − reference), V/A + w·(b.va − reference)
    (fer_live.inference.operating_point.OperatingPoint.uncalibrate does it).
    """
    if settings.calibration:
        from fer_live.checksums import file_sha256

        return {"mode": "file", "file": str(settings.calibration), "file_sha256": file_sha256(settings.calibration)}
    if settings.calibrate_seconds > 0:
        return {
            "mode": "first_seconds",
            "seconds": settings.calibrate_seconds,
            "faces": {str(face): outcome for face, outcome in summary.calibration},
        }
    return None
