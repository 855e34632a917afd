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


def test_the_sandbox_runs_a_python_installed_under_tmp(tmp_path) -> None:
    """A checkout (and its .venv) under /tmp, as a CI runner may have it: the jail's private /tmp must
    not hide the interpreter (it is mounted before the binds)."""
    import shutil
    import subprocess
    import sys

    import pytest

    from minitorch_cnn.assignments.sandbox import isolation

    if isolation().mode == "plain":
        pytest.skip("needs namespaces (root, as in CI, or user namespaces)")
    assert str(tmp_path).startswith("/tmp/") or pytest.skip(f"tmp_path {tmp_path} is not under /tmp")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    tree = tmp_path / "tree"
    shutil.copytree(ASSIGNMENTS.parent, tree / "minitorch_cnn", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys, numpy as np; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "from minitorch_cnn.assignments.sandbox import ProbeItem, run_probes;"
            "src = 'import numpy as np\\ndef probe_1_1__x(x):\\n    import sys\\n    return {\"p\": np.array(len(sys.prefix))}\\n';"
            "r = run_probes(Path(sys.argv[2]), {'m': src}, [ProbeItem('1.1/x', '1.1', 'm', 'probe_1_1__x', {})],"
            " Path(sys.argv[3]));"
            "print(r['1.1/x'].answers['p'], r['1.1/x'].error)")
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code, str(ASSIGNMENTS.parents[1]), str(tree), str(work)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.split()[0] == str(len(str(venv))), proc.stdout + proc.stderr
