"""The shifted-slice convolution kernel (fast/conv_shifted.py) equals the loop reference and the
im2col path, forward and backward, including block boundaries; gradcheck on every device."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn import fast as fast_seam
from minitorch_cnn.fast import conv_shifted
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops import conv as conv_ops
from minitorch_cnn.ops.conv_reference import conv_nd_reference
from minitorch_cnn.testing import gradcheck

HYP = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)


def t(a: np.ndarray, device: str, dtype: object = mt.float64, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def host(x: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(x.detach()._array)


@pytest.fixture(params=["channels", "positions"])
def shifted_always(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the shifted path for any channel count, so tiny shapes exercise it, in either grid layout."""
    monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 1)
    monkeypatch.setenv(conv_shifted.LAYOUT_ENV, request.param)


@st.composite
def stride1_cases(draw: st.DrawFn) -> dict:
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    kind = draw(st.sampled_from(["ints", "ints", "valid", "same", "full"]))
    padding = kind if kind != "ints" else tuple(draw(st.integers(0, 2)) for _ in range(2))
    pads = conv_ops.conv_padding(padding, kernel, dilation, (1, 1), "test")
    sizes = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - lo - hi), max(1, d * (k - 1) + 1 - lo - hi) + 4))
                  for k, d, (lo, hi) in zip(kernel, dilation, pads))
    return dict(n=draw(st.integers(1, 3)), cin=draw(st.integers(1, 3)), cout=draw(st.integers(1, 3)), kernel=kernel,
                sizes=sizes, padding=padding, pads=pads, dilation=dilation, bias=draw(st.booleans()),
                block=draw(st.sampled_from([3, 17, 1024])), seed=draw(st.integers(0, 2**16)))


def _arrays(case: dict) -> tuple:
    rng = np.random.default_rng(case["seed"])
    x = rng.uniform(-1, 1, (case["n"], case["cin"], *case["sizes"]))
    w = rng.uniform(-1, 1, (case["cout"], case["cin"], *case["kernel"]))
    b = rng.uniform(-1, 1, case["cout"]) if case["bias"] else None
    return x, w, b


@HYP
@given(case=stride1_cases())
def test_shifted_path_matches_loop_reference_and_im2col_gradients(device: str, case: dict, shifted_always: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conv_shifted, "BLOCK_COLUMNS", case["block"])  # block edges inside the grid
    x, w, b = _arrays(case)
    rng = np.random.default_rng(case["seed"] + 1)

    def run(shifted: bool) -> tuple:
        monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 1 if shifted else 10**9)
        xt, wt = t(x, device, requires_grad=True), t(w, device, requires_grad=True)
        bt = None if b is None else t(b, device, requires_grad=True)
        y = F.conv2d(xt, wt, bt, 1, case["padding"], case["dilation"])
        assert fast_seam.took(y.grad_fn.ctx) == shifted  # the path under test was taken
        y.backward(t(gy, device))
        return host(y), host(xt.grad), host(wt.grad), None if bt is None else host(bt.grad)

    ref = conv_nd_reference(x, w, b, (1, 1), case["pads"], case["dilation"])
    gy = rng.uniform(-1, 1, ref.shape)
    fast, slow = run(True), run(False)
    np.testing.assert_allclose(fast[0], ref, atol=1e-12)
    for a, r in zip(fast[1:], slow[1:]):
        if r is not None:
            np.testing.assert_allclose(a, r, atol=1e-12)


@settings(HYP, max_examples=10)
@given(case=stride1_cases())
def test_shifted_path_gradcheck(device: str, case: dict, shifted_always: None) -> None:
    x, w, b = _arrays(case)
    args = [t(x, device, requires_grad=True), t(w, device, requires_grad=True)]
    if b is not None:
        args.append(t(b, device, requires_grad=True))

    def fn(*a: mt.Tensor) -> mt.Tensor:
        return F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, 1, case["padding"], case["dilation"])

    assert gradcheck(fn, args)


def test_the_unit_cnn_layers_take_the_shifted_path_and_the_first_does_not() -> None:
    pads = [(1, 1), (1, 1)]
    assert conv_shifted.use_shifted((128, 32, 28, 28), (32, 32, 3, 3), (1, 1), pads, 1)
    assert conv_shifted.use_shifted((128, 64, 14, 14), (64, 64, 3, 3), (1, 1), pads, 1)
    assert not conv_shifted.use_shifted((128, 1, 28, 28), (32, 1, 3, 3), (1, 1), pads, 1)  # C_in = 1: im2col
    assert not conv_shifted.use_shifted((8, 32, 28, 28), (32, 32, 3, 3), (2, 2), pads, 1)  # strided
    assert not conv_shifted.use_shifted((8, 32, 28, 28), (32, 16, 3, 3), (1, 1), pads, 2)  # grouped


@pytest.mark.parametrize("kernel, positions_major", [("haswell", False), ("zen", False), ("", False),
                                                     ("skylakex", True), ("cooperlake", True)])
def test_the_grid_layout_follows_the_blas_kernel_unless_forced(monkeypatch: pytest.MonkeyPatch, kernel: str,
                                                               positions_major: bool) -> None:
    monkeypatch.delenv(conv_shifted.LAYOUT_ENV, raising=False)
    monkeypatch.setattr(conv_shifted, "_blas_kernel", lambda: kernel)
    assert conv_shifted.positions_major_layout() is positions_major
    for forced, expected in (("positions", True), ("channels", False)):
        monkeypatch.setenv(conv_shifted.LAYOUT_ENV, forced)
        assert conv_shifted.positions_major_layout() is expected
        grid = conv_shifted.ShiftedGrid((2, 3, 5, 5), (3, 3), [(1, 1), (1, 1)], (1, 1))
        assert grid.positions_major is expected


@pytest.mark.parametrize("layout", ["channels", "positions"])
def test_float32_cnn_layer_matches_im2col_in_either_layout(monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    monkeypatch.setenv(conv_shifted.LAYOUT_ENV, layout)
    test_float32_cnn_layer_matches_im2col(monkeypatch)


def test_float32_cnn_layer_matches_im2col(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 32, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 32, 3, 3)).astype(np.float32)
    fast = host(F.conv2d(t(x, "cpu", mt.float32), t(w, "cpu", mt.float32), padding=1))
    monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 10**9)
    slow = host(F.conv2d(t(x, "cpu", mt.float32), t(w, "cpu", mt.float32), padding=1))
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-4)


def test_one_zero_gap_is_the_padding_of_both_neighbouring_rows() -> None:
    # 3x3, padding 1: each row of 4 pixels is followed by one zero, each image by one zero row
    grid = conv_shifted.ShiftedGrid((2, 1, 3, 4), (3, 3), [(1, 1), (1, 1)], (1, 1), positions_major=False)
    assert grid.extent == (4, 5) and grid.out == (3, 4)
    assert grid.offsets == [0, 1, 2, 5, 6, 7, 10, 11, 12] and grid.front == 5 + 1
    x = np.arange(1, 25, dtype=np.float64).reshape(2, 1, 3, 4)
    X = grid.pad_to_grid(x)[0]
    positions = conv_shifted.ShiftedGrid((2, 1, 3, 4), (3, 3), [(1, 1), (1, 1)], (1, 1), positions_major=True)
    np.testing.assert_array_equal(positions.pad_to_grid(x)[:, 0], X)  # the same grid, transposed
    assert (X[:grid.front] == 0).all()
    image0 = X[grid.front:grid.front + 20].reshape(4, 5)
    np.testing.assert_array_equal(image0[:3, :4], x[0, 0])
    assert (image0[:, 4] == 0).all() and (image0[3] == 0).all()
    # padding beyond the kernel's reach: the gap widens until every output has an anchor
    wide = conv_shifted.ShiftedGrid((1, 1, 4, 4), (1, 1), [(2, 2), (2, 2)], (1, 1))
    assert wide.out == (8, 8) and wide.extent == (8, 8)


@pytest.mark.parametrize("layout", ["channels", "positions"])
@pytest.mark.parametrize("grads", [(True, True, True), (False, False, True), (True, False, True), (False, True, False)])
def test_the_bias_is_added_and_summed_in_the_blocks_whatever_else_needs_a_gradient(
        monkeypatch: pytest.MonkeyPatch, layout: str, grads: tuple) -> None:
    """The bias is added to each output block while it is in cache: same values and gradients as the
    textbook path, whichever of input, weight and bias need a gradient."""
    monkeypatch.setenv(conv_shifted.LAYOUT_ENV, layout)
    monkeypatch.setattr(conv_shifted, "BLOCK_COLUMNS", 37)  # several blocks, a short last one
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(-1, 1, s) for s in [(3, 8, 6, 5), (4, 8, 3, 3), (4,)]]
    gy = rng.uniform(-1, 1, (3, 4, 6, 5))
    results = []
    for on in (True, False):
        with fast_seam.enabled(on):
            ts = [t(a, "cpu", requires_grad=g) for a, g in zip(arrays, grads)]
            y = F.conv2d(*ts, padding=1)
            assert fast_seam.took(y.grad_fn.ctx) == on
            y.backward(t(gy, "cpu"))
            results.append([host(y)] + [None if x.grad is None else host(x.grad) for x in ts])
    for a, b in zip(*results):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, atol=1e-12)
