"""The backend switch (minitorch_cnn/backend.py): devices, get_array_module, the strict CuPy
stand-in, moving tensors between devices, factories with ``device=``, and seeded randomness.

The strict backend is what makes CPU-only CI meaningful for GPU code, so its refusals are tested
one by one: if it silently accepted ``np.asarray`` the op tests running on it would prove nothing.
Tests of the real CuPy path use the ``cuda_device`` fixture and are skipped, with the reason,
where CuPy or a GPU is missing.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.backend import StrictArray, get_array_module, strict


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------
def test_device_objects_compare_like_torch_device() -> None:
    d = mt.device("cpu")
    assert d == "cpu" and d == mt.device("cpu") and d != "strict" and d.type == "cpu"
    assert mt.device("cuda:0") == "cuda" and mt.device("cuda") == "cuda:0"
    assert mt.device(mt.device("strict")) == "strict"
    assert repr(d) == "device(type='cpu')" and str(d) == "cpu"
    assert len({mt.device("cpu"), mt.device("cpu"), mt.device("strict")}) == 2
    with pytest.raises(ValueError, match="tpu.*cpu, cuda, strict"):
        mt.device("tpu")


def test_tensor_device_attribute(device: str) -> None:
    t = mt.zeros(2, device=device)
    assert t.device == device and isinstance(t.device, mt.device)
    assert t.is_cuda == (device == "cuda")


# --------------------------------------------------------------------------------------------------
# get_array_module
# --------------------------------------------------------------------------------------------------
def test_get_array_module_picks_the_arrays_library() -> None:
    assert get_array_module(np.ones(2)) is np
    assert get_array_module(np.float64(1.0)) is np
    assert get_array_module(strict.ones(2)) is strict
    assert get_array_module(mt.ones(2, device="strict")) is strict  # Tensors are looked through
    assert get_array_module(mt.ones(2)) is np
    assert get_array_module(2.0, 3, None) is np  # Python scalars are ignored; the default is NumPy
    assert get_array_module() is np
    assert get_array_module(1.0, strict.ones(1)) is strict
    assert mt.ones(2, device="strict").xp is strict


def test_get_array_module_refuses_arrays_from_two_devices() -> None:
    with pytest.raises(TypeError, match="'strict' and 'cpu'"):
        get_array_module(strict.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="'cpu' and 'strict'"):
        get_array_module(mt.ones(2), mt.ones(2, device="strict"))


def test_device_of_to_numpy_and_to_device() -> None:
    host = np.arange(3.0)
    s = backend.to_device(host, "strict")
    assert isinstance(s, StrictArray) and backend.device_of(s) == "strict"
    assert backend.device_of(host) == "cpu"
    assert backend.to_device(host, "cpu") is host  # no copy when already there
    back = backend.to_numpy(s)
    assert isinstance(back, np.ndarray) and back.tolist() == [0.0, 1.0, 2.0]
    assert isinstance(s.get(), np.ndarray) and strict.asnumpy(s).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match="not a backend array"):
        backend.device_of([1, 2])


# --------------------------------------------------------------------------------------------------
# The strict stand-in refuses what CuPy refuses ...
# --------------------------------------------------------------------------------------------------
def test_strict_refuses_implicit_conversion_to_numpy() -> None:
    s = strict.ones(3)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(s)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array(s)
    with pytest.raises(TypeError, match="Implicit conversion"):
        s.__array__()
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.lib.stride_tricks.as_strided(s, (2,), (8,))  # NumPy-only helper via np.
    with pytest.raises(TypeError):
        float(s)  # a 3-element array is no scalar


def test_strict_refuses_numpy_only_functions() -> None:
    s = strict.ones(3)
    for call in (lambda: np.convolve(s, s), lambda: np.interp(s, s, s), lambda: np.polyfit(s, s, 1)):
        with pytest.raises(TypeError, match="was called on a strict"):
            call()


def test_strict_refuses_mixing_in_numpy_arrays() -> None:
    s = strict.ones(3)
    for call in (
        lambda: s + np.ones(3),
        lambda: np.ones(3) * s,
        lambda: strict.concatenate([s, np.ones(3)]),
        lambda: strict.maximum(s, np.zeros(3)),
        lambda: s.__setitem__(slice(None), np.zeros(3)),
    ):
        with pytest.raises(TypeError, match="NumPy array was mixed"):
            call()
    with pytest.raises(TypeError, match="different devices"):
        mt.ones(3, device="strict") + np.ones(3, dtype=np.float32)


def test_strict_tensor_refuses_numpy_conversion_paths_through_the_tensor() -> None:
    t = mt.ones(3, device="strict")
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(t._array)
    assert isinstance(t.numpy(), np.ndarray)  # .numpy() is the sanctioned, explicit copy


# --------------------------------------------------------------------------------------------------
# ... and supports what CuPy supports
# --------------------------------------------------------------------------------------------------
def test_strict_supports_the_cupy_api_surface() -> None:
    s = strict.arange(6.0).reshape(2, 3)
    assert isinstance(s, StrictArray) and s.shape == (2, 3) and s.dtype == np.float64
    total = np.sum(s)  # NumPy functions that CuPy implements dispatch to the strict array
    assert isinstance(total, StrictArray) and float(total) == 15.0  # reductions stay on the device
    assert isinstance(np.exp(s), StrictArray)  # ufuncs too
    assert isinstance(s + np.float64(1.0), StrictArray)  # NumPy scalars are fine
    assert isinstance(strict.asarray(np.ones(2)), StrictArray)  # an explicit host -> device copy
    win = strict.lib.stride_tricks.as_strided(s, (2, 2), s.strides)
    assert isinstance(win, StrictArray)
    out = strict.zeros(3)
    strict.clip(strict.array([-2.0, 0.5, 2.0]), -1.0, 1.0, out=out)  # keyword arrays (out=) work
    assert out.get().tolist() == [-1.0, 0.5, 1.0]
    acc = strict.zeros(3)
    strict.add.at(acc, strict.asarray(np.array([0, 0, 2])), 1.0)  # scatter-add
    assert acc.get().tolist() == [2.0, 0.0, 1.0]
    assert strict.float32 is np.float32 and strict.pi == np.pi
    s[0, 0] = 7.0
    assert s[0, 0].get() == 7.0 and len(s) == 2 and [r.shape for r in s] == [(3,), (3,)]


# --------------------------------------------------------------------------------------------------
# Moving tensors
# --------------------------------------------------------------------------------------------------
def test_to_and_cpu_move_data_and_gradients_flow_back() -> None:
    x = mt.tensor([1.0, 2.0], device="strict", requires_grad=True)
    y = x.cpu()
    assert y.device == "cpu" and isinstance(y._array, np.ndarray) and y.tolist() == [1.0, 2.0]
    (y * 3).sum().backward()
    assert x.grad.device == "strict" and x.grad.tolist() == [3.0, 3.0]
    z = y.to("strict")
    assert z.device == "strict" and isinstance(z._array, StrictArray)
    assert x.to("strict") is x and x.to(mt.device("strict")) is x  # already there: no copy
    both = mt.tensor([1, 2]).to("strict", mt.float64)
    assert both.device == "strict" and both.dtype == mt.float64
    like = mt.tensor([1, 2]).to(both)
    assert like.device == "strict" and like.dtype == mt.float64
    kw = mt.tensor([1.0]).to(device="strict", dtype=mt.float64)
    assert kw.device == "strict" and kw.dtype == mt.float64
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(pin_memory=True)  # non_blocking is accepted (test_pytorch_files_and_devices.py)


@pytest.mark.parametrize(
    "make",
    [
        lambda d: mt.zeros(2, 3, device=d),
        lambda d: mt.ones((2, 3), device=d),
        lambda d: mt.full((2, 3), 1.5, device=d),
        lambda d: mt.empty(2, 3, device=d),
        lambda d: mt.randn(2, 3, device=d),
        lambda d: mt.rand(2, 3, device=d),
        lambda d: mt.arange(6, device=d),
        lambda d: mt.linspace(0, 1, 5, device=d),
        lambda d: mt.eye(3, device=d),
        lambda d: mt.tensor([[1.0, 2.0]], device=d),
        lambda d: mt.randint(0, 5, (4,), device=d),
        lambda d: mt.randperm(4, device=d),
        lambda d: mt.zeros_like(mt.ones(2), device=d),
    ],
)
def test_factories_put_data_on_the_requested_device(device: str, make) -> None:
    t = make(device)
    assert t.device == device
    assert get_array_module(t._array) is backend._module_for(mt.device(device))


def test_like_factories_follow_their_template(device: str) -> None:
    t = mt.ones(2, 3, dtype=mt.float64, device=device)
    for like in (mt.zeros_like(t), mt.ones_like(t), mt.full_like(t, 7.0), mt.randn_like(t), mt.rand_like(t),
                 mt.empty_like(t)):
        assert like.device == device and like.dtype == mt.float64 and like.shape == (2, 3)


def test_set_default_device() -> None:
    assert mt.get_default_device() == "cpu"
    try:
        mt.set_default_device("strict")
        assert mt.get_default_device() == "strict"
        for t in (mt.zeros(2), mt.ones(2), mt.randn(2), mt.tensor([1.0]), mt.arange(3), mt.full((1,), 2.0)):
            assert t.device == "strict"
        assert mt.zeros(2, device="cpu").device == "cpu"  # an explicit device still wins
    finally:
        mt.set_default_device("cpu")
    assert mt.zeros(2).device == "cpu"


@pytest.mark.skipif(backend.cuda_is_available(), reason="this machine has a usable GPU")
def test_missing_cuda_is_a_clear_error() -> None:
    assert mt.cuda_is_available() is False
    hint = r"device 'cuda' is not available: (CuPy is not importable.*pip install minitorch_cnn\[cuda\]|.*GPU)"
    with pytest.raises(RuntimeError, match=hint):
        mt.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match=hint):
        mt.tensor([1.0]).cuda()
    with pytest.raises(RuntimeError, match=hint):
        mt.set_default_device("cuda")
    assert mt.get_default_device() == "cpu"  # the failed switch changed nothing


# --------------------------------------------------------------------------------------------------
# Seeded randomness
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [mt.randn, mt.rand])
def test_manual_seed_reproduces_random_tensors(device: str, make) -> None:
    mt.manual_seed(123)
    a = make(3, 4, device=device).numpy()
    b = make(3, 4, device=device).numpy()
    mt.manual_seed(123)
    again = make(3, 4, device=device).numpy()
    np.testing.assert_array_equal(a, again)
    assert not np.array_equal(a, b)  # the stream moves on
    mt.manual_seed(124)
    assert not np.array_equal(a, make(3, 4, device=device).numpy())


def test_random_factories_have_the_right_distribution_and_dtype() -> None:
    mt.manual_seed(0)
    u = mt.rand(10_000)
    assert u.dtype == mt.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
    n = mt.randn(10_000, dtype=mt.float64)
    assert n.dtype == mt.float64 and abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    r = mt.randint(3, 7, (1000,))
    assert r.dtype == mt.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert sorted(mt.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_rng_state_round_trip() -> None:
    state = backend.get_rng_state()
    a = mt.randn(4).tolist()
    backend.set_rng_state(state)
    assert mt.randn(4).tolist() == a


# --------------------------------------------------------------------------------------------------
# The real GPU (skipped with the reason where CuPy or a GPU is missing)
# --------------------------------------------------------------------------------------------------
def test_cuda_round_trip_and_an_op(cuda_device: str) -> None:
    import cupy  # type: ignore[import-not-found]

    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    g = x.cuda()
    assert g.device == "cuda" and isinstance(g._array, cupy.ndarray) and get_array_module(g._array) is cupy
    y = (g @ g).relu().sum()
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), np.array([[7.0, 11.0], [9.0, 13.0]]))
    assert "device='cuda'" in repr(g.detach())


def test_cuda_manual_seed(cuda_device: str) -> None:
    mt.manual_seed(5)
    a = mt.randn(4, device=cuda_device).tolist()
    mt.manual_seed(5)
    assert mt.randn(4, device=cuda_device).tolist() == a
