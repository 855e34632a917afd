"""Tasks of chapter 01 (tensors and autograd). Run one task: ``pytest -m task1_1``.

Each Function is tested by calling its ``forward`` / ``backward`` directly with a ``Context``, so
a task is graded on its own code, not on the rest of the engine.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.autograd import Context, _topological_order
from minitorch_cnn.ops._util import unbroadcast
from minitorch_cnn.ops.elementwise import ExpFunction, MulFunction, ReLUFunction, SoftmaxFunction
from minitorch_cnn.ops.reduce import SumFunction


def _ctx(*needs: bool) -> Context:
    ctx = Context()
    ctx.needs_input_grad = needs
    return ctx


@pytest.mark.task1_1
def test_mul_forward() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, -1.0], [0.5, 2.0]])
    np.testing.assert_allclose(MulFunction.forward(_ctx(True, True), a, b), [[5.0, -2.0], [1.5, 8.0]])


@pytest.mark.task1_1
def test_mul_backward_same_shape() -> None:
    a, b, g = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.array([1.0, 10.0, 100.0])
    ctx = _ctx(True, True)
    MulFunction.forward(ctx, a, b)
    ga, gb = MulFunction.backward(ctx, g)
    np.testing.assert_allclose(ga, g * b)  # d(ab)/da = b
    np.testing.assert_allclose(gb, g * a)
    ctx = _ctx(False, True)
    MulFunction.forward(ctx, a, b)
    ga, gb = MulFunction.backward(ctx, g)
    assert ga is None, "no gradient for an input that does not need one (ctx.needs_input_grad[0] is False)"


@pytest.mark.task1_2
def test_exp_forward_and_backward() -> None:
    a = np.array([0.0, 1.0, -2.0])
    ctx = _ctx(True)
    np.testing.assert_allclose(ExpFunction.forward(ctx, a), np.exp(a))
    np.testing.assert_allclose(ExpFunction.backward(ctx, np.array([1.0, 2.0, 3.0])), [1.0, 2 * np.e, 3 * np.exp(-2)])


@pytest.mark.task1_3
def test_sum_backward_all() -> None:
    ctx = _ctx(True)
    SumFunction.forward(ctx, np.ones((2, 3)), None, False)
    g = SumFunction.backward(ctx, np.array(5.0))
    np.testing.assert_allclose(g, np.full((2, 3), 5.0))


@pytest.mark.task1_3
def test_sum_backward_dims() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    ctx = _ctx(True)
    SumFunction.forward(ctx, x, (1,), False)  # (2, 4)
    g = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    gx = SumFunction.backward(ctx, g)
    assert gx.shape == (2, 3, 4)
    np.testing.assert_allclose(gx, np.broadcast_to(g[:, None, :], (2, 3, 4)))
    ctx = _ctx(True)
    SumFunction.forward(ctx, x, (0, 2), True)  # (1, 3, 1)
    gx = SumFunction.backward(ctx, np.array([[[1.0], [2.0], [3.0]]]))
    np.testing.assert_allclose(gx[1, :, 3], [1.0, 2.0, 3.0])


@pytest.mark.task1_4
def test_unbroadcast_leading_axes() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_allclose(unbroadcast(g, (3, 4)), g.sum(axis=0))


@pytest.mark.task1_4
def test_unbroadcast_size_one_axes() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    out = unbroadcast(g, (2, 1, 4))
    assert out.shape == (2, 1, 4)
    np.testing.assert_allclose(out, g.sum(axis=1, keepdims=True))
    out = unbroadcast(g, (3, 1))
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out, g.sum(axis=(0, 2))[:, None])


def _diamond() -> tuple[mt.Tensor, mt.Tensor]:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    left = x + 1.0
    right = x - 3.0
    top = left + right  # x feeds the top through two paths
    return x, top + top


@pytest.mark.task1_5
def test_topological_order_diamond() -> None:
    _, out = _diamond()
    order = _topological_order(out.grad_fn)
    assert order[0] is out.grad_fn, "the root (the output's grad_fn) comes first"
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order) == 4, "every node exactly once"
    for node in order:
        for t in node.inputs:
            if t is not None and t.grad_fn is not None:
                assert position[id(t.grad_fn)] > position[id(node)], "a node comes after every node it feeds"


@pytest.mark.task1_5
def test_backward_through_diamond() -> None:
    x, out = _diamond()
    out.backward(mt.tensor([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])  # out = 2(2x - 2): d/dx = 4


@pytest.mark.task1_6
def test_relu_forward_and_backward() -> None:
    a = np.array([-2.0, 0.0, 3.0])
    ctx = _ctx(True)
    np.testing.assert_allclose(ReLUFunction.forward(ctx, a), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(ReLUFunction.backward(ctx, np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 5.0])


@pytest.mark.task1_7
def test_softmax_backward() -> None:
    a = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    g = np.array([[1.0, 0.0, -1.0], [0.3, 0.2, 0.1]])
    ctx = _ctx(True)
    ctx.dim = -1
    s = SoftmaxFunction.forward(ctx, a, dim=-1)
    got = SoftmaxFunction.backward(ctx, g)
    jacobians = [np.diag(row) - np.outer(row, row) for row in s]  # ds_i/da_j = s_i (delta_ij - s_j)
    np.testing.assert_allclose(got, np.stack([J.T @ gi for J, gi in zip(jacobians, g)]), atol=1e-12)
