"""Pooling ops: known values, fast path == loop reference, arg-max routing and ties, gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops.pool import adaptive_bins
from minitorch_cnn.ops.pool_reference import (
    adaptive_avg_pool2d_reference,
    adaptive_max_pool2d_reference,
    avg_pool_nd_reference,
    max_pool_nd_reference,
    max_unpool2d_reference,
)
from minitorch_cnn.testing import gradcheck

HYP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)
GRAD = settings(HYP, max_examples=20)
MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def t(a: np.ndarray, device: str, dtype: object = mt.float64, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def host(x: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(x.detach()._array)


def distinct(shape: tuple, seed: int) -> np.ndarray:
    """Values at least 0.1 apart, so a finite-difference nudge never changes an arg-max."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


# --------------------------------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------------------------------
def test_max_pool_2x2_on_arange(device: str) -> None:
    x = t(np.arange(100.0).reshape(1, 1, 10, 10), device)
    y = host(F.max_pool2d(x, 2))[0, 0]
    expected = np.array([[11, 13, 15, 17, 19], [31, 33, 35, 37, 39], [51, 53, 55, 57, 59], [71, 73, 75, 77, 79],
                         [91, 93, 95, 97, 99]])
    np.testing.assert_array_equal(y, expected)


def test_3x3_pooling_with_stride_1_on_5x5(device: str) -> None:
    x = t(np.arange(25.0).reshape(1, 1, 5, 5), device)
    assert F.max_pool2d(x, 3, stride=1).shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(host(F.avg_pool2d(x, 3, stride=1))[0, 0], [[6, 7, 8], [11, 12, 13], [16, 17, 18]])


def test_return_indices_are_flat_per_channel_plane(device: str) -> None:
    x = t(np.arange(32.0).reshape(1, 2, 4, 4), device)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.dtype == mt.int64
    np.testing.assert_array_equal(host(idx)[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(host(idx)[0, 1], [[5, 7], [13, 15]])  # per plane, not global
    np.testing.assert_array_equal(host(y)[0, 1], [[21, 23], [29, 31]])


def test_ties_route_the_gradient_to_the_first_maximum(device: str) -> None:
    x = t(np.ones((1, 1, 3, 3)), device, requires_grad=True)
    y, idx = F.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(host(idx)[0, 0], [[0, 1], [3, 4]])  # each window's top-left
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad)[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_overlapping_windows_add_up_at_a_shared_maximum(device: str) -> None:
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the max of all four 2x2 windows
    xt = t(x, device, requires_grad=True)
    F.max_pool2d(xt, 2, stride=1).sum().backward()
    assert host(xt.grad)[0, 0, 1, 1] == 4.0
    assert host(xt.grad).sum() == 4.0


def test_window_entirely_in_padding_gives_minus_inf_and_index_minus_one(device: str) -> None:
    # taps at columns -1 and +1 of a one-pixel-wide input: both in the padding
    x = t(np.array([[[[3.0]]]]), device, requires_grad=True)
    y, idx = F.max_pool2d(x, (1, 2), stride=1, padding=(0, 1), dilation=(1, 2), return_indices=True)
    assert host(y).tolist() == [[[[-np.inf]]]] and host(idx).tolist() == [[[[-1]]]]
    y.backward(mt.ones_like(y))
    assert host(x.grad).tolist() == [[[[0.0]]]]


def test_avg_pool_backward_spreads_one_over_q(device: str) -> None:
    x = t(np.zeros((1, 1, 4, 4)), device, requires_grad=True)
    F.avg_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.full((1, 1, 4, 4), 0.25))


def test_adaptive_bins_follow_pytorch(device: str) -> None:
    assert adaptive_bins(5, 3) == ([0, 1, 3], [2, 4, 5])  # overlapping bins when 3 does not divide 5
    x = t(np.arange(5.0).reshape(1, 1, 1, 5), device)
    np.testing.assert_allclose(host(F.adaptive_avg_pool2d(x, (1, 3)))[0, 0, 0], [0.5, 2.0, 3.5])
    np.testing.assert_array_equal(host(F.adaptive_max_pool2d(x, (1, 3)))[0, 0, 0], [1, 3, 4])
    g = F.adaptive_avg_pool2d(t(np.ones((2, 3, 7, 5)), device), 1)  # global average pooling
    assert g.shape == (2, 3, 1, 1)


# --------------------------------------------------------------------------------------------------
# Fast path == loop reference (float32, random inputs), hypothesis-drawn geometry
# --------------------------------------------------------------------------------------------------
@st.composite
def pool_cases(draw: st.DrawFn, nd: int | None = None, dilation: bool = True) -> dict:
    nd = draw(st.sampled_from([1, 2, 3])) if nd is None else nd
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if dilation else (1,) * nd
    sizes = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + 4))
                  for k, p, d in zip(kernel, padding, dil))
    return dict(nd=nd, kernel=kernel, stride=stride, padding=padding, dilation=dil, sizes=sizes,
                ceil_mode=draw(st.booleans()), count_include_pad=draw(st.booleans()),
                divisor_override=draw(st.sampled_from([None, None, 3])) if nd > 1 else None,
                ties=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _input(case: dict, dtype: type = np.float32) -> np.ndarray:
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(2, 2, *case["sizes"]))
    return (np.round(x) if case["ties"] else x).astype(dtype)  # rounding makes many ties


@HYP
@given(case=pool_cases())
def test_max_pool_matches_reference(device: str, case: dict) -> None:
    x = _input(case)
    y, idx = MAX[case["nd"]](t(x, device, mt.float32), case["kernel"], case["stride"], case["padding"],
                             case["dilation"], case["ceil_mode"], return_indices=True)
    ry, ridx = max_pool_nd_reference(x, case["kernel"], case["stride"], case["padding"], case["dilation"],
                                     case["ceil_mode"])
    assert y.dtype == mt.float32
    np.testing.assert_array_equal(host(y), ry)
    np.testing.assert_array_equal(host(idx), ridx)


@HYP
@given(case=pool_cases(dilation=False))
def test_avg_pool_matches_reference(device: str, case: dict) -> None:
    x = _input(case)
    kw = {"divisor_override": case["divisor_override"]} if case["nd"] > 1 else {}
    y = AVG[case["nd"]](t(x, device, mt.float32), case["kernel"], case["stride"], case["padding"], case["ceil_mode"],
                        case["count_include_pad"], **kw)
    ref = avg_pool_nd_reference(x.astype(np.float64), case["kernel"], case["stride"], case["padding"],
                                case["ceil_mode"], case["count_include_pad"], case["divisor_override"])
    assert y.dtype == mt.float32
    np.testing.assert_allclose(host(y), ref, rtol=1e-5, atol=1e-5)


@HYP
@given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 6), ow=st.integers(1, 6),
       ties=st.booleans(), seed=st.integers(0, 2**16))
def test_adaptive_pools_match_reference(device: str, h: int, w: int, oh: int, ow: int, ties: bool, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(2, 3, h, w))
    x = (np.round(x) if ties else x).astype(np.float32)
    a = F.adaptive_avg_pool2d(t(x, device, mt.float32), (oh, ow))
    np.testing.assert_allclose(host(a), adaptive_avg_pool2d_reference(x.astype(np.float64), (oh, ow)), rtol=1e-5,
                               atol=1e-5)
    m, idx = F.adaptive_max_pool2d(t(x, device, mt.float32), (oh, ow), return_indices=True)
    rm, ridx = adaptive_max_pool2d_reference(x, (oh, ow))
    np.testing.assert_array_equal(host(m), rm)
    np.testing.assert_array_equal(host(idx), ridx)


# --------------------------------------------------------------------------------------------------
# Gradients (float64, finite differences)
# --------------------------------------------------------------------------------------------------
@GRAD
@given(case=pool_cases())
def test_max_pool_gradcheck(device: str, case: dict) -> None:
    x = distinct((1, 2, *case["sizes"]), case["seed"])

    def fn(a: mt.Tensor) -> mt.Tensor:
        return MAX[case["nd"]](a, case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])

    # a window lying wholly in the padding (dilation can do that) outputs -inf: nothing to differentiate
    assume(np.isfinite(host(fn(t(x, device)))).all())
    assert gradcheck(fn, [t(x, device, requires_grad=True)])


@GRAD
@given(case=pool_cases(dilation=False))
def test_avg_pool_gradcheck(device: str, case: dict) -> None:
    x = np.random.default_rng(case["seed"]).normal(size=(1, 2, *case["sizes"]))
    kw = {"divisor_override": case["divisor_override"]} if case["nd"] > 1 else {}

    def fn(a: mt.Tensor) -> mt.Tensor:
        return AVG[case["nd"]](a, case["kernel"], case["stride"], case["padding"], case["ceil_mode"],
                               case["count_include_pad"], **kw)

    assert gradcheck(fn, [t(x, device, requires_grad=True)])


@GRAD
@given(h=st.integers(1, 7), w=st.integers(1, 7), oh=st.integers(1, 4), ow=st.integers(1, 4), seed=st.integers(0, 99))
def test_adaptive_pools_gradcheck(device: str, h: int, w: int, oh: int, ow: int, seed: int) -> None:
    x = distinct((1, 2, h, w), seed)
    assert gradcheck(lambda a: F.adaptive_avg_pool2d(a, (oh, ow)), [t(x, device, requires_grad=True)])
    assert gradcheck(lambda a: F.adaptive_max_pool2d(a, (oh, ow)), [t(x, device, requires_grad=True)])


# --------------------------------------------------------------------------------------------------
# Max-unpooling
# --------------------------------------------------------------------------------------------------
def test_max_unpool_puts_maxima_back(device: str) -> None:
    x = distinct((2, 3, 6, 5), 0)
    y, idx = F.max_pool2d(t(x, device), 2, return_indices=True)
    u = F.max_unpool2d(y, idx, 2, output_size=(6, 5))
    ref = max_unpool2d_reference(host(y), host(idx), (6, 5))
    np.testing.assert_array_equal(host(u), ref)
    kept = host(u) != 0
    np.testing.assert_array_equal(host(u)[kept], x[kept])  # every kept value sits where it came from
    assert kept.sum() == y.numel()
    # without output_size the size is (H-1)*s - 2p + k = 6 x 4, too small for indices from width 5
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 24\).*output_size"):
        F.max_unpool2d(y, idx, 2)
    y6, idx6 = F.max_pool2d(t(distinct((1, 1, 6, 6), 1), device), 2, return_indices=True)
    assert F.max_unpool2d(y6, idx6, 2).shape == (1, 1, 6, 6)


def test_max_unpool_gradcheck(device: str) -> None:
    x = distinct((1, 2, 4, 4), 1)
    _, idx = F.max_pool2d(t(x, device), 2, return_indices=True)
    values = t(np.random.default_rng(2).normal(size=(1, 2, 2, 2)), device, requires_grad=True)
    assert gradcheck(lambda v: F.max_unpool2d(v, idx, 2), [values])


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
def test_pool_errors(device: str) -> None:
    x = mt.zeros(1, 1, 4, 4, device=device)
    with pytest.raises(ValueError, match=r"padding=\(2, 2\) must be at most half of kernel_size=\(3, 3\)"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"stride must be positive"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"4-d input.*\(4, 4\)"):
        F.max_pool2d(mt.zeros(4, 4, device=device), 2)
    with pytest.raises(ValueError, match=r"output would be empty.*\(4, 4\)"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"output_size"):
        F.adaptive_avg_pool2d(x, (0, 2))
    y, idx = F.max_pool2d(mt.randn(1, 1, 4, 4, device=device), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"indices must lie in"):
        F.max_unpool2d(y, idx, 2, output_size=(3, 3))
