"""`fer-live` command line: one entry point, sub-commands in their own modules (imported lazily,
so `fer-live annotate` never loads Qt and the GUI never loads matplotlib)."""

from __future__ import annotations

import argparse
import importlib
import sys

from fer_live import __version__
from fer_live.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, FerLiveError

# sub-command → module providing `add_arguments(parser)` and `run(args) -> int`
COMMANDS = {
    "gui": ("fer_live.gui.app", "open the live window (default)"),
    "annotate": ("fer_live.cli.annotate", "annotate video files into per-frame CSV"),
    "record": ("fer_live.cli.record", "record a research session (video, results, markers) headless"),
    "report": ("fer_live.cli.report", "write report.html and figures for a recorded session"),
    "xdf2csv": ("fer_live.cli.xdf2csv", "turn fer_live's streams in an XDF recording (LabRecorder) into results CSV"),
}


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad arguments give one line (and exit status 2) like every other bad input, not usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="fer-live", description="Live facial affect: 8 expressions, valence, arousal, action units."
    )
    parser.add_argument("--version", action="version", version=f"fer_live {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module_name).add_arguments(command)
        command.set_defaults(module=module_name)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["gui", *argv]
    args = build_parser().parse_args(argv)
    try:
        return importlib.import_module(args.module).run(args)
    except FerLiveError as exc:
        print(f"fer-live: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("fer-live: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
