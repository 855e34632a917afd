"""Reductions (minitorch_cnn/ops/reduce.py): sum, mean, var/std, max/min/amax/amin, argmax/argmin.

Forward values are compared with NumPy and gradients with finite differences, over every way of
naming the reduced dims (None, an int, a negative int, a tuple) with and without ``keepdim``.
max/min are gradchecked on distinct values: at a tie the one-sided derivatives differ, so there
the gradient is a convention, tested separately.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.testing import arrays, gradcheck, shapes

HYP = settings(  # max_examples from the conftest profile
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)


def wrap(a: np.ndarray, device: str, requires_grad: bool = True) -> mt.Tensor:
    """A tensor over ``a`` on ``device`` WITHOUT copying, so non-contiguous layouts survive."""
    t = mt.Tensor._from_array(backend.to_device(a, device))
    return t.requires_grad_(True) if requires_grad and a.dtype.kind == "f" else t


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


@st.composite
def dims_for(draw: st.DrawFn, ndim: int) -> int | tuple | None:
    """None, one (possibly negative) int, or a tuple of distinct dims of an ``ndim``-d tensor."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return draw(st.one_of(st.none(), one, many))


def np_axes(dim: int | tuple | None, ndim: int) -> tuple | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else dim
    return tuple(d % ndim for d in dims) if ndim else ()


def distinct(data: st.DataObject, shape: tuple) -> np.ndarray:
    """An array of ``shape`` whose values are pairwise at least 0.25 apart (no ties, no near-ties)."""
    n = int(np.prod(shape))
    perm = data.draw(st.permutations(range(n)), label="order")
    base = np.asarray(perm, dtype=np.float64).reshape(shape) * 0.25 - n * 0.125
    return np.ascontiguousarray(base.T).T if base.ndim > 1 else base  # a transposed layout too


# --------------------------------------------------------------------------------------------------
# sum / mean / var / std
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "var", "var_biased", "std"])
@HYP
@given(data=st.data())
def test_smooth_reductions_forward_and_gradcheck(device: str, name: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(max_dims=3, min_side=0 if name == "sum" else 1, max_side=3), label="shape")
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x_np = data.draw(arrays(shape), label="x")
    axes = np_axes(dim, len(shape))
    n = x_np.size if axes is None else int(np.prod([shape[a] for a in axes]))
    ops = {
        "sum": (lambda t: t.sum(dim, keepdim), lambda a: a.sum(axis=axes, keepdims=keepdim)),
        "mean": (lambda t: mt.mean(t, dim, keepdim), lambda a: a.mean(axis=axes, keepdims=keepdim)),
        "var": (lambda t: t.var(dim, keepdim=keepdim), lambda a: a.var(axis=axes, ddof=1, keepdims=keepdim)),
        "var_biased": (
            lambda t: t.var(dim, unbiased=False, keepdim=keepdim), lambda a: a.var(axis=axes, keepdims=keepdim)
        ),
        "std": (
            lambda t: t.std(dim, keepdim=keepdim, correction=0), lambda a: a.std(axis=axes, keepdims=keepdim)
        ),
    }
    op, np_op = ops[name]
    if name in ("var", "std") and n < 2 or name == "std" and np.any(np_op(x_np) < 1e-3):
        return  # Bessel's n - 1 = 0 / sqrt at 0: NaN or a kink, checked elsewhere
    x = wrap(x_np, device)
    y = op(x)
    np.testing.assert_allclose(host(y), np_op(x_np), rtol=1e-10, atol=1e-12)
    assert y.shape == np.shape(np_op(x_np))
    assert gradcheck(op, [x])


def test_sum_of_empty_dims_gives_zeros_and_a_gradient_of_the_input_shape(device: str) -> None:
    x = wrap(np.zeros((0, 3)), device)
    y = x.sum(0)
    np.testing.assert_array_equal(host(y), np.zeros(3))
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    assert host(wrap(np.zeros((2, 0)), device).sum()) == 0.0


def test_var_correction_variants_agree_with_numpy(device: str) -> None:
    x_np = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
    x = wrap(x_np, device)
    np.testing.assert_allclose(host(x.var()), x_np.var(ddof=1))
    np.testing.assert_allclose(host(x.var(1, unbiased=True)), x_np.var(axis=1, ddof=1))
    np.testing.assert_allclose(host(x.var(0, correction=0)), x_np.var(axis=0))
    np.testing.assert_allclose(host(x.std(1)), x_np.std(axis=1, ddof=1))


def test_mean_of_an_integer_tensor_is_refused(device: str) -> None:
    with pytest.raises(TypeError, match="int64"):
        mt.tensor([1, 2, 3], device=device).mean()


def test_reductions_keep_the_dtype(device: str) -> None:
    x = mt.ones(2, 3, device=device)
    for y in (x.sum(), x.mean(0), x.var(1), x.amax(), x.max(0).values):
        assert y.dtype == mt.float32


def test_integer_and_bool_sums(device: str) -> None:
    x = mt.tensor([[1, 2], [3, 4]], device=device)
    assert x.sum().item() == 10 and x.sum(0).tolist() == [4, 6]
    assert (x > 1).sum().item() == 3


@pytest.mark.parametrize("bad", [2, -3, (0, 5)])
def test_dim_out_of_range_names_the_dim(device: str, bad) -> None:
    x = mt.zeros(2, 3, device=device)
    for op in (x.sum, x.mean, x.var, x.amax, x.argmax if isinstance(bad, int) else x.sum):
        with pytest.raises(IndexError, match="out of range"):
            op(bad)


# --------------------------------------------------------------------------------------------------
# max / min
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["max", "min"])
@HYP
@given(data=st.data())
def test_amax_amin_forward_and_gradcheck(device: str, mode: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(max_dims=3, min_side=1, max_side=3), label="shape")
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x_np = distinct(data, shape)
    axes = np_axes(dim, len(shape))
    np_op = np.amax if mode == "max" else np.amin
    op = (lambda t: t.amax(dim, keepdim)) if mode == "max" else (lambda t: t.amin(dim, keepdim))
    x = wrap(x_np, device)
    np.testing.assert_array_equal(host(op(x)), np_op(x_np, axis=axes, keepdims=keepdim))
    assert gradcheck(op, [x])
    whole = (lambda t: t.max()) if mode == "max" else (lambda t: t.min())
    assert host(whole(x)) == np_op(x_np)
    assert gradcheck(whole, [x])


@pytest.mark.parametrize("mode", ["max", "min"])
@HYP
@given(data=st.data())
def test_max_min_over_a_dim_return_values_and_indices(device: str, mode: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x_np = distinct(data, shape)
    x = wrap(x_np, device)
    values, indices = getattr(x, mode)(dim, keepdim=keepdim)
    np_arg = np.argmax if mode == "max" else np.argmin
    expected_idx = np_arg(x_np, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(host(indices), expected_idx)
    np.testing.assert_array_equal(host(values), (np.amax if mode == "max" else np.amin)(x_np, dim, keepdims=keepdim))
    assert indices.dtype == mt.int64 and not indices.requires_grad and indices.grad_fn is None
    assert values.grad_fn is not None
    assert gradcheck(lambda t: getattr(t, mode)(dim, keepdim=keepdim).values, [x])


def test_max_ties(device: str) -> None:
    """Over all elements ties share the gradient; over a dim the first arg-max takes it all."""
    x = wrap(np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]]), device)
    x.max().backward()
    np.testing.assert_allclose(host(x.grad), [[0.5, 0, 0.5], [0, 0, 0]])
    x.grad = None
    x.amax(1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[0.5, 0, 0.5], [0.5, 0.5, 0]])
    x.grad = None
    values, indices = x.max(1)
    assert indices.tolist() == [0, 0]
    values.sum().backward()
    np.testing.assert_allclose(host(x.grad), [[1, 0, 0], [1, 0, 0]])


def test_max_of_an_empty_tensor_is_an_error(device: str) -> None:
    with pytest.raises(RuntimeError, match=r"empty.*\(2, 0\)"):
        mt.zeros(2, 0, device=device).max()
    with pytest.raises(RuntimeError, match="empty"):
        mt.zeros(0, device=device).min(0)


def test_max_with_a_tensor_is_elementwise_maximum(device: str) -> None:
    a = mt.tensor([1.0, 5.0], device=device)
    b = mt.tensor([3.0, 2.0], device=device)
    assert a.max(b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------------------------------
# argmax / argmin
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@HYP
@given(data=st.data())
def test_argmax_argmin_match_numpy(device: str, name: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    x_np = np.round(data.draw(arrays(shape), label="x"))  # integers: ties, where the first index wins
    x = wrap(x_np, device, requires_grad=False)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    if dim is None:
        out = mt.argmax(x) if name == "argmax" else x.argmin()
    else:
        out = getattr(x, name)(dim, keepdim=keepdim)
    np_fn = getattr(np, name)
    expected = np_fn(x_np) if dim is None else np_fn(x_np, axis=dim, keepdims=keepdim)
    assert out.dtype == mt.int64 and out.grad_fn is None
    np.testing.assert_array_equal(host(out), expected)
