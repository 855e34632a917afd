"""ARCHITECTURE.md's import rule, enforced: the layer table there is the single source of truth.

Each module of the package belongs to the row of ARCHITECTURE.md's "Layers" table that names its
first component under ``minitorch_cnn.``; a module-level import may reach only the same or a lower
rank; an import inside a function may go up only where the "Lazy imports that go up" table says so.
Imports under ``if TYPE_CHECKING:`` are for type checkers and never run, so they are not counted.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "minitorch_cnn"


def _table_rows(section: str) -> list[list[str]]:
    """The body rows of the first Markdown table after the heading ``section``."""
    text = (REPO / "ARCHITECTURE.md").read_text()
    body = text.split(section, 1)[1]
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[start + 2:end]]


def layer_ranks() -> dict[str, int]:
    """``{"backend": 0, "autograd": 1, ...}`` from the Layers table (names in backticks)."""
    ranks = {}
    for row in _table_rows("## Layers"):
        for name in re.findall(r"`([a-z_]+)`", row[2]):
            ranks[name] = int(row[0])
    return ranks


def allowed_lazy() -> set[tuple[str, str]]:
    return {(row[0].strip("`"), row[1].strip("`")) for row in _table_rows("### Lazy imports that go up")}


def _module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = REPO) -> list[tuple[str, bool, int]]:
    """(imported module, inside a function?, line) for every import statement in ``path``."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - max(child.level - 1, 0)] if child.level else []
                target = ".".join(base + ([child.module] if child.module else []))
                names = [target] if child.module else [f"{target}.{a.name}" for a in child.names]
                found.extend((t, inner, child.lineno) for t in names)
            elif isinstance(child, ast.Import):
                found.extend((a.name, inner, child.lineno) for a in child.names)
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return found


def _layer(module: str) -> str | None:
    """``minitorch_cnn.ops.conv`` -> ``ops``; the facade ``minitorch_cnn`` -> ``tensors``; others None."""
    parts = module.split(".")
    if parts[0] != "minitorch_cnn":
        return None
    return parts[1] if len(parts) > 1 else "tensors"


def test_every_module_belongs_to_a_layer() -> None:
    ranks = layer_ranks()
    missing = sorted({_layer(_module_name(p)) for p in PACKAGE.rglob("*.py")} - set(ranks) - {"tensors"})
    assert not missing, (f"modules {missing} are in no row of ARCHITECTURE.md's Layers table: add them to the row "
                         "of the layer they belong to (the `modules` column), or a new row")


def upward_imports(root: Path = REPO) -> list[str]:
    """Every import under ``root/minitorch_cnn`` that goes up the layers, as ``file:line: ...`` lines."""
    ranks, lazy_ok, wrong = layer_ranks(), allowed_lazy(), []
    package = root / "minitorch_cnn"
    for path in sorted(package.rglob("*.py")):
        if path == package / "__init__.py":  # the facade re-exports every layer, on first use
            continue
        here = _layer(_module_name(path, root))
        for target, lazy, line in _imports(path, root):
            there = _layer(target)
            if there is None or there == here or ranks.get(there, -1) <= ranks[here]:
                continue
            if lazy and (here, there) in lazy_ok:
                continue
            kind = "lazy import" if lazy else "import"
            wrong.append(f"{path.relative_to(root)}:{line}: {kind} of {target} ({there}, rank {ranks[there]}) "
                         f"from layer {here} (rank {ranks[here]})")
    return wrong


def test_imports_only_go_down_the_layers() -> None:
    wrong = upward_imports()
    assert not wrong, "imports that go up ARCHITECTURE.md's layers (see its import rule):\n" + "\n".join(wrong)


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself, on a fake package: upward imports are reported, allowed lazy ones are not."""
    ops = tmp_path / "minitorch_cnn" / "ops"
    ops.mkdir(parents=True)
    (ops / "probe.py").write_text("from ..nn import Module\n\ndef f():\n    from ..tensors import Tensor\n")
    (ops / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..viz import trace\n")
    (tmp_path / "minitorch_cnn" / "autograd.py").write_text("def g():\n    from .nn import Module\n")
    assert upward_imports(tmp_path) == [
        "minitorch_cnn/autograd.py:2: lazy import of minitorch_cnn.nn (nn, rank 5) from layer autograd (rank 1)",
        "minitorch_cnn/ops/probe.py:1: import of minitorch_cnn.nn (nn, rank 5) from layer ops (rank 2)",
    ]


# --------------------------------------------------------------------------------------------------
# The fast kernels are reached through one seam
# --------------------------------------------------------------------------------------------------
FAST_SUBMODULES = {p.stem for p in (PACKAGE / "fast").glob("*.py") if p.stem != "__init__"}


def fast_seam_violations(root: Path = REPO) -> list[str]:
    """Every place under ``ops/`` or ``nn/`` that reaches a module of ``fast/`` other than through the
    seam: an import of ``minitorch_cnn.fast.<anything>`` (or ``from ..fast import ...``), or an
    attribute ``fast.<submodule>`` (``fast.threads``, ``fast.conv_shifted``, ``fast.allocator``, ...)."""
    package, wrong = root / "minitorch_cnn", []
    for layer in ("ops", "nn"):
        for path in sorted((package / layer).rglob("*.py")):
            name = _module_name(path, root)
            where = f"{path.relative_to(root)}"
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    base = name.split(".")[: len(name.split(".")) - node.level] if node.level else []
                    target = ".".join(base + ([node.module] if node.module else []))
                    if target.startswith("minitorch_cnn.fast"):
                        wrong.append(f"{where}:{node.lineno}: from {target} import ...; use `from .. import fast`")
                    elif target == "minitorch_cnn" and any(a.name == "fast" and a.asname for a in node.names):
                        wrong.append(f"{where}:{node.lineno}: import fast under another name")
                elif isinstance(node, ast.Import):
                    wrong.extend(f"{where}:{node.lineno}: import {a.name}; use `from .. import fast`"
                                 for a in node.names if a.name.startswith("minitorch_cnn.fast"))
                elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "fast"
                      and node.attr in FAST_SUBMODULES):
                    wrong.append(f"{where}:{node.lineno}: fast.{node.attr} reaches past the seam")
    return wrong


def test_ops_and_nn_reach_the_fast_kernels_only_through_the_seam() -> None:
    wrong = fast_seam_violations()
    assert not wrong, ("ops/ and nn/ may name the fast kernels (thread pool, allocator, shifted conv, ...) only "
                       "through the seam module, `from .. import fast` (see fast/__init__.py):\n" + "\n".join(wrong))
    assert {"threads", "allocator", "conv_shifted"} <= FAST_SUBMODULES
    assert not any((PACKAGE / "ops" / f"{m}.py").exists() for m in FAST_SUBMODULES)


def test_the_seam_rule_catches_a_direct_import(tmp_path: Path) -> None:
    ops = tmp_path / "minitorch_cnn" / "ops"
    ops.mkdir(parents=True)
    (ops / "ok.py").write_text("from .. import fast\n\ndef f(a, b):\n    return fast.matmul(a, b)\n")
    (ops / "bad.py").write_text("from ..fast.threads import parallel_for\nfrom .. import fast\n"
                                "x = fast.threads.pool_size()\n")
    assert fast_seam_violations(tmp_path) == [
        "minitorch_cnn/ops/bad.py:1: from minitorch_cnn.fast.threads import ...; use `from .. import fast`",
        "minitorch_cnn/ops/bad.py:3: fast.threads reaches past the seam",
    ]
