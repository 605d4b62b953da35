"""The README's two set-up commands are what CI runs, so a green CI means a newcomer's set-up works."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```\n(.*?)```", section, flags=re.DOTALL)]


def ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith(("python3 ", ".venv/"))]


def test_readme_has_exactly_two_single_line_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_install_then_the_readme_tests():
    install, tests = setup_commands()
    ci_install, ci_tests = ci_commands()
    # CI runs the install command without its last step, which opens the window.
    assert install == f"{ci_install} && .venv/bin/python main.py"
    assert tests == ci_tests


def test_readme_lists_the_csv_columns_in_schema_order():
    from fer_live.results import CSV_COLUMNS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "p_neutral … p_contempt" in readme
    positions = [readme.index(f"`{name}`") for name in ("frame", "time_s", "face_id", "det_score", "label")]
    assert positions == sorted(positions)
    assert CSV_COLUMNS[8] == "p_neutral" and CSV_COLUMNS[15] == "p_contempt"
