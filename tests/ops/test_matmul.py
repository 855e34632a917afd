"""Matrix product (minitorch_cnn/ops/matmul.py) with NumPy's ``matmul`` rules.

Covers 2-D @ 2-D, batched and broadcast batch dims, every 1-D case (promoted to a matrix and
squeezed back), empty dims, and the errors for misaligned shapes, 0-d operands and dtype mixes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.testing import arrays, broadcastable_shapes, gradcheck

HYP = settings(
    max_examples=20,
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)


def wrap(a: np.ndarray, device: str, requires_grad: bool = True) -> mt.Tensor:
    """A tensor over ``a`` on ``device`` WITHOUT copying, so non-contiguous layouts survive."""
    t = mt.Tensor._from_array(backend.to_device(a, device))
    return t.requires_grad_(True) if requires_grad and a.dtype.kind == "f" else t


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


@pytest.mark.parametrize(
    "sa, sb",
    [
        ((2, 3), (3, 4)),
        ((3,), (3, 4)),  # 1-D @ 2-D: a row vector
        ((2, 3), (3,)),  # 2-D @ 1-D: a column vector
        ((3,), (3,)),  # 1-D @ 1-D: the dot product, a 0-d result
        ((2, 5, 3), (2, 3, 4)),  # batched
        ((1, 5, 3), (4, 3, 2)),  # broadcast batch dim
        ((5, 3), (2, 3, 4)),  # a matrix against a batch
        ((3, 1, 2, 3), (4, 3, 2)),  # batch dims of different rank
        ((3,), (2, 3, 4)),  # 1-D against a batch
        ((2, 4, 3), (3,)),
        ((0, 3), (3, 2)),  # empty rows
        ((2, 0), (0, 3)),  # empty contraction: zeros
    ],
)
def test_matmul_cases_match_numpy_and_gradcheck(device: str, sa: tuple, sb: tuple) -> None:
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal(sa), rng.standard_normal(sb)
    a, b = wrap(a_np, device), wrap(b_np, device)
    out = a @ b
    expected = a_np @ b_np
    assert out.shape == expected.shape
    np.testing.assert_allclose(host(out), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(mt.matmul(a, b)), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: a @ b, [a, b])
    out.backward(mt.ones_like(out))
    assert a.grad.shape == sa and b.grad.shape == sb


@HYP
@given(data=st.data())
def test_batched_matmul_with_broadcast_batch_dims(device: str, data: st.DataObject) -> None:
    ba, bb = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3), label="batch shapes")
    m, k, n = data.draw(st.tuples(*[st.integers(0, 3)] * 3), label="m, k, n")
    a_np = data.draw(arrays(ba + (m, k)), label="a")
    b_np = data.draw(arrays(bb + (k, n)), label="b")
    a, b = wrap(a_np, device), wrap(b_np, device)
    np.testing.assert_allclose(host(a @ b), a_np @ b_np, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: a.matmul(b), [a, b])


def test_mm_and_one_sided_gradients(device: str) -> None:
    a = wrap(np.arange(6.0).reshape(2, 3), device)
    b = wrap(np.ones((3, 2)), device, requires_grad=False)
    a.mm(b).sum().backward()
    np.testing.assert_array_equal(host(a.grad), np.full((2, 3), 2.0))
    assert b.grad is None


def test_matmul_errors(device: str) -> None:
    a = mt.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        a @ mt.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        a @ mt.zeros(4, device=device)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        a @ mt.tensor(2.0, device=device)
    with pytest.raises(TypeError, match="float32.*float64"):
        a @ mt.zeros(3, 2, dtype=mt.float64, device=device)
