"""Frame sources: camera, video file, image folder. Each yields Frame(index, time_s, BGR image)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# FFmpeg prints its decoder complaints (e.g. "No JPEG data found in image") to stderr; the sources
# report unreadable frames themselves. Read when OpenCV first uses FFmpeg, so it is set before cv2 loads.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np

from fer_live.assets import DEMO_VIDEO
from fer_live.errors import SourceError
from fer_live.native_stderr import native_stderr_captured

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


# A stored frame count one above the frames decoded is not taken for a cut-off file.
FRAME_COUNT_TOLERANCE = 1

# The first bytes of containers that store how many frames they hold: AVI's header, the MP4/MOV
# sample table (whose top-level boxes start at byte 4). Of other containers OpenCV knows only a
# duration, possibly the longer audio's, and estimates the count from it: a hint, not a promise.
MP4_TOP_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}


def counts_its_frames(path: Path) -> bool:
    with path.open("rb") as file:
        head = file.read(12)
    return (head[:4] == b"RIFF" and head[8:12] == b"AVI ") or head[4:8] in MP4_TOP_BOXES


@dataclass(frozen=True)
class Frame:
    index: int
    time_s: float
    image: np.ndarray  # BGR uint8
    # The image file this frame was read from (image folders). Such a frame is a still: it has
    # nothing to do with the frame before it, so faces are not tracked or smoothed across stills.
    file: str | None = None

    @property
    def still(self) -> bool:
        return self.file is not None


def describe_damage(
    skipped: Sequence[str],
    missing_at_end: int,
    frame_count: int | None,
    unreadable: str = "undecodable frame",
    item: str = "frame",
    retimed: Sequence[int] = (),
) -> str | None:
    """`Source.damage()`'s phrase from its parts (also from a sidecar, for a result kept from before)."""
    parts = []
    if skipped:
        plural = "s" if len(skipped) > 1 else ""
        shown = ", ".join(skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        parts.append(f"{len(skipped)} {unreadable}{plural} skipped ({item}{plural} {shown})")
    if missing_at_end:
        parts.append(
            f"ends after {(frame_count or 0) - missing_at_end} of the {frame_count} frames its header "
            f"announces ({missing_at_end} missing: the file is cut off)"
        )
    if retimed:
        plural = "s" if len(retimed) > 1 else ""
        shown = ", ".join(map(str, retimed[:10])) + (", ..." if len(retimed) > 10 else "")
        parts.append(
            f"timestamps jump back at frame{plural} {shown} (a timestamp reset); "
            "times from there continue from the frame before"
        )
    return "; ".join(parts) or None


class Source:
    """Iterate for frames; `close()` releases the device or file."""

    description: str = ""
    is_live: bool = False
    fps: float = 30.0
    frame_count: int | None = None  # None when unknown (cameras)
    size: tuple[int, int] = (0, 0)  # width, height
    # Frames that could not be decoded and were skipped (file sources), and frames the file
    # announced that never came because it ends early (cut off): damage, reported by `damage()`.
    skipped_frames: Sequence[int] = ()
    missing_at_end: int = 0
    # Frames whose container time went back before the frame before's (video files): their times,
    # and those after them, were moved on so that time never runs backwards.
    retimed_frames: Sequence[int] = ()

    def damage(self) -> str | None:
        """What could not be read, in one phrase (e.g. for "fer-live: error: VIDEO: ..."); None if nothing."""
        return describe_damage(
            [self._skipped_name(i) for i in self.skipped_frames],
            self.missing_at_end,
            self.frame_count,
            self._unreadable_noun,
            self._item_noun,
            self.retimed_frames,
        )

    def damage_info(self) -> dict:
        """`damage()` as data, for a results file's sidecar or a session's session.json."""
        retimed = {"retimed_frames": list(self.retimed_frames)} if self.retimed_frames else {}
        return {"skipped_frames": list(self.skipped_frames), "missing_at_end": self.missing_at_end, **retimed}

    _unreadable_noun = "undecodable frame"
    _item_noun = "frame"

    def _skipped_name(self, index: int) -> str:
        return str(index)

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def seek(self, frame_index: int) -> None:
        raise SourceError(f"{self.description} cannot seek")

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoFileSource(Source):
    """A video file's frames in decoding order, indexed and timed by what was decoded; the frame
    count of the header is a hint (estimated or absent in many containers) until the end is read."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.exists():
            raise SourceError(f"video file not found: {path}")
        if path.is_dir():
            raise SourceError(f"expected a video file, got a directory: {path}")
        if path.stat().st_size == 0:
            raise SourceError(f"video file is empty (0 bytes): {path}")
        if not os.access(path, os.R_OK):
            raise SourceError(f"no permission to read video file: {path}")
        self.path = path
        self.description = str(path)
        self._capture = self._open()
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise SourceError(f"video has no readable frames (corrupt or unsupported format): {path}")
        # Yielded as frame 0: seeking back to it lands elsewhere in containers without a frame index
        # (MPEG-TS, MPEG-PS, raw H.264, live WebM), and the frames before the landing are lost.
        self._first: tuple[np.ndarray, float] | None = (first, self._capture.get(cv2.CAP_PROP_POS_MSEC))
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 and fps < 1000 else 30.0
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self._count_is_exact = self.frame_count is not None and counts_its_frames(path)
        self.size = (first.shape[1], first.shape[0])
        self._next_index = 0
        self._pass_start = 0  # the index this pass through the file started at (0, or where it seeked)
        # Indices of frames in the middle of the file that could not be decoded and were skipped.
        self.skipped_frames: list[int] = []
        self.retimed_frames: list[int] = []
        self._clock_offset = 0.0  # added to container times since the last timestamp reset
        self._previous: tuple[int, float] | None = None  # index and time of the frame yielded last

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open video (corrupt or unsupported format): {self.path}")
        return capture

    def _read(self) -> tuple[np.ndarray, float] | None:
        """The next decodable frame and its container time (ms), skipping undecodable ones before
        the container's last frame.

        A failed read consumes the broken packet, so reading on yields the following frame (with
        its own container timestamp); failures that run to the end are the end of the stream.
        """
        if self._first is not None:
            first, self._first = self._first, None
            return first
        failed: list[int] = []
        while True:
            ok, image = self._capture.read()
            if ok and image is not None:
                self.skipped_frames.extend(failed)
                return image, self._capture.get(cv2.CAP_PROP_POS_MSEC)
            failed.append(self._next_index)
            self._next_index += 1
            if self.frame_count is None or self._next_index >= self.frame_count:
                self._ended(len(failed))
                return None

    def _ended(self, failed_at_end: int) -> None:
        """Only a container that stores its frame count can be found cut off; otherwise, read whole
        from the start, the frames decoded are the count."""
        if self._count_is_exact and failed_at_end > FRAME_COUNT_TOLERANCE:
            self.missing_at_end = failed_at_end
        elif self._pass_start == 0:
            self.frame_count = self._next_index - failed_at_end

    def _time_of(self, index: int, msec: float) -> float:
        """The frame's time in seconds: its container time, never before the frame before's."""
        # Some files carry no timestamps (0 for every frame, e.g. raw H.264): the frame's place at the nominal rate.
        stamped = msec > 0 or index == 0
        time_s = msec / 1000.0 + self._clock_offset if stamped else index / self.fps
        if self._previous is not None:
            previous_index, previous_time = self._previous
            if time_s < previous_time:
                # The clock restarted (e.g. MPEG-TS recordings joined): go on at the nominal rate,
                # and keep container times' steps after it.
                continued = previous_time + (index - previous_index) / self.fps
                if stamped:
                    self._clock_offset += continued - time_s
                time_s = continued
                if index not in self.retimed_frames:  # a looping GUI reads it again
                    self.retimed_frames.append(index)
        self._previous = (index, time_s)
        return time_s

    def __iter__(self) -> Iterator[Frame]:
        while True:
            read = self._read()
            if read is None:
                return
            image, msec = read
            index = self._next_index
            self._next_index += 1
            yield Frame(index, self._time_of(index, msec), image)

    def seek(self, frame_index: int) -> None:
        frame_index = max(0, frame_index if self.frame_count is None else min(frame_index, self.frame_count - 1))
        # Reopened, so the start is the start whatever the container; a frame further on is found by
        # OpenCV's seek, exact where the container indexes its frames.
        self._capture.release()
        self._capture = self._open()
        if frame_index:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
        self._first = None
        self._next_index = self._pass_start = frame_index
        self._clock_offset = 0.0
        self._previous = None

    def close(self) -> None:
        self._capture.release()


@contextmanager
def opencv_quiet() -> Iterator[None]:
    """Silence OpenCV's own log (e.g. one warning per backend tried for a missing camera); our
    SourceError says what went wrong in one line."""
    previous = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


class CameraSource(Source):
    is_live = True

    def __init__(self, index: int):
        with opencv_quiet():
            capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"camera {index} could not be opened (is it connected and free?)")
        self.description = f"camera {index}"
        self._capture = capture
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 0 < fps < 1000 else 30.0
        self.size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def __iter__(self) -> Iterator[Frame]:
        start = time.monotonic()
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                raise SourceError(f"{self.description} stopped delivering frames (disconnected?)")
            yield Frame(index, time.monotonic() - start, image)
            index += 1

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource(Source):
    """Images of a folder in name order, as frames `1 / fps` seconds apart; each is a still
    (`Frame.file` names it). An unreadable image is skipped and counted in `skipped_frames`; one the
    decoder complained about but decoded (a cut-off JPEG's lower part is grey) is used and counted
    in `complaints`, with the decoder's words, which would otherwise reach the terminal raw."""

    _unreadable_noun = "unreadable image"
    _item_noun = "image"

    def __init__(self, path: str | Path, fps: float = 30.0, files: Sequence[Path] | None = None):
        """`files`: only these images of the folder (photos named one by one), else every image in it."""
        path = Path(path)
        if not path.is_dir():
            raise SourceError(f"image folder not found: {path}")
        if files is None:
            files = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        missing = [str(f) for f in files if not Path(f).exists()]
        if missing:
            raise SourceError(
                f"image file not found: {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        self.files = sorted(Path(f) for f in files)
        if not self.files:
            raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder: {path}")
        self.description = str(path)
        self.fps = fps
        self.frame_count = len(self.files)
        self.skipped_frames = []
        self.complaints: dict[int, str] = {}  # image index → the decoder's first line about it
        self._start = 0

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self._start, len(self.files)):
            image = None
            # Only a regular file is read: cv2.imread would wait forever on a FIFO named like an image.
            if self.files[index].is_file():
                # libjpeg prints "Premature end of JPEG file" straight to fd 2, past OpenCV's log level.
                with opencv_quiet(), native_stderr_captured() as said:
                    image = cv2.imread(str(self.files[index]), cv2.IMREAD_COLOR)
            if image is None:
                if index not in self.skipped_frames:  # a looping GUI reads it again
                    self.skipped_frames.append(index)
                continue
            if said and index not in self.complaints:
                self.complaints[index] = said[0].strip()
            yield Frame(index, index / self.fps, image, file=self.files[index].name)

    def damage(self) -> str | None:
        complained = [f"{self.files[index].name}: {words}" for index, words in sorted(self.complaints.items())]
        if complained:
            plural = "s" if len(complained) > 1 else ""
            shown = "; ".join(complained[:5]) + ("; ..." if len(complained) > 5 else "")
            complained = [f"{len(complained)} damaged image{plural} used as decoded ({shown})"]
        return "; ".join([*filter(None, [super().damage()]), *complained]) or None

    def damage_info(self) -> dict:
        names = {self.files[index].name: words for index, words in sorted(self.complaints.items())}
        return {**super().damage_info(), **({"decoder_complaints": names} if names else {})}

    def _skipped_name(self, index: int) -> str:
        return self.files[index].name

    def seek(self, frame_index: int) -> None:
        self._start = max(0, min(frame_index, len(self.files) - 1))


@dataclass(frozen=True)
class Stills:
    """Photos annotated into one results CSV, each a still: a folder's images, or image files named one
    by one (`files`, all in `folder`). Named like a video (`name`, `stem`): the folder's name, or a
    lone photo's own stem."""

    folder: Path
    files: tuple[Path, ...] | None = None

    @property
    def name(self) -> str:
        if self.files is not None and len(self.files) == 1:
            return self.files[0].stem
        return self.folder.resolve().name or str(self.folder)

    @property
    def stem(self) -> str:
        return self.name

    def images(self) -> list[Path]:
        if self.files is not None:
            return sorted(self.files)
        return sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def open(self) -> ImageFolderSource:
        return ImageFolderSource(self.folder, files=self.files)

    def __str__(self) -> str:
        if self.files is None:
            return str(self.folder)
        return ", ".join(str(f) for f in sorted(self.files))


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.is_dir()


def open_source(spec: str | int | Path) -> Source:
    """`demo`, a camera index (`0`), an image folder, or a video file path."""
    text = str(spec)
    if text == "demo":
        return VideoFileSource(DEMO_VIDEO)
    if text.isdigit():
        return CameraSource(int(text))
    path = Path(text)
    if text.startswith("-") and text[1:].isdigit() and not path.exists():
        raise SourceError(f"no camera {text}: camera indices start at 0 (or give a video file, image folder or 'demo')")
    if path.is_dir():
        return ImageFolderSource(path)
    return VideoFileSource(path)
