"""The Tensor class (minitorch_cnn/tensors.py, creation.py): factories, attributes, conversions,
dtype casting, printing, and the in-place updates optimizers use.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.testing import gradcheck


def host(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


# --------------------------------------------------------------------------------------------------
# Factories
# --------------------------------------------------------------------------------------------------
def test_tensor_infers_pytorchs_default_dtypes(device: str) -> None:
    assert mt.tensor([1.0, 2.0], device=device).dtype == mt.float32
    assert mt.tensor(np.array([1.0, 2.0]), device=device).dtype == mt.float64  # keeps NumPy's dtype, as torch.tensor(ndarray)
    assert mt.tensor(np.array([1, 2], dtype=np.uint8), device=device).dtype == mt.uint8
    assert mt.tensor([1, 2], device=device).dtype == mt.int64
    assert mt.tensor([True, False], device=device).dtype == mt.bool
    assert mt.tensor([1, 2], dtype=mt.float64, device=device).dtype == mt.float64
    assert mt.tensor(3.5, device=device).shape == ()
    assert mt.float is mt.float32 and mt.double is mt.float64 and mt.long is mt.int64


def test_tensor_copies_its_data_but_from_numpy_shares_it() -> None:
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = mt.tensor(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    f = mt.from_numpy(a)
    a[1] = 7.0
    assert f.tolist() == [9.0, 7.0] and f.dtype == a.dtype
    d = mt.from_numpy(np.zeros(2))
    assert d.dtype == mt.float64  # from_numpy keeps the array's dtype
    with pytest.raises(TypeError, match="numpy.ndarray"):
        mt.from_numpy([1.0])
    copy = mt.tensor(t, device="strict")
    assert copy.device == "strict" and copy.tolist() == [1.0, 2.0]
    assert mt.as_tensor(t) is t


def test_tensor_rejects_ragged_data() -> None:
    with pytest.raises((TypeError, ValueError)):
        mt.tensor([[1.0, 2.0], [3.0]])


def test_filled_factories(device: str) -> None:
    assert host(mt.zeros(2, 3, device=device)).tolist() == [[0.0] * 3] * 2
    assert mt.zeros((2, 3), device=device).shape == (2, 3)
    assert host(mt.ones(2, dtype=mt.int64, device=device)).tolist() == [1, 1]
    assert mt.full((2,), 7, device=device).dtype == mt.int64
    assert mt.full((2,), 7.0, device=device).dtype == mt.float32
    assert mt.full((1,), True, device=device).dtype == mt.bool
    assert host(mt.eye(2, 3, device=device)).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert host(mt.arange(5, device=device)).tolist() == [0, 1, 2, 3, 4]
    assert mt.arange(5, device=device).dtype == mt.int64
    np.testing.assert_allclose(host(mt.arange(0.0, 1.0, 0.25, device=device)), [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(host(mt.linspace(0, 1, 3, device=device)), [0.0, 0.5, 1.0])
    assert mt.zeros(0, 3, device=device).shape == (0, 3)
    assert mt.zeros(device=device).shape == ()
    w = mt.zeros(3, requires_grad=True, device=device)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(ValueError, match="non-negative"):
        mt.zeros(-1, 2)
    with pytest.raises(ValueError, match="step"):
        mt.arange(0, 3, 0)


# --------------------------------------------------------------------------------------------------
# Attributes and conversions
# --------------------------------------------------------------------------------------------------
def test_attributes(device: str) -> None:
    t = mt.zeros(2, 3, 4, device=device)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None
    assert t.T.shape == (4, 3, 2)
    with pytest.raises(TypeError, match="0-d"):
        len(mt.tensor(1.0))


def test_conversions(device: str) -> None:
    t = mt.tensor([[1.5, 2.0]], device=device)
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().tolist() == [[1.5, 2.0]]
    assert t.tolist() == [[1.5, 2.0]]
    assert mt.tensor([2.5], device=device).item() == 2.5
    assert isinstance(mt.tensor(3, device=device).item(), int)
    assert float(mt.tensor(2.5, device=device)) == 2.5 and int(mt.tensor([7], device=device)) == 7
    assert [10, 20, 30][mt.tensor(1, device=device)] == 20  # __index__
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    assert bool(mt.tensor([1.0], device=device))
    g = mt.tensor([1.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        g.numpy()
    assert g.detach().numpy().tolist() == [1.0]


def test_numpy_shares_memory_on_the_cpu() -> None:
    t = mt.zeros(2)
    t.numpy()[0] = 5.0
    assert t.tolist() == [5.0, 0.0]
    assert np.asarray(t).tolist() == [5.0, 0.0]  # __array__ on the CPU


def test_requires_grad_only_for_floating_tensors(device: str) -> None:
    with pytest.raises(RuntimeError, match=r"int64.*\.float\(\)"):
        mt.tensor([1, 2], device=device, requires_grad=True)
    t = mt.tensor([1.0], device=device)
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad


# --------------------------------------------------------------------------------------------------
# dtype casting
# --------------------------------------------------------------------------------------------------
def test_dtype_casting(device: str) -> None:
    t = mt.tensor([1.7, -2.2], device=device)
    assert t.double().dtype == mt.float64 and t.double().device == device
    assert t.to(mt.float64).float().dtype == mt.float32
    assert t.long().tolist() == [1, -2] and t.int().dtype == mt.int32
    assert t.bool().tolist() == [True, True]
    assert t.to(np.float16).dtype == mt.float16
    assert t.float() is t and t.to(mt.float32) is t  # nothing to do: the same tensor
    assert t.type_as(mt.zeros(1, dtype=mt.float64)).dtype == mt.float64


def test_casting_is_differentiable_and_casts_the_gradient_back(device: str) -> None:
    x = mt.tensor([1.0, 2.0], dtype=mt.float64, device=device, requires_grad=True)
    y = x.float()
    assert y.dtype == mt.float32 and y.grad_fn.name() == "_CastBackward"
    (y * 3).sum().backward()
    assert x.grad.dtype == mt.float64 and x.grad.tolist() == [3.0, 3.0]
    assert gradcheck(lambda t: t.to(mt.float64) * t, [x])  # a cast to its own dtype is the identity


def test_clone(device: str) -> None:
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.tolist() == [1.0, 2.0]
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    plain = mt.tensor([1.0], device=device)
    copy = plain.clone()
    with mt.no_grad():
        copy.add_(1.0)
    assert plain.tolist() == [1.0]


# --------------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------------
def test_repr_like_pytorch() -> None:
    assert repr(mt.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mt.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(mt.tensor(2.5)) == "tensor(2.5000)"
    assert repr(mt.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mt.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(mt.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x + 1) == "tensor([2., 3.], grad_fn=<AddBackward>)"
    assert repr(mt.tensor([1.0], dtype=mt.float64)) == "tensor([1.], dtype=float64)"
    assert repr(mt.zeros(0, 2)) == "tensor([], size=(0, 2))"
    assert repr(mt.tensor([1.0], device="strict")) == "tensor([1.], device='strict')"
    assert repr(mt.tensor([1e-5, 0.1])) == "tensor([1.0000e-05, 1.0000e-01])"  # never rounded to 0
    assert "..." in repr(mt.arange(5000.0))


# --------------------------------------------------------------------------------------------------
# In-place updates
# --------------------------------------------------------------------------------------------------
def test_in_place_ops_under_no_grad(device: str) -> None:
    p = mt.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    t1 = mt.tensor([2.0, 2.0, 2.0], device=device)
    t2 = mt.tensor([1.0, 4.0, 0.5], device=device)
    data_before = p._array
    expected = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    with mt.no_grad():
        p.add_(t1, alpha=0.5)
        expected += 0.5 * 2.0
        p.sub_(t2)
        expected -= [1.0, 4.0, 0.5]
        p.mul_(2.0)
        expected *= 2.0
        p.div_(t1)
        expected /= 2.0
        p.addcmul_(t1, t2, value=0.25)
        expected += 0.25 * 2.0 * np.array([1.0, 4.0, 0.5], dtype=np.float32)
        p.addcdiv_(t2, t1, value=-1.0)
        expected += -1.0 * np.array([1.0, 4.0, 0.5], dtype=np.float32) / 2.0
        np.testing.assert_allclose(host(p), expected, rtol=1e-6)
        p.clamp_(-0.5, 0.5)
        np.testing.assert_allclose(host(p), np.clip(expected, -0.5, 0.5), rtol=1e-6)
        p.copy_(t2)
        assert host(p).tolist() == [1.0, 4.0, 0.5]
        p.copy_(mt.tensor(3.0, device=device))  # broadcast
        assert host(p).tolist() == [3.0, 3.0, 3.0]
        p.fill_(7.0)
        assert host(p).tolist() == [7.0] * 3
        p.zero_()
    assert host(p).tolist() == [0.0] * 3
    assert p._array is data_before and p.is_leaf and p.requires_grad and p.dtype == mt.float32


def test_in_place_ops_on_a_leaf_that_requires_grad_need_no_grad(device: str) -> None:
    p = mt.ones(3, device=device, requires_grad=True)
    other = mt.ones(3, device=device)
    for name, call in [
        ("add_", lambda: p.add_(other)), ("sub_", lambda: p.sub_(other)), ("mul_", lambda: p.mul_(2.0)),
        ("div_", lambda: p.div_(2.0)), ("addcmul_", lambda: p.addcmul_(other, other)),
        ("addcdiv_", lambda: p.addcdiv_(other, other)), ("clamp_", lambda: p.clamp_(0, 1)),
        ("copy_", lambda: p.copy_(other)), ("fill_", lambda: p.fill_(0.0)), ("zero_", lambda: p.zero_()),
        ("normal_", lambda: p.normal_()), ("uniform_", lambda: p.uniform_()),
    ]:
        with pytest.raises(RuntimeError, match=rf"{name}.*no_grad"):
            call()
    assert host(p).tolist() == [1.0, 1.0, 1.0]
    plain = mt.ones(3, device=device)  # no gradient needed: in-place is fine anywhere
    plain.add_(other).mul_(3.0)
    assert host(plain).tolist() == [6.0, 6.0, 6.0]


def test_copy_across_devices_and_shape_errors(device: str) -> None:
    dst = mt.zeros(2, device=device)
    dst.copy_(mt.tensor([1.0, 2.0], device="cpu"))
    assert dst.device == device and dst.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        dst.copy_(mt.zeros(3, device=device))


def test_random_in_place_initialisers(device: str) -> None:
    w = mt.empty(1000, device=device)
    w.normal_(2.0, 0.5)
    assert abs(w.mean().item() - 2.0) < 0.1 and abs(w.std().item() - 0.5) < 0.1
    w.uniform_(-1.0, 3.0)
    assert -1.0 <= w.min().item() and w.max().item() < 3.0 and w.device == device


# --------------------------------------------------------------------------------------------------
# Errors name both sides
# --------------------------------------------------------------------------------------------------
def test_shape_mismatch_names_both_shapes(device: str) -> None:
    a, b = mt.ones(2, 3, device=device), mt.ones(3, 2, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3, 2\)"):
        a + b
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\)"):
        a @ a
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        mt.cat([a, b], 1)


def test_dtype_mix_names_both_dtypes(device: str) -> None:
    a = mt.ones(2, device=device)
    for other in (mt.ones(2, dtype=mt.float64, device=device), mt.ones(2, dtype=mt.int64, device=device)):
        with pytest.raises(TypeError, match=rf"float32 and {other.dtype}"):
            a + other
