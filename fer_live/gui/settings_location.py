"""Where the window remembers its settings, worked out without Qt: `fer-live gui --help` names the
file, and the CLI builds every command's help without loading Qt. gui/settings.py opens QSettings
(INI format, user scope) on the same names; a test holds the two to the same file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ORGANISATION = "fer_live"
APPLICATION = "fer_live"


def user_settings_file() -> Path:
    """QSettings' user-scope INI file: %APPDATA% on Windows, $XDG_CONFIG_HOME or ~/.config elsewhere."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / ORGANISATION / f"{APPLICATION}.ini"
