"""Linear, activations, Flatten / Unflatten, Identity, Dropout: values, shapes and gradchecks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend, nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.testing import gradcheck


def _np(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


def _t(a, device="cpu", grad=True):
    return mt.tensor(np.asarray(a, dtype=np.float64), dtype=mt.float64, device=device, requires_grad=grad)


@settings(max_examples=15, deadline=None)
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    fin=st.integers(1, 4),
    fout=st.integers(1, 4),
    bias=st.booleans(),
)
def test_linear_matches_numpy_and_gradchecks(lead, fin, fout, bias) -> None:
    lin = nn.Linear(fin, fout, bias=bias).double()
    x = _t(np.random.default_rng(0).standard_normal((*lead, fin)))
    expected = _np(x) @ _np(lin.weight).T + (_np(lin.bias) if bias else 0)
    np.testing.assert_allclose(_np(lin(x)), expected, rtol=1e-12, atol=1e-12)
    params = [x, lin.weight] + ([lin.bias] if bias else [])
    assert gradcheck(lambda *a: F.linear(*a), params)


def test_linear_default_init_bounds_and_errors() -> None:
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert np.abs(_np(lin.weight)).max() <= bound and np.abs(_np(lin.bias)).max() <= bound
    # U(-b, b) has std b / sqrt(3)
    assert abs(_np(lin.weight).std() - bound / math.sqrt(3)) < 0.1 * bound
    assert lin.weight.dtype == np.float32
    with pytest.raises(ValueError, match="in_features=100"):
        lin(mt.randn(3, 99))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)


def test_linear_on_strict_device(device) -> None:
    lin = nn.Linear(3, 2).to(device)
    x = mt.randn(4, 3, device=device, requires_grad=True)
    lin(x).sum().backward()
    assert x.grad.device == device and lin.weight.grad.device == device
    np.testing.assert_allclose(_np(x.grad), np.broadcast_to(_np(lin.weight).sum(0), (4, 3)), rtol=1e-6)


@pytest.mark.parametrize(
    "layer, ref",
    [
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Tanh(), np.tanh),
        (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
        (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    ],
    ids=["relu", "leaky", "sigmoid", "tanh", "softmax", "logsoftmax"],
)
def test_activations_values_and_gradcheck(layer, ref, device) -> None:
    a = np.random.default_rng(1).standard_normal((3, 4))
    a[np.abs(a) < 1e-3] = 0.5  # keep away from the ReLU kink for finite differences
    x = _t(a, device)
    np.testing.assert_allclose(_np(layer(x)), ref(a), rtol=1e-10, atol=1e-12)
    assert gradcheck(layer, [x])


def test_activation_reprs_and_softmax_implicit_dim() -> None:
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(mt.randn(2, 3))
    np.testing.assert_allclose(_np(out).sum(1), 1, rtol=1e-6)


def test_flatten_unflatten_identity() -> None:
    x = _t(np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5))
    y = nn.Flatten()(x)
    assert y.shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 20))(y).shape == (2, 3, 20)
    assert nn.Identity(54, unused=1)(x) is x
    assert gradcheck(lambda t: nn.Unflatten(1, (4, 15))(nn.Flatten()(t)), [x])
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_dropout_train_eval_and_scaling(device) -> None:
    x = mt.ones(200, 100, device=device)
    drop = nn.Dropout(0.3)
    y = _np(drop(x))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(_np(nn.Dropout(1.0)(x)) == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_and_gradchecks() -> None:
    x = _t(np.random.default_rng(2).standard_normal((4, 5)))
    mt.manual_seed(7)
    a = _np(F.dropout(x, 0.5))
    mt.manual_seed(7)
    b = _np(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, b)

    def fixed_mask_dropout(t):
        mt.manual_seed(11)  # the same mask on every evaluation
        return F.dropout(t, 0.4)

    assert gradcheck(fixed_mask_dropout, [x])
    mt.manual_seed(11)
    out = fixed_mask_dropout(x)
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), (_np(out) != 0) / 0.6)


def test_dropout2d_zeroes_whole_channels() -> None:
    x = mt.ones(8, 16, 5, 5)
    y = _np(nn.Dropout2d(0.5)(x))
    per_channel = y.reshape(8, 16, 25)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    with pytest.raises(ValueError, match="3-D"):
        F.dropout2d(mt.ones(2, 3), 0.5)
    xd = _t(np.random.default_rng(3).standard_normal((2, 3, 2, 2)))

    def fixed(t):
        mt.manual_seed(5)
        return F.dropout2d(t, 0.5)

    assert gradcheck(fixed, [xd])


def test_one_hot() -> None:
    out = F.one_hot(mt.tensor([0, 2, 1]), 4)
    np.testing.assert_array_equal(_np(out), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(mt.tensor([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        F.one_hot(mt.tensor([3]), 3)
