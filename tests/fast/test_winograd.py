"""Winograd's F(2x2, 3x3) kernel (fast/winograd.py): forward and every gradient equal the textbook
path on every shape it accepts (float32 to float32 tolerance, float64 to ~1e-10), gradcheck, the
strict device, block boundaries, and the seam's choice (``MINITORCH_CNN_WINOGRAD`` and
``winograd_pays``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend, fast
from minitorch_cnn.fast import conv_shifted, winograd
from minitorch_cnn.nn import functional as F
from minitorch_cnn.testing import gradcheck

HYP = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)
DTYPES = {np.float32: mt.float32, np.float64: mt.float64}
SCALE_TOL = {np.float32: 5e-6, np.float64: 1e-12}
"""Largest difference allowed, relative to the result's largest magnitude (at least 1): Winograd's
transforms add a few roundings before and after the products, so float32 results differ by about
1e-6 of the scale of a sum of thousands of terms (a weight gradient), float64 ones by about 1e-15."""


def host(x: mt.Tensor | None) -> np.ndarray | None:
    return None if x is None else backend.to_numpy(x.detach()._array)


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """``MINITORCH_CNN_WINOGRAD=1``: Winograd wherever eligible."""
    monkeypatch.setenv(winograd.ENV_VAR, "1")


@st.composite
def cases(draw: st.DrawFn) -> dict:
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    sizes = tuple(draw(st.integers(max(1, 3 - 2 * p), 9)) for p in padding)  # at least one output
    return dict(n=draw(st.integers(1, 3)), cin=draw(st.integers(1, 4)), cout=draw(st.integers(1, 4)), sizes=sizes,
                padding=padding, bias=draw(st.booleans()), block=draw(st.sampled_from([1, 3, 256])),
                seed=draw(st.integers(0, 2**16)))


def run(case: dict, on: bool, device: str, dtype: type, needs: tuple = (True, True)) -> list:
    """``conv2d`` forward and the gradients of ``sum(y * gy)``, fast kernels on (Winograd) or off."""
    rng = np.random.default_rng(case["seed"])
    x = rng.uniform(-1, 1, (case["n"], case["cin"], *case["sizes"])).astype(dtype)
    w = rng.uniform(-1, 1, (case["cout"], case["cin"], 3, 3)).astype(dtype)
    b = rng.uniform(-1, 1, case["cout"]).astype(dtype) if case["bias"] else None
    with fast.enabled(on):
        xt = mt.tensor(x, dtype=DTYPES[dtype], device=device, requires_grad=needs[0])
        wt = mt.tensor(w, dtype=DTYPES[dtype], device=device, requires_grad=needs[1])
        bt = None if b is None else mt.tensor(b, dtype=DTYPES[dtype], device=device, requires_grad=True)
        y = F.conv2d(xt, wt, bt, padding=case["padding"])
        assert isinstance(getattr(y.grad_fn.ctx, "fast_kernel", None), winograd.WinogradPlan) == on  # taken
        gy = np.random.default_rng(case["seed"] + 1).uniform(-1, 1, y.shape).astype(dtype)
        y.backward(mt.tensor(gy, dtype=DTYPES[dtype], device=device))
        return [host(y), host(xt.grad), host(wt.grad), None if bt is None else host(bt.grad)]


def assert_same(case: dict, device: str, dtype: type, needs: tuple = (True, True)) -> None:
    on, off = run(case, True, device, dtype, needs), run(case, False, device, dtype, needs)
    for name, a, r in zip(["output", "grad_x", "grad_w", "grad_b"], on, off):
        assert (a is None) == (r is None), name
        if r is not None:
            atol = SCALE_TOL[dtype] * max(1.0, float(np.abs(r).max(initial=0.0)))
            np.testing.assert_allclose(a, r, rtol=0, atol=atol, err_msg=name)


@HYP
@given(case=cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_winograd_equals_the_textbook_path(device: str, case: dict, dtype: type, forced: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(winograd, "BLOCK_TILES", case["block"])  # block edges inside images and batches
    assert_same(case, device, dtype)


@pytest.mark.parametrize("needs", [(True, False), (False, True)], ids=["grad_x only", "grad_w only"])
def test_only_the_needed_gradient_is_computed(needs: tuple, forced: None) -> None:
    case = dict(n=2, cin=3, cout=5, sizes=(7, 6), padding=(1, 1), bias=True, seed=3)
    assert_same(case, "cpu", np.float64, needs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_cnn_layer_with_many_channels_and_blocks(dtype: type, forced: None) -> None:
    # 34x34 -> 17x17 tiles: rows of tiles of one image per block, and an odd tile count
    assert_same(dict(n=2, cin=40, cout=24, sizes=(33, 34), padding=(1, 1), bias=True, seed=5), "cpu", dtype)


def test_unbatched_input(forced: None) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-1, 1, (3, 5, 6)), rng.uniform(-1, 1, (2, 3, 3, 3))
    ys = {}
    for on in (True, False):
        with fast.enabled(on):
            xt = mt.tensor(x, requires_grad=True)
            y = F.conv2d(xt, mt.tensor(w), padding=1)
            assert fast.took(y.grad_fn.ctx) == on
            y.sum().backward()
            ys[on] = (host(y), host(xt.grad))
    for a, r in zip(ys[True], ys[False]):
        np.testing.assert_allclose(a, r, atol=1e-12)


@settings(HYP, max_examples=10)
@given(case=cases())
def test_winograd_gradcheck(device: str, case: dict, forced: None) -> None:
    rng = np.random.default_rng(case["seed"])
    args = [mt.tensor(rng.uniform(-1, 1, (case["n"], case["cin"], *case["sizes"])), device=device, requires_grad=True),
            mt.tensor(rng.uniform(-1, 1, (case["cout"], case["cin"], 3, 3)), device=device, requires_grad=True),
            mt.tensor(rng.uniform(-1, 1, case["cout"]), device=device, requires_grad=True)]
    y = F.conv2d(*args, padding=case["padding"])
    assert isinstance(y.grad_fn.ctx.fast_kernel, winograd.WinogradPlan)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=case["padding"]), args)


def test_the_1d_f23_identity_takes_four_products() -> None:
    """The docstring's m1..m4: two outputs of a 3-tap correlation from 4 multiplications."""
    d, g = np.array([1.5, -2.0, 0.25, 3.0]), np.array([0.5, -1.0, 2.0])
    m1, m4 = (d[0] - d[2]) * g[0], (d[1] - d[3]) * g[2]
    m2, m3 = (d[1] + d[2]) * (g[0] + g[1] + g[2]) / 2, (d[2] - d[1]) * (g[0] - g[1] + g[2]) / 2
    np.testing.assert_allclose([m1 + m2 + m3, m2 - m3 - m4], [d[0:3] @ g, d[1:4] @ g])
    bt, gm, at = (np.array(m, dtype=float) for m in (winograd.B_T, winograd.G, winograd.A_T))
    np.testing.assert_allclose(at @ ((gm @ g) * (bt @ d)), [d[0:3] @ g, d[1:4] @ g])


def kernel_taken(x_shape: tuple, w_shape: tuple, **kw: object) -> str:
    """Which kernel the seam gives ``conv2d``: "winograd", "shifted" or "textbook"."""
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(w_shape)]
    y = conv(mt.randn(*x_shape, requires_grad=True), mt.randn(*w_shape), **kw)
    plan = getattr(y.grad_fn.ctx, "fast_kernel", None)
    y.sum().backward()
    return {winograd.WinogradPlan: "winograd", conv_shifted.ShiftedGrid: "shifted"}.get(type(plan), "textbook")


def test_the_environment_variable_forces_winograd_on_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(winograd, "winograd_pays", lambda x, w: calls.append(1) or True)
    monkeypatch.setenv(winograd.ENV_VAR, "0")
    assert kernel_taken((2, 8, 6, 6), (4, 8, 3, 3), padding=1) == "shifted"
    assert kernel_taken((2, 1, 6, 6), (4, 1, 3, 3), padding=1) == "textbook"  # C_in < 8: no shifted kernel
    monkeypatch.setenv(winograd.ENV_VAR, "1")
    assert kernel_taken((2, 8, 6, 6), (4, 8, 3, 3), padding=1) == "winograd"
    assert kernel_taken((2, 1, 6, 6), (4, 1, 3, 3), padding=1) == "winograd"
    assert not calls  # forced either way: the measured rule is not asked
    monkeypatch.setenv(fast.ENV_VAR, "0")  # the one switch still turns every kernel off
    assert kernel_taken((2, 8, 6, 6), (4, 8, 3, 3), padding=1) == "textbook"


@pytest.mark.parametrize("pays", [True, False])
def test_unset_the_measured_rule_decides(pays: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(winograd.ENV_VAR, raising=False)
    asked = []
    monkeypatch.setattr(winograd, "winograd_pays", lambda x, w: asked.append((tuple(x), tuple(w))) or pays)
    assert kernel_taken((2, 8, 6, 6), (4, 8, 3, 3), padding=1) == ("winograd" if pays else "shifted")
    assert asked and asked[0] == ((2, 8, 6, 6), (4, 8, 3, 3))


@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((2, 8, 9, 9), (4, 8, 3, 3), dict(stride=2, padding=1)),
    ((2, 8, 9, 9), (4, 8, 3, 3), dict(dilation=2, padding=2)),
    ((2, 8, 9, 9), (4, 8, 5, 5), dict(padding=2)),
    ((2, 8, 9, 9), (4, 4, 3, 3), dict(groups=2, padding=1)),
    ((2, 8, 9, 9), (4, 8, 3, 1), dict(padding=1)),
], ids=["stride 2", "dilation 2", "5x5", "groups 2", "3x1"])
def test_never_where_it_is_not_eligible(x_shape: tuple, w_shape: tuple, kw: dict, forced: None) -> None:
    assert kernel_taken(x_shape, w_shape, **kw) != "winograd"
    assert kernel_taken((2, 8, 11), (4, 8, 3), padding=1) == "textbook"  # 1-d
    assert kernel_taken((2, 8, 5, 5, 5), (4, 8, 3, 3, 3), padding=1) == "textbook"  # 3-d


def test_the_measured_rule_on_the_benchmark_shapes() -> None:
    """``tools/bench_winograd.py``'s shapes: see the table in fast/winograd.py's docstring."""
    for n, ci, co, s in [(128, 32, 32, 28), (128, 32, 64, 14), (128, 64, 64, 14), (32, 64, 64, 56)]:
        assert not winograd.winograd_pays((n, ci, s, s), (co, ci, 3, 3))
    for n, ci, co, s in [(8, 256, 256, 28)]:
        assert winograd.winograd_pays((n, ci, s, s), (co, ci, 3, 3))
