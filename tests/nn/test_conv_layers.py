"""Convolution, pooling and padding layers: parameter counts, PyTorch's default init, padding modes,
reprs and that each layer computes what its functional op does."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops.conv_reference import conv_nd_reference, conv_transpose_nd_reference


def host(x: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(x.detach()._array)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_from_the_unit() -> None:
    assert count(nn.Conv2d(16, 32, 3)) == 4640  # 32*16*3*3 + 32
    depthwise = nn.Conv2d(16, 16, 3, groups=16, bias=False)
    pointwise = nn.Conv2d(16, 32, 1)
    assert (count(depthwise), count(pointwise)) == (144, 544)
    assert count(depthwise) + count(pointwise) == 688  # 144 + 512 + 32
    assert nn.Conv2d(16, 32, 3).weight.shape == (32, 16, 3, 3)
    assert nn.ConvTranspose2d(16, 8, 4, groups=2).weight.shape == (16, 4, 4, 4)


def test_default_init_matches_pytorch_bounds() -> None:
    mt.manual_seed(0)
    conv = nn.Conv2d(8, 64, (3, 5))
    bound = 1 / math.sqrt(8 * 3 * 5)  # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = host(conv.weight), host(conv.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # std of U(-a, a) is a/sqrt(3)
    assert np.abs(b).max() <= bound
    assert conv.weight.dtype == mt.float32 and conv.weight.requires_grad
    tconv = nn.ConvTranspose2d(8, 6, 3, groups=2)  # weight (8, 3, 3, 3): fan_in = 3*9 as in PyTorch
    assert np.abs(host(tconv.weight)).max() <= 1 / math.sqrt(27)


def test_conv2d_layer_forward_backward(device: str) -> None:
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1).to(device)
    x = mt.randn(2, 3, 7, 7, device=device, requires_grad=True)
    y = conv(x)
    assert y.shape == (2, 4, 4, 4)
    ref = conv_nd_reference(host(x).astype(np.float64), host(conv.weight).astype(np.float64),
                            host(conv.bias).astype(np.float64), (2, 2), ((1, 1), (1, 1)))
    np.testing.assert_allclose(host(y), ref, rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and conv.bias.grad.shape == (4,)
    np.testing.assert_allclose(host(conv.bias.grad), np.full(4, 2 * 16.0))
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_padding_modes_pad_then_convolve(device: str, mode: str, np_mode: str) -> None:
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode).to(device)
    x = np.random.default_rng(0).normal(size=(1, 2, 5, 6)).astype(np.float32)
    y = conv(mt.tensor(x, device=device))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), np_mode).astype(np.float64)
    ref = conv_nd_reference(padded, host(conv.weight).astype(np.float64), host(conv.bias).astype(np.float64),
                            (1, 1), ((0, 0), (0, 0)))
    assert y.shape == (1, 3, 5, 8)
    np.testing.assert_allclose(host(y), ref, rtol=1e-5, atol=1e-5)


def test_same_padding_with_padding_mode_and_even_kernel(device: str) -> None:
    conv = nn.Conv2d(1, 1, 4, padding="same", padding_mode="replicate").to(device)
    assert conv(mt.randn(1, 1, 6, 7, device=device)).shape == (1, 1, 6, 7)


def test_conv1d_conv3d_layers(device: str) -> None:
    assert nn.Conv1d(2, 4, 3, padding="same").to(device)(mt.randn(3, 2, 9, device=device)).shape == (3, 4, 9)
    c3 = nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1).to(device)
    assert c3(mt.randn(1, 2, 4, 6, 6, device=device)).shape == (1, 4, 4, 3, 3)
    assert count(c3) == 4 * 2 * 27 + 4


def test_conv_transpose2d_layer_and_output_size(device: str) -> None:
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1).to(device)
    x = mt.randn(1, 4, 5, 5, device=device)
    assert up(x).shape == (1, 2, 9, 9)
    y = up(x, output_size=(10, 10))  # picks output_padding=1, the size a stride-2 conv maps from
    assert y.shape == (1, 2, 10, 10)
    ref = conv_transpose_nd_reference(host(x).astype(np.float64), host(up.weight).astype(np.float64),
                                      host(up.bias).astype(np.float64), (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(host(y), ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"output_size"):
        up(x, output_size=(12, 12))


def test_layer_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"in_channels=3 is not divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels=3 is not divisible by groups=2"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match=r"padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"padding='same'.*stride"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"kernel.*larger than the padded input"):
        nn.Conv2d(1, 1, 5)(mt.zeros(1, 1, 3, 3))


def test_reprs_match_pytorch() -> None:
    assert repr(nn.Conv2d(16, 32, 3)) == "Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(16, 32, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False,
                          padding_mode="reflect")) == (
        "Conv2d(16, 32, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, "
        "bias=False, padding_mode=reflect)")
    assert repr(nn.Conv2d(1, 2, 3, padding="same")) == "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    assert repr(nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)) == (
        "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))")
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == "AdaptiveAvgPool2d(output_size=(2, None))"
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.ReflectionPad1d((1, 2))) == "ReflectionPad1d((1, 2))"


# --------------------------------------------------------------------------------------------------
# Pooling and padding layers
# --------------------------------------------------------------------------------------------------
def test_maxpool2d_layer_on_arange(device: str) -> None:
    x = mt.arange(100, device=device).reshape(1, 1, 10, 10).float()
    y = host(nn.MaxPool2d(2)(x))[0, 0]
    np.testing.assert_array_equal(y[0], [11, 13, 15, 17, 19])
    np.testing.assert_array_equal(y[1], [31, 33, 35, 37, 39])
    np.testing.assert_array_equal(y[-1], [91, 93, 95, 97, 99])


def test_pooling_layers_shapes_and_unpool_round_trip(device: str) -> None:
    x = mt.randn(2, 3, 9, 9, device=device)
    assert nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)(x).shape == (2, 3, 5, 5)
    assert nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)(x).shape == (2, 3, 5, 5)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    np.testing.assert_allclose(host(nn.AdaptiveAvgPool2d(1)(x))[..., 0, 0], host(x).mean(axis=(2, 3)), rtol=1e-5)
    assert nn.AdaptiveMaxPool2d((4, None))(x).shape == (2, 3, 4, 9)
    assert nn.MaxPool1d(2)(mt.randn(2, 3, 9, device=device)).shape == (2, 3, 4)
    assert nn.AvgPool1d(3)(mt.randn(2, 3, 9, device=device)).shape == (2, 3, 3)
    assert nn.MaxPool3d(2)(mt.randn(1, 1, 4, 4, 5, device=device)).shape == (1, 1, 2, 2, 2)
    assert nn.AvgPool3d(2)(mt.randn(1, 1, 4, 4, 5, device=device)).shape == (1, 1, 2, 2, 2)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    x = x.abs() + 0.1  # positive, so that the zeros unpooling fills in never beat a maximum
    y, idx = pool(x)
    u = unpool(y, idx, output_size=x.shape)
    assert u.shape == x.shape
    np.testing.assert_array_equal(host(nn.MaxPool2d(2)(u)), host(y))  # the maxima survive the round trip


@pytest.mark.parametrize(
    "layer, shape, out",
    [
        (nn.ZeroPad2d((1, 2, 0, 3)), (1, 2, 4, 4), (1, 2, 7, 7)),
        (nn.ConstantPad1d(2, 1.5), (1, 2, 4), (1, 2, 8)),
        (nn.ConstantPad2d(1, 0.0), (1, 2, 4, 4), (1, 2, 6, 6)),
        (nn.ConstantPad3d((1, 1, 0, 0, 2, 0), 0.0), (1, 1, 2, 3, 3), (1, 1, 4, 3, 5)),
        (nn.ReflectionPad1d(3), (1, 2, 4), (1, 2, 10)),
        (nn.ReflectionPad2d((1, 0, 2, 1)), (1, 2, 4, 4), (1, 2, 7, 5)),
        (nn.ReplicationPad1d((0, 4)), (1, 2, 4), (1, 2, 8)),
        (nn.ReplicationPad2d(2), (1, 2, 4, 4), (1, 2, 8, 8)),
        (nn.ReplicationPad3d(1), (1, 1, 2, 3, 3), (1, 1, 4, 5, 5)),
        (nn.CircularPad2d(1), (1, 2, 4, 4), (1, 2, 6, 6)),
    ],
)
def test_padding_layers(device: str, layer: nn.Module, shape: tuple, out: tuple) -> None:
    x = mt.randn(*shape, device=device, requires_grad=True)
    y = layer(x)
    assert y.shape == out
    y.sum().backward()
    # every output cell copies exactly one input cell (or is a constant): gradients add up to the copies
    copies = int(np.prod(out)) if layer.__class__.__name__.startswith(("Reflection", "Replication", "Circular")) \
        else int(np.prod(shape))
    assert host(x.grad).sum() == pytest.approx(copies)


def test_padding_layer_matches_functional(device: str) -> None:
    x = mt.randn(1, 1, 4, 5, device=device)
    np.testing.assert_array_equal(host(nn.ReflectionPad2d((2, 1, 1, 3))(x)), host(F.pad(x, (2, 1, 1, 3), "reflect")))
    np.testing.assert_array_equal(host(nn.ConstantPad2d(1, -2.0)(x))[0, 0, 0], [-2.0] * 7)
