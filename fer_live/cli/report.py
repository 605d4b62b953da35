"""`fer-live report SESSION_DIR`: report.html with figures per face and a table per marker interval."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fer_live.errors import EXIT_PARTLY_DONE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", type=Path, metavar="SESSION_DIR", help="a folder written by fer-live record")
    parser.add_argument("--out", type=Path, help="folder for report.html and the PNGs (default SESSION_DIR/report)")
    parser.add_argument("--csv", action="store_true", help="also write the per-interval summary as intervals.csv")


def run(args: argparse.Namespace) -> int:
    from fer_live.sessions.reader import Session
    from fer_live.sessions.report import write_report

    session = Session.load(args.session)
    files = write_report(session, args.out or args.session / "report", with_csv=args.csv)
    print(files.html)
    for path in [*files.figures, *([files.intervals_csv] if files.intervals_csv else [])]:
        print(path)
    if missing := session.missing_results():
        # Damaged input, output written: the same status as annotate and record give it.
        print(f"fer-live: error: {missing}; the report covers only the frames it holds", file=sys.stderr)
        return EXIT_PARTLY_DONE
    return 0
