"""One check per rule, one home per op (ARCHITECTURE.md, "Adding an op").

* Every argument rule is checked once, in ``minitorch_cnn/ops/_checks.py``, called by both the
  functional entry point and the layer constructor. The rule most often written by hand was the
  bool-safe int check (``isinstance(v, int) and not isinstance(v, bool)``: ``True`` is an ``int``);
  ``is_int`` / ``check_int`` are its one home, and a static scan keeps it that way.
* Every op's Tensor-level entry point sits in ``ops/`` beside its ``Function``; ``nn.functional``
  re-exports it and defines only the wrappers and compositions listed in ``DEFINED_IN_FUNCTIONAL``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import minitorch_cnn.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "minitorch_cnn"
THE_HOME = PACKAGE / "ops" / "_checks.py"

# Layers of ARCHITECTURE.md (first name under minitorch_cnn.) whose hand-written int checks this change
# did not migrate; each may import ``ops._checks.is_int`` (rank >= 2) except where noted. Shrink this
# list, never grow it: new code uses ``is_int`` / ``check_int``.
NOT_YET_MIGRATED = {
    "backend": "rank 0, below ops: cannot import ops._checks",
    "autograd": "rank 1, below ops: cannot import ops._checks",
    "tensors": "being split into modules by another change; migrate after it lands",
    "creation": "tensors' layer, migrated with the tensors split",
    "data": "DataLoader / built-in data set checks, outside the ops and layers",
    "compress": "compression pipeline checks, outside the ops and layers",
    "models": "model-zoo builders (models/_stem.py), outside the ops and layers",
    "safe_load": "file-format guards on parsed JSON headers",
    "checkpoint": "checkpoint-field checks on parsed files",
}

# Names in nn.functional.__all__ defined in nn/functional.py itself: none is an op with a Function.
DEFINED_IN_FUNCTIONAL = {
    "relu": "calls Tensor.relu, whose Function is in ops/elementwise.py",
    "sigmoid": "calls Tensor.sigmoid (ops/elementwise.py)",
    "tanh": "calls Tensor.tanh (ops/elementwise.py)",
    "softmax": "calls Tensor.softmax after PyTorch's implicit-dim rule (ops/elementwise.py)",
    "log_softmax": "calls Tensor.log_softmax after PyTorch's implicit-dim rule (ops/elementwise.py)",
    "flatten": "calls Tensor.flatten, a reshape",
    "one_hot": "no Function, no gradient: an index comparison",
    "hardtanh": "a composition: Tensor.clamp",
    "relu6": "a composition: hardtanh(x, 0, 6)",
    "hardswish": "a composition: x * relu6(x + 3) / 6",
    "local_response_norm": "a composition: pad + avg_pool3d over the channel axis",
}


def _isinstance_of(node: ast.AST) -> tuple[str, set[str]] | None:
    """``isinstance(x, T)`` -> (dump of x, names in T: ``{"int", "np.integer"}``); else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
            and len(node.args) == 2):
        return None
    types = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
    return ast.dump(node.args[0]), {ast.unparse(t) for t in types}


def bool_safe_int_checks(source: str) -> list[int]:
    """Lines of every boolean expression that tests one value with both ``isinstance(v, bool)`` and
    ``isinstance(v, int / np.integer / (int, ...))``: a hand-written bool-safe int check."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.BoolOp):
            continue
        seen: dict[str, set[str]] = {}
        for sub in ast.walk(node):
            found = _isinstance_of(sub)
            if found:
                seen.setdefault(found[0], set()).update(found[1])
        if any("bool" in names and names & {"int", "np.integer", "numbers.Integral"} for names in seen.values()):
            lines.append(node.lineno)
    return sorted(set(lines))


def hand_written_int_checks(package: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in sorted(package.rglob("*.py")):
        if path == package / "ops" / "_checks.py":
            continue
        layer = path.relative_to(package).parts[0].removesuffix(".py")
        if layer in NOT_YET_MIGRATED:
            continue
        wrong.extend(f"{path.relative_to(package.parent)}:{line}" for line in bool_safe_int_checks(path.read_text()))
    return wrong


def test_no_module_writes_its_own_bool_safe_int_check() -> None:
    wrong = hand_written_int_checks()
    assert not wrong, ("hand-written bool-safe int checks; use ops._checks.is_int / check_int (the one home of "
                       "the rule, with its one wording):\n" + "\n".join(wrong))


def test_the_scan_finds_the_pattern_in_its_spellings() -> None:
    assert bool_safe_int_checks("ok = isinstance(v, int) and not isinstance(v, bool)\n") == [1]
    assert bool_safe_int_checks("if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:\n"
                                "    pass\n") == [1]
    assert bool_safe_int_checks("ok = all(isinstance(v, int) and not isinstance(v, bool) for v in s)\n") == [1]
    assert bool_safe_int_checks("ok = isinstance(v, bool) or isinstance(w, int)\n") == []
    assert bool_safe_int_checks("ok = is_int(v) and v >= 1\n") == []
    assert bool_safe_int_checks(THE_HOME.read_text())  # the home holds it (is_int)


def test_every_unmigrated_layer_is_a_real_layer() -> None:
    layers = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    assert set(NOT_YET_MIGRATED) <= layers
    assert "ops" not in NOT_YET_MIGRATED and "nn" not in NOT_YET_MIGRATED


def test_every_op_entry_point_lives_in_ops() -> None:
    outside = {name: getattr(F, name).__module__ for name in F.__all__
               if not getattr(F, name).__module__.startswith("minitorch_cnn.ops")}
    unlisted = {n: m for n, m in outside.items() if n not in DEFINED_IN_FUNCTIONAL}
    assert not unlisted, (f"entry points of nn.functional defined outside ops/: {unlisted}; put each beside its "
                          "Function in ops/ and re-export it, or list a composition in DEFINED_IN_FUNCTIONAL")
    stale = set(DEFINED_IN_FUNCTIONAL) - set(outside)
    assert not stale, f"DEFINED_IN_FUNCTIONAL lists names that are no longer defined in nn/functional.py: {stale}"


def test_functional_re_exports_the_same_functions() -> None:
    from minitorch_cnn.ops import batch_norm, dropout, gelu, linear, losses, norm

    assert F.linear is linear.linear and F.batch_norm is batch_norm.batch_norm and F.gelu is gelu.gelu
    assert F.dropout is dropout.dropout and F.dropout2d is dropout.dropout2d
    assert F.cross_entropy is losses.cross_entropy and F.binary_cross_entropy is losses.binary_cross_entropy
    assert F.layer_norm is norm.layer_norm and F.group_norm is norm.group_norm


def test_layer_and_functional_share_one_wording() -> None:
    """A rule checked by a constructor (no tensor yet) and by the functional op says the same thing."""
    import pytest

    import minitorch_cnn as mt
    from minitorch_cnn import nn

    x = mt.randn(1, 4, 5, 5)
    cases = [
        (lambda: nn.Conv2d(4, 4, 3, groups=0), lambda: F.conv2d(x, mt.randn(4, 4, 3, 3), groups=0),
         "groups must be a positive int, got 0"),
        (lambda: nn.Conv2d(3, 4, 3, groups=2), lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(4, 1, 3, 3), groups=2),
         "in_channels=3.* is not divisible by groups=2; use a groups that divides"),
        (lambda: nn.Upsample(scale_factor=2, mode="cubic"), lambda: F.interpolate(x, scale_factor=2, mode="cubic"),
         "mode must be one of 'nearest', 'linear', 'bilinear', 'trilinear', got 'cubic'"),
        (lambda: nn.Upsample(size=4, scale_factor=2), lambda: F.interpolate(x, size=4, scale_factor=2),
         "give exactly one of size and scale_factor"),
        (lambda: nn.Upsample(scale_factor=0), lambda: F.interpolate(x, scale_factor=0),
         "scale_factor must be a positive number"),
        (lambda: nn.AvgPool2d(2, divisor_override=0), lambda: F.avg_pool2d(x, 2, divisor_override=0),
         "divisor_override must be a non-zero int or None, got 0"),
        (lambda: nn.ConvTranspose2d(4, 4, 3, stride=2, output_padding=2),
         lambda: F.conv_transpose2d(x, mt.randn(4, 4, 3, 3), stride=2, output_padding=2),
         r"output_padding=\(2, 2\) must be smaller than either stride=\(2, 2\)"),
        (lambda: nn.LocalResponseNorm(0), lambda: F.local_response_norm(x, 0), "size must be a positive int, got 0"),
    ]
    for layer, functional, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            layer()
        with pytest.raises(ValueError, match=pattern):
            functional()
