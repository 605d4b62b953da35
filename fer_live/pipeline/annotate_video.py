"""One video file (or a set of photos) → its per-frame results CSV and a provenance sidecar
(`<stem>.json`) beside it. Photos (pipeline.sources.Stills) are stills, one frame each, named in a
`source_file` column.

The loop behind `fer-live annotate`: decoding, detection and the model overlap in threads
(pipeline/stream.py); rows are flushed frame by frame, so an interrupted run keeps whole frames.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from fer_live import __version__
from fer_live.atomic import write_json_atomic
from fer_live.checksums import file_sha256
from fer_live.errors import FerLiveError, OutputError, SourceError
from fer_live.inference.engine import Engine
from fer_live.landmarks_file import LandmarksFile, landmarks_path
from fer_live.pipeline.clock import wall_clock_iso
from fer_live.pipeline.frames import Pipeline, PipelineSettings
from fer_live.pipeline.lsl import LslOutput, pipeline_provenance
from fer_live.pipeline.sources import Source, Stills, VideoFileSource, describe_damage
from fer_live.pipeline.stream import process_stream
from fer_live.results_csv import CompleteFramesCsv

PROVENANCE_FORMAT = "fer_live.annotation/1"


# The photo a row of a Stills CSV was read from (as in a session's frames.csv).
SOURCE_FILE_COLUMN = "source_file"


def csv_path(out_dir: Path, video: Path | Stills) -> Path:
    return out_dir / f"{video.stem}.csv"


def open_input(video: Path | Stills) -> Source:
    return video.open() if isinstance(video, Stills) else VideoFileSource(video)


def provenance_path(out_csv: Path) -> Path:
    return out_csv.with_suffix(".json")


@dataclass(frozen=True)
class VideoSummary:
    """What happened to one video: counts for the summary line, or why it failed."""

    video: Path | Stills
    csv: Path
    frames: int = 0
    frames_with_face: int = 0
    face_ids: int = 0
    seconds: float = 0.0
    skipped_frames: tuple[int, ...] = ()
    missing_at_end: int = 0  # frames the video's header announces after the last one read (cut off)
    retimed_frames: tuple[int, ...] = ()  # where container times went back and were moved on
    damage: str | None = None  # the skipped, missing and retimed frames in one phrase, as the source words it
    error: str | None = None
    unusable_input: bool = False  # the video could not be opened: nothing of it was read
    interrupted: bool = False
    kept: bool = False  # an identical complete CSV was already there; nothing was redone
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
        if self.kept:
            return f"{self.video.name}: already annotated the same way, kept {self.csv} (--overwrite redoes it)"
        ids = f"{self.face_ids} face ID" + ("" if self.face_ids == 1 else "s")
        return (
            f"{self.video.name}: {self.frames} frames, {self.frames_with_face} with a face, {ids}, "
            f"{self.fps:.1f} fps -> {self.csv}"
        )


def annotate_video(
    video: Path | Stills,
    out_csv: Path,
    settings: PipelineSettings,
    engine: Engine,
    progress: bool = True,
    progress_position: int | None = None,
    stop_requested: Callable[[], bool] | None = None,
    with_landmarks: bool = False,
    lsl: LslOutput | None = None,
    lsl_wait_s: float = 0.0,
    overwrite: bool = False,
) -> VideoSummary:
    """Annotate one video into `out_csv`, one flushed frame at a time, then write its provenance
    sidecar (`<stem>.json`); `with_landmarks` (needs settings.geometry) also writes the face-mesh
    points to `<stem>.landmarks.npz` (what was measured, also when the run fails or is interrupted).

    An existing `out_csv` is kept when its sidecar says it is complete and made the same way
    (`summary.kept`, unless `overwrite`), replaced when an earlier run left it interrupted or failed,
    and otherwise (other settings, weights or video; no sidecar; not the CSV its sidecar describes)
    refused unless `overwrite`. A file at the sidecar's path that is not a sidecar (a transcript
    named like the video, say) is never replaced. Another run writing `out_csv` at the same time is
    an error for this video, never a shared file.

    Never raises for a bad video or output: the summary carries the error. Ctrl-C (or
    `stop_requested()` turning true) ends it after the last complete frame, marked interrupted;
    those frames are kept in `out_csv` and the sidecar says so.
    With `lsl`, each frame's readings are also streamed (after waiting up to `lsl_wait_s` for a
    consumer), stamped by the video clock from the LSL time the first frame was sent.
    """
    from tqdm import tqdm

    started_at = wall_clock_iso()
    try:
        extra_columns = (SOURCE_FILE_COLUMN,) if isinstance(video, Stills) else ()
        output = CompleteFramesCsv(out_csv, extra_columns)  # locks the output until the sidecar matches it
    except OutputError as exc:
        return VideoSummary(video, out_csv, error=str(exc))
    with output:
        made_as = _made_as(video, settings, engine, with_landmarks)
        try:
            previous = _read_sidecar(provenance_path(out_csv))
        except OutputError as exc:
            output.discard()
            return VideoSummary(video, out_csv, error=f"{video}: {exc}")
        existing = _existing_output(out_csv, previous, made_as)
        if existing == "same" and not overwrite:
            output.discard()
            return _kept(video, out_csv, previous)
        if existing not in (None, "same") and not overwrite:
            output.discard()
            return VideoSummary(video, out_csv, error=f"{video}: {out_csv} exists, {existing}; --overwrite replaces it")
        frames = frames_with_face = 0
        face_ids: set[int] = set()
        seconds = 0.0
        frame_count = None
        outcome: dict = {}
        landmarks = LandmarksFile(landmarks_path(out_csv)) if with_landmarks and settings.geometry else None
        try:
            with open_input(video) as source, Pipeline(settings, engine=engine) as pipeline:
                frame_count = source.frame_count
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
                        output.write(result, _source_file(source, result, extra_columns))
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
                frame_count = source.frame_count  # read to the end: the frames decoded, unless cut off
                outcome = {
                    "skipped_frames": tuple(source.skipped_frames),
                    "missing_at_end": source.missing_at_end,
                    "retimed_frames": tuple(source.retimed_frames),
                    "damage": source.damage(),
                }
                output.close()
                pipeline.finish_calibrations()
                outcome["calibration"] = tuple(
                    (o.track_id, o.baseline.to_dict() if o.baseline else o.refusal)
                    for o in pipeline.calibration_outcomes
                )
        except KeyboardInterrupt:
            output.abandon()
            frames = output.frames_written
            outcome = {"interrupted": True}
        except FerLiveError as exc:
            output.abandon()
            outcome = {"error": str(exc), "unusable_input": isinstance(exc, SourceError) and frames == 0}
        except BaseException:  # unforeseen: keep the whole frames written so far, then let it propagate
            output.abandon()
            if output.frames_written:
                output.commit()
            raise
        finally:
            if lsl is not None:
                lsl.close()
        summary = VideoSummary(video, out_csv, frames, frames_with_face, len(face_ids), seconds, **outcome)
        if summary.error is not None and output.frames_written == 0:
            output.discard()  # nothing of this run to keep; an earlier file stays as it was
            return summary
        if landmarks is not None:
            try:
                landmarks.save()
            except FerLiveError as exc:
                if summary.error is None:
                    summary = replace(summary, error=str(exc))
        sidecar = provenance_path(out_csv)
        try:
            sidecar.unlink(missing_ok=True)  # never paired, even for a moment, with the new CSV
            output.commit()
            record = provenance(summary, frame_count, settings, engine, started_at, wall_clock_iso(), made_as)
            write_json_atomic(sidecar, {**record, **csv_identity(out_csv)})
        except OutputError as exc:
            summary = replace(summary, error=summary.error or str(exc))
        except OSError as exc:
            if summary.error is None:
                summary = replace(summary, error=f"cannot write {sidecar}: {exc.strerror or exc}")
    return summary


def _source_file(source: Source, result, extra_columns: tuple[str, ...]) -> dict[str, str] | None:
    """The photo a frame of a Stills CSV was read from (its index is the frame's)."""
    return {SOURCE_FILE_COLUMN: source.files[result.frame].name} if extra_columns else None


def _input_identity(video: Path | Stills) -> dict:
    """A video's name and size; a set of photos': the folder's name, the photos' names and total size."""
    try:
        if isinstance(video, Stills):
            images = video.images()
            return {
                "name": video.name,
                "bytes": sum(p.stat().st_size for p in images),
                "photos": [p.name for p in images],
            }
        return {"name": video.name, "bytes": video.stat().st_size}
    except OSError:
        return {"name": video.name, "bytes": None}


def _made_as(video: Path | Stills, settings: PipelineSettings, engine: Engine, with_landmarks: bool = False) -> dict:
    """What decides a CSV's numbers (and its companion files): the video, the settings (threads
    aside), the weights and runtime, whether landmarks were written."""
    made_as = {
        "video": _input_identity(video),
        "settings": {key: value for key, value in settings.to_dict().items() if key != "threads"},
        "weights_sha256": engine.weights_sha256,
        "operating_point": engine.operating_point.describe(),
        "backend": engine.backend,
        "landmarks": with_landmarks,
    }
    return json.loads(json.dumps(made_as, default=str))  # as a sidecar gives it back, to compare


def _kept(video: Path | Stills, out_csv: Path, previous: dict) -> VideoSummary:
    """The summary of a CSV kept from an earlier run (`previous`: its sidecar), with the damage that
    run found in the video (so a rerun reports a damaged video, and exits, as the first run did)."""
    skipped = tuple(previous.get("skipped_frames") or ())
    missing = int(previous.get("missing_at_end") or 0)
    retimed = tuple(previous.get("retimed_frames") or ())
    frame_count = (previous.get("source") or {}).get("frame_count")
    damage = describe_damage([str(i) for i in skipped], missing, frame_count, retimed=retimed)
    return VideoSummary(
        video,
        out_csv,
        frames=int(previous.get("frames_written", 0)),
        skipped_frames=skipped,
        missing_at_end=missing,
        retimed_frames=retimed,
        damage=damage,
        kept=True,
    )


def _read_sidecar(sidecar: Path) -> dict | None:
    """An earlier run's sidecar, or None when there is none. OutputError when the path holds
    anything else (a transcript, notes): not ours to replace, not even with --overwrite."""
    if not os.path.lexists(sidecar):
        return None
    not_ours = (
        f"{sidecar} exists and is not a fer_live annotation sidecar; left as it is: move it, "
        "or annotate into another folder"
    )
    if not sidecar.is_file():  # a folder, a FIFO (reading would block), a dangling link
        raise OutputError(not_ours)
    try:
        previous = json.loads(sidecar.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot read {sidecar}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also JSON's too-long numbers
        raise OutputError(not_ours) from None
    if not isinstance(previous, dict) or previous.get("format") != PROVENANCE_FORMAT:
        raise OutputError(not_ours)
    return previous


def csv_identity(out_csv: Path) -> dict:
    """The CSV's size and sha256, for its sidecar: a later run keeps only the very file it describes."""
    return {"csv_bytes": out_csv.stat().st_size, "csv_sha256": file_sha256(out_csv)}


def _existing_output(out_csv: Path, previous: dict | None, made_as: dict) -> str | None:
    """None when `out_csv` may simply be (re)written (absent, or left incomplete by an earlier run,
    `previous` being its sidecar); "same" when it is complete and made as `made_as`; otherwise why
    it may not, for the message."""
    if not out_csv.exists():
        return None
    sidecar_name = provenance_path(out_csv).name
    if previous is None:
        return f"with no {sidecar_name} saying how it was made"
    if "csv_sha256" not in previous:
        return f"made by an older fer_live whose {sidecar_name} does not record the CSV's size and sha256"
    # Size first: a CSV cut short or replaced is told without reading it (nor blocking on a FIFO).
    size = out_csv.stat().st_size
    if size != previous.get("csv_bytes"):
        return (
            f"changed since it was written ({size} bytes; {sidecar_name} says "
            f"{previous.get('csv_bytes')} bytes, {previous.get('frames_written')} frames)"
        )
    try:
        digest = file_sha256(out_csv)
    except OSError as exc:
        return f"but cannot be read to compare with {sidecar_name}: {exc.strerror or exc}"
    if digest != previous.get("csv_sha256"):
        return f"changed since it was written (its sha256 is not the one {sidecar_name} records)"
    if previous.get("status") != "complete":
        return None
    made_before = previous.get("made_as")
    if made_before == made_as:
        return "same"
    if not isinstance(made_before, dict):
        return "made by an older fer_live that did not record how"
    settings_before = made_before.get("settings") or {}
    differences = []
    video_before, video_now = made_before.get("video") or {}, made_as["video"]
    if video_before != video_now:
        differences.append(
            f"video {video_before.get('name')} of {video_before.get('bytes')} bytes -> "
            f"{video_now['name']} of {video_now['bytes']} bytes"
        )
    if made_before.get("weights_sha256") != made_as["weights_sha256"]:
        differences.append("other weights")
    differences += [
        f"{key} {made_before.get(key)!r} -> {made_as[key]!r}"
        for key in ("operating_point", "backend", "landmarks")
        if made_before.get(key) != made_as[key]
    ]
    differences += [
        f"{key} {settings_before.get(key)!r} -> {value!r}"
        for key, value in made_as["settings"].items()
        if settings_before.get(key) != value
    ]
    return "made another way (" + ", ".join(differences) + ")"


def provenance(
    summary: VideoSummary,
    frame_count: int | None,
    settings: PipelineSettings,
    engine: Engine,
    started: str,
    ended: str,
    made_as: dict | None = None,
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
        # Frames the video's header announces after the last one that could be read: a cut-off file.
        "missing_at_end": summary.missing_at_end,
        # Frames whose container time went back (a timestamp reset); their times were moved on.
        "retimed_frames": list(summary.retimed_frames),
        "weights": engine.weights_info,
        "operating_point": engine.operating_point.describe(),
        "calibration": calibration_provenance(settings, summary),
        "backend": engine.backend,
        "device": engine.device_name,
        "settings": settings.to_dict(),
        "start_time": started,
        "end_time": ended,
        # What a later run on the same output compares: complete and identical means nothing to redo.
        "made_as": made_as or _made_as(summary.video, settings, engine),
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
