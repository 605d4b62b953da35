"""The layering rules: Qt only under fer_live/gui/, the core layers in order with no import circles,
training/ only on the core it may use and never imported by it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QT_ROOTS = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2", "qtpy")
# What training/ may use of the app: the shared vocabulary, the model, the runtimes it builds for
# (input preparation, the ONNX export, the int8 file format), the detector (for --detect) and the
# operating point (evaluate scores probabilities as the app reports them).
TRAINING_MAY_IMPORT = (
    "fer_live.errors",
    "fer_live.labels",
    "fer_live.options",
    "fer_live.assets",
    "fer_live.checksums",
    "fer_live.model",
    "fer_live.inference.preprocess",
    "fer_live.inference.onnx",
    "fer_live.inference.int8",
    "fer_live.inference.operating_point",
    "fer_live.faces.detection",
)


def imported_modules(path: Path, package: str = "") -> list[tuple[int, str]]:
    """(line, module) for every import in a file, including ones inside functions;
    `from a import b` counts as both `a` and `a.b` (b may be a sub-module). Relative imports are
    resolved against `package` (the file's package), so `from ..gui import window` cannot slip by."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                assert node.level <= len(parts), f"{path}:{node.lineno}: relative import beyond the top package"
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            if base:
                found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}" if base else alias.name) for alias in node.names]
    return found


def package_of(path: Path) -> str:
    """The package a project file's relative imports start from."""
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def is_qt(module: str) -> bool:
    root = module.split(".")[0]
    return root in QT_ROOTS or root.lower().startswith("qt")


def test_core_never_imports_qt():
    core_files = [p for p in (REPO / "fer_live").rglob("*.py") if "gui" not in p.relative_to(REPO / "fer_live").parts]
    assert len(core_files) > 10
    offences = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in core_files
        for line, module in imported_modules(path, package_of(path))
        if is_qt(module)
    ]
    assert not offences, "Qt outside fer_live/gui/:\n" + "\n".join(offences)


def qt_modules_loaded_by(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] in {QT_ROOTS!r}))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_headless_modules_load_without_qt():
    assert qt_modules_loaded_by("import fer_live.cli, fer_live.cli.annotate, fer_live.pipeline.frames") == []


def test_command_registry_loads_without_qt():
    # The registry imports every sub-command module to add its arguments, the GUI's included:
    # those modules must import Qt only inside run().
    assert qt_modules_loaded_by("import fer_live.cli\nfer_live.cli.build_parser()") == []


def test_training_uses_only_the_allowed_core():
    offences = []
    for path in (REPO / "training").rglob("*.py"):
        for line, module in imported_modules(path, package_of(path)):
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


def test_import_scanner_resolves_relative_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from . import tracking\nfrom ..gui.window import MainWindow\nfrom .. import labels\n")
    modules = [m for _, m in imported_modules(sample, "fer_live.faces")]
    assert modules == [
        "fer_live.faces",
        "fer_live.faces.tracking",
        "fer_live.gui.window",
        "fer_live.gui.window.MainWindow",
        "fer_live",
        "fer_live.labels",
    ]


# Each module's layer; a module may import its own layer and the layers before it, never a later one.
LAYERS = (
    (
        "shared vocabulary",
        (
            "fer_live",
            "fer_live.errors",
            "fer_live.labels",
            "fer_live.evidence",
            "fer_live.results",
            "fer_live.results_csv",
            "fer_live.landmarks_file",
            "fer_live.options",
            "fer_live.assets",
            "fer_live.checksums",
            "fer_live.atomic",
            "fer_live.native_stderr",
        ),
    ),
    ("model", ("fer_live.model",)),
    ("inference", ("fer_live.inference",)),
    ("faces", ("fer_live.faces",)),
    ("pipeline", ("fer_live.pipeline",)),
    ("sessions", ("fer_live.sessions",)),
    (
        "applications",
        ("fer_live.cli", "fer_live.gui", "fer_live.bench", "fer_live.__main__", "fer_live.api", "fer_live.api_results"),
    ),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for root in ("fer_live", "training") for p in (REPO / root).rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (any import: top level, in functions, TYPE_CHECKING)."""
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for _, imported in imported_modules(path, package_of(path)):
            # `from a import b`: b is a sub-module or a name in a; take the longest project module.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def layer_of(module: str) -> int | None:
    """The layer a module is listed in, itself or through its package; `fer_live` names only the
    package's __init__, so a new top-level module has no layer until LAYERS lists it."""
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = prefix != "fer_live" and module.startswith(prefix + ".")
            if (module == prefix or inside) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


def test_a_new_top_level_module_needs_a_layer():
    assert layer_of("fer_live.labels") == 0 and layer_of("fer_live.gui.tools.bench") == len(LAYERS) - 1
    assert layer_of("fer_live.something_new") is None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_core_module_has_a_layer_and_imports_only_earlier_layers():
    graph = import_graph()
    core = [m for m in graph if m.split(".")[0] == "fer_live"]
    assert [m for m in core if layer_of(m) is None] == []
    offences = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module in core
        for target in graph[module]
        if target.startswith("fer_live") and layer_of(target) > layer_of(module)
    ]
    assert not offences, "imports against the layer order:\n" + "\n".join(offences)


def test_core_never_imports_training():
    # training/ sits above the app (it reads data sets); the app never reaches back into it.
    graph = import_graph()
    offences = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "fer_live"
        for target in targets
        if target.split(".")[0] == "training"
    ]
    assert not offences, "fer_live/ imports training/:\n" + "\n".join(offences)
