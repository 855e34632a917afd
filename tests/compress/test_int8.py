"""Int8 inference: int32 accumulators, and the same codes and outputs as the fake-quant model."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.compress import int8, layers, qat
from minitorch_cnn.compress.observers import PercentileObserver
from minitorch_cnn.models import FashionCNN
from minitorch_cnn.ops.conv_reference import conv_nd_reference


def _calibrated(device: str = "cpu", observer: type = qat.MovingAverageMinMaxObserver) -> nn.Module:
    model = FashionCNN(image_size=8).to(device)
    model.train()
    model(mt.randn(16, 1, 8, 8, device=device))  # BatchNorm statistics
    qat.prepare_qat(model, activation_observer=observer)
    qat.calibrate(model, [mt.randn(16, 1, 8, 8, device=device) for _ in range(3)])
    return qat.freeze(model)


def _layer_inputs(model: nn.Module, kinds: tuple) -> list:
    seen: list = []
    hooks = [m.register_forward_pre_hook(lambda m, a: seen.append(a[0]._array)) for m in model.modules()
             if isinstance(m, kinds)]
    return seen, hooks


@pytest.mark.parametrize("observer", [qat.MovingAverageMinMaxObserver, PercentileObserver])
def test_int8_model_matches_fake_quant_model_code_for_code(device: str, observer: type) -> None:
    fake = _calibrated(device, observer).eval()
    real = int8.convert(fake)
    x = mt.randn(8, 1, 8, 8, device=device)
    fake_in, h1 = _layer_inputs(fake, (layers.TransformedConv2d, layers.TransformedLinear))
    real_in, h2 = _layer_inputs(real, (int8.Int8Conv2d, int8.Int8Linear))
    with mt.no_grad():
        y_fake, y_real = fake(x), real(x)
    qlayers = [m for _, m in int8.int8_layers(real)]
    assert len(qlayers) == len(fake_in) == len(real_in) == 6
    for layer, a, b in zip(qlayers, fake_in, real_in):
        np.testing.assert_array_equal(mt.backend.to_numpy(layer.input_codes(a)),
                                      mt.backend.to_numpy(layer.input_codes(b)))
    np.testing.assert_array_equal(y_real.numpy(), y_fake.numpy())  # bit for bit


def test_accumulator_is_int32_and_equals_the_loop_reference() -> None:
    fake = _calibrated().eval()
    real = int8.convert(fake)
    conv = real.features[3]
    x = np.random.default_rng(0).normal(size=(1, 32, 4, 4)).astype(np.float32)
    acc = conv.accumulate(x)
    assert acc.dtype == np.int32
    centred = (conv.input_codes(x) - conv.input_zero_point._array).astype(np.float64)
    ref = conv_nd_reference(centred, conv.weight_codes._array.astype(np.float64), None, (1, 1), ((1, 1), (1, 1)))
    np.testing.assert_array_equal(acc, ref.astype(np.int64))
    assert conv.weight_codes._array.dtype == np.int8


def test_convert_refuses_an_unfrozen_model() -> None:
    model = qat.prepare_qat(FashionCNN(image_size=8))
    with pytest.raises(RuntimeError, match="call qat.freeze"):
        int8.convert(model)
    with pytest.raises(ValueError, match="no fake-quantized layers"):
        int8.convert(FashionCNN(image_size=8))


def test_training_mode_fake_quant_is_float32_conv_of_dequantized_values() -> None:
    model = _calibrated().eval()
    conv = model.features[0]
    x = mt.randn(2, 1, 8, 8)
    with mt.no_grad():
        exact = conv(x).numpy()
    with mt.enable_grad():  # the differentiable path: conv2d(x_hat, w_hat), float32 sums
        graph = conv(x).detach().numpy()
    np.testing.assert_allclose(graph, exact, rtol=1e-5, atol=1e-6)


def test_qat_trains_through_the_straight_through_estimator() -> None:
    model = qat.prepare_qat(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)))
    model(mt.randn(5, 4)).sum().backward()
    g = model[1].weight.grad.numpy()
    assert np.count_nonzero(g) == g.size  # symmetric weight range: nothing is clamped
