"""Session report: PNG figures (matplotlib, no display needed) and one self-contained report.html.

Per face: share of time in each expression, valence and arousal over time with the markers, a
circumplex density plot, for sessions recorded with face geometry, head pose over time and
blinks per minute, and for weights that read them, the action units over time. Per interval
between markers: the summary table of fer_live.sessions.summary.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from fer_live.errors import FerLiveError
from fer_live.evidence import SUPPORT_THRESHOLD, au_title, label_with_evidence
from fer_live.labels import AU_COLUMNS, CIRCUMPLEX, COLOURS, EXPRESSIONS, NUM_ACTION_UNITS, au_number
from fer_live.sessions.reader import Session
from fer_live.sessions.summary import (
    ALL_FACES,
    MIN_FACE_SHARE,
    au_track,
    blink_onsets,
    dominant_expression,
    expression_shares,
    face_frame_counts,
    face_ids,
    face_track,
    geometry_seconds,
    interval_row,
    main_faces,
    pose_track,
    summarize_intervals,
    write_intervals_csv,
)

REPORT_HTML = "report.html"
INTERVALS_CSV = "intervals.csv"
# Okabe–Ito blue and orange: apart from each other and from the expression colours.
VALENCE_COLOUR = "#0072b2"
AROUSAL_COLOUR = "#e69f00"
MARKER_COLOUR = "#555555"
MARKER_TEXT_CHARS = 28
# Okabe–Ito vermillion, bluish green, reddish purple: yaw, pitch, roll.
POSE_COLOURS = {"yaw": "#d55e00", "pitch": "#009e73", "roll": "#cc79a7"}
BLINK_BIN_S = 60.0
AU_COLOUR = "#0072b2"
NO_ACTION_UNITS = (
    "The weights this session was recorded with read no action units (frames.csv holds no AU values), "
    "so the report has no action unit figures."
)
AU_CAPTION = (
    "Action units (FACS, the Facial Action Coding System) are the visible movements of single facial "
    "muscles, such as AU12 lip corner puller (the smile) or AU4 brow lowerer (the frown). Each strip is "
    "one action unit's intensity, from 0 (absent) to 1 (strong); blank where the face was out of view. "
    "They are the model's estimates, read from every frame as the expressions are, not a FACS coder's "
    'codes; the labels the model learnt them from are listed under "action units" in the Session table.'
)
# Faces with figures on the page (up to six PNGs each, embedded); every face that passes the presence
# rule still has its interval rows in the page's table and in intervals.csv.
PAGE_FACES = 12


@dataclass
class ReportFiles:
    html: Path
    figures: list[Path] = field(default_factory=list)
    intervals_csv: Path | None = None


def write_report(session: Session, out_dir: Path, with_csv: bool = False) -> ReportFiles:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FerLiveError(f"cannot create report folder {out_dir}: {exc.strerror or exc}") from exc
    results = session.results
    faces = main_faces(results)
    interval_faces = [ALL_FACES, *(str(face_id) for face_id in faces)] if len(faces) > 1 else [ALL_FACES]
    summaries = summarize_intervals(results, session.markers, interval_faces)
    files = ReportFiles(out_dir / REPORT_HTML)
    sections = []
    try:
        for face_id in faces[:PAGE_FACES]:
            figures = [
                (f"face{face_id}_expressions.png", expression_figure(session, face_id)),
                (f"face{face_id}_valence_arousal.png", timeline_figure(session, face_id)),
                (f"face{face_id}_circumplex.png", circumplex_figure(session, face_id)),
            ]
            if geometry_seconds(results, face_id, session.fps) > 0:
                figures += [
                    (f"face{face_id}_head_pose.png", head_pose_figure(session, face_id)),
                    (f"face{face_id}_blinks.png", blink_figure(session, face_id)),
                ]
            if has_action_units(session, face_id):
                figures.append((f"face{face_id}_action_units.png", action_unit_figure(session, face_id)))
            for name, figure in figures:
                figure.savefig(out_dir / name, dpi=110)
                files.figures.append(out_dir / name)
            sections.append(_face_section(session, face_id, [out_dir / name for name, _ in figures]))
        if with_csv:
            files.intervals_csv = out_dir / INTERVALS_CSV
            write_intervals_csv(files.intervals_csv, summaries)
        left_out = _left_out_notes(results, faces, with_csv)
        files.html.write_text(_html(session, summaries, sections, left_out), encoding="utf-8")
    except OSError as exc:
        raise FerLiveError(f"cannot write report in {out_dir}: {exc.strerror or exc}") from exc
    return files


def expression_figure(session: Session, face_id: int) -> Figure:
    shares = expression_shares(session.results, face_id)
    figure = Figure(figsize=(6, 3.2), layout="constrained")
    axes = figure.add_subplot()
    names = list(EXPRESSIONS)[::-1]
    values = [100 * shares[name] for name in names]
    axes.barh(names, values, color=[COLOURS[name] for name in names])
    for y, value in enumerate(values):
        axes.text(value + 1, y, f"{value:.1f}%", va="center", fontsize=8)
    axes.set_xlim(0, 110)
    axes.set_xlabel("share of the face's frames (%)")
    axes.set_title(f"Face {face_id}: time in each expression")
    return figure


def timeline_figure(session: Session, face_id: int) -> Figure:
    valence, arousal = face_track(session.results, face_id)
    times = session.times
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(times, valence, color=VALENCE_COLOUR, linewidth=1.2, label="valence")
    axes.plot(times, arousal, color=AROUSAL_COLOUR, linewidth=1.2, label="arousal")
    axes.axhline(0, color="#bbbbbb", linewidth=0.8)
    _draw_markers(axes, session)
    axes.set_ylim(-1.05, 1.05)
    axes.set_xlim(0, max(session.duration_s, 1e-3))
    axes.set_xlabel("session time (s)")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title(f"Face {face_id}: valence and arousal", loc="left")
    return figure


def head_pose_figure(session: Session, face_id: int) -> Figure:
    """Yaw, pitch and roll over time; spans where the pose was beyond the limit are shaded."""
    pose, ok = pose_track(session.results, face_id)
    times = session.times
    limit = session.info.get("settings", {}).get("pose_limit")
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    axes = figure.add_subplot()
    for column, name in enumerate(("yaw", "pitch", "roll")):
        axes.plot(times, pose[:, column], color=POSE_COLOURS[name], linewidth=1.1, label=name)
    turned = ~ok & ~np.isnan(pose[:, 0])
    if turned.any():
        axes.fill_between(
            times, 0, 1, where=turned, color="#999999", alpha=0.25, step="mid",
            transform=axes.get_xaxis_transform(), label="beyond the pose limit",
        )  # fmt: skip
    if limit is not None:
        for sign in (-1, 1):
            axes.axhline(sign * float(limit), color="#999999", linewidth=0.8, linestyle=":")
    axes.axhline(0, color="#bbbbbb", linewidth=0.8)
    _draw_markers(axes, session)
    axes.set_xlim(0, max(session.duration_s, 1e-3))
    axes.set_xlabel("session time (s)")
    axes.set_ylabel("degrees")
    axes.legend(loc="lower right", fontsize=8, ncols=4)
    axes.set_title(f"Face {face_id}: head pose (yaw > 0 turned to the image's right, pitch > 0 chin up)", loc="left")
    return figure


def blink_figure(session: Session, face_id: int) -> Figure:
    """Blinks per minute in one-minute bins (a shorter last bin scaled to per minute), and the
    session's rate over the time the face was measured."""
    onsets = np.array(blink_onsets(session.results, face_id))
    measured_s = geometry_seconds(session.results, face_id, session.fps)
    rate = 60 * len(onsets) / measured_s if measured_s > 0 else math.nan
    duration = max(session.duration_s, 1e-3)
    edges = np.append(np.arange(0, duration, BLINK_BIN_S), duration)
    counts, _ = np.histogram(onsets, bins=edges)
    widths = np.diff(edges)
    figure = Figure(figsize=(9, 2.8), layout="constrained")
    axes = figure.add_subplot()
    axes.bar(edges[:-1], counts * 60 / widths, width=widths, align="edge", color="#56b4e9", edgecolor="white")
    axes.plot(onsets, np.zeros_like(onsets), "|", color="#0072b2", markersize=10, label="blink onsets")
    _draw_markers(axes, session)
    axes.set_xlim(0, duration)
    axes.set_xlabel("session time (s)")
    axes.set_ylabel("blinks per minute")
    axes.set_title(f"Face {face_id}: {len(onsets)} blinks, {rate:.1f} per minute", loc="left")
    return figure


def has_action_units(session: Session, face_id: int) -> bool:
    return not np.isnan(au_track(session.results, face_id)).all()


def action_unit_figure(session: Session, face_id: int) -> Figure:
    """One strip per action unit, 0–1 over the session time, stacked so that they line up with each
    other and with the markers."""
    track = au_track(session.results, face_id)
    times = session.times
    figure = Figure(figsize=(9, 0.42 * NUM_ACTION_UNITS + 1.2), layout="constrained")
    strips = figure.subplots(NUM_ACTION_UNITS, 1, sharex=True, sharey=True)
    for index, (axes, column) in enumerate(zip(strips, AU_COLUMNS, strict=True)):
        values = track[:, index]
        axes.fill_between(times, 0, values, color=AU_COLOUR, alpha=0.3, linewidth=0)
        axes.plot(times, values, color=AU_COLOUR, linewidth=0.9)
        _draw_markers(axes, session, labelled=index == 0)
        axes.set_ylabel(au_title(column), rotation=0, ha="right", va="center", fontsize=8)
        axes.set_yticks([])
        axes.spines[["top", "right"]].set_visible(False)
    strips[0].set_ylim(0, 1)
    strips[-1].set_xlim(0, max(session.duration_s, 1e-3))
    strips[-1].set_xlabel("session time (s)")
    figure.suptitle(f"Face {face_id}: action units (each strip 0–1)", x=0.01, ha="left")
    return figure


def _draw_markers(axes, session: Session, labelled: bool = True) -> None:
    """Each marker as a dashed line, named above the axes when `labelled`."""
    for marker in session.markers:
        axes.axvline(marker.time_s, color=MARKER_COLOUR, linewidth=0.9, linestyle="--")
        if not labelled:
            continue
        text = marker.text if len(marker.text) <= MARKER_TEXT_CHARS else marker.text[: MARKER_TEXT_CHARS - 1] + "…"
        axes.text(
            marker.time_s,
            1.02,
            text,
            rotation=90,
            fontsize=7,
            va="bottom",
            ha="center",
            transform=axes.get_xaxis_transform(),
            color=MARKER_COLOUR,
            clip_on=False,
            parse_math=False,  # a note's "$5 … $3" is text, not matplotlib's maths
        )


def circumplex_figure(session: Session, face_id: int) -> Figure:
    valence, arousal = face_track(session.results, face_id)
    present = ~np.isnan(valence) & ~np.isnan(arousal)
    figure = Figure(figsize=(4.6, 4.6), layout="constrained")
    axes = figure.add_subplot()
    circle = Circle((0, 0), 1.0, fill=False, edgecolor="#888888", linewidth=1)
    axes.add_patch(circle)
    if present.any():
        density = axes.hexbin(
            valence[present], arousal[present], gridsize=24, extent=(-1, 1, -1, 1), mincnt=1, cmap="Blues", bins="log"
        )
        density.set_clip_path(circle)
        figure.colorbar(density, ax=axes, shrink=0.7, label="frames")
    axes.axhline(0, color="#cccccc", linewidth=0.8)
    axes.axvline(0, color="#cccccc", linewidth=0.8)
    for name, (v, a) in CIRCUMPLEX.items():
        axes.plot(v, a, "o", color=COLOURS[name], markeredgecolor="black", markersize=6)
        axes.annotate(name, (v, a), textcoords="offset points", xytext=(5, 4), fontsize=7)
    axes.set_xlim(-1.1, 1.1)
    axes.set_ylim(-1.1, 1.1)
    axes.set_aspect("equal")
    axes.set_xlabel("valence")
    axes.set_ylabel("arousal")
    axes.set_title(f"Face {face_id}: circumplex density")
    return figure


def _embedded_image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _face_section(session: Session, face_id: int, figures: list[Path]) -> str:
    """The face's heading, presence and geometry in words, its figures, and what AUs are when it has them."""
    present = sum(1 for result in session.results if result.face(face_id) is not None)
    share = 100 * present / len(session.results) if session.results else math.nan
    images = "\n".join(_embedded_image(path) for path in figures)
    measured_s = geometry_seconds(session.results, face_id, session.fps)
    geometry = ""
    if measured_s > 0:
        blinks = len(blink_onsets(session.results, face_id))
        pose, ok = pose_track(session.results, face_id)
        measured = ~np.isnan(pose[:, 0])
        geometry = (
            f" Face geometry over {measured_s:.1f} s: {blinks} blinks ({60 * blinks / measured_s:.1f} per "
            f"minute); pose within the limit in {100 * ok[measured].mean():.1f}% of its measured frames."
        )
    evidence, caption = "", ""
    if has_action_units(session, face_id):
        evidence = f" {_dominant_label_evidence(session, face_id)}"
        caption = f"\n<p class=caption>{html.escape(AU_CAPTION)}</p>"
    return (
        f"<h2>Face {face_id}</h2>\n<p>Present in {present} of {len(session.results)} frames "
        f"({share:.1f}%).{geometry}{html.escape(evidence)}</p>\n<div class=figs>{images}</div>{caption}"
    )


def _dominant_label_evidence(session: Session, face_id: int) -> str:
    """The face's most frequent label with the prototype AUs it showed, on average, in those frames."""
    labels = [found.label if (found := result.face(face_id)) else "" for result in session.results]
    dominant = dominant_expression([label for label in labels if label])
    in_dominant = np.array(labels) == dominant
    mean_aus = np.nanmean(au_track(session.results, face_id)[in_dominant], axis=0)
    return (
        f"Most frequent label: {label_with_evidence(dominant, mean_aus)} (its prototype's action units at "
        f"{SUPPORT_THRESHOLD:g} or more on average over the frames so labelled)."
    )


def _left_out_notes(results, faces: list[int], with_csv: bool) -> list[str]:
    """What the page leaves out, face by face: faces past the page's figure cap, and faces under
    the presence rule."""
    counts = face_frame_counts(results)
    notes = []
    if without_figures := faces[PAGE_FACES:]:
        where = "the interval table and intervals.csv" if with_csv else "the interval table"
        notes.append(
            f"{len(without_figures)} more face(s) pass the presence rule but have no figures here (at most "
            f"{PAGE_FACES} faces, the most present first): {_face_list(without_figures, counts, len(results))}; "
            f"their rows are in {where}."
        )
    if rare := [face_id for face_id in face_ids(results) if face_id not in faces]:
        notes.append(
            f"{len(rare)} face(s) seen in under {MIN_FACE_SHARE:.0%} of the frames have no section or rows of "
            f'their own (they count in the "all" rows): {_face_list(rare, counts, len(results))}.'
        )
    return notes


def _face_list(face_ids: list[int], counts, frames: int, shown: int = 20) -> str:
    listed = ", ".join(f"#{face_id} in {counts[face_id]} of {frames} frames" for face_id in face_ids[:shown])
    return listed + (f" and {len(face_ids) - shown} more" if len(face_ids) > shown else "")


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _overview(session: Session) -> str:
    info = session.info
    weights = info.get("weights", {})
    settings = ", ".join(f"{key}={value}" for key, value in info.get("settings", {}).items())
    rows = [
        ["participant", info.get("participant", "")],
        ["condition", info.get("condition", "")],
        ["notes", info.get("notes", "")],
        ["start", str(info.get("start_time"))],
        ["end", str(info.get("end_time") or "— (recording was cut short)")],
        ["stopped by", str(info.get("stopped_by") or "—")],
        ["duration", _duration(session)],
        ["source", f"{info.get('source')} ({info.get('resolution')}, {info.get('fps')} fps)"],
        ["device", str(info.get("device"))],
        ["weights", f"{weights.get('file')} (sha256 {weights.get('sha256')}, model {weights.get('model_version')})"],
        ["action units", _action_unit_sources(weights, _reads_action_units(session))],
        ["settings", settings],
        ["fer_live", str(info.get("app_version"))],
    ]
    return _table(["", ""], [[key, value] for key, value in rows])


def _duration(session: Session) -> str:
    recorded = len(session.results) + len(session.unprocessed_frames)
    without = len(session.unprocessed_frames)
    return f"{session.duration_s:.1f} s, {recorded} frames" + (f" ({without} without results)" if without else "")


def _reads_action_units(session: Session) -> bool:
    return any(face.aus is not None for result in session.results for face in result.faces)


def _action_unit_sources(weights: dict, reads_action_units: bool) -> str:
    """Where the weights' AU training labels came from, by source: "teacher: AU12, AU26; …"."""
    units = weights.get("action_units")
    if not units:
        return "read by the model; session.json does not say from which labels" if reads_action_units else "none"
    by_source: dict[str, list[str]] = {}
    for unit in units:
        by_source.setdefault(unit.get("labels", "unknown"), []).append(f"AU{au_number(unit['column'])}")
    sources = "; ".join(f"{source}: {', '.join(numbers)}" for source, numbers in by_source.items())
    return f"{len(units)} read by the model, learnt from labels by source (see the model card): {sources}"


def _html(session: Session, summaries, sections: list[str], left_out: list[str]) -> str:
    marker_rows = [
        [f"{m.time_s:.2f}", str(m.video_frame), m.wall_time, m.key, m.label, m.note] for m in session.markers
    ]
    columns = [
        "interval",
        "start",
        "end",
        "start_s",
        "end_s",
        "face",
        "frames",
        "face_frames_pct",
        "mean_valence",
        "mean_arousal",
        "dominant_expression",
    ]
    interval_rows = [[interval_row(summary)[column] for column in columns] for summary in summaries]
    notes = []
    if not session.complete:
        notes.append(
            "<p class=warn>This recording was cut short (no end time): the report covers what was "
            "written before it stopped.</p>"
        )
    missing = session.missing_results()
    if missing:
        notes.append(f"<p class=warn>{html.escape(missing)}: the report covers only the frames it holds.</p>")
    unprocessed = session.unprocessed_note()
    if unprocessed:
        notes.append(
            f"<p class=warn>{html.escape(unprocessed)}. Every figure and table covers the "
            f"{len(session.results)} frames with results; times are the recording's.</p>"
        )
    if not sections and session.results:
        notes.append("<p>No face was detected in this session.</p>")
    elif sections and not _reads_action_units(session):
        notes.append(f"<p>{html.escape(NO_ACTION_UNITS)}</p>")
    notes.extend(f"<p>{html.escape(note)}</p>" for note in left_out)
    title = f"fer_live session report — {session.info.get('participant') or session.path.name}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
.figs img {{ max-width: 100%; margin: 0.3em 0.6em 0.3em 0; vertical-align: top; }}
.warn {{ color: #a33; }}
.caption {{ font-size: 0.9em; color: #444; max-width: 900px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{"".join(notes)}
<h2>Session</h2>
{_overview(session)}
<h2>Markers</h2>
{_table(["time_s", "video_frame", "wall_time", "key", "label", "note"], marker_rows) if marker_rows else "<p>None.</p>"}
<h2>Intervals between markers</h2>
<p>Mean valence/arousal over face rows; dominant expression = most frequent per-frame label;
face_frames_pct = share of the interval's frames with the face ("all": with any face).</p>
{_table(columns, interval_rows)}
{"".join(sections)}
</body></html>
"""
