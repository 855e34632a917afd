"""Shape ops (minitorch_cnn/ops/shape.py): reshape/view/flatten/squeeze/unsqueeze, transpose/permute,
expand/broadcast_to, flip, cat/stack/split/chunk.

These ops only move numbers, so their backward must move the gradient back exactly: forward values
are compared with NumPy, gradients with finite differences, on every backend and on non-contiguous
inputs (a reshape of a transposed view is where copy-versus-view bugs hide).
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


def check(op, x: mt.Tensor, expected: np.ndarray) -> None:
    """Forward equals ``expected`` exactly and the gradient passes gradcheck."""
    y = op(x)
    assert y.shape == expected.shape and y.device == x.device
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(op, [x])


# --------------------------------------------------------------------------------------------------
# reshape family
# --------------------------------------------------------------------------------------------------
@HYP
@given(data=st.data())
def test_reshape_and_view_to_any_factorisation(device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(max_dims=3, max_side=4), label="shape")
    x_np = data.draw(arrays(shape), label="x")
    n = x_np.size
    target = list(data.draw(st.permutations(list(shape)), label="target"))  # same element count
    if target and n and data.draw(st.booleans(), label="infer"):
        target[data.draw(st.integers(0, len(target) - 1), label="at")] = -1
    expected = x_np.reshape(target)
    x = wrap(x_np, device)
    check(lambda t: t.reshape(*target), x, expected)
    check(lambda t: t.view(tuple(target)), x, expected)


def test_reshape_errors_name_the_shapes(device: str) -> None:
    x = mt.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="-1"):
        x.view(-1, -1)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        x.reshape(-1, 4)


def test_reshape_of_a_transposed_view(device: str) -> None:
    x_np = np.arange(12.0).reshape(3, 4)
    x = wrap(x_np, device)
    check(lambda t: t.T.reshape(2, 6), x, x_np.T.reshape(2, 6))


@pytest.mark.parametrize(
    "start, end, expected",
    [(0, -1, (60,)), (1, -1, (3, 20)), (0, 1, (12, 5)), (1, 2, (3, 20)), (-2, -1, (3, 20)), (2, 2, (3, 4, 5))],
)
def test_flatten(device: str, start: int, end: int, expected: tuple) -> None:
    x_np = np.random.default_rng(0).standard_normal((3, 4, 5))
    check(lambda t: mt.flatten(t, start, end), wrap(x_np, device), x_np.reshape(expected))


def test_flatten_edge_cases(device: str) -> None:
    assert mt.tensor(3.0, device=device).flatten().shape == (1,)
    assert mt.zeros(2, 0, 3, device=device).flatten(1).shape == (2, 0)
    with pytest.raises(ValueError, match="start_dim"):
        mt.zeros(2, 3, device=device).flatten(1, 0)
    assert mt.zeros(2, 12, device=device).unflatten(1, (3, 4)).shape == (2, 3, 4)


@HYP
@given(data=st.data())
def test_flatten_squeeze_unsqueeze_flip_on_random_shapes(device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=3), label="shape")
    nd = len(shape)
    x_np = data.draw(arrays(shape), label="x")
    start = data.draw(st.integers(0, nd - 1), label="start")
    end = data.draw(st.integers(start, nd - 1), label="end")
    d = data.draw(st.integers(-nd, nd - 1), label="dim")
    u = data.draw(st.integers(-nd - 1, nd), label="new dim")
    flips = data.draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True), label="flips")
    x = wrap(x_np, device)
    flat = shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :]
    check(lambda t: t.flatten(start, end), x, x_np.reshape(flat))
    check(lambda t: t.squeeze(d), x, x_np.squeeze(d) if shape[d] == 1 else x_np)
    check(lambda t: t.squeeze(), x, x_np.squeeze())
    check(lambda t: t.unsqueeze(u), x, np.expand_dims(x_np, u))
    check(lambda t: t.flip(flips), x, np.flip(x_np, flips))


def test_squeeze_and_unsqueeze(device: str) -> None:
    x_np = np.random.default_rng(0).standard_normal((1, 3, 1, 2))
    x = wrap(x_np, device)
    check(lambda t: t.squeeze(), x, x_np.squeeze())
    check(lambda t: t.squeeze(0), x, x_np.squeeze(0))
    check(lambda t: t.squeeze(-2), x, x_np.squeeze(-2))
    check(lambda t: t.squeeze(1), x, x_np)  # not of size 1: a no-op, as in PyTorch
    for d in range(-5, 5):
        check(lambda t, d=d: t.unsqueeze(d), x, np.expand_dims(x_np, d))
    with pytest.raises(IndexError, match="out of range"):
        x.unsqueeze(5)


# --------------------------------------------------------------------------------------------------
# transpose / permute
# --------------------------------------------------------------------------------------------------
@HYP
@given(data=st.data())
def test_permute_and_transpose(device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=3), label="shape")
    x_np = data.draw(arrays(shape), label="x")
    perm = data.draw(st.permutations(range(len(shape))), label="perm")
    d0, d1 = data.draw(st.tuples(*[st.integers(-len(shape), len(shape) - 1)] * 2), label="dims")
    x = wrap(x_np, device)
    check(lambda t: t.permute(*perm), x, x_np.transpose(perm))
    check(lambda t: t.permute(perm), x, x_np.transpose(perm))
    check(lambda t: t.transpose(d0, d1), x, np.swapaxes(x_np, d0, d1))
    check(lambda t: t.T, x, x_np.T)


def test_t_and_permute_errors(device: str) -> None:
    x_np = np.arange(6.0).reshape(2, 3)
    check(lambda t: t.t(), wrap(x_np, device), x_np.T)
    x3 = mt.zeros(2, 3, 4, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        x3.t()
    with pytest.raises(ValueError, match="permutation"):
        x3.permute(0, 1)
    with pytest.raises(ValueError, match="permutation"):
        x3.permute(0, 1, 1)


# --------------------------------------------------------------------------------------------------
# expand / broadcast_to
# --------------------------------------------------------------------------------------------------
@HYP
@given(data=st.data())
def test_expand_and_broadcast_to(device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(max_dims=3, max_side=3), label="shape")
    x_np = data.draw(arrays(shape), label="x")
    # the target: each dim of size 1 may grow, and new leading dims may appear
    grown = tuple(data.draw(st.integers(0, 3)) if n == 1 else n for n in shape)
    lead = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2), label="lead"))
    target = lead + grown
    expected = np.broadcast_to(x_np, target)
    x = wrap(x_np, device)
    check(lambda t: t.broadcast_to(target), x, expected)
    keep = lead + tuple(-1 if g == n else g for g, n in zip(grown, shape))  # -1: keep that size
    check(lambda t: t.expand(*keep), x, expected)
    y = x.expand(target)
    y.backward(mt.ones_like(y))
    assert x.grad.shape == shape  # each element was copied prod(target) / prod(shape) times
    np.testing.assert_allclose(host(x.grad), np.full(shape, np.prod(target) / max(np.prod(shape), 1)))


def test_expand_errors_name_the_shapes(device: str) -> None:
    x = mt.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 3\)"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        x.expand(3)
    assert x[:1].expand_as(x).shape == (2, 3)


def test_flip(device: str) -> None:
    x_np = np.arange(24.0).reshape(2, 3, 4)
    x = wrap(x_np, device)
    check(lambda t: t.flip(0), x, np.flip(x_np, 0))
    check(lambda t: t.flip((0, 2)), x, np.flip(x_np, (0, 2)))
    check(lambda t: t.flip(-1), x, np.flip(x_np, -1))


# --------------------------------------------------------------------------------------------------
# cat / stack / split / chunk
# --------------------------------------------------------------------------------------------------
@HYP
@given(data=st.data())
def test_cat_and_stack(device: str, data: st.DataObject) -> None:
    base = data.draw(shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    k = data.draw(st.integers(1, 3), label="count")
    dim = data.draw(st.integers(-len(base), len(base) - 1), label="dim")
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=k, max_size=k), label="sizes")
    cat_shapes = [tuple(s if i == dim % len(base) else n for i, n in enumerate(base)) for s in sizes]
    parts_np = [data.draw(arrays(s), label="part") for s in cat_shapes]
    parts = [wrap(p, device) for p in parts_np]
    out = mt.cat(parts, dim)
    np.testing.assert_array_equal(host(out), np.concatenate(parts_np, dim))
    assert gradcheck(lambda *ps: mt.cat(ps, dim), parts)

    same_np = [data.draw(arrays(base), label="same") for _ in range(k)]
    same = [wrap(p, device) for p in same_np]
    sdim = data.draw(st.integers(-len(base) - 1, len(base)), label="stack dim")
    np.testing.assert_array_equal(host(mt.stack(same, sdim)), np.stack(same_np, sdim))
    assert gradcheck(lambda *ps: mt.stack(ps, dim=sdim), same)


def test_cat_with_inputs_that_need_no_grad(device: str) -> None:
    a = wrap(np.ones((2, 2)), device)
    b = wrap(np.zeros((1, 2)), device, requires_grad=False)
    out = mt.cat([b, a, b])
    out.backward(wrap(np.arange(8.0).reshape(4, 2), device, requires_grad=False))
    np.testing.assert_array_equal(host(a.grad), [[2, 3], [4, 5]])
    assert b.grad is None


def test_cat_and_stack_errors(device: str) -> None:
    a, b = mt.zeros(2, 3, device=device), mt.zeros(3, 2, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        mt.cat([a, b])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        mt.stack([a, b])
    with pytest.raises(TypeError, match="float32.*float64|float64.*float32"):
        mt.cat([a, mt.zeros(2, 3, dtype=mt.float64, device=device)])
    with pytest.raises(ValueError, match="non-empty"):
        mt.cat([])
    with pytest.raises(TypeError, match=r"tensors\[1\] must be a Tensor"):
        mt.stack([a, np.zeros((2, 3))])


@pytest.mark.parametrize("how", [2, 3, 5, [1, 4], [0, 5, 0], [2, 2, 1]])
@pytest.mark.parametrize("dim", [1, -1])
def test_split_and_its_gradient(device: str, how, dim: int) -> None:
    x_np = np.random.default_rng(1).standard_normal((2, 5))
    x = wrap(x_np, device)
    pieces = mt.split(x, how, dim=dim)
    cuts = np.cumsum(how)[:-1] if isinstance(how, list) else np.arange(how, 5, how)
    expected = np.split(x_np, cuts, axis=dim)
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(host(p), e)
    assert gradcheck(lambda t: mt.cat(t.split(how, dim)[::-1], dim), [x])
    # only the piece used receives gradient; the rest of the input gets zeros
    x.grad = None
    pieces = x.split(how, dim)
    pieces[-1].sum().backward()
    expected_grad = np.zeros_like(x_np)
    expected_grad[:, 5 - pieces[-1].shape[1]:] = 1.0
    np.testing.assert_array_equal(host(x.grad), expected_grad)


def test_split_and_chunk_errors_and_chunk(device: str) -> None:
    x = mt.arange(10.0, device=device)
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    with pytest.raises(ValueError, match="sum to 9"):
        x.split([4, 5])
    with pytest.raises(ValueError, match="positive"):
        x.split(0)
