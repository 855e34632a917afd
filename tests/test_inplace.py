"""In-place ops and version counters (issue 8, item 1) and "save nothing without backward" (item 2).

Expected values marked "PyTorch" were computed with torch 2.13 on the same inputs (the oracle venv
of ../shared) and frozen here as literals; CI has no torch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.autograd import Context, Function
from minitorch_cnn.testing import gradcheck, saved_by_forward

HYP = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t.detach()._array)


def t64(values: list, device: str = "cpu", requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.array(values, dtype=np.float64), dtype=mt.float64, device=device, requires_grad=requires_grad)


# --------------------------------------------------------------------------------------------------
# Issue 8's first bullet: the manual SGD step every PyTorch tutorial writes first
# --------------------------------------------------------------------------------------------------
def test_manual_sgd_step_under_no_grad_changes_the_parameter_in_place(device: str) -> None:
    p = t64([1.0, 2.0, 3.0], device, requires_grad=True)
    (p * p).sum().backward()
    before, memory = p, p._array
    with mt.no_grad():
        p -= 0.1 * p.grad
    assert p is before and p._array is memory and p.is_leaf and p.requires_grad
    np.testing.assert_allclose(host(p), [0.8, 1.6, 2.4])  # PyTorch
    assert p._version == 1


@pytest.mark.parametrize(
    "update, expected",
    [
        (lambda p: p.__iadd__(2.0), [3.0, 4.0]),
        (lambda p: p.__isub__(mt.tensor([1.0, 1.0], dtype=mt.float64)), [0.0, 1.0]),
        (lambda p: p.__imul__(3), [3.0, 6.0]),
        (lambda p: p.__itruediv__(2), [0.5, 1.0]),
        (lambda p: p.add_(1.0, alpha=2), [3.0, 4.0]),
        (lambda p: p.sub_(mt.tensor([1.0, 1.0], dtype=mt.float64), alpha=0.5), [0.5, 1.5]),
        (lambda p: p.mul_(np.float64(2)), [2.0, 4.0]),
        (lambda p: p.div_(4.0), [0.25, 0.5]),
        (lambda p: p.zero_(), [0.0, 0.0]),
        (lambda p: p.fill_(7), [7.0, 7.0]),
        (lambda p: p.copy_(mt.tensor([5.0, 6.0], dtype=mt.float64)), [5.0, 6.0]),
        (lambda p: p.clamp_(min=1.5), [1.5, 2.0]),
        (lambda p: p.__setitem__(0, 9.0), [9.0, 2.0]),
    ],
)
def test_every_in_place_op_changes_a_leaf_under_no_grad(update, expected) -> None:
    p = t64([1.0, 2.0], requires_grad=True)
    memory = p._array
    with mt.no_grad():
        out = update(p)
    assert p._array is memory and p.is_leaf and p._version >= 1
    assert out is None or out is p
    np.testing.assert_allclose(host(p), expected)


@pytest.mark.parametrize(
    "update",
    [
        lambda p: p.__iadd__(1), lambda p: p.__isub__(1), lambda p: p.__imul__(2), lambda p: p.__itruediv__(2),
        lambda p: p.add_(1), lambda p: p.sub_(1), lambda p: p.mul_(2), lambda p: p.div_(2), lambda p: p.zero_(),
        lambda p: p.fill_(1), lambda p: p.copy_(mt.zeros(2, dtype=mt.float64)), lambda p: p.clamp_(0, 1),
        lambda p: p.__setitem__(0, 5.0),
    ],
)
def test_in_place_on_a_leaf_that_requires_grad_is_refused_with_pytorchs_message(update) -> None:
    x = t64([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        update(x)
    assert str(info.value).startswith(LEAF_MESSAGE)
    assert x.is_leaf and x._version == 0
    np.testing.assert_array_equal(host(x), [1.0, 2.0])  # refused before any change


def test_x_plus_equals_one_on_a_leaf_is_refused_and_leaves_it_a_leaf() -> None:
    x = mt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x += 1
    assert x.is_leaf and x.grad_fn is None


# --------------------------------------------------------------------------------------------------
# Issue 8's second bullet: the version counter
# --------------------------------------------------------------------------------------------------
def test_changing_a_saved_tensor_makes_backward_raise(device: str) -> None:
    a = t64([1.0, 2.0, 3.0], device)
    w = t64([1.0, 1.0, 1.0], device, requires_grad=True)
    y = (a * w).sum()
    a[0] = 100
    assert a._version == 1
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "modified by an inplace operation" in message and "[3]" in message and "MulBackward" in message
    assert "is at version 1; expected version 0" in message  # PyTorch's wording
    assert w.grad is None


def test_changing_a_saved_output_makes_backward_raise() -> None:
    x = t64([1.0, 2.0], requires_grad=True)
    y = x.exp()  # ExpBackward keeps its output
    y += 1
    with pytest.raises(RuntimeError, match=r"output 0 of ExpBackward, is at version 1; expected version 0"):
        y.sum().backward()


def test_a_change_before_the_op_saves_is_fine() -> None:
    a = t64([1.0, 2.0, 3.0])
    w = t64([1.0, 1.0, 1.0], requires_grad=True)
    a[0] = 100
    (a * w).sum().backward()
    np.testing.assert_allclose(host(w.grad), [100.0, 2.0, 3.0])


def test_views_and_detach_share_the_version_counter() -> None:
    x = t64([1.0, 2.0, 3.0, 4.0])
    v, r, d = x[1:3], x.reshape(2, 2), x.detach()
    v.mul_(2)
    assert (x._version, v._version, r._version, d._version) == (1, 1, 1, 1)  # PyTorch
    np.testing.assert_allclose(host(x), [1.0, 4.0, 6.0, 4.0])
    picked = x[[0, 1]]  # advanced indexing copies: its own counter
    x.zero_()
    assert picked._version == 0 and x._version == 2


def test_changing_a_detached_alias_of_a_saved_tensor_makes_backward_raise() -> None:
    x = t64([1.0, 2.0], requires_grad=True)
    w = t64([1.0, 2.0], requires_grad=True)
    y = x * w
    x.detach().add_(1)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


def test_optimizer_steps_bump_the_version_like_pytorch() -> None:
    p = mt.nn.Parameter(mt.ones(3))
    opt = mt.optim.SGD([p], lr=0.5)
    memory = p._array
    (p * p).sum().backward()
    opt.step()
    assert p._version == 1 and p._array is memory
    np.testing.assert_allclose(host(p), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "make",
    [lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01), lambda ps: mt.optim.Adam(ps, lr=0.1),
     lambda ps: mt.optim.AdamW(ps, lr=0.1), lambda ps: mt.optim.RMSprop(ps, lr=0.1)],
    ids=["SGD", "Adam", "AdamW", "RMSprop"],
)
def test_every_optimizer_updates_parameters_in_place_and_a_saved_parameter_is_caught(make) -> None:
    p = mt.nn.Parameter(mt.tensor([1.0, -2.0, 3.0]))
    opt = make([p])
    memory = p._array
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p._array is memory and p._version == 2 and not np.allclose(host(p), [1.0, -2.0, 3.0])
    y = (p * p).sum()  # saves p ...
    opt.step()  # ... which the step then changes
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# --------------------------------------------------------------------------------------------------
# In-place ops on non-leaves are recorded in the graph
# --------------------------------------------------------------------------------------------------
def test_in_place_ops_on_a_non_leaf_are_recorded_with_correct_gradients(device: str) -> None:
    x = t64([1.0, 2.0, 3.0], device, requires_grad=True)
    w = t64([2.0, 3.0, 4.0], device, requires_grad=True)
    y = x * 2
    y += w
    y *= w
    y -= 1
    y /= 2
    assert y.grad_fn.name() == "DivBackward"
    (y * y).sum().backward()
    np.testing.assert_allclose(host(x.grad), [14.0, 60.0, 156.0])  # PyTorch
    np.testing.assert_allclose(host(w.grad), [21.0, 100.0, 273.0])  # PyTorch


def test_in_place_chain_passes_gradcheck(device: str) -> None:
    def f(x: mt.Tensor, w: mt.Tensor) -> mt.Tensor:
        y = x.exp()
        z = y * 1  # a copy, so that exp's saved output is not touched
        z.mul_(w)
        z.add_(x, alpha=0.5)
        z.clamp_(-2.0, 2.0)
        z[0] = w[1] * 3
        return z

    x = mt.tensor(np.array([0.1, -0.4, 0.3]), device=device, requires_grad=True)
    w = mt.tensor(np.array([0.7, -1.3, 0.2]), device=device, requires_grad=True)
    assert gradcheck(f, [x, w])


def test_setitem_on_a_graph_tensor_routes_gradients_like_pytorch() -> None:
    x = t64([1.0, 2.0, 3.0], requires_grad=True)
    w = t64([5.0], requires_grad=True)
    y = x * 1
    y[1] = w * 3  # a (1,) value into a scalar slot: leading 1s are dropped, as in PyTorch
    (y * y).sum().backward()
    np.testing.assert_allclose(host(x.grad), [2.0, 0.0, 6.0])  # PyTorch
    np.testing.assert_allclose(host(w.grad), [90.0])  # PyTorch


def test_writing_a_graph_value_into_a_plain_buffer_makes_it_part_of_the_graph() -> None:
    w = t64([5.0, 6.0], requires_grad=True)
    buf = mt.zeros(3, dtype=mt.float64)
    buf[1:] = w
    assert buf.requires_grad and buf.grad_fn is not None
    (buf * buf).sum().backward()
    np.testing.assert_allclose(host(w.grad), [10.0, 12.0])  # PyTorch


@pytest.mark.parametrize(
    "update, expected",
    [
        (lambda y: y.zero_(), [1.0, 1.0]),  # PyTorch: y no longer depends on x
        (lambda y: y.fill_(3.0), [1.0, 1.0]),  # PyTorch
        (lambda y: y.clamp_(0.0, 4.0), [4.0, 1.0]),
    ],
)
def test_fill_zero_and_clamp_on_a_non_leaf(update, expected) -> None:
    x = t64([1.0, 2.0], requires_grad=True)
    y = x * 3
    update(y)
    (y + x).sum().backward()
    np.testing.assert_allclose(host(x.grad), expected)


def test_copy_into_a_buffer_broadcasts_and_sums_the_gradient_back() -> None:
    x = t64([1.0, 2.0], requires_grad=True)
    y = mt.zeros(2, 2, dtype=mt.float64)
    y.copy_(x)
    (y * y).sum().backward()
    np.testing.assert_allclose(host(x.grad), [4.0, 8.0])  # PyTorch


def test_retain_grad_follows_the_tensor_through_an_in_place_op() -> None:
    x = t64([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y += 1
    (y * 3).sum().backward()
    np.testing.assert_allclose(host(y.grad), [3.0, 3.0])


def test_in_place_on_a_view_that_must_be_recorded_is_refused() -> None:
    x = t64([1.0, 2.0, 3.0], requires_grad=True)
    v = (x * 1)[0:2]
    with pytest.raises(RuntimeError, match="view"):
        v += 1


def test_a_view_taken_before_an_in_place_change_of_its_base_is_refused_in_new_ops() -> None:
    x = t64([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    v = y[0:2]
    y += 1
    with pytest.raises(RuntimeError, match="take the view again"):
        v * 2


@given(ops=st.lists(st.sampled_from(["add", "sub", "mul", "div", "setitem", "clamp"]), min_size=1, max_size=6))
@HYP
def test_in_place_sequences_give_the_gradients_of_their_out_of_place_twins(ops: list[str]) -> None:
    x0 = np.array([0.5, -1.2, 2.0, 0.3])
    w0 = np.array([1.5, 0.4, -0.7, 2.2])

    def run(in_place: bool) -> tuple:
        x = mt.tensor(x0, requires_grad=True)
        w = mt.tensor(w0, requires_grad=True)
        y = x * 1
        for op in ops:
            if op == "setitem":
                if in_place:
                    y[1] = w[2] * 2
                else:
                    y = mt.cat([y[:1], (w[2] * 2).reshape(1), y[2:]])
            elif op == "clamp":
                y = y.clamp_(-3, 3) if in_place else y.clamp(-3, 3)
            else:
                other = w if op in ("add", "mul") else w * w + 1
                y = getattr(y, f"{op}_")(other) if in_place else getattr(y, op)(other)
        (y * y + w).sum().backward()
        return host(x.grad), host(w.grad)

    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_in_place_shape_and_dtype_errors_come_before_any_change() -> None:
    x = t64([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(3,\)"):
        x += t64([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    i = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="dtype int64"):
        i /= 2  # PyTorch: result type Float can't be cast to the desired output type Long
    with pytest.raises(ValueError, match=r"value of shape \(2,\).*selected shape \(\)"):
        x[0] = t64([1.0, 2.0])
    assert x._version == 0 and i._version == 0
    np.testing.assert_array_equal(host(x), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(host(i), [1, 2])


def test_an_expanded_view_cannot_be_written() -> None:
    x = mt.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="broadcast view"):
        x.add_(1)


# --------------------------------------------------------------------------------------------------
# Item 2: grad mode decides what a forward keeps
# --------------------------------------------------------------------------------------------------
class _Spy(Function):
    seen: list = []

    @staticmethod
    def forward(ctx: Context, a, b):
        _Spy.seen.append((ctx.needs_input_grad, ctx.needs_backward))
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


def test_needs_input_grad_respects_grad_mode() -> None:
    a, b = t64([1.0], requires_grad=True), t64([2.0])
    _Spy.seen.clear()
    _Spy.apply(a, b)
    with mt.no_grad():
        _Spy.apply(a, b)
    with mt.inference_mode():
        _Spy.apply(a, b)
    _Spy.apply(b, b)
    assert _Spy.seen == [((True, False), True), ((False, False), False), ((False, False), False),
                         ((False, False), False)]


OPS = {
    "mul": lambda x, w: x * w,
    "div": lambda x, w: x / w,
    "pow": lambda x, w: x ** w,
    "matmul": lambda x, w: x.reshape(2, 3) @ w.reshape(3, 2),
    "exp_log_sqrt": lambda x, w: (x.exp() + w.abs().sqrt()).log(),
    "activations": lambda x, w: x.relu() + x.sigmoid() + x.tanh() + x.clamp(-1, 1),
    "softmax": lambda x, w: x.softmax(-1) + x.log_softmax(-1),
    "max_var": lambda x, w: x.max() + x.var() + x.max(0).values + x.maximum(w),
    "where_index": lambda x, w: mt.where(x > 0, x, w)[1:4],
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_save_nothing_under_no_grad_or_without_grad_inputs(name: str, device: str) -> None:
    f = OPS[name]
    x = mt.tensor(np.linspace(0.5, 2.0, 6), device=device, requires_grad=True)
    w = mt.tensor(np.linspace(1.0, 1.5, 6), device=device, requires_grad=True)
    with saved_by_forward() as recorded:
        f(x, w)
    assert sum(r.nbytes for r in recorded) > 0  # with grad something is kept ...
    with mt.no_grad(), saved_by_forward() as recorded:
        f(x, w)
    assert recorded and all(r.nbytes == 0 for r in recorded), recorded  # ... under no_grad nothing
    with saved_by_forward() as recorded:
        f(x.detach(), w.detach())
    assert recorded and all(r.nbytes == 0 for r in recorded), recorded


def test_inference_mode_records_nothing_and_can_be_a_decorator() -> None:
    x = mt.ones(2, requires_grad=True)
    with mt.inference_mode():
        assert not mt.is_grad_enabled() and not (x * 2).requires_grad
    with mt.inference_mode(False):
        assert mt.is_grad_enabled()

    @mt.inference_mode()
    def f(t: mt.Tensor) -> mt.Tensor:
        return t * 2

    assert not f(x).requires_grad and mt.is_grad_enabled()

    @mt.inference_mode  # bare, as PyTorch allows
    def g(t: mt.Tensor) -> mt.Tensor:
        return t * 2

    @mt.no_grad
    def h(t: mt.Tensor) -> mt.Tensor:
        return t * 2

    assert not g(x).requires_grad and not h(x).requires_grad and mt.is_grad_enabled()
    assert g.__name__ == "g"
