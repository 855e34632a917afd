"""``x[key]`` (minitorch_cnn/ops/indexing.py): basic and advanced indexing, scatter-add backward.

Forward results must equal NumPy's for the same key; the backward must put each output gradient
back where it came from and *add* when an integer index array picks an element twice.
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


X = np.arange(60.0).reshape(3, 4, 5) / 7.0

# Keys given as NumPy would take them; ``key_for`` turns index arrays into Tensors on the device.
KEYS = {
    "int": 1,
    "negative int": -1,
    "int pair": (2, 3),
    "int triple": (0, -1, 2),
    "slice": slice(1, None),
    "slice step": (slice(None), slice(None, None, 2)),
    "negative step": (slice(None, None, -1), 1),
    "empty slice": slice(2, 1),
    "none": (None, 1),
    "none middle": (slice(None), None, 2),
    "ellipsis": (Ellipsis, 1),
    "ellipsis none": (0, Ellipsis, None),
    "int array": np.array([2, 0]),
    "repeated int array": np.array([0, 0, 2, 0]),
    "2-d int array": np.array([[1, 1], [2, 0]]),
    "negative int array": np.array([-1, 0, -1]),
    "empty int array": np.array([], dtype=np.int64),
    "two arrays": (np.array([0, 2, 2]), np.array([1, 1, 1])),
    "broadcast arrays": (np.array([[0], [2]]), slice(None), np.array([1, 4, 1])),
    "array after slice": (slice(None), np.array([3, 3, 0])),
    "bool mask 1-d": np.array([True, False, True]),
    "bool mask 3-d": X > 3.0,
    "bool mask 2-d then int": (X[:, :, 0] > 2.0, 1),
    "all false mask": X < -1.0,
    "list": [2, 2, 1],
}


def key_for(key, device: str, as_tensor: bool):
    """Index arrays as minitorch Tensors on ``device`` (or left as NumPy arrays/lists for the CPU)."""
    if isinstance(key, tuple):
        return tuple(key_for(k, device, as_tensor) for k in key)
    if isinstance(key, np.ndarray) and as_tensor:
        return mt.tensor(key, device=device)
    return key


@pytest.mark.parametrize("name", list(KEYS))
def test_getitem_matches_numpy_and_gradchecks(device: str, name: str) -> None:
    key = KEYS[name]
    expected = X[key]
    x = wrap(X.copy(), device)
    # NumPy index arrays mixed into a strict (GPU-like) tensor would be refused, as CuPy does; the
    # portable way is an index Tensor on the same device (lists work everywhere)
    y = x[key_for(key, device, as_tensor=device != "cpu")]
    assert y.shape == expected.shape and y.device == device
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(lambda t: t[key_for(key, device, as_tensor=True)], [x])


def test_repeated_indices_scatter_add(device: str) -> None:
    x = wrap(np.zeros(4), device)
    idx = mt.tensor([0, 2, 0, 0, 3], device=device)
    x[idx].backward(mt.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=mt.float64, device=device))
    np.testing.assert_array_equal(host(x.grad), [8.0, 0.0, 2.0, 5.0])
    m = wrap(np.zeros((2, 3)), device)
    rows, cols = mt.tensor([1, 1, 0], device=device), mt.tensor([2, 2, 2], device=device)
    m[rows, cols].sum().backward()
    np.testing.assert_array_equal(host(m.grad), [[0, 0, 1], [0, 0, 2]])


def test_basic_slicing_gradient_is_zero_outside_the_slice(device: str) -> None:
    x = wrap(np.ones((3, 4)), device)
    x[1:, ::3].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 0, 0, 0], [1, 0, 0, 1], [1, 0, 0, 1]])


@HYP
@given(data=st.data())
def test_random_integer_index_arrays_with_repeats(device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    x_np = data.draw(arrays(shape), label="x")
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    n = shape[dim]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=6), label="idx"), dtype=np.int64)
    key = (slice(None),) * dim + (mt.tensor(idx, device=device),)
    x = wrap(x_np, device)
    y = x[key]
    expected = x_np[(slice(None),) * dim + (idx,)]
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(lambda t: t[key], [x])
    # the gradient counts how often each position was picked
    x.grad = None
    y.sum().backward()
    counts = np.bincount(idx % n, minlength=n).astype(np.float64)
    np.testing.assert_array_equal(host(x.grad), np.broadcast_to(counts.reshape((-1,) + (1,) * (len(shape) - dim - 1)),
                                                                shape))


@HYP
@given(data=st.data())
def test_random_boolean_masks(device: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    x_np = data.draw(arrays(shape), label="x")
    mask_np = x_np > data.draw(st.floats(-3, 3), label="threshold")
    x = wrap(x_np, device)
    mask = wrap(mask_np, device, requires_grad=False)
    np.testing.assert_array_equal(host(x[mask]), x_np[mask_np])
    assert gradcheck(lambda t: t[mask], [x])
    x[mask].sum().backward()
    np.testing.assert_array_equal(host(x.grad), mask_np.astype(np.float64))


def test_index_errors_name_the_shape(device: str) -> None:
    x = mt.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[2]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[mt.tensor([0, 5], device=device)]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[mt.tensor([True, False, True], device=device)]


def test_indexing_with_a_zero_dim_integer_tensor(device: str) -> None:
    x_np = np.arange(6.0).reshape(2, 3)
    x = wrap(x_np, device)
    i = mt.tensor(1, device=device)
    np.testing.assert_array_equal(host(x[i]), x_np[1])
    assert gradcheck(lambda t: t[i, i], [x])


def test_iterating_yields_rows(device: str) -> None:
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * 2 + rows[1]).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [1.0, 1.0]]


def test_setitem_is_in_place_and_needs_no_grad_on_leaves(device: str) -> None:
    x = mt.zeros(2, 3, device=device)
    x[0] = 1.0
    x[1, mt.tensor([0, 2], device=device)] = mt.tensor([5.0, 6.0], device=device)
    x[x > 5.5] = -1.0
    assert x.tolist() == [[1.0, 1.0, 1.0], [5.0, 0.0, -1.0]]
    w = mt.ones(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 2.0
    with mt.no_grad():
        w[0] = 2.0
    assert w.tolist() == [2.0, 1.0, 1.0] and w.requires_grad
