"""The seam to the fast kernels (minitorch_cnn/fast/): with the switch on, every op with a fast
kernel gives the textbook path's values and gradients; the kernel is really taken when on and never
when off; the switch works through ``MINITORCH_CNN_FAST=0`` and through ``fast.disabled()`` /
``fast.enabled(flag)``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, fast
from minitorch_cnn.nn import functional as F

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}
DTYPES = {np.float32: mt.float32, np.float64: mt.float64}


def host(a: mt.Tensor | None) -> np.ndarray | None:
    return None if a is None else backend.to_numpy(a.detach()._array)


def run(on: bool, fn: Callable, arrays: list[np.ndarray], device: str, dtype: type) -> list:
    """``fn(*tensors)`` and the gradients of ``sum(out * gy)`` to every input, fast kernels on or off."""
    with fast.enabled(on):
        ts = [mt.tensor(a.astype(dtype), dtype=DTYPES[dtype], device=device, requires_grad=True) for a in arrays]
        y = fn(*ts)
        gy = np.random.default_rng(7).uniform(-1, 1, y.shape).astype(dtype)
        y.backward(mt.tensor(gy, dtype=DTYPES[dtype], device=device))
        return [host(y)] + [host(t.grad) for t in ts]


def assert_same(fn: Callable, arrays: list[np.ndarray], device: str, dtype: type, scaled: bool = False) -> None:
    """Fast equals textbook to ``TOL``; ``scaled``: the absolute tolerance grows with the result's
    largest magnitude -- for the convolutions, whose weight gradient is a sum over every position:
    its float32 rounding (Winograd's, or a BLAS kernel's own order of summation in a differently
    shaped GEMM, e.g. OpenBLAS's SkylakeX kernel on positions-major blocks) is about 1e-6 of the
    scale of that sum, more than ``TOL`` allows an element that cancels to near zero."""
    on, off = run(True, fn, arrays, device, dtype), run(False, fn, arrays, device, dtype)
    for name, a, b in zip(["output"] + [f"grad {i}" for i in range(len(arrays))], on, off):
        tol = dict(TOL[dtype])
        if scaled:
            tol["atol"] *= max(1.0, float(np.abs(b).max(initial=0.0)))
        np.testing.assert_allclose(a, b, err_msg=name, **tol)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Counts the calls of every fast forward/backward (the real kernels still run)."""
    counts: dict = {}
    for name in ("conv_forward", "conv_backward", "max_pool_forward", "max_pool_backward", "batch_norm_forward",
                 "batch_norm_backward", "relu_forward", "relu_backward"):
        original = getattr(fast, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            counts[_name] = counts.get(_name, 0) + 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(fast, name, spy)
    return counts


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape)


# the unit's CNN (models/fashion_cnn.py) at batch 4: conv 1->32 (im2col: C_in < 8), 32->32, 32->64, 64->64
CNN_CONVS = [(1, 32, 28), (32, 32, 28), (32, 64, 14), (64, 64, 14)]
CONV_CASES = [
    dict(x=(4, cin, s, s), w=(cout, cin, 3, 3), kw=dict(padding=1), fast=cin >= 8) for cin, cout, s in CNN_CONVS
] + [
    dict(x=(2, 8, 9, 7), w=(5, 8, 3, 2), kw=dict(padding=(2, 0), dilation=(2, 1)), fast=True),  # dilation, uneven
    dict(x=(2, 8, 6, 6), w=(4, 8, 2, 2), kw=dict(padding="same"), fast=True),  # even kernel, 'same'
    dict(x=(2, 8, 5, 5), w=(4, 8, 3, 3), kw=dict(padding="full"), fast=True),
    dict(x=(2, 8, 9, 9), w=(4, 8, 3, 3), kw=dict(stride=2, padding=1), fast=False),  # strided: im2col
    dict(x=(2, 8, 6, 6), w=(8, 4, 3, 3), kw=dict(groups=2, padding=1), fast=False),  # grouped: im2col
    dict(x=(2, 8, 11), w=(4, 8, 3), kw=dict(padding=1), fast=False, nd=1),
    dict(x=(2, 8, 4, 5, 5), w=(3, 8, 3, 3, 3), kw=dict(padding=1), fast=False, nd=3),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c['x']}-{c['w']}-{c['kw']}")
def test_conv_fast_equals_textbook(device: str, case: dict, dtype: type, calls: dict) -> None:
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[case.get("nd", 2)]
    b = rand(case["w"][0], seed=2)
    assert_same(lambda x, w, b: conv(x, w, b, **case["kw"]), [rand(*case["x"]), rand(*case["w"], seed=1), b],
                device, dtype, scaled=True)
    taken = 1 if case["fast"] else 0
    assert calls.get("conv_forward", 0) == taken and calls.get("conv_backward", 0) == taken


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("winograd", ["0", "1"], ids=["shifted", "winograd"])
@pytest.mark.parametrize("case", [c for c in CONV_CASES if c["fast"]], ids=lambda c: f"{c['x']}-{c['w']}-{c['kw']}")
def test_conv_either_fast_kernel_equals_textbook(device: str, case: dict, winograd: str, dtype: type, calls: dict,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``MINITORCH_CNN_WINOGRAD`` picks the kernel (Winograd only for 3x3, dilation 1); both equal
    the textbook path, and the backward follows the forward's kernel."""
    monkeypatch.setenv(fast.winograd.ENV_VAR, winograd)
    x, w, b = rand(*case["x"]), rand(*case["w"], seed=1), rand(case["w"][0], seed=2)
    with fast.enabled(True):
        y = F.conv2d(mt.tensor(x, requires_grad=True), mt.tensor(w), **case["kw"])
    eligible = case["w"][2:] == (3, 3) and "dilation" not in case["kw"]
    expected = fast.winograd.WinogradPlan if winograd == "1" and eligible else fast.conv_shifted.ShiftedGrid
    assert type(y.grad_fn.ctx.fast_kernel) is expected
    assert_same(lambda x, w, b: F.conv2d(x, w, b, **case["kw"]), [x, w, b], device, dtype, scaled=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 32, 28, 28), (3, 4, 7, 9)], ids=str)
def test_max_pool_2x2_fast_equals_textbook(device: str, shape: tuple, dtype: type, calls: dict) -> None:
    x = rand(*shape)
    x[0, 0, 0, :2] = 0.5  # a tie inside a window: both paths route to the first maximum
    assert_same(lambda t: F.max_pool2d(t, 2), [x], device, dtype)
    assert calls.get("max_pool_forward") == 1 and calls.get("max_pool_backward") == 1
    assert_same(lambda t: F.max_pool2d(t, 3, 2), [x], device, dtype)  # not 2x2: the textbook path only
    assert calls.get("max_pool_forward") == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 32, 28, 28), (8, 512), (5, 3, 4)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_fast_equals_textbook(device: str, shape: tuple, training: bool, dtype: type, calls: dict) -> None:
    c = shape[1]
    stats = {}

    def bn(x: mt.Tensor, w: mt.Tensor, b: mt.Tensor) -> mt.Tensor:
        rm = mt.tensor(np.linspace(-0.5, 0.5, c).astype(dtype), device=device)
        rv = mt.tensor(np.linspace(0.5, 2.0, c).astype(dtype), device=device)
        y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=1e-5)
        stats[fast.is_enabled()] = (host(rm), host(rv))
        return y

    x = rand(*shape) * 3 + 1
    assert_same(bn, [x, rand(c, seed=1) + 1.5, rand(c, seed=2)], device, dtype)
    for a, b in zip(stats[True], stats[False]):  # the running statistics are updated alike
        np.testing.assert_allclose(a, b, **TOL[dtype])
    assert calls.get("batch_norm_forward") == 1 and calls.get("batch_norm_backward") == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, big", [((16, 32, 28, 28), True), ((3, 4, 5), False)], ids=str)
def test_relu_fast_equals_textbook(device: str, shape: tuple, big: bool, dtype: type, calls: dict,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast.threads, "pool_size", lambda: 2)  # a pool to share the pieces with
    x = rand(*shape)
    x[0, 0, 0] = 0.0  # the gradient at 0 is 0 on both paths
    assert_same(F.relu, [x], device, dtype)
    taken = int(big and device == "cpu")  # NumPy arrays of >= 1 MiB only (the task-sized probes stay textbook)
    assert calls.get("relu_forward", 0) == taken and calls.get("relu_backward", 0) == taken


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_and_matmul_fast_equal_textbook(device: str, dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    split = []
    original = fast.threads.parallel_matmul
    monkeypatch.setattr(fast.threads, "parallel_matmul", lambda a, b: split.append(1) or original(a, b))
    x, w, b = rand(256, 512), rand(128, 512, seed=1), rand(128, seed=2)
    assert_same(lambda x, w, b: F.linear(x, w, b), [x, w, b], device, dtype)
    assert_same(lambda x, w: x @ w.T, [x, w], device, dtype)
    assert len(split) == 6  # forward + two gradients, twice; none of them with the switch off


def test_the_unit_cnn_trains_the_same_with_the_switch_off(calls: dict) -> None:
    from minitorch_cnn.models.fashion_cnn import FashionCNN

    # float64: batch 4 makes BatchNorm1d ill-conditioned, so float32 rounding differences grow to 1e-3
    x = mt.tensor(rand(4, 1, 28, 28))
    target = mt.tensor(np.array([0, 3, 7, 9]))
    results = {}
    for on in (True, False):
        mt.manual_seed(0)  # same weights and dropout masks
        model = FashionCNN().double()
        with fast.enabled(on):
            loss = F.cross_entropy(model(x), target)
            loss.backward()
        results[on] = [host(loss)] + [host(p.grad) for p in model.parameters()]
    for a, b in zip(results[True], results[False]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # three convolutions, two pools, five BatchNorms took the fast kernels, once (switch on)
    assert (calls["conv_forward"], calls["max_pool_forward"], calls["batch_norm_forward"]) == (3, 2, 5)
    assert (calls["conv_backward"], calls["max_pool_backward"], calls["batch_norm_backward"]) == (3, 2, 5)


def test_context_managers_nest_and_restore() -> None:
    assert fast.is_enabled()
    with fast.disabled():
        assert not fast.is_enabled()
        with fast.enabled(True):
            assert fast.is_enabled()
        assert not fast.is_enabled()
    assert fast.is_enabled()
    assert mt.fast.disabled  # reachable from the facade


def test_env_var_turns_every_kernel_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fast.ENV_VAR, "0")
    assert not fast.is_enabled()
    with fast.enabled(True):
        assert fast.is_enabled()  # the block wins over the environment
    monkeypatch.setenv(fast.ENV_VAR, "1")
    assert fast.is_enabled()


PROBE = """
import numpy as np, minitorch_cnn as mt
from minitorch_cnn import fast
from minitorch_cnn.nn import functional as F
x = mt.randn(2, 8, 6, 6, requires_grad=True)
nodes = [F.conv2d(x, mt.randn(4, 8, 3, 3), padding=1), F.max_pool2d(x, 2),
         F.batch_norm(x, None, None, training=True)]
print(fast.is_enabled(), [fast.took(y.grad_fn.ctx) for y in nodes])
"""


@pytest.mark.parametrize("value, expected", [("0", "False [False, False, False]"), ("1", "True [True, True, True]")])
def test_env_var_in_a_fresh_process(value: str, expected: str) -> None:
    env = dict(os.environ, MINITORCH_CNN_FAST=value)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


WINOGRAD_PROBE = """
import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F
y = F.conv2d(mt.randn(2, 8, 6, 6, requires_grad=True), mt.randn(4, 8, 3, 3), padding=1)
print(type(y.grad_fn.ctx.fast_kernel).__name__)
"""


@pytest.mark.parametrize("value, expected", [("1", "WinogradPlan"), ("0", "ShiftedGrid"), ("", "ShiftedGrid")])
def test_winograd_env_var_in_a_fresh_process(value: str, expected: str) -> None:
    """``MINITORCH_CNN_WINOGRAD=1`` forces Winograd, ``0`` never; unset, 8 channels: the measured rule
    (``winograd_pays``) leaves it to the shifted-slice kernel."""
    env = {k: v for k, v in os.environ.items() if k not in ("MINITORCH_CNN_WINOGRAD", fast.ENV_VAR)}
    if value:
        env["MINITORCH_CNN_WINOGRAD"] = value
    out = subprocess.run([sys.executable, "-c", WINOGRAD_PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_the_transposed_convolution_is_the_textbook_gather_when_the_fast_kernels_are_off() -> None:
    """A conv's input gradient: col2im (scatter) only through the seam; switched off, always gather."""
    from minitorch_cnn import fast

    y_shape, w_shape = (2, 64, 7, 7), (64, 8, 3, 3)  # C_in 8 < C_out 64: scatter moves fewer numbers
    assert fast.transposed_conv_method(y_shape, w_shape, (1, 1), 1) == "scatter"
    with fast.disabled():
        assert fast.transposed_conv_method(y_shape, w_shape, (1, 1), 1) == "gather"
