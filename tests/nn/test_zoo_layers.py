"""Layers added for the model zoo: ReLU6, Hardtanh, Hardswish, Dropout1d/3d, LocalResponseNorm,
ConvTranspose1d/3d. Known values are PyTorch 2.13's (frozen by tests/models/freeze_torchvision.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend, nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.testing import arrays, gradcheck

KNOWN = np.load(Path(__file__).resolve().parents[1] / "models" / "data" / "zoo_layers.npz")


def _np(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


def _t(a, device="cpu", grad=True):
    return mt.tensor(np.asarray(a, dtype=np.float64), dtype=mt.float64, device=device, requires_grad=grad)


def lrn_loop(x: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """The formula channel by channel: the slow reference of local_response_norm."""
    c = x.shape[1]
    out = np.empty_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        energy = (x[:, lo:hi] ** 2).sum(axis=1)
        out[:, ch] = x[:, ch] / (k + alpha / size * energy) ** beta
    return out


def test_lrn_known_values(device) -> None:
    x = _t(KNOWN["x"], device, grad=False)
    np.testing.assert_allclose(_np(nn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=1.5)(x)), KNOWN["lrn"], rtol=1e-12)
    np.testing.assert_allclose(_np(nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)(x)), KNOWN["lrn_paper"], rtol=1e-12)
    x3 = _t(KNOWN["x3"], device, grad=False)
    np.testing.assert_allclose(_np(nn.LocalResponseNorm(4, alpha=0.2)(x3)), KNOWN["lrn_3d"], rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(data=st.data(), size=st.integers(1, 6), c=st.integers(1, 6))
def test_lrn_equals_loop_reference_and_gradchecks(data, size, c) -> None:
    x = data.draw(arrays((2, c, 3, 2), non_contiguous=False))
    args = dict(size=size, alpha=0.3, beta=0.75, k=1.0)
    np.testing.assert_allclose(_np(F.local_response_norm(_t(x, grad=False), **args)), lrn_loop(x, **args),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a: F.local_response_norm(a, **args), [_t(x)])


def test_lrn_rejects_bad_input_naming_it() -> None:
    with pytest.raises(ValueError, match="size must be a positive int"):
        nn.LocalResponseNorm(0)
    with pytest.raises(ValueError, match=r"3 or more dims .*\(4, 5\)"):
        F.local_response_norm(mt.randn(4, 5), 3)


def test_relu6_and_hardswish_known_values(device) -> None:
    x = _t(KNOWN["x"], device, grad=False)
    np.testing.assert_allclose(_np(nn.ReLU6()(x * 3)), KNOWN["relu6"], rtol=1e-12)
    np.testing.assert_allclose(_np(nn.Hardswish()(x)), KNOWN["hardswish"], rtol=1e-12, atol=1e-15)


@settings(max_examples=20, deadline=None)
@given(x=arrays((3, 4), low=-8.0, high=8.0))
def test_relu6_hardswish_properties_and_gradients(x) -> None:
    x = np.where(np.isclose(np.abs(x) % 3, 0, atol=1e-3), x + 0.01, x)  # keep away from the kinks
    y6 = _np(F.relu6(_t(x, grad=False)))
    assert y6.min() >= 0 and y6.max() <= 6
    np.testing.assert_array_equal(y6, np.clip(x, 0, 6))
    hs = _np(F.hardswish(_t(x, grad=False)))
    np.testing.assert_allclose(hs, x * np.clip(x + 3, 0, 6) / 6, rtol=1e-12, atol=1e-15)
    assert gradcheck(F.relu6, [_t(x)])
    assert gradcheck(F.hardswish, [_t(x)])


def test_hardtanh_checks_its_range() -> None:
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(2.0, 1.0)
    assert repr(nn.ReLU6()) == "ReLU6()"


@pytest.mark.parametrize("layer, shape, mask_shape", [
    (nn.Dropout1d, (4, 6, 9), (4, 6, 1)), (nn.Dropout3d, (3, 5, 2, 3, 4), (3, 5, 1, 1, 1)),
])
def test_channel_dropout_zeros_whole_channels(device, layer, shape, mask_shape) -> None:
    x = mt.ones(*shape, device=device)
    y = _np(layer(0.5)(x))
    per_channel = y.reshape(*mask_shape[:2], -1)
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert (per_channel.min(axis=-1) == per_channel.max(axis=-1)).all()  # one value per channel
    assert 0 < (y == 0).mean() < 1
    drop = layer(0.5)
    drop.eval()
    np.testing.assert_array_equal(_np(drop(x)), 1.0)


def test_channel_dropout_rejects_wrong_rank() -> None:
    with pytest.raises(ValueError, match=r"dropout1d: expected a 2-D .* or 3-D .*\(2, 3, 4, 5\)"):
        F.dropout1d(mt.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="dropout probability"):
        nn.Dropout3d(1.5)


def test_dropout1d_gradient_is_the_mask() -> None:
    x = _t(np.ones((2, 3, 4)))
    y = F.dropout1d(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), _np(y))


@pytest.mark.parametrize("nd", [1, 3])
def test_conv_transpose_layers_known_values(device, nd) -> None:
    if nd == 1:
        layer = nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1)
    else:
        layer = nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), groups=2)
    layer = layer.double().to(device)
    p = f"ct{nd}_"
    assert tuple(layer.weight.shape) == KNOWN[p + "w"].shape
    layer.load_state_dict({"weight": KNOWN[p + "w"], "bias": KNOWN[p + "b"]})
    y = layer(_t(KNOWN[p + "x"], device, grad=False))
    np.testing.assert_allclose(_np(y), KNOWN[p + "y"], rtol=1e-12, atol=1e-12)


def test_conv_transpose_layers_output_size_and_gradcheck() -> None:
    t1 = nn.ConvTranspose1d(2, 3, 3, stride=2).double()
    x = _t(np.random.default_rng(0).standard_normal((1, 2, 4)))
    assert t1(x, output_size=[10]).shape == (1, 3, 10)
    with pytest.raises(ValueError, match=r"ConvTranspose1d: output_size \(12,\) is not reachable"):
        t1(x, output_size=(12,))
    assert gradcheck(lambda a, w, b: t1._fn(a, w, b, t1.stride, t1.padding, (0,), 1, (1,)),
                     [x, t1.weight, t1.bias])
    t3 = nn.ConvTranspose3d(2, 2, 2, stride=2)
    assert t3(mt.randn(1, 2, 2, 3, 4)).shape == (1, 2, 4, 6, 8)
    assert isinstance(t3, nn.Module) and not isinstance(t3, nn.ConvTranspose2d)
