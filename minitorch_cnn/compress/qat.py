"""Fake-quantized models: post-training calibration and quantization-aware training (QAT).

``prepare_qat(model)`` gives every Conv2d and Linear two ``FakeQuantize`` modules (see ``layers``):

* its **weight**: qint8, symmetric, one scale per output channel (``PerChannelMinMaxObserver``);
* its **input** activation: quint8, affine, one scale and zero point per tensor (an observer of
  your choice: ``MovingAverageMinMaxObserver`` by default, ``MinMaxObserver``, ``PercentileObserver``).

Post-training quantization = ``prepare_qat`` + ``calibrate(model, batches)`` (a few batches in
eval mode, observers on) + ``freeze(model)`` (observers off: scales fixed). Quantization-aware
training = train the prepared model as usual (observers on, so the ranges follow the weights),
then ``freeze``. Either way ``int8.convert(model)`` turns it into integer arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd import is_grad_enabled, no_grad
from ..backend import get_array_module
from ..nn import Conv2d, Linear, Module
from ..tensors import Tensor
from . import int8, layers
from .fake_quant import FakeQuantize
from .observers import MovingAverageMinMaxObserver, PerChannelWeightObserver
from .quantize import QINT8, QUINT8, dequantize_accumulator, quantize_array

__all__ = ["FakeQuantize", "QATConv2d", "QATLinear", "prepare_qat", "calibrate", "freeze", "fake_quant_modules"]


class QATConv2d(layers.TransformedConv2d):
    """A fake-quantized Conv2d. Training: ``conv2d(x_hat, w_hat)`` in float32 with straight-through
    gradients. Eval: the same sum computed exactly (float64 on the integer codes, see
    ``int8.conv_accumulate``), so it equals the int8 layer bit for bit."""

    def forward(self, input: Tensor) -> Tensor:
        if self.training or is_grad_enabled():
            return super().forward(input)
        return _exact_forward(self, input, int8.conv_accumulate, 1)


class QATLinear(layers.TransformedLinear):
    """A fake-quantized Linear (see ``QATConv2d``)."""

    def forward(self, input: Tensor) -> Tensor:
        if self.training or is_grad_enabled():
            return super().forward(input)
        return _exact_forward(self, input, int8.linear_accumulate, -1)


def _exact_forward(layer: Module, x: Tensor, accumulate: Callable, channel_axis: int) -> Tensor:
    """Eval-mode output from the codes: observers still update (calibration), rounding is exact."""
    xq, wq = layer.input_transform, layer.weight_transform
    xq(x)  # runs the observer when enabled: the codes below use the updated scale
    wq(layer.weight)
    a = quantize_array(x._array, xq.scale._array, xq.zero_point._array, xq.quant_min, xq.quant_max) - xq.zero_point._array
    c = quantize_array(layer.weight._array, wq.scale._array, wq.zero_point._array, wq.quant_min, wq.quant_max, axis=0)
    xp = get_array_module(a)
    acc = accumulate(layer, a.astype(xp.float64), c.astype(xp.float64), xp.float64)
    bias = None if layer.bias is None else layer.bias._array
    return Tensor._from_array(dequantize_accumulator(acc, xq.scale._array, wq.scale._array, bias, channel_axis))


def _weight_fake_quant() -> FakeQuantize:
    return FakeQuantize(PerChannelWeightObserver(ch_axis=0), *QINT8)


def prepare_qat(model: Module, activation_observer: Callable[[], Module] = MovingAverageMinMaxObserver,
                skip: Iterable[str] = ()) -> Module:
    """Attach weight and input ``FakeQuantize`` modules to every Conv2d / Linear (in place).

    ``skip``: module paths to leave in float. Returns ``model``.
    """
    skip = set(skip)
    for path, m in list(model.named_modules()):
        if type(m) in (Conv2d, Linear) and path not in skip:
            layers.attach(m, weight=_weight_fake_quant(),
                          input=FakeQuantize(activation_observer(), *QUINT8))
            m.__class__ = QATConv2d if isinstance(m, Conv2d) else QATLinear
    return model


def fake_quant_modules(model: Module) -> list[FakeQuantize]:
    return [m for m in model.modules() if isinstance(m, FakeQuantize)]


def calibrate(model: Module, batches: Iterable[Any], max_batches: int | None = None) -> Module:
    """Run ``batches`` (inputs, or ``(inputs, targets)`` pairs) through ``model`` in eval mode with
    the observers on, so that every activation range is measured; then restores the training mode."""
    was_training = model.training
    model.eval()
    for fq in fake_quant_modules(model):
        fq.observer_enabled = True
    with no_grad():
        for i, batch in enumerate(batches):
            if max_batches is not None and i >= max_batches:
                break
            model(batch[0] if isinstance(batch, (tuple, list)) else batch)
    model.train(was_training)
    return model


def freeze(model: Module) -> Module:
    """Observers off: scales and zero points stay what calibration / training made them."""
    for fq in fake_quant_modules(model):
        if not bool(get_array_module(fq.observer.min_val._array).isfinite(fq.observer.min_val._array).all()):
            raise RuntimeError("freeze: a FakeQuantize has observed nothing; calibrate the model first")
        fq.observer_enabled = False
    return model
