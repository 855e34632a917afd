"""Element-wise ops (minitorch_cnn/ops/elementwise.py) on every backend.

Each op is checked three ways: the forward values equal NumPy's, ``gradcheck`` (finite differences
in float64) agrees with ``backward``, and hypothesis varies shapes (broadcasting, size-1 and empty
dims, non-contiguous views). Kinks (|x| at 0, relu at 0, clamp at its bounds) are kept out of the
finite-difference checks, where the derivative does not exist, and tested on their own.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.ops import elementwise as E
from minitorch_cnn.testing import arrays, broadcastable_shapes, gradcheck, shapes

# the device fixture is constant across the examples of one test, so sharing it is safe
HYP = settings(  # max_examples from the conftest profile
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)


def wrap(a: np.ndarray, device: str, requires_grad: bool = True) -> mt.Tensor:
    """A tensor over ``a`` on ``device`` WITHOUT copying, so non-contiguous layouts survive."""
    t = mt.Tensor._from_array(backend.to_device(a, device))
    return t.requires_grad_(True) if requires_grad and a.dtype.kind == "f" else t


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


def away_from(a: np.ndarray, points: tuple = (0.0,), margin: float = 0.05) -> np.ndarray:
    """Move values within ``margin`` of a kink away from it (in place, keeping the memory layout)."""
    for p in points:
        a[np.abs(a - p) < margin] = p + 2 * margin
    return a


def quantize(a: np.ndarray, step: float = 0.25) -> np.ndarray:
    """Round to a grid: two values are then equal or at least ``step`` apart (no near-ties)."""
    a[...] = np.round(a / step) * step
    return a


# --------------------------------------------------------------------------------------------------
# Binary ops with broadcasting
# --------------------------------------------------------------------------------------------------
# name -> (tensor op, numpy op, (low, high) for a, (low, high) for b, preprocess)
BINARY = {
    "add": (lambda a, b: a + b, np.add, (-3, 3), (-3, 3), None),
    "sub": (lambda a, b: a - b, np.subtract, (-3, 3), (-3, 3), None),
    "mul": (lambda a, b: a * b, np.multiply, (-3, 3), (-3, 3), None),
    "div": (lambda a, b: a / b, np.divide, (-3, 3), (0.5, 3), None),
    "pow": (lambda a, b: a**b, np.power, (0.5, 2), (-2, 2), None),
    "maximum": (mt.maximum, np.maximum, (-3, 3), (-3, 3), quantize),
    "minimum": (mt.minimum, np.minimum, (-3, 3), (-3, 3), quantize),
}


@pytest.mark.parametrize("name", list(BINARY))
@HYP
@given(data=st.data())
def test_binary_forward_and_gradcheck_with_broadcasting(device: str, name: str, data: st.DataObject) -> None:
    op, np_op, (la, ha), (lb, hb), prep = BINARY[name]
    sa, sb = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3), label="shapes")
    a_np = data.draw(arrays(sa, low=la, high=ha), label="a")
    b_np = data.draw(arrays(sb, low=lb, high=hb), label="b")
    if prep is not None:
        prep(a_np), prep(b_np)
    a, b = wrap(a_np, device), wrap(b_np, device)

    out = op(a, b)
    assert out.device == device and out.dtype == np.float64
    np.testing.assert_allclose(host(out), np_op(a_np, b_np), rtol=1e-12, atol=1e-12)

    assert gradcheck(op, [a, b])
    out.backward(mt.ones_like(out))
    assert a.grad.shape == sa and b.grad.shape == sb  # broadcast inputs get grads of their own shape


@pytest.mark.parametrize(
    "op, np_op",
    [
        (lambda x: x + 2.5, lambda x: x + 2.5),
        (lambda x: 2.5 + x, lambda x: 2.5 + x),
        (lambda x: x - 2.5, lambda x: x - 2.5),
        (lambda x: 2.5 - x, lambda x: 2.5 - x),
        (lambda x: x * -1.5, lambda x: x * -1.5),
        (lambda x: -1.5 * x, lambda x: -1.5 * x),
        (lambda x: x / 4.0, lambda x: x / 4.0),
        (lambda x: 4.0 / x, lambda x: 4.0 / x),
        (lambda x: x**3, lambda x: x**3),
        (lambda x: x**0.5, lambda x: x**0.5),
        (lambda x: 2.0**x, lambda x: 2.0**x),
        (lambda x: -x, lambda x: -x),
        (lambda x: mt.maximum(x, 1.0), lambda x: np.maximum(x, 1.0)),
        (lambda x: x.minimum(1.0), lambda x: np.minimum(x, 1.0)),
    ],
    ids=["add", "radd", "sub", "rsub", "mul", "rmul", "div", "rdiv", "pow3", "sqrt-pow", "rpow", "neg",
         "maximum", "minimum"],
)
def test_python_scalar_operands(device: str, op, np_op) -> None:
    x_np = np.array([[0.3, 1.7, 2.2], [0.6, 1.3, 2.9]])
    x = wrap(x_np, device)
    np.testing.assert_allclose(host(op(x)), np_op(x_np), rtol=1e-12)
    assert gradcheck(op, [x])


def test_scalars_keep_float32(device: str) -> None:
    """A Python scalar never promotes a float32 tensor (as in PyTorch)."""
    x = mt.tensor([1.0, 2.0], device=device)
    for y in (x + 1, 2 * x, x / 3, 1 - x, x**2, 2**x, -x, x.exp(), x.sigmoid(), x.clamp(0, 1.5)):
        assert y.dtype == mt.float32, y


def test_binary_ops_on_empty_and_zero_dim(device: str) -> None:
    e = wrap(np.zeros((0, 3)), device)
    r = wrap(np.ones((1, 3)), device)
    out = e * r
    assert out.shape == (0, 3)
    out.sum().backward()
    assert e.grad.shape == (0, 3) and r.grad.shape == (1, 3)
    np.testing.assert_array_equal(host(r.grad), np.zeros((1, 3)))

    s = wrap(np.array(2.0), device)
    v = wrap(np.array([1.0, 2.0, 3.0]), device)
    assert gradcheck(lambda s, v: s * v + s, [s, v])


def test_binary_shape_mismatch_names_both_shapes(device: str) -> None:
    a, b = mt.zeros(2, 3, device=device), mt.zeros(4, device=device)
    for op in (lambda: a + b, lambda: a - b, lambda: a * b, lambda: a / b, lambda: a**b,
               lambda: mt.maximum(a, b), lambda: mt.minimum(a, b), lambda: mt.where(a > 0, a, b)):
        with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
            op()


def test_binary_dtype_mix_names_both_dtypes(device: str) -> None:
    a = mt.zeros(3, device=device)
    b = mt.zeros(3, dtype=mt.float64, device=device)
    for op in (lambda: a + b, lambda: a * b, lambda: b / a, lambda: mt.maximum(a, b)):
        with pytest.raises(TypeError, match="float32.*float64|float64.*float32"):
            op()


def test_pow_gradient_wrt_exponent_is_zero_where_base_is_not_positive(device: str) -> None:
    """d(a^b)/db = a^b ln a exists only for a > 0; elsewhere the op reports 0 (no NaN)."""
    a = wrap(np.array([0.0, 2.0, -1.0]), device)
    b = wrap(np.array([2.0, 3.0, 2.0]), device)
    (a**b).sum().backward()
    np.testing.assert_allclose(host(b.grad), [0.0, 8 * np.log(2.0), 0.0])
    np.testing.assert_allclose(host(a.grad), [0.0, 12.0, -2.0])


def test_maximum_minimum_split_the_gradient_on_ties(device: str) -> None:
    a = wrap(np.array([1.0, 2.0, 3.0]), device)
    b = wrap(np.array([1.0, 0.0, 5.0]), device)
    mt.maximum(a, b).sum().backward()
    np.testing.assert_allclose(host(a.grad), [0.5, 1.0, 0.0])
    np.testing.assert_allclose(host(b.grad), [0.5, 0.0, 1.0])
    a.grad = b.grad = None
    mt.minimum(a, b).sum().backward()
    np.testing.assert_allclose(host(a.grad), [0.5, 0.0, 1.0])
    np.testing.assert_allclose(host(b.grad), [0.5, 1.0, 0.0])


# --------------------------------------------------------------------------------------------------
# where
# --------------------------------------------------------------------------------------------------
@HYP
@given(data=st.data())
def test_where_broadcasts_three_ways(device: str, data: st.DataObject) -> None:
    sc, sa, sb = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3), label="shapes")
    cond_np = data.draw(arrays(sc, low=-1, high=1), label="cond") > 0
    a_np = data.draw(arrays(sa), label="a")
    b_np = data.draw(arrays(sb), label="b")
    cond = wrap(cond_np, device, requires_grad=False)
    a, b = wrap(a_np, device), wrap(b_np, device)

    out = mt.where(cond, a, b)
    np.testing.assert_array_equal(host(out), np.where(cond_np, a_np, b_np))
    assert gradcheck(lambda a, b: mt.where(cond, a, b), [a, b])
    out.backward(mt.ones_like(out))
    assert a.grad.shape == sa and b.grad.shape == sb


def test_where_with_a_scalar_branch(device: str) -> None:
    x = wrap(np.array([-1.0, 2.0, -3.0, 4.0]), device)
    y = mt.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(host(y), [0.0, 2.0, 0.0, 4.0])
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 1.0, 0.0, 1.0])
    assert gradcheck(lambda x: mt.where(x > 0, 1.0, x), [x])


# --------------------------------------------------------------------------------------------------
# Unary ops
# --------------------------------------------------------------------------------------------------
def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# name -> (tensor op, numpy op, low, high, kinks to stay away from)
UNARY = {
    "neg": (lambda x: -x, np.negative, -3, 3, ()),
    "exp": (mt.exp, np.exp, -3, 3, ()),
    "log": (mt.log, np.log, 0.1, 3, ()),
    "sqrt": (mt.sqrt, np.sqrt, 0.1, 3, ()),
    "abs": (mt.abs, np.abs, -3, 3, (0.0,)),
    "clamp": (lambda x: x.clamp(-1.0, 0.5), lambda x: np.clip(x, -1.0, 0.5), -3, 3, (-1.0, 0.5)),
    "clamp_min": (lambda x: x.clamp(min=-1.0), lambda x: np.maximum(x, -1.0), -3, 3, (-1.0,)),
    "clamp_max": (lambda x: mt.clamp(x, max=0.5), lambda x: np.minimum(x, 0.5), -3, 3, (0.5,)),
    "relu": (mt.relu, lambda x: np.maximum(x, 0), -3, 3, (0.0,)),
    "leaky_relu": (
        lambda x: E.LeakyReLUFunction.apply(x, negative_slope=0.2),
        lambda x: np.where(x > 0, x, 0.2 * x), -3, 3, (0.0,),
    ),
    "sigmoid": (mt.sigmoid, _np_sigmoid, -3, 3, ()),
    "tanh": (mt.tanh, np.tanh, -3, 3, ()),
}


@pytest.mark.parametrize("name", list(UNARY))
@HYP
@given(data=st.data())
def test_unary_forward_and_gradcheck(device: str, name: str, data: st.DataObject) -> None:
    op, np_op, low, high, kinks = UNARY[name]
    x_np = away_from(data.draw(arrays(shapes(max_dims=3, max_side=3), low=low, high=high), label="x"), kinks)
    x = wrap(x_np, device)
    y = op(x)
    assert y.shape == x_np.shape and y.dtype == np.float64 and y.device == device
    np.testing.assert_allclose(host(y), np_op(x_np), rtol=1e-12, atol=1e-15)
    assert gradcheck(op, [x])


def test_kinks_use_pytorchs_subgradients(device: str) -> None:
    """At a kink the derivative is a convention: |x|' = 0, relu' = 0 at 0; clamp passes its bounds."""
    x = wrap(np.array([0.0, -1.0, 0.5, 2.0]), device)
    for op, expected in [
        (mt.abs, [0.0, -1.0, 1.0, 1.0]),
        (mt.relu, [0.0, 0.0, 1.0, 1.0]),
        (lambda t: E.LeakyReLUFunction.apply(t, negative_slope=0.1), [0.1, 0.1, 1.0, 1.0]),
        (lambda t: t.clamp(-1.0, 0.5), [1.0, 1.0, 1.0, 0.0]),
    ]:
        x.grad = None
        op(x).sum().backward()
        np.testing.assert_allclose(host(x.grad), expected)


def test_clamp_needs_a_bound(device: str) -> None:
    with pytest.raises(ValueError, match="min and max"):
        mt.zeros(2, device=device).clamp()


def test_sigmoid_and_tanh_saturate_without_overflow(device: str) -> None:
    x = wrap(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]), device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would be a RuntimeWarning
        s = x.sigmoid()
        t = x.tanh()
        (s + t).sum().backward()
    np.testing.assert_allclose(host(s), [0.0, _np_sigmoid(-50.0), 0.5, _np_sigmoid(50.0), 1.0])
    np.testing.assert_allclose(host(t), [-1.0, -1.0, 0.0, 1.0, 1.0])
    assert np.all(np.isfinite(host(x.grad)))


# --------------------------------------------------------------------------------------------------
# softmax / log_softmax
# --------------------------------------------------------------------------------------------------
def _np_log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@HYP
@given(data=st.data())
def test_softmax_forward_and_gradcheck_along_every_dim(device: str, fn: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x_np = data.draw(arrays(shape), label="x")
    x = wrap(x_np, device)
    op = (lambda t: t.softmax(dim)) if fn == "softmax" else (lambda t: mt.log_softmax(t, dim))
    expected = _np_log_softmax(x_np, dim)
    np.testing.assert_allclose(host(op(x)), np.exp(expected) if fn == "softmax" else expected, rtol=1e-10, atol=1e-14)
    assert gradcheck(op, [x])


def test_softmax_rows_sum_to_one(device: str) -> None:
    x = mt.randn(4, 5, device=device)
    np.testing.assert_allclose(host(x.softmax(dim=1).sum(1)), np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(host(x.softmax(dim=0).sum(0)), np.ones(5), rtol=1e-6)


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_softmax_is_stable_for_huge_logits(device: str, dtype) -> None:
    logits = np.array([[1e4, 0.0, -1e4], [-1e30, -1e30, -1e30], [1e30, 1e30, 0.0]])
    x = mt.tensor(logits, dtype=dtype, device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no inf - inf
        s = x.softmax(-1)
        ls = x.log_softmax(-1)
        (s[:, 0].sum() + ls[:, 1].sum()).backward()
    np.testing.assert_allclose(host(s), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-6)
    assert host(ls)[0, 0] == 0.0 and host(ls)[0, 1] == -1e4
    np.testing.assert_allclose(host(ls)[1], np.full(3, -np.log(3.0)), rtol=1e-6)
    assert np.all(np.isfinite(host(x.grad)))


def test_softmax_of_a_zero_dim_tensor(device: str) -> None:
    x = wrap(np.array(3.0), device)
    assert host(x.softmax(0)) == 1.0 and host(x.log_softmax(-1)) == 0.0


# --------------------------------------------------------------------------------------------------
# Comparisons: boolean results, no graph
# --------------------------------------------------------------------------------------------------
COMPARE = {
    "eq": (lambda a, b: a == b, np.equal),
    "ne": (lambda a, b: a != b, np.not_equal),
    "lt": (lambda a, b: a < b, np.less),
    "le": (lambda a, b: a <= b, np.less_equal),
    "gt": (lambda a, b: a > b, np.greater),
    "ge": (lambda a, b: a.ge(b), np.greater_equal),
}


@pytest.mark.parametrize("name", list(COMPARE))
@HYP
@given(data=st.data())
def test_comparisons_match_numpy_and_record_no_graph(device: str, name: str, data: st.DataObject) -> None:
    op, np_op = COMPARE[name]
    sa, sb = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3), label="shapes")
    a_np = quantize(data.draw(arrays(sa), label="a"), 1.0)  # a coarse grid, so equality happens
    b_np = quantize(data.draw(arrays(sb), label="b"), 1.0)
    a, b = wrap(a_np, device), wrap(b_np, device)
    for out, expected in [(op(a, b), np_op(a_np, b_np)), (op(a, 1.0), np_op(a_np, 1.0))]:
        assert out.dtype == mt.bool and out.device == device
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(host(out), expected)


def test_logical_combinations_of_masks(device: str) -> None:
    x = wrap(np.array([-2.0, -0.5, 0.5, 2.0]), device, requires_grad=False)
    m = (x > -1) & (x < 1)
    np.testing.assert_array_equal(host(m), [False, True, True, False])
    np.testing.assert_array_equal(host(~m | (x > 1)), [True, False, False, True])
    assert bool((x > -3).all()) and not bool((x > 3).any())
