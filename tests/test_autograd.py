"""The graph and the backward pass (minitorch_cnn/autograd.py): what students rely on first.

Covers the contract of issue 2: iterative backward on deep graphs, accumulation into leaves only,
retain_grad, the errors for non-scalar and freed graphs, no_grad/enable_grad, exact broadcast
gradient shapes, hooks, the custom ``Function`` API and the ``Node`` structure.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.autograd import Context, Function, Node
from minitorch_cnn.testing import broadcastable_shapes, gradcheck

HYP = settings(  # max_examples from the conftest profile
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


# --------------------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------------------
def test_a_chain_of_10000_ops_backpropagates_without_recursion() -> None:
    x = mt.tensor(1.5, dtype=mt.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.001  # 2 ops per step
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**5000, rtol=1e-10)


def test_a_wide_diamond_sums_every_path() -> None:
    """x feeds 200 branches that are summed: each contributes its own derivative."""
    x = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    h = x * 2
    total = h * 0
    for k in range(1, 201):
        total = total + h * k
    total.sum().backward()
    np.testing.assert_allclose(host(x.grad), np.full(2, 2 * sum(range(1, 201))))


def test_a_tensor_used_twice_in_one_op() -> None:
    x = mt.tensor([3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [6.0]


def test_two_backward_calls_accumulate_into_leaves_only() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * x  # a non-leaf
    z = y.sum()
    z.backward(retain_graph=True)
    assert x.grad.tolist() == [2.0, 4.0]
    z.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    assert y.grad is None and z.grad is None
    assert x.is_leaf and not y.is_leaf and not z.is_leaf


def test_gradients_of_separate_graphs_accumulate() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_retain_grad_keeps_the_gradient_of_a_non_leaf() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward(retain_graph=True)
    assert y.grad.tolist() == [6.0, 12.0]
    (y * y).sum().backward()  # retained grads accumulate like leaves'
    assert y.grad.tolist() == [12.0, 24.0]
    x.retain_grad()  # a no-op on a leaf
    assert x.grad.tolist() == [36.0, 72.0]


def test_leaves_do_not_share_gradient_memory() -> None:
    """x + y hands the same array to both inputs; in-place updates of one .grad must not leak."""
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = mt.tensor([3.0, 4.0], requires_grad=True)
    g = mt.tensor([2.0, 2.0])
    (x + y).backward(g)
    with mt.no_grad():
        x.grad.mul_(0.5)
    assert y.grad.tolist() == [2.0, 2.0] and x.grad.tolist() == [1.0, 1.0]
    assert g.tolist() == [2.0, 2.0]


def test_backward_of_a_non_scalar_needs_a_gradient() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()
    y.backward(mt.tensor([1.0, 10.0]), retain_graph=True)  # the vector-Jacobian product
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        y.backward(mt.tensor([1.0, 1.0, 1.0]))


def test_a_second_backward_through_a_freed_graph_is_an_error() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    z = (x.exp() * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_backward_of_a_tensor_without_graph_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="requires_grad"):
        mt.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf_and_on_a_single_element_tensor() -> None:
    x = mt.tensor([5.0], requires_grad=True)
    x.backward()
    assert x.grad.tolist() == [1.0]
    y = mt.tensor([[2.0]], requires_grad=True)
    (y * 4).backward()  # one element, any shape: the gradient defaults to 1
    assert y.grad.tolist() == [[4.0]]


def test_detach_cuts_the_graph_and_shares_memory() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    x2 = x.detach()
    with mt.no_grad():
        x2.add_(1.0)
    assert x.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="detach"):
        (x * 2).requires_grad_(False)
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("op", ["add", "mul", "where", "matmul"])
@HYP
@given(data=st.data())
def test_broadcast_inputs_get_gradients_of_exactly_their_shape(device: str, op: str, data: st.DataObject) -> None:
    if op == "matmul":
        ba, bb = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
        sa, sb = ba + (2, 3), bb + (3, 2)
    else:
        sa, sb = data.draw(broadcastable_shapes(2, max_dims=4, max_side=3))
    a = mt.ones(sa, dtype=mt.float64, device=device, requires_grad=True)
    b = mt.ones(sb, dtype=mt.float64, device=device, requires_grad=True)
    fns = {
        "add": lambda: a + b,
        "mul": lambda: a * b,
        "where": lambda: mt.where(a > 0, a, b),
        "matmul": lambda: a @ b,
    }
    out = fns[op]()
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    assert a.grad.device == device and a.grad.dtype == mt.float64
    # with all-ones inputs, a's gradient sums to (outputs) x (elements of a that each output reads)
    assert host(a.grad).sum() == out.numel() * (3 if op == "matmul" else 1)


# --------------------------------------------------------------------------------------------------
# Grad mode
# --------------------------------------------------------------------------------------------------
def test_no_grad_and_enable_grad_contexts_nest() -> None:
    x = mt.tensor([1.0], requires_grad=True)
    assert mt.is_grad_enabled()
    with mt.no_grad():
        assert not mt.is_grad_enabled()
        y = x * 2
        with mt.enable_grad():
            z = x * 2
        w = x * 2
    assert mt.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad
    assert w.grad_fn is None
    with mt.set_grad_enabled(False):
        assert (x * 2).grad_fn is None


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), mt.no_grad():
        1 / 0
    assert mt.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators() -> None:
    x = mt.tensor([1.0], requires_grad=True)

    @mt.no_grad()
    def frozen(t: mt.Tensor) -> mt.Tensor:
        return t * 2

    @mt.enable_grad()
    def recorded(t: mt.Tensor) -> mt.Tensor:
        return t * 2

    assert not frozen(x).requires_grad
    with mt.no_grad():
        assert recorded(x).requires_grad
    assert mt.is_grad_enabled()


def test_ops_on_tensors_without_grad_record_nothing() -> None:
    a = mt.tensor([1.0, 2.0])
    b = a * 2 + a.exp()
    assert b.grad_fn is None and not b.requires_grad and b.is_leaf


# --------------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------------
def test_hook_on_a_leaf_sees_and_can_replace_its_gradient() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))  # returns None: observe only
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_hook_on_a_non_leaf_replaces_the_gradient_flowing_upstream() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 0.5)
    (y * 2).sum().backward()
    assert y.grad.tolist() == [1.0, 1.0]  # the retained grad is the one after the hook
    assert x.grad.tolist() == [3.0, 3.0]


def test_hook_needs_a_tensor_that_requires_grad() -> None:
    with pytest.raises(RuntimeError, match="require"):
        mt.tensor([1.0]).register_hook(lambda g: g)


# --------------------------------------------------------------------------------------------------
# The custom Function API
# --------------------------------------------------------------------------------------------------
class CubeFunction(Function):
    """y = x ** 3 with a saved input: dy/dx = 3 x ** 2."""

    @staticmethod
    def forward(ctx: Context, x, scale: float = 1.0):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x**3 * scale

    @staticmethod
    def backward(ctx: Context, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2 * ctx.scale


class AffineFunction(Function):
    """y = a * x + b; records which gradients backward was asked for."""

    calls: list = []

    @staticmethod
    def forward(ctx: Context, x, a, b):
        ctx.save_for_backward(x, a)
        return a * x + b

    @staticmethod
    def backward(ctx: Context, g):
        x, a = ctx.saved_tensors
        AffineFunction.calls.append(ctx.needs_input_grad)
        return (
            g * a if ctx.needs_input_grad[0] else None,
            g * x if ctx.needs_input_grad[1] else None,
            g if ctx.needs_input_grad[2] else None,
        )


class SortFunction(Function):
    """Two outputs: sorted values (differentiable) and the permutation (not)."""

    @staticmethod
    def forward(ctx: Context, x):
        xp = backend.get_array_module(x)
        order = xp.argsort(x, axis=-1)
        ctx.save_for_backward(order)
        ctx.mark_non_differentiable(1)
        return xp.take_along_axis(x, order, axis=-1), order

    @staticmethod
    def backward(ctx: Context, g_values, g_order):
        (order,) = ctx.saved_tensors
        xp = backend.get_array_module(g_values)
        grad = xp.zeros(g_values.shape, dtype=g_values.dtype)
        xp.put_along_axis(grad, order, g_values, axis=-1)
        return grad


class SplitHalvesFunction(Function):
    """Two differentiable outputs: the first and second half of a vector."""

    @staticmethod
    def forward(ctx: Context, x):
        h = x.shape[0] // 2
        return x[:h] * 1, x[h:] * 1

    @staticmethod
    def backward(ctx: Context, g1, g2):
        xp = backend.get_array_module(g1)
        return xp.concatenate([g1, g2])


def test_custom_function_forward_backward_and_gradcheck(device: str) -> None:
    x = mt.tensor([1.0, -2.0, 0.5], dtype=mt.float64, device=device, requires_grad=True)
    y = CubeFunction.apply(x, scale=2.0)
    assert host(y).tolist() == [2.0, -16.0, 0.25]
    assert y.grad_fn.name() == "CubeBackward" and repr(y.grad_fn) == "<CubeBackward>"
    assert gradcheck(lambda t: CubeFunction.apply(t, scale=2.0), [x])
    # options go in as keywords: a positional 2.0 would count as an input needing its own (None) gradient
    with pytest.raises(RuntimeError, match="returned 1 gradients but forward took 2"):
        CubeFunction.apply(x, 2.0).sum().backward()


def test_needs_input_grad_tells_backward_what_to_compute(device: str) -> None:
    AffineFunction.calls.clear()
    x = mt.tensor([1.0, 2.0], dtype=mt.float64, device=device, requires_grad=True)
    a = mt.tensor([3.0, 4.0], dtype=mt.float64, device=device)
    AffineFunction.apply(x, a, 5.0).sum().backward()
    assert AffineFunction.calls == [(True, False, False)]
    assert host(x.grad).tolist() == [3.0, 4.0] and a.grad is None
    a.requires_grad_()
    assert gradcheck(lambda x, a: AffineFunction.apply(x, a, 5.0), [x, a])


def test_multiple_outputs_and_mark_non_differentiable(device: str) -> None:
    x = mt.tensor([[3.0, 1.0, 2.0]], dtype=mt.float64, device=device, requires_grad=True)
    values, order = SortFunction.apply(x)
    assert host(values).tolist() == [[1.0, 2.0, 3.0]] and host(order).tolist() == [[1, 2, 0]]
    assert values.requires_grad and values.grad_fn is not None
    assert not order.requires_grad and order.grad_fn is None
    (values * mt.tensor([[1.0, 10.0, 100.0]], dtype=mt.float64, device=device)).sum().backward()
    assert host(x.grad).tolist() == [[100.0, 1.0, 10.0]]
    assert gradcheck(lambda t: SortFunction.apply(t)[0], [x])


def test_multiple_differentiable_outputs_share_one_node(device: str) -> None:
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], dtype=mt.float64, device=device, requires_grad=True)
    first, second = SplitHalvesFunction.apply(x)
    assert first.grad_fn is second.grad_fn
    (first * 2).sum().backward()  # second is unused: its gradient is zeros
    assert host(x.grad).tolist() == [2.0, 2.0, 0.0, 0.0]
    assert gradcheck(lambda t: SplitHalvesFunction.apply(t), [x])  # both outputs at once


def test_backward_returning_the_wrong_number_of_gradients_is_an_error() -> None:
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = mt.tensor([1.0], requires_grad=True), mt.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned 1 gradients.*2 positional"):
        Bad.apply(a, b).sum().backward()


def test_backward_returning_a_wrong_shape_is_an_error() -> None:
    class BadShapeFunction(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum(keepdims=True)

    with pytest.raises(RuntimeError, match=r"shape \(1,\).*shape \(3,\)"):
        BadShapeFunction.apply(mt.ones(3, requires_grad=True)).sum().backward()


def test_apply_under_no_grad_records_nothing() -> None:
    x = mt.tensor([1.0], requires_grad=True)
    with mt.no_grad():
        y = CubeFunction.apply(x)
    assert y.grad_fn is None and not y.requires_grad


def test_mixing_devices_in_one_op_is_a_clear_error() -> None:
    a = mt.ones(2, device="cpu")
    b = mt.ones(2, device="strict")
    with pytest.raises(TypeError, match=r"cpu.*strict"):
        a + b
    with pytest.raises(TypeError, match=r"strict.*cpu"):
        CubeFunction.apply(b) * a


# --------------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------------
def test_node_names_and_next_functions() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    w = mt.tensor([3.0, 4.0])
    y = (x * w).exp().sum()
    assert isinstance(y.grad_fn, Node)
    assert y.grad_fn.name() == "SumBackward"
    (exp_node, idx), = y.grad_fn.next_functions
    assert exp_node.name() == "ExpBackward" and idx == 0
    (mul_node, _), = exp_node.next_functions
    assert mul_node.name() == "MulBackward"
    (leaf, _), (none, _) = mul_node.next_functions
    assert leaf is x and none is None  # a leaf needing grad, and an input that needs none
    names = {op: f(x).grad_fn.name() for op, f in {
        "add": lambda t: t + 1, "sub": lambda t: t - 1, "div": lambda t: t / 2, "pow": lambda t: t**2,
        "neg": lambda t: -t, "matmul": lambda t: t @ t, "getitem": lambda t: t[0], "reshape": lambda t: t.view(2, 1),
        "permute": lambda t: t.T, "mean": lambda t: t.mean(), "relu": lambda t: t.relu(),
    }.items()}
    assert names == {
        "add": "AddBackward", "sub": "SubBackward", "div": "DivBackward", "pow": "PowBackward",
        "neg": "NegBackward", "matmul": "MatMulBackward", "getitem": "GetItemBackward",
        "reshape": "ReshapeBackward", "permute": "PermuteBackward", "mean": "MeanBackward", "relu": "ReLUBackward",
    }


def test_output_index_of_multi_output_nodes_in_next_functions() -> None:
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    first, second = SplitHalvesFunction.apply(x)
    z = second * 2
    ((node, idx),) = [nf for nf in z.grad_fn.next_functions if nf[0] is not None]
    assert node is first.grad_fn and idx == 1
