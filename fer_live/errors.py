"""User-facing errors: the CLI and the GUI show their message as one line, never a traceback."""


class FerLiveError(Exception):
    """A problem the user can fix (bad path, corrupt file, missing device); the message says how."""


class SourceError(FerLiveError):
    """A camera, video or image folder that cannot be opened or read."""


class WeightsError(FerLiveError):
    """A weights file that is missing, corrupt or does not match the model."""


class OutputError(FerLiveError):
    """A results file or folder that cannot be written (permissions, disk full)."""
