"""Binarization: two values per channel, clipped straight-through gradients, XNOR's scaling map."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.compress import binarize, layers
from minitorch_cnn.models import FashionCNN


@pytest.mark.parametrize("method", ["binaryconnect", "bwn", "xnor"])
def test_binarized_weights_take_two_values_per_channel(device: str, method: str) -> None:
    model = FashionCNN(image_size=8).to(device)
    binarize.binarize(model, method)
    chosen = [m for _, m in layers.transformed_layers(model)]
    assert len(chosen) == 4  # five Conv2d/Linear minus the first and the last
    assert not isinstance(model.features[0], layers.TransformedConv2d)
    assert not isinstance(model.classifier[5], layers.TransformedLinear)
    for m in chosen:
        w = layers.used_weight(m).detach().numpy()
        for row in w.reshape(w.shape[0], -1):
            values = np.unique(row)
            assert len(values) == 2 and values[0] == -values[1]
            if method == "binaryconnect":
                assert values[1] == 1
    model(mt.randn(2, 1, 8, 8, device=device)).sum().backward()
    assert all(m.weight.grad is not None for m in chosen)


def test_sign_ste_gradient_is_clipped_at_one(device: str) -> None:
    w = mt.tensor(np.array([-2.0, -1.0, -0.5, 0.0, 0.3, 1.5], dtype=np.float32), device=device, requires_grad=True)
    y = binarize.SignSTE.apply(w)
    np.testing.assert_array_equal(y.detach().numpy(), [-1, -1, -1, 1, 1, 1])
    (y * mt.tensor(np.arange(1, 7, dtype=np.float32), device=device)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0, 2, 3, 4, 5, 0])


def test_bwn_scale_is_mean_abs_per_filter() -> None:
    conv = nn.Conv2d(2, 3, 3)
    wb = binarize.BinaryWeight()(conv.weight).detach().numpy()
    w = conv.weight.detach().numpy()
    alpha = np.abs(w).mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(wb, np.where(w >= 0, 1, -1) * alpha, rtol=1e-6)


def test_xnor_output_is_binary_conv_times_scaling_map() -> None:
    conv = nn.Conv2d(3, 2, 3, padding=1, bias=False)
    x = np.random.default_rng(0).normal(size=(1, 3, 5, 5)).astype(np.float32)
    w = conv.weight.detach().numpy().copy()
    layers.attach(conv, weight=binarize.BinaryWeight())
    conv.__class__ = binarize.XNORConv2d
    y = conv(mt.tensor(x)).detach().numpy()
    xb, alpha = np.where(x >= 0, 1.0, -1.0), np.abs(w).mean(axis=(1, 2, 3))
    a = np.pad(np.abs(x).mean(axis=1), ((0, 0), (1, 1), (1, 1)))
    xbp = np.pad(xb, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for o, i, j in [(0, 0, 0), (1, 2, 3), (0, 4, 4)]:
        k = a[0, i:i + 3, j:j + 3].mean()
        expect = (xbp[0, :, i:i + 3, j:j + 3] * np.where(w[o] >= 0, 1, -1)).sum() * alpha[o] * k
        np.testing.assert_allclose(y[0, o, i, j], expect, rtol=1e-5)


def test_bad_method_is_named() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        binarize.binarize(FashionCNN(image_size=8), "ternary")
