"""PyTorch idioms of issue 9: topk, sort, masked_fill, repeat, norm, cumsum, prod, gather, nonzero,
mt.max(x, 1) / mt.min, x.type(...), new_zeros & co.

Known values come from PyTorch 2.13 (tools/oracle_tensor_idioms.py, frozen in
tests/oracle/tensor_idioms.json); each differentiable op also passes gradcheck on every device,
hypothesis properties against NumPy, and a slow loop reference for its gradient.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.testing import arrays, gradcheck, shapes

HYP = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
ORACLE = json.loads((Path(__file__).parent / "oracle" / "tensor_idioms.json").read_text())

CASES = {
    "topk2": lambda x: x.topk(2),
    "topk2_dim0_smallest": lambda x: x.topk(2, dim=0, largest=False),
    "topk3_fn": lambda x: mt.topk(x, 3, dim=1),
    "sort": lambda x: x.sort(),
    "sort_desc_dim0": lambda x: x.sort(dim=0, descending=True),
    "masked_fill": lambda x: x.masked_fill(x > 1, -5.0),
    "masked_fill_row_mask": lambda x: x.masked_fill(mt.tensor([True, False, False, True], device=x.device), 0.0),
    "repeat": lambda x: x.repeat(2, 1, 2),
    "norm": lambda x: x.norm(),
    "norm_dim1": lambda x: x.norm(dim=1),
    "norm_p1_keepdim": lambda x: x.norm(p=1, dim=0, keepdim=True),
    "norm_p3": lambda x: x.norm(p=3),
    "norm_inf_dim1": lambda x: x.norm(p=float("inf"), dim=1),
    "cumsum1": lambda x: x.cumsum(1),
    "cumsum0_fn": lambda x: mt.cumsum(x, dim=0),
    "prod": lambda x: x.prod(),
    "prod1": lambda x: x.prod(1),
    "prod0_keepdim": lambda x: x.prod(0, keepdim=True),
    "max_fn_dim1": lambda x: mt.max(x, 1),
    "min_fn_dim0": lambda x: mt.min(x, 0),
    "max_dim1_keepdim": lambda x: x.max(1, keepdim=True),
    "gather": lambda x: x.gather(1, mt.tensor([[0, 0], [1, 3], [2, 1]], device=x.device)),
}


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t.detach()._array)


def test_the_oracle_file_covers_every_case() -> None:
    assert sorted(ORACLE["cases"]) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_indices_and_gradients_match_pytorch(name: str, device: str) -> None:
    want = ORACLE["cases"][name]
    x = mt.tensor(np.array(ORACLE["x"]), device=device, requires_grad=True)
    out = CASES[name](x)
    values = out[0] if isinstance(out, tuple) else out
    if want["indices"] is not None:
        assert out.indices.dtype == mt.int64 and out.values is values  # a (values, indices) namedtuple
        np.testing.assert_array_equal(host(out.indices), want["indices"])
    np.testing.assert_allclose(host(values), want["values"], rtol=1e-12)
    w = mt.tensor(np.arange(1.0, values.numel() + 1).reshape(values.shape), device=device)
    (values * w).sum().backward()
    np.testing.assert_allclose(host(x.grad), want["grad"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name: str, device: str) -> None:
    rng = np.random.default_rng(3)
    x = mt.tensor(rng.permutation(12).reshape(3, 4) * 0.37 + 0.2, device=device, requires_grad=True)  # no ties

    def f(t: mt.Tensor) -> mt.Tensor:
        out = CASES[name](t)
        return out[0] if isinstance(out, tuple) else out

    assert gradcheck(f, [x])


def test_nonzero_matches_pytorch(device: str) -> None:
    x = mt.tensor(np.array(ORACLE["x"]), device=device)
    assert x.nonzero().dtype == mt.int64
    np.testing.assert_array_equal(host(x.nonzero()), ORACLE["nonzero"])
    for got, want in zip(mt.nonzero(x, as_tuple=True), ORACLE["nonzero_as_tuple"]):
        np.testing.assert_array_equal(host(got), want)
    assert mt.tensor(0.0).nonzero().shape == (0, 0) and mt.tensor(2.0).nonzero().shape == (1, 0)


# --------------------------------------------------------------------------------------------------
# Properties against NumPy, on any shape (empty sides included)
# --------------------------------------------------------------------------------------------------
@st.composite
def array_and_dim(draw: st.DrawFn, min_dims: int = 1) -> tuple[np.ndarray, int]:
    a = draw(arrays(shapes(min_dims=min_dims, max_dims=3, max_side=4)))
    return a, draw(st.integers(-a.ndim, a.ndim - 1))


@given(case=array_and_dim(), descending=st.booleans())
@HYP
def test_sort_gives_sorted_values_and_a_stable_permutation(case, descending: bool, device: str) -> None:
    a, dim = case
    values, indices = mt.tensor(a, device=device).sort(dim, descending=descending)
    order = np.argsort(-a if descending else a, axis=dim, kind="stable")
    np.testing.assert_array_equal(host(indices), order)
    np.testing.assert_array_equal(host(values), np.take_along_axis(a, order, axis=dim))


@given(case=array_and_dim(), largest=st.booleans(), data=st.data())
@HYP
def test_topk_is_the_head_of_the_sort(case, largest: bool, data: st.DataObject, device: str) -> None:
    a, dim = case
    k = data.draw(st.integers(0, a.shape[dim]))
    x = mt.tensor(a, device=device)
    values, indices = x.topk(k, dim, largest=largest)
    full_values, full_indices = x.sort(dim, descending=largest)
    head = tuple(slice(0, k) if i == dim % a.ndim else slice(None) for i in range(a.ndim))
    np.testing.assert_array_equal(host(values), host(full_values)[head])
    np.testing.assert_array_equal(host(indices), host(full_indices)[head])


@given(case=array_and_dim())
@HYP
def test_cumsum_prod_and_norm_agree_with_numpy(case, device: str) -> None:
    a, dim = case
    x = mt.tensor(a, device=device)
    np.testing.assert_allclose(host(x.cumsum(dim)), np.cumsum(a, axis=dim), atol=1e-12)
    np.testing.assert_allclose(host(x.prod(dim)), np.prod(a, axis=dim), rtol=1e-12)
    np.testing.assert_allclose(host(x.prod()), np.prod(a), rtol=1e-12)
    np.testing.assert_allclose(host(x.norm(dim=dim)), np.sqrt((a * a).sum(axis=dim)), rtol=1e-12)
    np.testing.assert_allclose(host(x.norm(p=1)), np.abs(a).sum(), rtol=1e-12)


@given(a=arrays(shapes(max_dims=3, max_side=3)), data=st.data())
@HYP
def test_repeat_is_numpys_tile(a: np.ndarray, data: st.DataObject, device: str) -> None:
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=a.ndim, max_size=a.ndim + 2)))
    np.testing.assert_array_equal(host(mt.tensor(a, device=device).repeat(*reps)), np.tile(a, reps))


@given(a=arrays(shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
@HYP
def test_masked_fill_is_where_and_the_in_place_form_agrees(a: np.ndarray, data: st.DataObject, device: str) -> None:
    mask = data.draw(arrays(a.shape, dtype=np.float64)) > 0
    x = mt.tensor(a, device=device)
    m = mt.tensor(mask, device=device)
    np.testing.assert_array_equal(host(x.masked_fill(m, 7.0)), np.where(mask, 7.0, a))
    y = x.clone()
    assert y.masked_fill_(m, 7.0) is y
    np.testing.assert_array_equal(host(y), np.where(mask, 7.0, a))


@given(case=array_and_dim(), data=st.data())
@HYP
def test_gather_is_take_along_axis(case, data: st.DataObject, device: str) -> None:
    a, dim = case
    if a.shape[dim] == 0:
        return
    index_shape = list(a.shape)
    index_shape[dim] = data.draw(st.integers(0, 4))
    index = np.random.default_rng(0).integers(0, a.shape[dim], size=index_shape)
    got = mt.tensor(a, device=device).gather(dim, mt.tensor(index, device=device))
    np.testing.assert_array_equal(host(got), np.take_along_axis(a, index, axis=dim))


# --------------------------------------------------------------------------------------------------
# Slow loop references for the gradients that have a formula
# --------------------------------------------------------------------------------------------------
def test_prod_gradient_equals_the_product_of_the_others_even_with_zeros(device: str) -> None:
    a = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 1.5, 2.0], [1.0, -2.0, 4.0, 3.0]])
    x = mt.tensor(a, device=device, requires_grad=True)
    x.prod(1).sum().backward()
    loop = np.zeros_like(a)
    for i, j in itertools.product(range(3), range(4)):
        loop[i, j] = np.prod([a[i, k] for k in range(4) if k != j])
    np.testing.assert_array_equal(host(x.grad), loop)


def test_cumsum_gradient_equals_the_loop_over_later_positions(device: str) -> None:
    g = np.array([1.0, -2.0, 0.5, 3.0])
    x = mt.tensor(np.zeros(4), device=device, requires_grad=True)
    x.cumsum(0).backward(mt.tensor(g, device=device))
    np.testing.assert_array_equal(host(x.grad), [sum(g[i:]) for i in range(4)])


def test_norm_of_zeros_has_a_zero_gradient_like_pytorch() -> None:
    x = mt.zeros(3, dtype=mt.float64, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0, 0.0])


# --------------------------------------------------------------------------------------------------
# Factories and conversions
# --------------------------------------------------------------------------------------------------
def test_type_names_and_casts_like_pytorch() -> None:
    x = mt.ones(2)
    assert x.type() == "minitorch_cnn.FloatTensor"  # PyTorch: "torch.FloatTensor"
    assert x.type(mt.float64).dtype == mt.float64
    assert x.type("torch.DoubleTensor").dtype == mt.float64
    assert x.type("minitorch_cnn.LongTensor").dtype == mt.int64
    with pytest.raises(TypeError, match="type name"):
        x.type("torch.NoSuchTensor")


def test_new_factories_keep_dtype_and_device(device: str) -> None:
    z = mt.ones(2, 3, dtype=mt.float64, device=device)
    for t in (z.new_zeros(4, 2), z.new_ones((4, 2)), z.new_full((4, 2), 7), z.new_empty(4, 2)):
        assert t.shape == (4, 2) and t.dtype == mt.float64 and t.device == device
    np.testing.assert_array_equal(host(z.new_full((2,), 7)), [7.0, 7.0])
    assert z.new_tensor([1, 2]).dtype == mt.float64  # as PyTorch: the tensor's dtype, not int64
    assert z.new_zeros(2, dtype=mt.int64).dtype == mt.int64
    assert z.new_zeros(2, requires_grad=True).requires_grad


def test_mt_max_of_two_tensors_is_elementwise() -> None:
    a, b = mt.tensor([1.0, 5.0]), mt.tensor([3.0, 2.0])
    np.testing.assert_array_equal(host(mt.max(a, b)), [3.0, 5.0])
    np.testing.assert_array_equal(host(mt.min(a, b)), [1.0, 2.0])
    assert mt.max(a).item() == 5.0 and mt.argmin(a).item() == 0
