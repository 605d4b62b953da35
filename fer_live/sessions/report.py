"""Session report: PNG figures (matplotlib, no display needed) and one self-contained report.html.

Per face: share of time in each expression, valence and arousal over time with the markers, and a
circumplex density plot. Per interval between markers: the summary table of fer_live.sessions.summary.
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
from fer_live.labels import CIRCUMPLEX, COLOURS, EXPRESSIONS
from fer_live.sessions.reader import Session
from fer_live.sessions.summary import (
    ALL_FACES,
    expression_shares,
    face_ids,
    face_track,
    interval_row,
    main_faces,
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
        for face_id in faces:
            figures = [
                (f"face{face_id}_expressions.png", expression_figure(session, face_id)),
                (f"face{face_id}_valence_arousal.png", timeline_figure(session, face_id)),
                (f"face{face_id}_circumplex.png", circumplex_figure(session, face_id)),
            ]
            for name, figure in figures:
                figure.savefig(out_dir / name, dpi=110)
                files.figures.append(out_dir / name)
            sections.append(_face_section(session, face_id, [out_dir / name for name, _ in figures]))
        if with_csv:
            files.intervals_csv = out_dir / INTERVALS_CSV
            write_intervals_csv(files.intervals_csv, summaries)
        omitted = len(face_ids(results)) - len(faces)
        files.html.write_text(_html(session, summaries, sections, omitted), encoding="utf-8")
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
    for marker in session.markers:
        axes.axvline(marker.time_s, color=MARKER_COLOUR, linewidth=0.9, linestyle="--")
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
        )
    axes.set_ylim(-1.05, 1.05)
    axes.set_xlim(0, max(session.duration_s, 1e-3))
    axes.set_xlabel("session time (s)")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title(f"Face {face_id}: valence and arousal", loc="left")
    return figure


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
    present = sum(1 for result in session.results if result.face(face_id) is not None)
    share = 100 * present / len(session.results) if session.results else math.nan
    images = "\n".join(_embedded_image(path) for path in figures)
    return (
        f"<h2>Face {face_id}</h2>\n<p>Present in {present} of {len(session.results)} frames "
        f"({share:.1f}%).</p>\n<div class=figs>{images}</div>"
    )


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
        ["duration", f"{session.duration_s:.1f} s, {len(session.results)} frames"],
        ["source", f"{info.get('source')} ({info.get('resolution')}, {info.get('fps')} fps)"],
        ["device", str(info.get("device"))],
        ["weights", f"{weights.get('file')} (sha256 {weights.get('sha256')}, model {weights.get('model_version')})"],
        ["settings", settings],
        ["fer_live", str(info.get("app_version"))],
    ]
    return _table(["", ""], [[key, value] for key, value in rows])


def _html(session: Session, summaries, sections: list[str], omitted_faces: int) -> str:
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
    if not sections:
        notes.append("<p>No face was detected in this session.</p>")
    if omitted_faces:
        notes.append(f"<p>{omitted_faces} briefly seen face(s) (under 2% of the frames) have no section.</p>")
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
