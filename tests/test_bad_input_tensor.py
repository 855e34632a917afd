"""Bad input to tensor ops (issue 8, items 3 and 7): each case asserts the exception type and that
the message names the offending argument, value or shapes; in-place cases also check that
nothing was changed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cnn as mt


def x23() -> mt.Tensor:
    return mt.ones(2, 3)


CASES = [
    # (id, call, exception, regex the message must match)
    ("add shapes", lambda: x23() + mt.ones(4), ValueError, r"add: shapes \(2, 3\) and \(4,\)"),
    ("add dtypes", lambda: x23() + mt.ones(2, 3, dtype=mt.float64), TypeError, r"add: dtype mismatch, float32 and float64"),
    ("sub shapes", lambda: x23() - mt.ones(3, 2), ValueError, r"sub: shapes \(2, 3\) and \(3, 2\)"),
    ("mul shapes", lambda: x23() * mt.ones(5, 1, 2), ValueError, r"mul: shapes \(2, 3\) and \(5, 1, 2\)"),
    ("div dtypes", lambda: x23() / mt.ones(3, dtype=mt.float64), TypeError, r"div: dtype mismatch"),
    ("pow dtypes", lambda: x23() ** mt.ones(3, dtype=mt.float64), TypeError, r"pow: dtype mismatch"),
    ("maximum shapes", lambda: x23().maximum(mt.ones(4)), ValueError, r"maximum: shapes \(2, 3\) and \(4,\)"),
    ("where shapes", lambda: mt.where(x23() > 0, x23(), mt.ones(4)), ValueError, r"where: shapes \(2, 3\) and \(4,\)"),
    ("str operand", lambda: x23() * "a", TypeError, r"combined with str 'a'"),
    ("None operand", lambda: x23() + None, TypeError, r"combined with NoneType"),
    ("matmul shapes", lambda: x23() @ mt.ones(2, 3), ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\) are not aligned.*\(3\).*\(2\)"),
    ("matmul 0-d", lambda: x23() @ mt.tensor(2.0), ValueError, r"matmul: both operands must have at least 1 dimension"),
    ("matmul dtypes", lambda: x23() @ mt.ones(3, 2, dtype=mt.float64), TypeError, r"matmul: dtype mismatch, float32 and float64"),
    ("matmul 1-d", lambda: mt.ones(3) @ mt.ones(4), ValueError, r"matmul: shapes \(3,\) and \(4,\)"),
    ("devices", lambda: x23() + mt.ones(2, 3, device="strict"), TypeError, r"different devices, cpu and strict"),
    ("reshape count", lambda: x23().reshape(4, 2), ValueError, r"reshape.*shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"),
    ("reshape two -1", lambda: x23().reshape(-1, -1), ValueError, r"reshape: invalid target shape \(-1, -1\)"),
    ("reshape negative", lambda: x23().reshape(-2, 3), ValueError, r"invalid target shape \(-2, 3\)"),
    ("reshape float", lambda: x23().reshape(2.5, 2), TypeError, r"reshape: the target shape must hold integers, got \(2.5, 2\)"),
    ("view str", lambda: x23().view("a"), TypeError, r"target shape must hold integers"),
    ("unflatten", lambda: x23().unflatten(1, (2, 2)), ValueError, r"shape \(2, 3\).*into shape \(2, 2, 2\)"),
    ("index out of range", lambda: x23()[5], IndexError, r"index 5 is invalid for a tensor of shape \(2, 3\)"),
    ("too many indices", lambda: x23()[0, 0, 0], IndexError, r"index \(0, 0, 0\) is invalid for a tensor of shape \(2, 3\)"),
    ("float index", lambda: x23()[1.5], IndexError, r"index 1.5 is invalid"),
    ("bool mask shape", lambda: x23()[mt.tensor([True, False, True])], IndexError, r"shape \(2, 3\).*boolean index"),
    ("index list", lambda: x23()[[0, 7]], IndexError, r"index 7 is out of bounds for axis 0 with size 2"),
    ("float index tensor", lambda: x23()[mt.tensor([0.0, 1.0])], IndexError, r"integer \(or boolean\) type"),
    ("sum dim", lambda: x23().sum(5), IndexError, r"dim=5 is out of range for a tensor with 2 dimensions"),
    ("sum dim type", lambda: x23().sum("a"), TypeError, r"dim must be an int or a sequence of ints, got 'a'"),
    ("mean of ints", lambda: mt.tensor([1, 2]).mean(), TypeError, r"mean\(\): needs a floating-point tensor, got dtype int64"),
    ("max of empty", lambda: mt.ones(0).max(), RuntimeError, r"max\(\): cannot reduce an empty tensor of shape \(0,\)"),
    ("amax of empty dim", lambda: mt.ones(0, 3).amax(0), RuntimeError, r"amax\(\).*shape \(0, 3\) over dim 0"),
    ("max dim", lambda: x23().max(4), IndexError, r"dim=4 is out of range"),
    ("permute repeat", lambda: x23().permute(0, 0), ValueError, r"permute: dims \(0, 0\) are not a permutation.*\(2, 3\)"),
    ("transpose dim", lambda: x23().transpose(0, 2), IndexError, r"dim=2 is out of range for a tensor with 2 dimensions"),
    ("expand", lambda: x23().expand(4, 3), ValueError, r"cannot broadcast shape \(2, 3\) to \(4, 3\)"),
    ("expand fewer dims", lambda: x23().expand(3), ValueError, r"expand: the target \(3,\) has fewer dimensions"),
    ("flatten order", lambda: mt.ones(2, 3, 4).flatten(2, 0), ValueError, r"start_dim \(2\) must not come after end_dim \(0\)"),
    ("squeeze dim", lambda: x23().squeeze(3), IndexError, r"dim=3 is out of range"),
    ("t of 3-d", lambda: mt.ones(2, 2, 2).t(), ValueError, r"t\(\): expects a tensor with <= 2 dimensions, got shape \(2, 2, 2\)"),
    ("cat empty", lambda: mt.cat([]), ValueError, r"cat: expected a non-empty sequence"),
    ("cat shapes", lambda: mt.cat([x23(), mt.ones(2, 4)]), ValueError, r"cat: got shapes \[\(2, 3\), \(2, 4\)\]; shapes must match except in dim 0"),
    ("cat non-tensor", lambda: mt.cat([x23(), 3]), TypeError, r"cat: tensors\[1\] must be a Tensor, got int"),
    ("stack shapes", lambda: mt.stack([x23(), mt.ones(3, 2)]), ValueError, r"stack: got shapes \[\(2, 3\), \(3, 2\)\]"),
    ("split size", lambda: x23().split(0), ValueError, r"split: split_size must be positive, got 0"),
    ("split sections", lambda: x23().split([1, 3]), ValueError, r"sections \[1, 3\] sum to 4 but dim 0 has size 2"),
    ("chunk", lambda: x23().chunk(0), ValueError, r"chunk: chunks must be a positive integer, got 0"),
    ("softmax dim", lambda: x23().softmax(3), IndexError, r"dim=3 is out of range"),
    ("clamp bounds", lambda: x23().clamp(), ValueError, r"clamp: at least one of min and max"),
    ("topk k", lambda: x23().topk(5), ValueError, r"topk\(\): k must be an integer in \[0, 3\].*got 5"),
    ("topk float k", lambda: x23().topk(1.5), ValueError, r"k must be an integer.*got 1.5"),
    ("gather dtype", lambda: x23().gather(1, mt.ones(2, 3)), TypeError, r"gather\(\): index must be an integer tensor.*float32"),
    ("gather range", lambda: x23().gather(1, mt.tensor([[0, 5]])), IndexError, r"gather\(\): index values must be in \[0, 2\].*\[0, 5\]"),
    ("gather ndim", lambda: x23().gather(1, mt.tensor([0, 1])), TypeError, r"with 2 dims like the input.*shape \(2,\)"),
    ("masked_fill mask dtype", lambda: x23().masked_fill(mt.ones(2, 3), 0), TypeError, r"masked_fill: mask must be a boolean tensor"),
    ("masked_fill mask shape", lambda: x23().masked_fill(mt.ones(4, dtype=mt.bool_), 0), ValueError,
     r"mask of shape \(4,\) does not broadcast to the tensor's shape \(2, 3\)"),
    ("repeat too few", lambda: x23().repeat(2), ValueError, r"repeat\(\): .*at least 2 for shape \(2, 3\).*\(2,\)"),
    ("repeat negative", lambda: x23().repeat(2, -1), ValueError, r"repeat\(\).*got \(2, -1\)"),
    ("norm p", lambda: x23().norm(p=-1), ValueError, r"norm\(\): p must be.*got -1"),
    ("norm of ints", lambda: mt.tensor([1, 2]).norm(), TypeError, r"norm\(\): needs a floating-point tensor, got dtype int64"),
    ("cumsum dim", lambda: x23().cumsum(2), IndexError, r"dim=2 is out of range"),
    ("type name", lambda: x23().type("foo"), TypeError, r"type\(\): dtype must be a dtype.*got 'foo'"),
    ("item", lambda: x23().item(), ValueError, r"item\(\): only one-element tensors.*shape \(2, 3\)"),
    ("truth value", lambda: bool(x23()), RuntimeError, r"truth value of a tensor with 6 elements is ambiguous"),
    ("requires grad on ints", lambda: mt.tensor([1, 2]).requires_grad_(), RuntimeError, r"dtype int64"),
    ("zeros size", lambda: mt.zeros(-1, 2), ValueError, r"size must be non-negative integers, got \(-1, 2\)"),
    ("zeros float size", lambda: mt.zeros(2.5), ValueError, r"got \(2.5,\)"),
    ("randn size", lambda: mt.randn(-2), ValueError, r"randn: size must be non-negative integers, got \(-2,\)"),
    ("eye size", lambda: mt.eye(-1), ValueError, r"eye: n and m must be non-negative integers, got \(-1,\)"),
    ("linspace steps", lambda: mt.linspace(0, 1, -3), ValueError, r"linspace: steps must be non-negative integers, got \(-3,\)"),
    ("randint bounds", lambda: mt.randint(5, 2, (3,)), ValueError, r"randint: needs low < high, got low=5, high=2"),
    ("arange step", lambda: mt.arange(0, 5, 0), ValueError, r"arange: step must be non-zero"),
    ("ragged list", lambda: mt.tensor([[1, 2], [3]]), TypeError, r"tensor\(\): .*nested lists must be rectangular"),
    ("from_numpy list", lambda: mt.from_numpy([1, 2]), TypeError, r"from_numpy\(\): expected a numpy.ndarray, got list"),
    ("unknown device", lambda: x23().to("tpu"), ValueError, r"unknown device 'tpu'"),
    ("numpy of grad tensor", lambda: mt.ones(2, requires_grad=True).numpy(), RuntimeError, r"detach\(\).numpy\(\)"),
    ("backward non-scalar", lambda: mt.ones(2, requires_grad=True).mul(2).backward(), RuntimeError,
     r"only for scalar outputs.*shape \(2,\)"),
    ("backward gradient shape", lambda: mt.ones(2, requires_grad=True).mul(2).backward(mt.ones(3)), RuntimeError,
     r"gradient has shape \(3,\) but the tensor has shape \(2,\)"),
    ("backward without grad", lambda: x23().sum().backward(), RuntimeError, r"does not require grad"),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error(call, exc, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        call()


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


IN_PLACE_CASES = [
    ("add_ shape", lambda x: x.add_(mt.ones(3, 2, 3)), ValueError, r"add_: the other operand has shape \(3, 2, 3\).*\(2, 3\)"),
    ("+= shape", lambda x: x.__iadd__(mt.ones(2, 2, 3)), ValueError, r"shape \(2, 2, 3\).*\(2, 3\)"),
    ("mul_ dtype", lambda x: x.mul_(mt.ones(3, dtype=mt.float64)), TypeError, r"mul: dtype mismatch, float32 and float64"),
    ("copy_ shape", lambda x: x.copy_(mt.ones(4)), ValueError, r"copy_: source shape \(4,\) does not broadcast to .*\(2, 3\)"),
    ("fill_ value", lambda x: x.fill_(mt.ones(2)), ValueError, r"fill_: value must be a number or a 1-element tensor, got shape \(2,\)"),
    ("setitem value", lambda x: x.__setitem__(0, mt.ones(4)), ValueError,
     r"value of shape \(4,\) cannot be broadcast to the selected shape \(3,\) of this tensor of shape \(2, 3\)"),
    ("setitem index", lambda x: x.__setitem__(9, 1.0), IndexError, r"index 9 is invalid for a tensor of shape \(2, 3\)"),
    ("int /=", lambda x: x.long().__itruediv__(2), RuntimeError, r"div_: .*dtype float64.*dtype int64"),
    ("masked_fill_ mask", lambda x: x.masked_fill_(mt.ones(2, 3), 1.0), TypeError, r"masked_fill_: mask must be a boolean"),
    ("expanded view", lambda x: x[0].expand(2, 3).add_(1), RuntimeError, r"broadcast view"),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in IN_PLACE_CASES], ids=[c[0] for c in IN_PLACE_CASES])
def test_bad_in_place_input_is_refused_before_any_change(call, exc, pattern: str) -> None:
    x = mt.tensor(np.arange(6.0).reshape(2, 3), dtype=mt.float32)
    with pytest.raises(exc, match=pattern):
        call(x)
    assert x._version == 0
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))


@given(
    a=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    b=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    op=st.sampled_from(["add", "sub", "mul", "truediv"]),
)
def test_non_broadcastable_shapes_are_named_in_the_error(a: list, b: list, op: str) -> None:
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        pass
    else:
        return  # only shapes that do not broadcast
    with pytest.raises(ValueError) as info:
        getattr(mt.ones(*a), f"__{op}__")(mt.ones(*b))
    assert str(tuple(a)) in str(info.value) and str(tuple(b)) in str(info.value)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), target=st.lists(st.integers(1, 6), min_size=1, max_size=3))
def test_reshape_to_a_wrong_count_names_both_shapes(shape: list, target: list) -> None:
    if np.prod(shape) == np.prod(target):
        return
    with pytest.raises(ValueError) as info:
        mt.ones(*shape).reshape(*target)
    assert str(tuple(shape)) in str(info.value) and str(tuple(target)) in str(info.value)


# --------------------------------------------------------------------------------------------------
# NumPy scalars and empty tensors (issue 8 item 3, issue 9)
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scalar", [np.float64(2), np.sqrt(2), np.float32(2), np.int64(3), np.array(2.0), np.array(3), np.float16(1.5)]
)
def test_numpy_scalars_and_0d_arrays_act_as_python_scalars(scalar, device: str) -> None:
    x = mt.ones(3, device=device)
    for y in (x * scalar, scalar * x, x + scalar, scalar - x, x / scalar, scalar / x, x**scalar):
        assert isinstance(y, mt.Tensor) and y.dtype == mt.float32 and y.device == device
    np.testing.assert_allclose((x * scalar).numpy(), [float(scalar)] * 3, rtol=1e-6)
    assert ((scalar * x) > 0).dtype == mt.bool_


EMPTY_OPS = {
    "add": lambda x: x + 1, "mul": lambda x: x * x, "exp": lambda x: x.exp(), "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(), "softmax0": lambda x: x.softmax(0), "log_softmax1": lambda x: x.log_softmax(1),
    "sum": lambda x: x.sum(), "sum0": lambda x: x.sum(0), "mean": lambda x: x.mean(), "mean1": lambda x: x.mean(1),
    "var0": lambda x: x.var(0), "amax1": lambda x: x.amax(1), "max1": lambda x: x.max(1).values,
    "reshape": lambda x: x.reshape(-1, 3), "permute": lambda x: x.permute(1, 0), "flip": lambda x: x.flip(0),
    "cat": lambda x: mt.cat([x, x]), "stack": lambda x: mt.stack([x, x]), "slice": lambda x: x[1:],
    "expand": lambda x: x.unsqueeze(0).expand(2, 0, 3), "matmul": lambda x: x @ mt.ones(3, 2, dtype=x.dtype, device=x.device),
    "matmul_inner_empty": lambda x: x.T @ x, "prod0": lambda x: x.prod(0), "cumsum": lambda x: x.cumsum(0),
    "norm": lambda x: x.norm(), "sort": lambda x: x.sort(0).values, "repeat": lambda x: x.repeat(2, 2),
    "clamp": lambda x: x.clamp(0, 1), "where": lambda x: mt.where(x > 0, x, 0.0), "chunk": lambda x: x.chunk(2)[0],
}
EMPTY_VALUES = {"sum": 0.0, "sum0": [0.0] * 3, "prod0": [1.0] * 3, "norm": 0.0, "matmul_inner_empty": np.zeros((3, 3))}


@pytest.mark.parametrize("name", sorted(EMPTY_OPS))
def test_empty_tensors_flow_through_ops_and_backward(name: str, device: str) -> None:
    x = mt.zeros(0, 3, dtype=mt.float64, device=device, requires_grad=True)
    y = EMPTY_OPS[name](x)
    if name in EMPTY_VALUES:
        np.testing.assert_array_equal(y.detach().numpy(), EMPTY_VALUES[name])
    if name in ("mean", "var0"):
        assert np.isnan(y.detach().numpy()).all()  # the mean of nothing is NaN, as in PyTorch
    y.sum().backward()
    assert x.grad.shape == (0, 3)
