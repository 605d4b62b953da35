"""The layering rules: Qt only under fer_live/gui/, and training/ only on the core it may use."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QT_ROOTS = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2", "qtpy")
# What training/ may use of the app: the model, its labels and input preparation, the detector
# (for --detect), and the user-facing errors.
TRAINING_MAY_IMPORT = (
    "fer_live.model",
    "fer_live.labels",
    "fer_live.preprocess",
    "fer_live.detection",
    "fer_live.errors",
)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in a file, including ones inside functions;
    `from a import b` counts as both `a` and `a.b` (b may be a sub-module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def is_qt(module: str) -> bool:
    root = module.split(".")[0]
    return root in QT_ROOTS or root.lower().startswith("qt")


def test_core_never_imports_qt():
    core_files = [p for p in (REPO / "fer_live").rglob("*.py") if "gui" not in p.relative_to(REPO / "fer_live").parts]
    assert len(core_files) > 10
    offences = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in core_files
        for line, module in imported_modules(path)
        if is_qt(module)
    ]
    assert not offences, "Qt outside fer_live/gui/:\n" + "\n".join(offences)


def qt_modules_loaded_by(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] in {QT_ROOTS!r}))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_headless_modules_load_without_qt():
    assert qt_modules_loaded_by("import fer_live.cli, fer_live.annotate, fer_live.pipeline") == []


def test_command_registry_loads_without_qt():
    # The registry imports every sub-command module to add its arguments, the GUI's included:
    # those modules must import Qt only inside run().
    assert qt_modules_loaded_by("import fer_live.cli\nfer_live.cli.build_parser()") == []


def test_training_uses_only_the_allowed_core():
    offences = []
    for path in (REPO / "training").rglob("*.py"):
        for line, module in imported_modules(path):
            if module.split(".")[0] != "fer_live" or module == "fer_live":
                continue
            if not any(module == allowed or module.startswith(allowed + ".") for allowed in TRAINING_MAY_IMPORT):
                # `from fer_live.model import SEResNet` also lists fer_live.model.SEResNet: allowed by prefix.
                offences.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not offences, "training/ reaches into the app:\n" + "\n".join(offences)


def test_import_scanner_sees_nested_and_from_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\ndef f():\n    from PySide6.QtCore import Qt\n    import pyqtgraph as pg\n")
    modules = [m for _, m in imported_modules(sample)]
    assert {"os", "PySide6.QtCore", "pyqtgraph"} <= set(modules)
    assert [m for m in modules if is_qt(m)] == ["PySide6.QtCore", "PySide6.QtCore.Qt", "pyqtgraph"]
