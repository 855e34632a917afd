"""Every file the package writes is written atomically: a scan of the package's source for calls
that write a file. A call is fine when it writes into a file object that ``atomic_open`` (or an
in-memory buffer) gave, or when it is listed below with the reason it needs no atomicity; a new
direct write to a final path (``np.savez(path)``, ``path.write_text``, ``open(path, "w")``,
``fig.savefig(path)``, ``graph.render``) fails this test."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minitorch_cnn"
WRITERS = {"write_text", "write_bytes", "savefig", "save", "savez", "savez_compressed", "render", "tofile", "dump"}
SAFE_SOURCES = {"atomic_open", "BytesIO", "StringIO", "ZipFile", "TemporaryFile", "NamedTemporaryFile"}

# (file, function) -> why a direct write is right there
ALLOWED = {
    ("assignments/intake.py", "_pristine_package"): "builds the grader's own fresh temporary tree",
    ("assignments/intake.py", "build_graded_tree"): "builds the grader's own fresh temporary tree",
    ("assignments/jail.py", "_bind"): "creates an empty mount point in the sandbox's private tmpfs",
    ("serialization.py", "_write"): "safetensors' save returns bytes, written by atomic_write_bytes",
    ("serialization.py", "load"): "copies a file object's bytes into a fresh temporary folder to read it guarded",
    ("vision/utils.py", "save_image"): "writes into a BytesIO for a path (then atomic_write_bytes), or into the "
                                       "caller's own file object",
}


def _safe_names(func: ast.AST) -> set[str]:
    """Names bound to atomic or in-memory file objects inside ``func``."""
    names = set()
    for node in ast.walk(func):
        items = node.items if isinstance(node, ast.With) else []
        for item in items:
            call = item.context_expr
            if isinstance(call, ast.Call) and _name(call.func) in SAFE_SOURCES and isinstance(item.optional_vars,
                                                                                              ast.Name):
                names.add(item.optional_vars.id)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _name(node.value.func) in SAFE_SOURCES:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _name(func: ast.AST) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _direct_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE).as_posix()
    found = []
    for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        safe = _safe_names(func)
        for call in [n for n in ast.walk(func) if isinstance(n, ast.Call)]:
            name = _name(call.func)
            if name == "open" and isinstance(call.func, ast.Name):
                mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"),
                                                                    None)
                if not (isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax")):
                    continue
            elif name not in WRITERS or not isinstance(call.func, ast.Attribute):  # render(...): viz's own, atomic
                continue
            else:
                target = call.args[1] if name == "dump" and len(call.args) > 1 else (call.args[0] if call.args else None)
                if isinstance(target, ast.Name) and target.id in safe:
                    continue
                if name in ("save", "dump") and not call.args:
                    continue
            if (rel, func.name) not in ALLOWED:
                found.append(f"{rel}:{call.lineno} {func.name}: {ast.unparse(call)[:80]}")
    return found


def test_every_write_is_atomic_or_explained() -> None:
    found = [w for path in sorted(PACKAGE.rglob("*.py")) for w in _direct_writes(path)]
    assert found == [], "direct writes to final paths (use data.fileio.atomic_open / atomic_write_*):\n" + "\n".join(
        found)


def test_the_scan_catches_a_direct_write(tmp_path: Path) -> None:
    bad = PACKAGE / "_scan_probe_tmp.py"
    try:
        bad.write_text("import numpy as np\n\ndef f(path, a):\n    np.savez(path, a=a)\n    open(path, 'w')\n")
        assert len(_direct_writes(bad)) == 2
    finally:
        bad.unlink()
