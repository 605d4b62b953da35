"""User-facing errors: the CLI and the GUI show their message as one line, never a traceback;
and the exit statuses of every command (README's table), so one failure has one status."""

EXIT_DONE = 0
# Done, but some input was damaged or could not be used, or an output could not be written or was
# refused: one line each, everything else written.
EXIT_PARTLY_DONE = 1
# Bad arguments or input, nothing done (argparse's own status for bad arguments), or a recording
# stopped by an error, its session finished with what was recorded.
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, every whole frame kept
EXIT_TERMINATED = 143  # SIGTERM: 128 + SIGTERM, as a shell reports a process that SIGTERM ended


class FerLiveError(Exception):
    """A problem the user can fix (bad path, corrupt file, missing device); the message says how."""


class SourceError(FerLiveError):
    """A camera, video or image folder that cannot be opened or read."""


class WeightsError(FerLiveError):
    """A weights file that is missing, corrupt or does not match the model."""


class OutputError(FerLiveError):
    """A results file or folder that cannot be written (permissions, disk full)."""
