"""Lab Streaming Layer output: the Affect stream carries exactly the CSV's numbers, labelled; its
timestamps follow the frame clock; markers arrive; `xdf2csv` gives the CSV back; a stream that
cannot be created is said once and nothing else stops.

Loopback only: every test that creates an outlet or inlet runs its processes through
fer_live.bench.netns (a private network namespace holding only loopback, and an lsl_api.cfg that
resolves on the machine only); where no namespace can be made those tests skip and say why.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from fer_live.bench.netns import LSL_API_CFG, namespace_unavailable, run_isolated, write_config
from fer_live.cli.xdf2csv import LSL_TIME_COLUMN, frames_from_samples
from fer_live.pipeline import lsl
from fer_live.results import (
    AU_COLUMNS,
    CSV_COLUMNS,
    GEOMETRY_COLUMNS,
    PROB_COLUMNS,
    TEXT_COLUMNS,
    FaceResult,
    FrameResult,
    result_rows,
)
from tests.videos import REPO, make_face_video
from tests.xdf_file import write_xdf

pytest.importorskip("pylsl")

NO_NAMESPACE = namespace_unavailable()
isolated = pytest.mark.skipif(
    NO_NAMESPACE is not None,
    reason=f"LSL tests run only in a private loopback-only network namespace, and none can be made: {NO_NAMESPACE}",
)
# Timestamps by the video clock (annotate) equal the LSL start time plus the frame's video time, to
# float precision; capture times (record, the window) match the frame's recorded wall-clock time
# to within the millisecond that frames.csv keeps plus the gap between the two clock readings.
VIDEO_CLOCK_TOLERANCE_S = 1e-6
CAPTURE_CLOCK_TOLERANCE_S = 0.005
# A free port that a test occupies so that no outlet can be created (lsl_api.cfg allows only it).
BLOCKED_PORT = 40123


def fer_live(*args: str) -> list[str]:
    return [sys.executable, "-m", "fer_live", *args]


def probe(tmp_path: Path, command: list[str], *options: str, config_text: str = LSL_API_CFG) -> dict:
    """Run `command` in the namespace beside tests/lsl_probe.py's inlets; what they received."""
    out = tmp_path / "probe.json"
    done = run_isolated(
        [sys.executable, "-m", "tests.lsl_probe", str(out), *options, "--", *command],
        write_config(tmp_path, config_text),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["returncode"] == 0, report["stderr"]
    return report


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def described_channels(info_xml: str) -> list[tuple[str, str, str]]:
    channels = ET.fromstring(info_xml).find("desc/channels")
    return [(c.findtext("label"), c.findtext("unit"), c.findtext("type")) for c in channels.findall("channel")]


def face(face_id: int, x: float, valence: float) -> FaceResult:
    probs = np.array([0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.0078125], dtype=np.float32)
    return FaceResult(face_id, (x, 20.25, 64.0, 64.0), 0.875, probs, valence, -valence / 2)


# -- the stream's layout (no network) ---------------------------------------------------------------
def test_channels_are_the_schemas_numeric_columns_each_with_a_unit():
    numeric = [c for c in CSV_COLUMNS + GEOMETRY_COLUMNS + AU_COLUMNS if c not in TEXT_COLUMNS]
    assert list(lsl.FRAME_COLUMNS) + list(lsl.FACE_COLUMNS) == numeric
    labels = lsl.channel_labels(2)
    assert labels[:4] == ["frame", "time_s", "face1_face_id", "face1_x"]
    assert len(labels) == 2 + 2 * len(lsl.FACE_COLUMNS) and labels[-1] == "face2_au26"
    missing = [c for c in numeric if c not in lsl.COLUMN_UNITS]
    assert not missing, f"give these results columns a unit in fer_live.results.COLUMN_UNITS: {missing}"


def test_face_slots_hold_the_csv_values_and_keep_each_track_in_its_slot():
    slots = lsl.FaceSlots(2)
    width = len(lsl.FACE_COLUMNS)

    def slot_values(sample: list[float], slot: int) -> list[float]:
        start = 2 + slot * width
        return sample[start : start + width]

    first = FrameResult(7, 0.2333, (face(3, 10.0, 0.123456), face(5, 300.0, -0.5)))
    sample = slots.sample(first)
    assert sample[:2] == [7.0, 0.2333]
    for slot, row in enumerate(result_rows(first)):  # the numbers the CSV holds, to the digit
        np.testing.assert_array_equal(slot_values(sample, slot), _values(row))
    assert slot_values(sample, 0)[lsl.FACE_COLUMNS.index("valence")] == 0.1235

    # Track 3 leaves: its slot empties (NaN) while track 5 stays in slot 2; a new track 9 takes slot 1.
    sample = slots.sample(FrameResult(8, 0.2667, (face(5, 301.0, -0.5),)))
    assert all(math.isnan(v) for v in slot_values(sample, 0)) and slot_values(sample, 1)[0] == 5
    sample = slots.sample(FrameResult(9, 0.3, (face(5, 302.0, -0.5), face(9, 50.0, 0.0), face(11, 90.0, 0.0))))
    assert (slot_values(sample, 0)[0], slot_values(sample, 1)[0]) == (9, 5)
    assert slots.faces_left_out == 1  # track 11 found no free slot
    # A frame without faces is still a sample: its frame and time, every face channel NaN.
    sample = slots.sample(FrameResult(10, 0.3333))
    assert sample[:2] == [10.0, 0.3333] and all(math.isnan(v) for v in sample[2:])


def test_xdf_samples_become_the_same_frame_results():
    results = [
        FrameResult(0, 0.0, (face(1, 10.0, 0.25), face(2, 200.0, -0.75))),
        FrameResult(1, 0.0333, ()),
        FrameResult(2, 0.0667, (face(2, 201.0, -0.5),)),
    ]
    slots = lsl.FaceSlots(2)
    samples = [slots.sample(result) for result in results]
    back = list(frames_from_samples(lsl.channel_labels(2), samples, [10.0, 10.5, 11.0]))
    assert [stamp for _, stamp in back] == [10.0, 10.5, 11.0]
    assert [result_rows(result) for result, _ in back] == [result_rows(result) for result in results]


def test_lsl_output_says_once_why_it_is_off_and_then_does_nothing(monkeypatch):
    def unavailable():
        raise lsl.LslUnavailable("pylsl is not installed (pip install 'fer_live[lsl]')")

    monkeypatch.setattr(lsl, "_pylsl", unavailable)
    said = []
    output = lsl.LslOutput(say=said.append)
    assert not output.open("video.mp4", 30.0, {})
    assert not output.open("other.mp4", 30.0, {})
    output.push(FrameResult(0, 0.0), captured_at=1.0)
    output.mark("1 event 1")
    assert said == ["LSL streaming is off: pylsl is not installed (pip install 'fer_live[lsl]')"]


def test_annotate_lsl_needs_one_job_and_xdf2csv_a_readable_file(tmp_path):
    done = subprocess.run(
        fer_live("annotate", "a.mp4", "b.mp4", "-o", str(tmp_path), "--lsl", "--jobs", "2"),
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "fer-live: error: --lsl streams one video at a time: use --jobs 1"
    ]
    for path, message in ((tmp_path / "none.xdf", "XDF file not found"), (REPO / "README.md", "cannot read")):
        done = subprocess.run(fer_live("xdf2csv", str(path)), capture_output=True, text=True, cwd=REPO, timeout=300)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and message in done.stderr


def affect_stream_xml(source_id: str) -> str:
    """A fer_live Affect stream's info as LabRecorder stores it (what xdf2csv reads of it)."""
    channels = "".join(f"<channel><label>{label}</label></channel>" for label in lsl.channel_labels())
    return (
        f'<?xml version="1.0"?><info><name>fer_live</name><type>{lsl.STREAM_TYPE}</type>'
        f"<channel_count>{len(lsl.channel_labels())}</channel_count><nominal_srate>30</nominal_srate>"
        f"<channel_format>double64</channel_format><source_id>{source_id}</source_id>"
        f"<desc><channels>{channels}</channels><fer_live><weights>w</weights></fer_live></desc></info>"
    )


def marker_stream_xml(source_id: str) -> str:
    return (
        f'<?xml version="1.0"?><info><name>fer_live markers</name><type>{lsl.MARKER_STREAM_TYPE}</type>'
        "<channel_count>1</channel_count><nominal_srate>0</nominal_srate><channel_format>string</channel_format>"
        f"<source_id>{source_id}#markers</source_id><desc><channels><channel><label>event</label></channel>"
        "</channels></desc></info>"
    )


def test_xdf2csv_replaces_only_its_own_files(capfd, tmp_path):
    from fer_live import cli

    no_face = [0.0, 0.0] + [math.nan] * (len(lsl.channel_labels()) - 2)
    xdf = tmp_path / "session.xdf"
    write_xdf(xdf, [(affect_stream_xml("cam"), [no_face], [5.0]), (marker_stream_xml("cam"), [["1 start"]], [5.5])])
    annotated = "frame,time_s,face_id\n0,0.0,1\n"  # annotate's results for session.mp4, say
    (tmp_path / "session.csv").write_text(annotated)

    status = cli.main(["xdf2csv", str(xdf)])
    out, err = capfd.readouterr()
    assert status == 1
    assert err == (
        f"fer-live: error: {tmp_path / 'session.csv'} exists and was not written by xdf2csv (e.g. annotate's "
        "results); left as it is: choose another folder with -o\n"
    )
    assert (tmp_path / "session.csv").read_text() == annotated
    assert out == f"fer_live markers: 1 events -> {tmp_path / 'session_markers.csv'}\n"

    # Its own outputs it writes again.
    (tmp_path / "session.csv").unlink()
    assert cli.main(["xdf2csv", str(xdf)]) == 0 and cli.main(["xdf2csv", str(xdf)]) == 0
    assert read_rows(tmp_path / "session.csv")[0][LSL_TIME_COLUMN] == "5.000000"
    assert read_rows(tmp_path / "session_markers.csv") == [{LSL_TIME_COLUMN: "5.500000", "event": "1 start"}]


def slot_one_face(frame: float = 0.0, face_id: float = 1.0, time_s: float = 0.5) -> list[float]:
    """A sample with a face in slot 1 (each of its values 0.125) and the other slots empty."""
    labels = lsl.channel_labels()
    values = [frame, time_s] + [math.nan] * (len(labels) - 2)
    for index, label in enumerate(labels):
        if label.startswith("face1_"):
            values[index] = 0.125
    values[labels.index("face1_face_id")] = face_id
    return values


def with_bad(**values: float) -> list[list[float]]:
    """A good sample, then one with `values` (frame, face_id, time_s) changed."""
    return [slot_one_face(), slot_one_face(**{"frame": 1.0, **values})]


def without(xml: str, part: str) -> str:
    assert part in xml
    return xml.replace(part, "")


AFFECT_XML = affect_stream_xml("cam")
CHANNELS_XML = AFFECT_XML[AFFECT_XML.index("<channels>") : AFFECT_XML.index("</channels>") + len("</channels>")]
NO_MARKERS: list = []


@pytest.mark.parametrize(
    ("xml", "samples", "markers", "status", "said", "written"),
    [
        (without(AFFECT_XML, CHANNELS_XML), with_bad(), [["1 start"]], 1,
         "stream 'fer_live': it names no channels (desc/channels, where fer_live labels them); not converted",
         ["x_markers.csv"]),
        (AFFECT_XML.replace("<label>frame</label>", "<label>frames</label>"), with_bad(), [["1 start"]], 1,
         "stream 'fer_live': it has no frame channel; not converted", ["x_markers.csv"]),
        (AFFECT_XML.replace("<label>face2_x</label>", "<label>face2_left</label>"), with_bad(), NO_MARKERS, 2,
         "stream 'fer_live': face slot 2 has no face2_x channel; not converted", []),
        (without(AFFECT_XML, f"<type>{lsl.STREAM_TYPE}</type>"), with_bad(), [["1 start"]], 1,
         "stream 'fer_live': it has no type; not converted", ["x_markers.csv"]),
        (without(AFFECT_XML, "<source_id>cam</source_id>"), with_bad(), [["1 start"]], 1,
         "stream 'fer_live' has no source_id, so which marker stream is its own is unknown", ["x.csv"]),
        (AFFECT_XML.replace("double64", "string"), [[str(v) for v in slot_one_face()]], NO_MARKERS, 2,
         "stream 'fer_live': its samples are text (channel_format string), not fer_live's numbers; not converted", []),
        (AFFECT_XML, with_bad(frame=math.nan), [["1 start"]], 1,
         "stream 'fer_live': 1 of its 2 samples cannot be read (sample 2: frame is nan, not a whole number); "
         "left out, the other 1 written", ["x.csv", "x_markers.csv"]),
        (AFFECT_XML, with_bad(frame=math.inf), NO_MARKERS, 1,
         "stream 'fer_live': 1 of its 2 samples cannot be read (sample 2: frame is inf, not a whole number); "
         "left out, the other 1 written", ["x.csv"]),
        (AFFECT_XML, with_bad(face_id=-math.inf), NO_MARKERS, 1,
         "stream 'fer_live': 1 of its 2 samples cannot be read (sample 2: face1_face_id is -inf, not a whole "
         "number); left out, the other 1 written", ["x.csv"]),
        (AFFECT_XML, with_bad(time_s=math.nan), NO_MARKERS, 1,
         "stream 'fer_live': 1 of its 2 samples cannot be read (sample 2: time_s is nan, not a number); "
         "left out, the other 1 written", ["x.csv"]),
        (AFFECT_XML, [slot_one_face(frame=math.nan)], NO_MARKERS, 2,
         "stream 'fer_live': no sample of its 1 can be read (sample 1: frame is nan, not a whole number); "
         "not converted", []),
    ],
    ids=["no-channels", "no-frame-channel", "slot-without-x", "no-type", "no-source-id", "text-samples",
         "nan-frame", "inf-frame", "inf-face-id", "nan-time", "nothing-readable"],
)  # fmt: skip
def test_xdf2csv_of_a_stream_it_cannot_read_is_one_line_and_no_half_file(
    capfd, tmp_path, xml, samples, markers, status, said, written
):
    from fer_live import cli

    xdf = tmp_path / "x.xdf"
    streams = [(xml, samples, [5.0 + n / 10 for n in range(len(samples))])]
    if markers:
        streams.append((marker_stream_xml("cam"), markers, [5.5]))
    write_xdf(xdf, streams)
    out = tmp_path / "out"
    assert cli.main(["xdf2csv", str(xdf), "-o", str(out)]) == status
    assert capfd.readouterr().err == f"fer-live: error: {xdf}: {said}\n"
    assert sorted(os.listdir(out)) == written  # nothing half-written, no temporary file
    if "x.csv" in written:  # the readable samples, each a frame with its face
        rows = read_rows(out / "x.csv")
        assert [r["frame"] for r in rows] == (["0"] if "cannot be read" in said else ["0", "1"])
        assert {r["face_id"] for r in rows} == {"1"}


def test_xdf2csv_of_a_cut_off_file_converts_what_was_read_and_says_so_in_one_line(tmp_path):
    xdf = tmp_path / "x.xdf"
    write_xdf(xdf, [(AFFECT_XML, with_bad(), [5.0, 5.1]), (marker_stream_xml("cam"), [["1 start"]], [5.5])])
    whole = xdf.read_bytes()
    cut = tmp_path / "cut"
    cut.mkdir()

    def convert(name: str, length: int) -> subprocess.CompletedProcess:
        (cut / name).write_bytes(whole[:length])
        command = fer_live("xdf2csv", str(cut / name), "-o", str(cut / "out"))
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)

    # Cut before the markers' footer (LabRecorder writes it when the recording stops): both streams
    # were read whole, and the file is said to be cut off. (pyxdf's own log lines never show.)
    done = convert("no_footer.xdf", whole.rindex(b"<?xml") - 15)
    assert done.returncode == 1
    assert done.stderr == (
        f"fer-live: error: {cut / 'no_footer.xdf'} is damaged (stream 'fer_live markers' has no footer: the "
        "recording was cut off); what could be read is written\n"
    )
    assert len(read_rows(cut / "out" / "no_footer.csv")) == 2
    assert read_rows(cut / "out" / "no_footer_markers.csv") == [{LSL_TIME_COLUMN: "5.500000", "event": "1 start"}]
    # Cut inside the Affect samples: pyxdf drops the chunk, so nothing is left to convert (it was "0 frames",
    # exit 0); what an earlier run wrote of the whole file stays.
    assert convert("in_samples.xdf", len(whole)).returncode == 0
    earlier = (cut / "out" / "in_samples.csv").read_text()
    done = convert("in_samples.xdf", whole.index(b"</info>", whole.index(b"<source_id>cam")) + 200)
    assert done.returncode == 2
    assert done.stderr.startswith(f"fer-live: error: {cut / 'in_samples.xdf'} is damaged (pyxdf: found likely XDF")
    assert done.stderr.endswith("); nothing of fer_live's could be read\n") and done.stderr.count("\n") == 1
    assert (cut / "out" / "in_samples.csv").read_text() == earlier
    assert sorted(os.listdir(cut / "out")) == [
        "in_samples.csv", "in_samples_markers.csv", "no_footer.csv", "no_footer_markers.csv"
    ]  # fmt: skip


def test_xdf2csv_marker_text_that_a_spreadsheet_would_run_is_written_as_text(tmp_path):
    from fer_live import cli

    xdf = tmp_path / "x.xdf"
    events = [["=1+2"], ["@SUM(A1)"], ["-0.5"], ["2 task: -cmd"]]
    write_xdf(xdf, [(AFFECT_XML, with_bad(), [5.0, 5.1]), (marker_stream_xml("cam"), events, [5.5, 6, 7, 8])])
    assert cli.main(["xdf2csv", str(xdf)]) == 0
    written = [r["event"] for r in read_rows(tmp_path / "x_markers.csv")]
    assert written == ["'=1+2", "'@SUM(A1)", "-0.5", "2 task: -cmd"]


# -- streams, received by an inlet in the namespace ---------------------------------------------
@isolated
def test_annotate_streams_every_frame_labelled_on_the_video_clock(tmp_path, crossing_faces_video, random_au_weights):
    video = crossing_faces_video[0]
    out = tmp_path / "csv"
    weights = str(random_au_weights)  # with the AU head: its channels carry the CSV's AU numbers too
    command = fer_live("annotate", str(video), "-o", str(out), "--weights", weights, "--geometry", "--lsl")
    report = probe(tmp_path, command)
    labels = lsl.channel_labels()
    channels = described_channels(report["info_xml"])
    assert [label for label, _, _ in channels] == labels
    assert channels[labels.index("face1_x")][1:] == ("px", "Position")
    assert channels[labels.index("face2_p_happy")][1:] == ("probability", "Expression")
    info = ET.fromstring(report["info_xml"])
    assert (info.findtext("type"), float(info.findtext("nominal_srate"))) == ("Affect", 30.0)
    assert info.findtext("desc/fer_live/weights") and "sha256" in info.findtext("desc/fer_live/weights")

    # Every frame of the CSV arrived once, in order, with every face's numbers in its track's slot.
    rows = read_rows(out / f"{video.stem}.csv")
    samples = report["samples"]
    frames = sorted({int(row["frame"]) for row in rows})
    assert frames == list(range(90)) and [int(s[0]) for s in samples] == frames
    faces = 0
    width = len(lsl.FACE_COLUMNS)
    for row in rows:
        if not row["face_id"]:
            continue
        sample = samples[int(row["frame"])]
        slot_ids = [sample[2 + slot * width] for slot in range(lsl.DEFAULT_FACE_SLOTS)]
        slot = slot_ids.index(float(row["face_id"]))
        np.testing.assert_array_equal(sample[2 + slot * width : 2 + (slot + 1) * width], _values(row))
        faces += 1
    assert faces > 160  # two faces in nearly all 90 frames, each found in its slot
    assert sum(row["pose_ok"] == "1" for row in rows) > 100  # geometry columns, streamed like the rest
    assert sum(row["au12"] != "" for row in rows) == faces  # and every face's action units

    # Timestamps: the LSL time of the first frame plus each frame's video time.
    stamps = np.array(report["stamps"])
    times = np.array([s[1] for s in samples])
    assert np.all(np.diff(stamps) > 0)
    assert np.max(np.abs((stamps - stamps[0]) - (times - times[0]))) < VIDEO_CLOCK_TOLERANCE_S
    assert report["started"] < stamps[0] < report["finished"]

    # Recorded into XDF (as LabRecorder does) and read back: the CSV's rows again, plus lsl_time.
    xdf = tmp_path / "session.xdf"
    write_xdf(xdf, [(report["info_xml"], samples, report["stamps"])])
    done = subprocess.run(fer_live("xdf2csv", str(xdf)), capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    back = read_rows(tmp_path / "session.csv")
    # A frame's faces come in slot order, not detection order. `label` is recomputed from the
    # 4-decimal probabilities (as read_results_csv does): where the top two round alike it may differ.
    numeric = [c for c in CSV_COLUMNS + GEOMETRY_COLUMNS + AU_COLUMNS if c not in TEXT_COLUMNS]

    def by_frame_and_face(rows: list[dict]) -> list[dict]:
        return sorted(rows, key=lambda r: (int(r["frame"]), r["face_id"]))

    pairs = list(zip(by_frame_and_face(back), by_frame_and_face(rows), strict=True))
    assert all({c: a[c] for c in numeric} == {c: b[c] for c in numeric} for a, b in pairs)
    untied = [(a, b) for a, b in pairs if b["face_id"] and _top_is_unique(b)]
    assert len(untied) > 100 and all(a["label"] == b["label"] for a, b in untied)
    first_rows = {r["frame"]: r for r in reversed(back)}  # the first row of each frame
    assert [float(first_rows[str(f)][LSL_TIME_COLUMN]) for f in frames] == pytest.approx(report["stamps"], abs=1e-6)


@isolated
def test_record_streams_capture_times_and_markers(tmp_path, one_face_video, random_weights):
    session = tmp_path / "session"
    report = probe(
        tmp_path,
        fer_live(
            "record", "--source", str(one_face_video[0]), "--out", str(session), "--weights", str(random_weights),
            "--realtime", "--markers-from-stdin", "--markers-labels", "1=start", "--lsl",
        ),
        "--marker", "1", "--marker", "m phone rang",
    )  # fmt: skip
    assert [text for text, _ in report["markers"]] == ["1 start", "m phone rang"]
    assert [label for label, _, _ in described_channels(report["marker_info_xml"])] == ["event"]

    # Samples arrive from the moment the inlet connected to the end, every frame once.
    rows = {int(row["frame"]): row for row in read_rows(session / "frames.csv")}
    frames = [int(s[0]) for s in report["samples"]]
    assert len(frames) >= 30 and frames == list(range(frames[0], 90))
    # Each timestamp is its frame's capture time: spaced like the wall-clock capture times in frames.csv.
    stamps = np.array(report["stamps"])
    walls = np.array([_seconds(rows[frame]["wall_time"]) for frame in frames])
    assert np.all(np.diff(stamps) > 0)
    assert np.max(np.abs((stamps - stamps[0]) - (walls - walls[0]))) < CAPTURE_CLOCK_TOLERANCE_S
    # ...and before it was received (capture → inference → push → inlet), by less than a second.
    delays = np.array(report["received"]) - stamps
    assert np.all(delays > 0) and np.all(delays < 1.0)
    marker_stamps = [stamp for _, stamp in report["markers"]]
    assert stamps[0] < marker_stamps[0] < marker_stamps[1] < stamps[-1] + 0.1


@isolated
def test_the_window_streams_while_it_plays(tmp_path, one_face_video, random_weights):
    report = probe(
        tmp_path,
        ["env", "QT_QPA_PLATFORM=offscreen", *fer_live(
            "gui", "--source", str(one_face_video[0]), "--weights", str(random_weights), "--device", "cpu",
            "--settings-file", str(tmp_path / "gui.ini"), "--lsl",
        )],
        "--run-s", "4",
    )  # fmt: skip
    assert [label for label, _, _ in described_channels(report["info_xml"])] == lsl.channel_labels()
    samples, stamps = report["samples"], np.array(report["stamps"])
    assert len(samples) >= 30  # the window may skip frames while inference catches up
    assert sum(not math.isnan(s[2]) for s in samples) >= 0.9 * len(samples)
    assert np.all(np.diff(stamps) > 0)
    delays = np.array(report["received"]) - stamps
    assert np.all(delays > 0) and np.all(delays < 1.0)
    assert "stream_lsl=true" in (tmp_path / "gui.ini").read_text()  # remembered


@isolated
def test_when_no_outlet_can_be_created_annotate_says_so_once_and_finishes(tmp_path, one_face_video, random_weights):
    second = tmp_path / "second.mp4"
    make_face_video(second, n_frames=10)
    only_port = f"[ports]\nBasePort = {BLOCKED_PORT}\nPortRange = 1\nAllowRandomPorts = false\n"
    blocked = LSL_API_CFG.replace("[ports]\n", only_port)
    out = tmp_path / "csv"
    report = probe(
        tmp_path,
        fer_live(
            "annotate", str(one_face_video[0]), str(second), "-o", str(out), "--weights", str(random_weights), "--lsl"
        ),
        "--hold-port", str(BLOCKED_PORT),
        config_text=blocked,
    )  # fmt: skip
    assert report.get("error") == "no Affect stream appeared"
    lines = [line for line in report["stderr"].splitlines() if "LSL" in line]
    assert lines == ["fer-live: LSL streaming is off: no LSL outlet could be created (could not create stream outlet.)"]
    assert len(read_rows(out / f"{one_face_video[0].stem}.csv")) >= 90
    assert {int(row["frame"]) for row in read_rows(out / "second.csv")} == set(range(10))


def _values(row: dict[str, str]) -> list[float]:
    return [float(row[c]) if row[c] else math.nan for c in lsl.FACE_COLUMNS]


def _top_is_unique(row: dict[str, str]) -> bool:
    probs = sorted((float(row[c]) for c in PROB_COLUMNS), reverse=True)
    return probs[0] > probs[1]


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def test_the_window_says_once_when_it_cannot_stream_and_plays_on(
    qtbot, tmp_path, one_face_video, random_weights, monkeypatch
):
    pytest.importorskip("pytestqt")
    from fer_live.gui import settings as gui_settings
    from fer_live.gui.settings import GuiSettings
    from fer_live.gui.window import MainWindow
    from fer_live.inference.engine import Engine

    def unavailable():
        raise lsl.LslUnavailable("pylsl is not installed (pip install 'fer_live[lsl]')")

    monkeypatch.setattr(lsl, "_pylsl", unavailable)
    store = gui_settings.open_store(tmp_path / "gui.ini")
    settings = GuiSettings(device="cpu", loop_video=False, stream_lsl=True)
    window = MainWindow(Engine(random_weights, "cpu", threads=1), settings, store)
    qtbot.addWidget(window)
    messages = []
    bar = window.statusBar()
    show_message = bar.showMessage

    def spy(text: str, timeout: int = 0) -> None:
        messages.append(text)
        show_message(text, timeout)

    monkeypatch.setattr(bar, "showMessage", spy)
    shown = []
    window.result_displayed.connect(shown.append)
    assert window.open_source_spec(str(one_face_video[0]))
    assert window.open_source_spec(str(one_face_video[0]))  # a second source: not said again
    qtbot.waitUntil(lambda: len(shown) >= 10, timeout=30_000)
    assert window.lsl.status_label.text() == "LSL: off (failed)"
    assert [m for m in messages if "LSL" in m] == [
        "LSL streaming is off: pylsl is not installed (pip install 'fer_live[lsl]')"
    ]
    # Switched off and on again in Settings, it tries again (and says again); the choice is remembered.
    window.apply_settings(GuiSettings(device="cpu", loop_video=False, stream_lsl=False))
    assert window.lsl.status_label.text() == ""
    window.apply_settings(settings)
    assert len([m for m in messages if "LSL" in m]) == 2
    assert gui_settings.load(store).stream_lsl is True
