"""The task checks of the sandboxed grader (``minitorch_cnn/assignments/probes.py`` and the hidden
``tests/tasks/hidden/hidden_probes.py``): every task has its probes, they run on the reference
and agree with what the visible pytest tests expect, hidden inputs differ per student, and on a
student tree a stub or a wrong solution is caught by the probe exactly as by the pytest test.

Kept fast: the probes are small; three subprocesses run in one student tree (stubs: one; a wrong
solution: probes once and pytest once).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minitorch_cnn.assignments.checks import Check, answers_as_arrays, compare, load_checks, rng_for
from minitorch_cnn.assignments.markers import parse_regions, stub_lines
from minitorch_cnn.assignments.student import make_student_tree, tutorial_for
from minitorch_cnn.assignments.tasks import HIDDEN_TESTS_DIR, TASKS, TASKS_BY_ID, get_task

REPO_ROOT = Path(__file__).resolve().parents[2]
VISIBLE_FILE = REPO_ROOT / "minitorch_cnn" / "assignments" / "probes.py"
HIDDEN_FILE = REPO_ROOT / HIDDEN_TESTS_DIR / "hidden_probes.py"
VISIBLE = load_checks(VISIBLE_FILE, hidden=False)
HIDDEN = load_checks(HIDDEN_FILE, hidden=True)
ALL = VISIBLE + HIDDEN
_IDS = [("hidden:" if c.hidden else "") + c.key for c in ALL]


def _inputs(check: Check, student: str = "alice") -> dict:
    return check.inputs(rng_for(check, student)) if check.inputs else {}


def _answers(check: Check, student: str = "alice") -> dict[str, np.ndarray]:
    return answers_as_arrays(check.probe(_inputs(check, student)))


# -- the registry is covered ---------------------------------------------------------------------

def test_every_task_has_checks_and_no_check_names_an_unknown_task() -> None:
    visible_tasks, hidden_tasks = {c.task for c in VISIBLE}, {c.task for c in HIDDEN}
    assert [t.id for t in TASKS if t.id not in visible_tasks] == [], "tasks without a visible check"
    assert [t.id for t in TASKS if t.hidden and t.id not in hidden_tasks] == [], "hidden tests without a hidden check"
    assert sorted((visible_tasks | hidden_tasks) - set(TASKS_BY_ID)) == [], "checks of unknown tasks"
    assert sorted(hidden_tasks - {t.id for t in TASKS if t.hidden}) == [], "hidden checks of a task with no hidden tests"
    for checks in (VISIBLE, HIDDEN):
        keys = [c.key for c in checks]
        assert len(keys) == len(set(keys))


@pytest.mark.parametrize("path", [VISIBLE_FILE, HIDDEN_FILE], ids=["visible", "hidden"])
def test_module_is_self_contained_and_tidy(path: Path) -> None:
    """Only NumPy and the standard library at the top; every probe documented; no orphan inputs or
    tolerances."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top == "numpy" or top in sys.stdlib_module_names, f"{path.name}: top-level import {name}"
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    checks = {c.probe_name: c for c in load_checks(path, hidden=path == HIDDEN_FILE)}
    for name, fn in namespace.items():
        if name.startswith("inputs_"):
            assert "probe_" + name[len("inputs_"):] in checks, f"{name} has no probe"
        if name.startswith("probe_"):
            assert name in checks and fn.__doc__ and "\n" not in fn.__doc__.strip(), f"{name}: one-line docstring"
    keys = {c.key for c in checks.values()}
    assert sorted(set(namespace.get("TOLERANCE", {})) - keys) == [], "TOLERANCE names unknown checks"
    if path == HIDDEN_FILE:
        assert all(c.inputs is not None for c in checks.values()), "every hidden check draws its inputs"


# -- on the reference ----------------------------------------------------------------------------

@pytest.mark.parametrize("check", ALL, ids=_IDS)
def test_probe_runs_on_the_reference_and_is_deterministic(check: Check) -> None:
    first, second = _answers(check), _answers(check)
    assert first and first.keys() == second.keys()
    for name in first:
        assert first[name].dtype.kind in "biuf"
        assert np.array_equal(first[name], second[name], equal_nan=True), f"{check.key}: {name} changes between runs"
    assert compare(check, first, second) == (True, "")
    json.dumps({k: v.tolist() for k, v in first.items()})  # plain data: it travels back from the sandbox


def test_hidden_inputs_depend_on_the_student_and_visible_ones_do_not() -> None:
    def same(a: dict, b: dict) -> bool:
        return a.keys() == b.keys() and all(np.shape(a[k]) == np.shape(b[k]) and np.array_equal(a[k], b[k])
                                            for k in a)

    for check in HIDDEN:
        assert same(_inputs(check, "alice"), _inputs(check, "alice"))
        assert not same(_inputs(check, "alice"), _inputs(check, "bob")), f"{check.key}: the same for two students"
    for check in VISIBLE:
        assert same(_inputs(check, "alice"), _inputs(check, "bob")), f"{check.key}: visible inputs vary"


def test_a_wrong_answer_fails_the_verdict() -> None:
    check = next(c for c in VISIBLE if c.key == "2.1/known")
    want = _answers(check)
    bad = dict(want, diag=-want["diag"])
    ok, message = compare(check, bad, want)
    assert not ok and "diag" in message


def _test_module(name: str):
    path = REPO_ROOT / "tests" / "tasks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_probes_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _expected() -> dict[str, dict[str, object]]:
    """What the visible pytest tests expect, check by check, written as the tests write it."""
    e = math.e
    want: dict[str, dict[str, object]] = {
        "1.1/forward": {"y": [[5.0, -2.0], [1.5, 8.0]]},
        "1.1/backward": {"grad_a": [4.0, 50.0, 600.0], "grad_b": [1.0, 20.0, 300.0], "grad_a_is_none": True},
        "1.2/exp": {"y": np.exp([0.0, 1.0, -2.0]), "grad": [1.0, 2 * e, 3 * np.exp(-2)]},
        "1.3/all": {"shape": [2, 3], "grad": np.full((2, 3), 5.0)},
        "1.3/dims": {"shape_dim1": [2, 3, 4], "grad_dims02_at_1_3": [1.0, 2.0, 3.0],
                     "grad_dim1": np.broadcast_to(np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])[:, None, :], (2, 3, 4))},
        "1.5/order": {"root_first": True, "n_nodes": 4, "n_distinct": 4, "producers_after_consumers": True},
        "1.5/backward": {"grad_x": [4.0, 4.0]},
        "1.6/relu": {"y": [0.0, 0.0, 3.0], "grad": [0.0, 0.0, 5.0]},
        "2.1/known": {"diag": np.full((3, 3), -5.0), "shift": np.arange(16.0).reshape(4, 4)[:, 1:3]},
        "2.2/formula": {"sizes": [28, 14, 3, 6, 2, 3]},
        "2.4/out_first": {"shape": [2, 1, 2, 2, 2, 3], "is_view": True},
        "2.4/im2col": {"shape": [3, 3, 3, 2, 2, 2]},
        "2.5/dilate": {"dilated": [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]], "shape_3d": [2, 1, 5]},
        "2.6/scatter": {"plain": [[[1.0, 10.0, 102.0, 20.0, 200.0]]], "padded_bias": [[[10.5, 102.5, 20.5, 200.5]]]},
        "3.1/values_and_indices": {"y": [[[[5.0, 8.0], [9.0, 7.0]]]], "idx": [[[[1, 6], [12, 14]]]],
                                   "y_pad": [[[[5.0, 8.0], [9.0, 8.0]]]]},
        "3.2/divisors": {"include_pad": [[[[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1.0, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]]],
                         "exclude_pad": np.ones((1, 1, 3, 3)), "override": [[[[13.0, 11.0], [12.0, 22.0]]]]},
        "3.6/modes": {"reflect": [3, 2, 1, 2, 3, 4, 3], "replicate": [1, 1, 1, 2, 3, 4, 4],
                      "circular": [3, 4, 1, 2, 3, 4, 1], "reflect_2d": [[[3, 4, 5, 4], [0, 1, 2, 1], [3, 4, 5, 4]]]},
        "3.7/backward": {"channel_sums_vanish": True},
        "4.3/clip": {"total": 5.0, "clipped": np.array([3, 0, 0, 4]) / (5 + 1e-6), "total_small": 0.5,
                     "untouched": [0.3, -0.4], "total_inf": 2.0},
        "4.4/bound": {"within_bound": True, "reaches_bound": True, "gain_within_bound": True,
                      "gain_reaches_bound": True},
        "4.5/step_lr": {"lrs": [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]},
        "4.6/train_step": {"seen": 8},
        "5.1/rf": {"conv_n": [28, 28], "conv_jump": [1, 1], "conv_rf": [3, 3], "conv_start": [0.5, 0.5],
                   "pool_n": [14, 14], "pool_jump": [2, 2], "pool_rf": [4, 4], "pool_start": [1.0, 1.0],
                   "dil_n": [14, 14], "dil_jump": [2, 2], "dil_rf": [12, 12], "dil_start": [1.0, 1.0],
                   "strided_n": [13, 8], "strided_jump": [2, 3], "strided_rf": [3, 5], "strided_start": [1.5, 2.5]},
        "5.2/gradcam": {"alpha": [[0.0, 2 / 16]]},
        "5.3/positions": {"10_4_3": [0, 3, 6], "10_4_4": [0, 4, 6], "5_5_2": [0]},
        "5.5/upsample": {"same": [[[0.0, 4.0], [8.0, 12.0]]], "shape_7x3": [3, 7, 3]},
        "6.1/projection": {"shape": [2, 6, 4, 4]},
        "7.1/smallest": {"all_alive": [[True, True, False], [True, False, True]],
                         "one_dead": [[False, True, False], [True, False, True]], "k0_kept": 5},
        "7.2/fake_quant": {"y": [-0.8, 0.0, 0.3, 0.7], "grad": [0.0, 2.0, 3.0, 0.0],
                           "y_zero_point": [-1.0, 0.0, 0.5, 0.5]},
        "7.3/sign_ste": {"y": [-1.0, -1.0, 1.0, 1.0, 1.0], "grad": [0.0, 3.0, 3.0, 3.0, 0.0]},
        "8.2/rf": {"rf": [16, 31, 3, 1]},
        "8.3/iou": {"iou": [1 / 7, 1.0, 0.0, 1.0]},
    }
    g = np.arange(24.0).reshape(2, 3, 4)
    want["1.4/leading"] = {"to_4": g.sum(axis=(0, 1)), "to_3_4": g.sum(axis=0)}
    want["1.4/size_one"] = {"shape_2_1_4": [2, 1, 4], "to_2_1_4": g.sum(axis=1, keepdims=True), "shape_3_1": [3, 1],
                            "to_3_1": g.sum(axis=(0, 2))[:, None]}
    a, gs = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]), np.array([[1.0, 0.0, -1.0], [0.3, 0.2, 0.1]])
    s = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    want["1.7/backward"] = {"grad": np.stack([(np.diag(r) - np.outer(r, r)).T @ gi for r, gi in zip(s, gs)])}
    x = np.arange(2 * 1 * 5 * 6, dtype=np.float64).reshape(2, 1, 5, 6)
    v = np.stack([np.stack([x[:, :, 2 * i : 2 * i + 2, j : j + 5 : 2] for j in range(2)], 2) for i in range(2)], 2)
    want["2.4/out_first"]["v"] = v
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
    want["2.4/im2col"]["v"] = _im2col(x)
    two, one = np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 4, 4))
    two[0, 0, 0, 1], two[0, 0, 1, 2], two[0, 0, 3, 0], two[0, 0, 3, 2] = 10.0, 20.0, 30.0, 40.0
    one[0, 0, 0, 1], one[0, 0, 1, 1], one[0, 0, 1, 2], one[0, 0, 3, 0], one[0, 0, 3, 2] = 1, 1, 4, 1, 2  # the 8 wins 4
    want["3.3/routes"] = {"grad_stride2": two, "grad_stride1": one}
    gy, spread = np.arange(1.0, 10.0).reshape(3, 3), np.zeros((1, 1, 3, 3))
    for i, j in np.ndindex(3, 3):
        rows, cols = range(max(i - 1, 0), min(i + 2, 3)), range(max(j - 1, 0), min(j + 2, 3))
        for r in rows:
            for c in cols:
                spread[0, 0, r, c] += gy[i, j] / (len(rows) * len(cols))
    want["3.4/spreads"] = {"grad": spread}
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    p, buf, hist = np.array([1.0, 1.0]), None, []
    for gr in grads:
        buf = gr.copy() if buf is None else 0.9 * buf + 0.9 * gr
        p = p - 0.1 * buf
        hist.append(p)
    want["4.1/momentum"] = {"history": hist}
    p = np.array([1.0, 1.0])
    g1 = grads[0] + 0.1 * p
    buf = g1
    p = p - 0.1 * (g1 + 0.5 * buf)
    g2 = grads[1] + 0.1 * p
    buf = 0.5 * buf + g2
    want["4.1/nesterov"] = {"history": [p, p - 0.1 * (g2 + 0.5 * buf)]}
    p, m, vv, hist = np.array([1.0, 1.0]), 0.0, 0.0, []
    for t, gr in enumerate(grads, start=1):
        m, vv = 0.9 * m + 0.1 * gr, 0.99 * vv + 0.01 * gr * gr
        p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(vv / (1 - 0.99**t)) + 1e-8)
        hist.append(p)
    want["4.2/steps"] = {"history": hist}
    maps = np.array([[0.0, 4.0], [8.0, 12.0]])
    wts = np.array([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]])
    want["5.5/upsample"]["up_4x4"] = (wts @ maps @ wts.T)[None]
    img = np.zeros((4, 4))
    img[0, 0], img[2, 3], img[3, 0] = -2.0, -1.0, 3.0
    want["5.2/gradcam"]["heat"] = np.maximum(-img, 0) / 2.0
    want["6.2/shuffle"] = {f"groups_{k}": np.array(order, dtype=np.float64)[None, :, None, None] * np.ones((1, 6, 2, 2))
                           for k, order in [(2, [0, 3, 1, 4, 2, 5]), (3, [0, 2, 4, 1, 3, 5]), (1, range(6))]}
    return want


def _im2col(x: np.ndarray) -> np.ndarray:
    """(C, kh, kw, N, oh, ow) windows of a 3x3, stride-1 view with a 2x2 output."""
    out = np.zeros((3, 3, 3, 2, 2, 2))
    for c, m, n, b, i, j in np.ndindex(out.shape):
        out[c, m, n, b, i, j] = x[b, c, i + m, j + n]
    return out


EXPECTED = _expected()


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_probe_answers_on_the_reference_are_what_the_tests_expect(key: str) -> None:
    check = next(c for c in VISIBLE if c.key == key)
    got = _answers(check)
    for name, value in EXPECTED[key].items():
        want = np.asarray(value)
        assert got[name].shape == want.shape, f"{key}: {name} shape {got[name].shape}, the test expects {want.shape}"
        if check.rtol == check.atol == 0:  # the verdict compares exactly, as the test does
            np.testing.assert_array_equal(got[name], want, err_msg=f"{key}: {name}")
        else:
            np.testing.assert_allclose(got[name].astype(np.float64), want.astype(np.float64), rtol=1e-6, atol=1e-9,
                                       err_msg=f"{key}: {name}")


def test_random_input_probes_match_the_tests_own_computations() -> None:
    """2.3, 3.5, 3.7, 4.6, 5.3, 5.4, 6.1, 8.1: the expected values of the tests, computed as the tests do."""
    ch2, ch3 = _test_module("test_ch02_convolution"), _test_module("test_ch03_pooling_backprop")
    by_key = {c.key: c for c in VISIBLE}
    x = _inputs(by_key["2.3/known"])
    got = _answers(by_key["2.3/known"])
    for s, p, d in [(1, 0, 1), (2, 1, 1), (1, 2, 2)]:
        want = ch2._by_slicing(x["x"], x["w"], s, p, d) + x["b"][None, :, None, None]
        np.testing.assert_allclose(got[f"s{s}_p{p}_d{d}"], want, atol=1e-10)
    x, got = _inputs(by_key["2.3/groups"]), _answers(by_key["2.3/groups"])
    want = np.concatenate([ch2._by_slicing(x["x"][:, :2], x["w"][:3], 1, 0, 1),
                           ch2._by_slicing(x["x"][:, 2:], x["w"][3:], 1, 0, 1)], axis=1)
    np.testing.assert_allclose(got["y"], want, atol=1e-10)
    x, got = _inputs(by_key["3.5/adjoint"]), _answers(by_key["3.5/adjoint"])
    for size, s, p in [(5, 1, 0), (6, 2, 1), (7, 2, 0)]:
        want = ch3._conv_input_adjoint(x[f"gy_{size}_{s}_{p}"], x["w"], (size, size), s, p)
        np.testing.assert_allclose(got[f"gx_{size}_{s}_{p}"], want, atol=1e-10)
    x, got = _inputs(by_key["3.7/backward"]), _answers(by_key["3.7/backward"])
    gamma, beta = np.array([1.5, -0.5]), np.array([0.1, 0.2])

    def loss(xv: np.ndarray) -> float:
        return float((ch3.BatchNormFunction.forward(ch3._ctx(True, True, True), xv, gamma, beta) * x["g"]).sum())

    numeric = np.zeros_like(x["x"])
    for i in np.ndindex(x["x"].shape):
        step = np.zeros_like(x["x"])
        step[i] = 1e-6
        numeric[i] = (loss(x["x"] + step) - loss(x["x"] - step)) / 2e-6
    np.testing.assert_allclose(got["grad_x"], numeric, atol=1e-6)

    import minitorch_cnn as mt
    from minitorch_cnn import nn

    x, got = _inputs(by_key["4.6/train_step"]), _answers(by_key["4.6/train_step"])
    mt.manual_seed(0)
    model = nn.Linear(3, 3)
    W, b = model.weight.detach().numpy().astype(np.float64), model.bias.detach().numpy().astype(np.float64)
    for batch in (slice(0, 4), slice(4, 8)):
        logits = x["x"][batch] @ W.T + b
        pr = np.exp(logits - logits.max(axis=1, keepdims=True))
        pr /= pr.sum(axis=1, keepdims=True)
        pr[np.arange(4), x["y"][batch]] -= 1
        pr /= 4
        W, b = W - 0.5 * pr.T @ x["x"][batch], b - 0.5 * pr.sum(axis=0)
    np.testing.assert_allclose(got["weight"], W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["bias"], b, rtol=1e-5, atol=1e-6)
    got = _answers(by_key["5.3/occlusion"])
    drop = got["baseline"][0] - got["probs"][0]
    want, count = np.zeros((8, 8)), np.zeros((8, 8))
    for i, r in enumerate(got["rows"]):
        for j, c in enumerate(got["cols"]):
            want[r : r + 4, c : c + 4] += drop[i, j]
            count[r : r + 4, c : c + 4] += 1
    np.testing.assert_allclose(got["heatmap"][0], want / count, rtol=1e-6)
    x, got = _inputs(by_key["5.4/saliency"]), _answers(by_key["5.4/saliency"])
    want = np.abs(x["w"][1].reshape(2, 3, 3)).max(axis=0)
    np.testing.assert_allclose(got["saliency"], np.stack([want, want]), rtol=1e-6)
    got = _answers(by_key["8.1/causal"])
    assert got["y"].shape == (1, 3, 12)
    np.testing.assert_allclose(got["y_changed"][..., :7], got["y"][..., :7], rtol=1e-6)
    assert not np.allclose(got["y_changed"][..., 7], got["y"][..., 7])
    ch6 = _test_module("test_ch06_common_structures")
    got = _answers(by_key["6.1/identity"])
    mt.manual_seed(0)
    block = ch6.BasicBlock(4, 4).eval()
    xt = mt.randn(2, 4, 5, 5)
    np.testing.assert_allclose(got["out"], ch6._reference_block(block, xt), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["silenced"], np.maximum(xt.numpy(), 0), atol=1e-7)
    np.testing.assert_array_equal(got["grad_x"], (xt.numpy() > 0).astype(np.float32))
    got = _answers(by_key["6.1/projection"])
    mt.manual_seed(1)
    block = ch6.BasicBlock(3, 6, stride=2).eval()
    np.testing.assert_allclose(got["out"], ch6._reference_block(block, mt.randn(2, 3, 8, 8)), rtol=1e-5, atol=1e-6)


# -- on a student tree: a stub and a wrong solution ----------------------------------------------

STUBBED = ("2.1", "3.3")
CONTROL = ("2.2", "8.3")  # untouched in the tree: the probes must agree with the reference there
MUTATIONS = {  # task: (file, a line of its solution, a wrong one) -- what a student may well write
    "2.1": ("minitorch_cnn/ops/conv_reference.py", "y[i, j] += k[m, n] * x[i + m, j + n]",
            "y[i, j] += k[kh - 1 - m, kw - 1 - n] * x[i + m, j + n]"),  # a convolution, not a correlation
    "3.3": ("minitorch_cnn/ops/pool.py", "gx[index] += xp.where(arg == t, gy, zero)",
            "gx[index] = xp.where(arg == t, gy, zero)"),  # overwrites where windows overlap
}

_RUNNER = r"""
import json, sys
from pathlib import Path
import minitorch_cnn
from minitorch_cnn.assignments.checks import answers_as_arrays, load_checks, rng_for
assert Path(minitorch_cnn.__file__).resolve().is_relative_to(Path.cwd().resolve()), minitorch_cnn.__file__
tasks = sys.argv[3].split(",")
report = {}
for check in load_checks(Path(sys.argv[1]), False) + load_checks(Path(sys.argv[2]), True):
    if check.task not in tasks:
        continue
    x = check.inputs(rng_for(check, "alice")) if check.inputs else {}
    key = ("hidden:" if check.hidden else "") + check.key
    try:
        answers = answers_as_arrays(check.probe(x))
    except Exception as exc:
        report[key] = {"error": type(exc).__name__, "message": str(exc)}
        continue
    report[key] = {"answers": {k: [v.dtype.str, list(v.shape), v.ravel().tolist()] for k, v in answers.items()}}
print(json.dumps(report))
"""


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["MPLBACKEND"] = "Agg"
    return env


def _run_probes(tree: Path, tasks: tuple[str, ...]) -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(VISIBLE_FILE), str(HIDDEN_FILE), ",".join(tasks)],
                          cwd=tree, env=_env(tree), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for entry in report.values():
        if "answers" in entry:
            entry["answers"] = {k: np.array(flat, dtype=np.dtype(dt)).reshape(shape)
                                for k, (dt, shape, flat) in entry["answers"].items()}
    return report


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("probes") / "tree"
    make_student_tree(REPO_ROOT, out, [get_task(t) for t in STUBBED])
    return out


def test_probes_of_a_stubbed_task_raise_its_not_implemented_error(student: Path) -> None:
    report = _run_probes(student, STUBBED + CONTROL)
    keys = [("hidden:" if c.hidden else "") + c.key for c in ALL if c.task in STUBBED + CONTROL]
    assert sorted(report) == sorted(keys)
    for check in ALL:
        key = ("hidden:" if check.hidden else "") + check.key
        if check.task in STUBBED:
            assert report[key].get("error") == "NotImplementedError", (key, report[key])
            assert report[key]["message"].startswith(f"Task {check.task}: "), (key, report[key])
        elif check.task in CONTROL:
            assert "answers" in report[key], (key, report[key])
            assert compare(check, report[key]["answers"], _answers(check)) == (True, "")


def test_a_wrong_solution_fails_the_verdict_and_the_pytest_test(student: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(student, tree)
    for task_id, (rel, right, wrong) in MUTATIONS.items():
        ref = (REPO_ROOT / rel).read_text(encoding="utf-8").splitlines()
        (region,) = [r for r in parse_regions("\n".join(ref), rel) if r.task == task_id]
        task = get_task(task_id)
        stub = "\n".join(region.indent + ln
                         for ln in stub_lines("", task_id, task.title, tutorial_for(REPO_ROOT, task.chapter)))
        body = "\n".join(ref[region.begin + 1 : region.end])
        assert body.count(right) == 1, f"{rel}: the solution line to mutate is gone: {right}"
        text = (tree / rel).read_text(encoding="utf-8")
        assert text.count(stub) == 1
        (tree / rel).write_text(text.replace(stub, body.replace(right, wrong)), encoding="utf-8")

    report = _run_probes(tree, tuple(MUTATIONS) + CONTROL)
    for check in VISIBLE:
        if check.task in MUTATIONS:
            got = report[check.key]
            assert "answers" in got, (check.key, got)
            ok, message = compare(check, got["answers"], _answers(check))
            assert not ok and message.startswith(check.key), f"{check.key}: the wrong solution passed the verdict"
        elif check.task in CONTROL:
            assert compare(check, report[check.key]["answers"], _answers(check)) == (True, "")

    marks = " or ".join(get_task(t).marker for t in MUTATIONS)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", "-o", "addopts=",
                           "-m", marks, "tests/tasks"], cwd=tree, env=_env(tree), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    for task_id in MUTATIONS:
        failed = [n for n in get_task(task_id).tests if f"FAILED {n}" in proc.stdout]
        assert failed, f"pytest -m {get_task(task_id).marker} passed the wrong solution:\n{proc.stdout[-2000:]}"
