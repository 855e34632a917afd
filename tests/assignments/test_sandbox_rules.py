"""The sandbox's own code: the two stages that run in the child load nothing from the package
(they must not import code from any tree but the graded one), and the grader never imports a
submission (no import of the graded tree's modules happens in the grader's modules)."""

from __future__ import annotations

import ast
from pathlib import Path

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "minitorch_cnn" / "assignments"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or "").split(".")[0])
    return names


def test_jail_uses_the_standard_library_only() -> None:
    assert _imports(ASSIGNMENTS / "jail.py") <= {"__future__", "ctypes", "json", "os", "resource", "sys"}


def test_runner_imports_numpy_and_the_standard_library_only() -> None:
    allowed = {"json", "os", "sys", "traceback", "resource", "numpy", "minitorch_cnn"}
    found = _imports(ASSIGNMENTS / "runner.py")
    assert found <= allowed and not any(n.startswith(".") for n in found), found
    text = (ASSIGNMENTS / "runner.py").read_text()
    assert text.count("import minitorch_cnn") == 1  # only to check the submission's package imports


def test_probe_modules_import_only_numpy_at_the_top() -> None:
    for path in (ASSIGNMENTS / "probes.py", ASSIGNMENTS.parents[1] / "tests/tasks/hidden/hidden_probes.py"):
        top = [n for n in ast.parse(path.read_text()).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {a.name for n in top for a in n.names} | {getattr(n, "module", None) for n in top} - {None}
        assert names <= {"numpy", "np", "__future__", "annotations", "itertools", "math"}, (path, names)
