"""Tasks of chapter 03 (pooling and backprop). Run one task: ``pytest -m task3_1``.

Backward passes are checked against an adjoint written out with loops here, or against central
differences of the (non-task) forward pass, in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cnn import fast
from minitorch_cnn.autograd import Context
from minitorch_cnn.ops.batch_norm import BatchNormFunction
from minitorch_cnn.ops.conv import conv_input_grad_array
from minitorch_cnn.ops.geometry import Window
from minitorch_cnn.ops.pad import pad_array
from minitorch_cnn.ops.pool import AvgPool2dFunction, max_pool_backward_array, max_pool_forward_array
from minitorch_cnn.ops.pool_reference import avg_pool_nd_reference, max_pool_nd_reference

X44 = np.array([[1.0, 5.0, 2.0, 0.0],
                [3.0, 4.0, 8.0, 1.0],
                [0.0, 2.0, 6.0, 6.0],
                [9.0, 1.0, 7.0, 3.0]]).reshape(1, 1, 4, 4)


def _ctx(*needs: bool) -> Context:
    ctx = Context()
    ctx.needs_input_grad = needs
    return ctx


@pytest.mark.task3_1
def test_max_pool_reference_values_and_indices() -> None:
    y, idx = max_pool_nd_reference(X44, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    np.testing.assert_array_equal(y[0, 0], [[5.0, 8.0], [9.0, 7.0]])
    np.testing.assert_array_equal(idx[0, 0], [[1, 6], [12, 14]])  # flat index h*W + w in the 4x4 plane
    y, idx = max_pool_nd_reference(X44, kernel=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1))
    np.testing.assert_array_equal(y[0, 0], [[5.0, 8.0], [9.0, 8.0]])  # padding never wins


@pytest.mark.task3_2
def test_avg_pool_reference_divisors() -> None:
    x = np.ones((1, 1, 3, 3))
    incl = avg_pool_nd_reference(x, kernel=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=True)
    np.testing.assert_allclose(incl[0, 0], [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1.0, 6 / 9], [4 / 9, 6 / 9, 4 / 9]])
    excl = avg_pool_nd_reference(x, kernel=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=False)
    np.testing.assert_allclose(excl, np.ones((1, 1, 3, 3)))
    over = avg_pool_nd_reference(X44, kernel=(2, 2), stride=(2, 2), padding=(0, 0), divisor_override=1)
    np.testing.assert_allclose(over[0, 0], [[13.0, 11.0], [12.0, 22.0]])


@pytest.mark.task3_3
def test_max_pool_backward_routes_to_argmax() -> None:
    kernel, stride, dilation, pads, out = (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), (2, 2)
    _, arg = max_pool_forward_array(X44, kernel, stride, dilation, pads, out, need_arg=True)
    gy = np.array([[10.0, 20.0], [30.0, 40.0]]).reshape(1, 1, 2, 2)
    gx = max_pool_backward_array(gy, arg, X44.shape, kernel, stride, dilation, pads, out)
    want = np.zeros((4, 4))
    want[0, 1], want[1, 2], want[3, 0], want[3, 2] = 10.0, 20.0, 30.0, 40.0  # the arg-maxes 5, 8, 9, 7
    np.testing.assert_array_equal(gx[0, 0], want)
    # overlapping windows (stride 1): a pixel that wins two windows receives both gradients
    out1 = (3, 3)
    _, arg = max_pool_forward_array(X44, kernel, (1, 1), dilation, pads, out1, need_arg=True)
    gx = max_pool_backward_array(np.ones((1, 1, 3, 3)), arg, X44.shape, kernel, (1, 1), dilation, pads, out1)
    assert gx[0, 0, 1, 2] == 4.0 and gx.sum() == 9.0  # the 8 wins all four windows it sits in


@pytest.mark.task3_4
def test_avg_pool_backward_spreads() -> None:
    x = np.ones((1, 1, 3, 3))
    ctx = _ctx(True)
    AvgPool2dFunction.forward(ctx, x, window=Window((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), out=(3, 3)),
                              count_include_pad=False)
    gy = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    gx = AvgPool2dFunction.backward(ctx, gy)
    want = np.zeros((3, 3))
    for i in range(3):  # window (i, j) covers the real pixels within 1 of (i, j); Q = their count
        for j in range(3):
            rows, cols = range(max(i - 1, 0), min(i + 2, 3)), range(max(j - 1, 0), min(j + 2, 3))
            for r in rows:
                for c in cols:
                    want[r, c] += gy[0, 0, i, j] / (len(rows) * len(cols))
    np.testing.assert_allclose(gx[0, 0], want)


def _conv_input_adjoint(gy: np.ndarray, w: np.ndarray, in_hw: tuple, s: int, p: int) -> np.ndarray:
    """dL/dx of y = conv(x, w) for dL/dy = gy, by the definition: every output pixel sends
    gy * w back to the input pixels its window read."""
    N, O, ho, wo = gy.shape
    k = w.shape[-1]
    gx = np.zeros((N, w.shape[1], *in_hw))
    for i in range(ho):
        for j in range(wo):
            for m in range(k):
                for n in range(k):
                    r, c = i * s + m - p, j * s + n - p
                    if 0 <= r < in_hw[0] and 0 <= c < in_hw[1]:
                        gx[:, :, r, c] += np.einsum("no,oc->nc", gy[:, :, i, j], w[:, :, m, n])
    return gx


@pytest.mark.task3_5
def test_conv_input_grad_matches_reflected_kernel() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 3))
    for size, s, p in [(5, 1, 0), (6, 2, 1), (7, 2, 0)]:  # (6, 2, 1): the last input row gets no gradient
        ho = (size + 2 * p - 3) // s + 1
        gy = rng.standard_normal((2, 3, ho, ho))
        gx = conv_input_grad_array(gy, w, (2, 2, size, size), (s, s), ((p, p), (p, p)), (1, 1), 1)
        np.testing.assert_allclose(gx, _conv_input_adjoint(gy, w, (size, size), s, p), atol=1e-10)


@pytest.mark.task3_6
def test_pad_modes_known_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(pad_array(x, [(2, 1)], "reflect"), [3, 2, 1, 2, 3, 4, 3])
    np.testing.assert_array_equal(pad_array(x, [(2, 1)], "replicate"), [1, 1, 1, 2, 3, 4, 4])
    np.testing.assert_array_equal(pad_array(x, [(2, 1)], "circular"), [3, 4, 1, 2, 3, 4, 1])
    grid = np.arange(6.0).reshape(1, 2, 3)
    np.testing.assert_array_equal(pad_array(grid, [(1, 0), (0, 1)], "reflect"), [[[3, 4, 5, 4], [0, 1, 2, 1],
                                                                                  [3, 4, 5, 4]]])


@pytest.mark.task3_7
def test_batchnorm_backward_training() -> None:
    """The textbook BatchNormFunction's input gradient (fast kernels off, so it is the student's
    formula that runs) equals central differences and sums to zero per channel."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 2, 2))
    gamma, beta = np.array([1.5, -0.5]), np.array([0.1, 0.2])
    g = rng.standard_normal(x.shape)

    def loss(xv: np.ndarray) -> float:
        return float((BatchNormFunction.forward(_ctx(True, True, True), xv, gamma, beta) * g).sum())

    with fast.disabled():
        ctx = _ctx(True, True, True, False, False)
        BatchNormFunction.forward(ctx, x, gamma, beta)
        assert not fast.took(ctx)
        gx = BatchNormFunction.backward(ctx, g)[0]
    eps, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (loss(x + step) - loss(x - step)) / (2 * eps)
    np.testing.assert_allclose(gx, numeric, atol=1e-6)
    assert abs(gx.sum(axis=(0, 2, 3))).max() < 1e-9, "shifting a whole channel does not change xhat"
