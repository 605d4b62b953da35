"""A minimal XDF writer for the tests: what LabRecorder writes for each stream (header with the
stream's info XML, samples with their timestamps, footer), so `fer-live xdf2csv` reads a real file.
Format: https://github.com/sccn/xdf/wiki/Specifications (chunks of length, tag, content)."""

from __future__ import annotations

import struct
from pathlib import Path

FILE_HEADER, STREAM_HEADER, SAMPLES, STREAM_FOOTER = 1, 2, 3, 6


def _chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return struct.pack("<BQ", 8, len(body)) + body


def write_xdf(path: Path, streams: list[tuple[str, list, list[float]]]) -> None:
    """`streams`: (info XML as an inlet gives it, samples, timestamps); string streams hold str values."""
    out = [b"XDF:", _chunk(FILE_HEADER, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for stream_id, (xml, samples, stamps) in enumerate(streams, 1):
        out.append(_chunk(STREAM_HEADER, struct.pack("<I", stream_id) + xml.encode()))
        body = [struct.pack("<IBQ", stream_id, 8, len(samples))]
        for values, stamp in zip(samples, stamps, strict=True):
            body.append(struct.pack("<Bd", 8, stamp))
            for value in values:
                if isinstance(value, str):
                    data = value.encode()
                    body.append(struct.pack("<BQ", 8, len(data)) + data)
                else:
                    body.append(struct.pack("<d", value))
        out.append(_chunk(SAMPLES, b"".join(body)))
        footer = (
            f'<?xml version="1.0"?><info><first_timestamp>{stamps[0]}</first_timestamp>'
            f"<last_timestamp>{stamps[-1]}</last_timestamp><sample_count>{len(samples)}</sample_count></info>"
        )
        out.append(_chunk(STREAM_FOOTER, struct.pack("<I", stream_id) + footer.encode()))
    Path(path).write_bytes(b"".join(out))
