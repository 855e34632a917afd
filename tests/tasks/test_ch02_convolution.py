"""Tasks of chapter 02 (convolution). Run one task: ``pytest -m task2_3``.

Expected values are either worked by hand (small enough to check on paper) or computed here with
NumPy in a different way from the code under test (e.g. by explicit slicing).
"""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cnn.ops.conv_reference import (
    conv_nd_reference,
    conv_transpose_nd_reference,
    correlate2d_reference,
)
from minitorch_cnn.ops.windows import dilate, out_size, window_view


@pytest.mark.task2_1
def test_correlate2d_known_values() -> None:
    x = np.arange(16.0).reshape(4, 4)
    k = np.array([[1.0, 0.0], [0.0, -1.0]])  # x[i, j] - x[i+1, j+1] = -5 everywhere
    np.testing.assert_allclose(correlate2d_reference(x, k), np.full((3, 3), -5.0))
    k = np.array([[0.0, 1.0, 0.0]])  # picks x[i, j+1]
    np.testing.assert_allclose(correlate2d_reference(x, k), x[:, 1:3])


@pytest.mark.task2_2
def test_out_size_formula() -> None:
    assert out_size(28, 3, 1, 1, 1, 1) == 28  # "same" 3x3
    assert out_size(28, 2, 2, 0, 0, 1) == 14  # 2x2 stride 2
    assert out_size(7, 3, 2, 0, 0, 1) == 3
    assert out_size(10, 3, 1, 0, 0, 2) == 6  # dilation 2: effective kernel 5
    assert out_size(8, 3, 3, 0, 0, 1) == 2 and out_size(8, 3, 3, 0, 0, 1, ceil=True) == 3


def _by_slicing(x: np.ndarray, w: np.ndarray, s: int, p: int, d: int) -> np.ndarray:
    """Single-group 2-d convolution by summing shifted, strided slices (no loops over pixels)."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    k = w.shape[-1]
    ho = (xp.shape[2] - d * (k - 1) - 1) // s + 1
    wo = (xp.shape[3] - d * (k - 1) - 1) // s + 1
    y = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for m in range(k):
        for n in range(k):
            patch = xp[:, :, m * d : m * d + s * (ho - 1) + 1 : s, n * d : n * d + s * (wo - 1) + 1 : s]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, m, n])
    return y


@pytest.mark.task2_3
def test_conv_nd_reference_known_values() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 7))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    for s, p, d in [(1, 0, 1), (2, 1, 1), (1, 2, 2)]:
        got = conv_nd_reference(x, w, b, stride=(s, s), pads=((p, p), (p, p)), dilation=(d, d))
        np.testing.assert_allclose(got, _by_slicing(x, w, s, p, d) + b[None, :, None, None], atol=1e-10)


@pytest.mark.task2_3
def test_conv_nd_reference_groups() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 5, 5))
    w = rng.standard_normal((6, 2, 3, 3))  # groups=2: channels 0-1 -> outputs 0-2, channels 2-3 -> 3-5
    got = conv_nd_reference(x, w, None, groups=2)
    want = np.concatenate([_by_slicing(x[:, :2], w[:3], 1, 0, 1), _by_slicing(x[:, 2:], w[3:], 1, 0, 1)], axis=1)
    np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.task2_4
def test_window_view_out_first() -> None:
    x = np.arange(2 * 1 * 5 * 6, dtype=np.float64).reshape(2, 1, 5, 6)
    v = window_view(x, kernel=(2, 3), stride=(2, 1), dilation=(1, 2), out=(2, 2))
    assert v.shape == (2, 1, 2, 2, 2, 3)
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(v[:, :, i, j], x[:, :, 2 * i : 2 * i + 2, j : j + 5 : 2])
    assert np.shares_memory(v, x), "a view: no copy of the input"


@pytest.mark.task2_4
def test_window_view_im2col_order() -> None:
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
    v = window_view(x, kernel=(3, 3), stride=(1, 1), dilation=(1, 1), out=(2, 2), order="im2col")
    assert v.shape == (3, 3, 3, 2, 2, 2)  # (C, kh, kw, N, oh, ow)
    assert v[1, 2, 0, 1, 1, 0] == x[1, 1, 1 + 2, 0 + 0]


@pytest.mark.task2_5
def test_dilate() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(dilate(x, (2, 3)), [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]])
    np.testing.assert_array_equal(dilate(np.ones((2, 1, 3)), (2,)).shape, (2, 1, 5))


@pytest.mark.task2_6
def test_conv_transpose_reference_scatter() -> None:
    x = np.array([[[1.0, 2.0]]])  # (N=1, C=1, L=2)
    w = np.array([[[1.0, 10.0, 100.0]]])  # (C_in=1, C_out=1, k=3)
    # stride 2: pixel 0 adds [1, 10, 100] at 0..2, pixel 1 adds [2, 20, 200] at 2..4
    got = conv_transpose_nd_reference(x, w, None, stride=(2,), padding=(0,), output_padding=(0,), dilation=(1,))
    np.testing.assert_allclose(got, [[[1.0, 10.0, 102.0, 20.0, 200.0]]])
    got = conv_transpose_nd_reference(x, w, np.array([0.5]), stride=(2,), padding=(1,), output_padding=(1,),
                                      dilation=(1,))
    np.testing.assert_allclose(got, [[[10.5, 102.5, 20.5, 200.5]]])
