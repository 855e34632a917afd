"""The testing kit itself (minitorch_cnn/testing.py).

A gradient checker that never fails proves nothing, so the main tests here feed ``gradcheck``
deliberately wrong backwards and require it to catch them and to point at the worst element.
The hypothesis strategies are checked for the cases the op tests rely on: empty and size-1 dims,
broadcastable pairs, and non-contiguous layouts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.autograd import Function
from minitorch_cnn.testing import (
    GradcheckError,
    arrays,
    broadcastable_shapes,
    gradcheck,
    numerical_grad,
    shapes,
    tensors,
)


class SquareFunction(Function):
    """x ** 2 with a backward that can be broken on purpose at some flat positions."""

    broken_at: tuple = ()
    factor: float = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        grad = 2 * x * g
        if SquareFunction.broken_at:
            grad = grad.copy()
            grad.reshape(-1)[list(SquareFunction.broken_at)] *= SquareFunction.factor
        return grad


class ScaledAddFunction(Function):
    """a + b whose gradient for ``b`` is off by a constant: a bug in the second input only."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g * 1.01


@pytest.fixture(autouse=True)
def _reset_square() -> None:
    SquareFunction.broken_at, SquareFunction.factor = (), 1.0


def x64(values, device: str = "cpu") -> mt.Tensor:
    return mt.tensor(values, dtype=mt.float64, device=device, requires_grad=True)


# --------------------------------------------------------------------------------------------------
# gradcheck
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["full", "directional"])
def test_a_correct_backward_passes(device: str, mode: str) -> None:
    x = x64(np.arange(12.0).reshape(3, 4) / 5 - 1, device)
    assert gradcheck(SquareFunction.apply, [x], mode=mode) is True
    assert gradcheck(lambda a, b: (a @ b).tanh(), [x, x64(np.ones((4, 2)), device)], mode=mode)


def test_a_wrong_backward_is_caught_and_the_worst_element_reported(device: str) -> None:
    x = x64(np.arange(1.0, 13.0).reshape(3, 4), device)
    SquareFunction.broken_at, SquareFunction.factor = (6,), 1.5  # element (1, 2)
    with pytest.raises(GradcheckError) as info:
        gradcheck(SquareFunction.apply, [x])
    report = info.value.report
    assert not report.ok and report.mode == "full"
    assert report.input_index == 0 and report.element == (1, 2)
    assert report.analytic == pytest.approx(1.5 * report.numerical, rel=1e-6)
    assert report.abs_error == pytest.approx(abs(report.analytic - report.numerical))
    message = str(info.value)
    assert "FAILED" in message and "input 0, element (1, 2)" in message
    assert f"{report.analytic:.10g}" in message and f"{report.numerical:.10g}" in message


def test_the_worst_of_several_wrong_elements_is_reported() -> None:
    x = x64([1.0, 5.0, 2.0, 3.0])
    # every element but the last is off by 10%: errors 0.2, 1.0, 0.4 (x dL/dy); the worst is element 1
    SquareFunction.broken_at, SquareFunction.factor = (0, 1, 2), 1.1
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: SquareFunction.apply(t).sum(), [x])
    assert info.value.report.element == (1,)


def test_a_bug_in_the_second_input_names_input_1(device: str) -> None:
    a, b = x64([1.0, 2.0], device), x64([3.0, 4.0], device)
    with pytest.raises(GradcheckError, match="input 1") as info:
        gradcheck(ScaledAddFunction.apply, [a, b])
    assert info.value.report.input_index == 1


def test_raise_exception_false_returns_false() -> None:
    SquareFunction.broken_at, SquareFunction.factor = (0,), -1.0
    assert gradcheck(SquareFunction.apply, [x64([2.0, 3.0])], raise_exception=False) is False


def test_directional_mode_catches_a_wrong_backward(device: str) -> None:
    x = x64(np.linspace(0.5, 3.0, 50).reshape(5, 10), device)
    SquareFunction.broken_at, SquareFunction.factor = (17,), 3.0
    with pytest.raises(GradcheckError, match="directional") as info:
        gradcheck(SquareFunction.apply, [x], mode="directional")
    assert info.value.report.mode == "directional" and not info.value.report.ok


def test_small_errors_within_tolerance_pass_and_tolerances_are_honoured() -> None:
    x = x64([1.0, 2.0])
    SquareFunction.broken_at, SquareFunction.factor = (0,), 1.0001  # 2e-4 off at element 0
    assert gradcheck(SquareFunction.apply, [x], atol=1e-5, rtol=1e-3)
    assert not gradcheck(SquareFunction.apply, [x], atol=1e-6, rtol=1e-6, raise_exception=False)


def test_inputs_and_their_grads_are_left_untouched(device: str) -> None:
    x = x64([[0.5, -1.0], [2.0, 3.0]], device)
    before = backend.to_numpy(x._array).copy()
    x.grad = mt.tensor([[9.0, 9.0], [9.0, 9.0]], dtype=mt.float64, device=device)
    gradcheck(lambda t: (t * t).sum(0), [x])
    np.testing.assert_array_equal(backend.to_numpy(x._array), before)
    assert x.device == device
    assert x.grad.tolist() == [[9.0, 9.0], [9.0, 9.0]]


def test_inputs_that_need_no_grad_are_passed_through() -> None:
    w = mt.tensor([2.0, 3.0], dtype=mt.float64)  # no grad: not checked, still used
    assert gradcheck(lambda x, w, k: (x * w) ** k, [x64([1.0, 2.0]), w, 2])


def test_tuple_outputs_and_integer_outputs() -> None:
    x = x64([[3.0, 1.0], [0.0, 2.0]])
    assert gradcheck(lambda t: t.max(1), [x])  # (values, int64 indices): indices are ignored
    assert gradcheck(lambda t: (t.exp(), t * 2), [x])
    with pytest.raises(TypeError, match="no floating-point"):
        gradcheck(lambda t: t.argmax(), [x])


def test_gradcheck_argument_errors() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(SquareFunction.apply, [mt.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(SquareFunction.apply, [mt.ones(2, dtype=mt.float64)])
    with pytest.raises(ValueError, match="mode"):
        gradcheck(SquareFunction.apply, [x64([1.0])], mode="fast")


def test_numerical_grad_by_central_differences(device: str) -> None:
    x = x64([[1.0, -2.0, 0.5]], device)
    grad = numerical_grad(lambda: (x * x * x).sum(), x, eps=1e-6)
    assert isinstance(grad, np.ndarray) and grad.shape == (1, 3)
    np.testing.assert_allclose(grad, 3 * np.array([[1.0, 4.0, 0.25]]), rtol=1e-8)


def test_mt_gradcheck_is_the_testing_function() -> None:
    assert mt.gradcheck is gradcheck


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------
@given(shapes(max_dims=3, max_side=4))
def test_shapes_stay_in_bounds(shape: tuple) -> None:
    assert isinstance(shape, tuple) and len(shape) <= 3 and all(0 <= n <= 4 for n in shape)


def test_shapes_include_empty_size_one_and_zero_dim_cases() -> None:
    assert find(shapes(), lambda s: 0 in s)
    assert find(shapes(min_side=1), lambda s: 1 in s and len(s) >= 2)
    assert find(shapes(), lambda s: s == ()) == ()


@given(broadcastable_shapes(num_shapes=3, max_dims=4, max_side=4))
def test_broadcastable_shapes_broadcast(shape_list: tuple) -> None:
    assert len(shape_list) == 3
    np.broadcast_shapes(*shape_list)  # raises if they did not


def test_broadcastable_shapes_include_real_broadcasting() -> None:
    def both_stretched(pair: tuple) -> bool:
        out = np.broadcast_shapes(*pair)
        return pair[0] != out and pair[1] != out and len(pair[0]) != len(pair[1])

    a, b = find(broadcastable_shapes(2), both_stretched)  # raises if hypothesis never produces one
    assert np.broadcast_shapes(a, b) not in (a, b)


@given(arrays(shapes(max_dims=3), low=-2.0, high=5.0))
def test_arrays_respect_dtype_and_bounds(a: np.ndarray) -> None:
    assert a.dtype == np.float64
    assert np.all(np.isfinite(a)) and np.all((a >= -2.0) & (a <= 5.0))


def test_arrays_include_non_contiguous_layouts() -> None:
    transposed = find(arrays(shapes(min_dims=2, min_side=2)), lambda a: a.flags.f_contiguous and not a.flags.c_contiguous)
    assert transposed.ndim >= 2
    strided = find(arrays(shapes(min_dims=1, min_side=2)), lambda a: not (a.flags.c_contiguous or a.flags.f_contiguous))
    assert strided.base is not None
    contiguous = find(arrays((2, 3), non_contiguous=False), lambda a: True)
    assert contiguous.flags.c_contiguous


@given(arrays((3, 2), dtype=np.float32))
def test_arrays_with_a_fixed_shape_and_dtype(a: np.ndarray) -> None:
    assert a.shape == (3, 2) and a.dtype == np.float32


@given(data=st.data())
def test_tensors_strategy_builds_leaves_for_gradcheck(data: st.DataObject) -> None:
    t = data.draw(tensors(shapes(max_dims=2, max_side=3)))
    assert isinstance(t, mt.Tensor) and t.dtype == mt.float64 and t.requires_grad and t.is_leaf
    s = data.draw(tensors((2, 2), dtype=np.float32, requires_grad=False, device="strict"))
    assert s.device == "strict" and s.dtype == mt.float32 and not s.requires_grad
    assert gradcheck(lambda u: (u * u).sum(), [t])  # empty tensors included
