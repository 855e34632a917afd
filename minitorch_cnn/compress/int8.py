"""Integer inference: int8 codes multiplied and accumulated in int32.

``convert(model)`` replaces every fake-quantized Conv2d / Linear (``qat.prepare_qat`` +
calibration or training, then ``qat.freeze``) by an ``Int8Conv2d`` / ``Int8Linear`` that stores
the weight as int8 codes ``q_w`` with one float scale ``s_w[o]`` per output channel, and computes::

    q_x = clamp(rint(x / s_x) + z_x, 0, 255)                      (uint8 input codes)
    acc[o, p] = sum_k (q_x[k, p] - z_x) * q_w[o, k]               (int32: im2col + integer GEMM)
    y[o, p]   = acc[o, p] * (s_x * s_w[o]) + b[o]                 (back to float)

The fake-quantized float model computes ``conv((q_x - z_x) s_x, q_w s_w) + b``: the same sum with
every term scaled, so the two agree to float32 rounding and every quantized layer sees the same
input codes (the tests check both). The conv uses the package's im2col (``conv_forward_array``
with ``acc_dtype=int32``), so padding adds true zeros (code ``z_x``).
"""

from __future__ import annotations

import copy
from typing import Any

from ..backend import get_array_module
from ..nn import Module
from ..ops.conv import conv_forward_array, conv_padding
from ..tensors import Tensor
from . import layers
from .fake_quant import FakeQuantize
from .quantize import dequantize_accumulator, quantize_array

__all__ = ["Int8Conv2d", "Int8Linear", "convert", "int8_layers", "conv_accumulate", "linear_accumulate"]


def conv_accumulate(layer: Module, a: Any, c: Any, acc_dtype: Any) -> Any:
    """``sum (q_x - z_x) * q_w`` over every window: im2col + one GEMM accumulating in ``acc_dtype``.

    ``a``: the centred input codes ``(N, C_in, H, W)``; ``c``: the weight codes. ``layer`` supplies
    stride, padding, dilation and groups (a Conv2d or an ``Int8Conv2d``).
    """
    pads = conv_padding(layer.padding, c.shape[2:], layer.dilation, layer.stride, type(layer).__name__)
    return conv_forward_array(a, c, layer.stride, pads, layer.dilation, layer.groups, acc_dtype=acc_dtype)


def linear_accumulate(layer: Module, a: Any, c: Any, acc_dtype: Any) -> Any:
    """``(q_x - z_x) @ q_w^T`` accumulated in ``acc_dtype``."""
    return a.astype(acc_dtype, copy=False) @ c.astype(acc_dtype, copy=False).T


class _Int8Layer(Module):
    """Shared state: weight codes, per-channel weight scales, input scale / zero point, float bias."""

    def __init__(self, weight_codes: Any, weight_scale: Any, input_scale: Any, input_zero_point: Any,
                 bias: Any = None, input_range: tuple[int, int] = (0, 255)) -> None:
        super().__init__()
        xp = get_array_module(weight_codes)
        self.register_buffer("weight_codes", Tensor._from_array(xp.asarray(weight_codes, dtype=xp.int8)))
        self.register_buffer("weight_scale", Tensor._from_array(xp.asarray(weight_scale, dtype=xp.float32).reshape(-1)))
        self.register_buffer("input_scale", Tensor._from_array(xp.asarray(input_scale, dtype=xp.float32)))
        self.register_buffer("input_zero_point", Tensor._from_array(xp.asarray(input_zero_point, dtype=xp.int32)))
        self.input_range = tuple(input_range)
        if bias is not None:
            self.register_buffer("bias", Tensor._from_array(xp.asarray(bias, dtype=xp.float32).copy()))
        else:
            self.bias = None

    @classmethod
    def from_fake_quant(cls, layer: Module) -> _Int8Layer:
        """The integer twin of a frozen fake-quantized layer (``qat.QATConv2d`` / ``QATLinear``)."""
        wq: FakeQuantize = layer.weight_transform
        xq: FakeQuantize = layer.input_transform
        if wq.observer_enabled or xq.observer_enabled:
            raise RuntimeError(f"convert: {type(layer).__name__} still observes; call qat.freeze(model) first")
        codes = quantize_array(layer.weight._array, wq.scale._array, wq.zero_point._array, wq.quant_min, wq.quant_max,
                               axis=0)
        bias = None if layer.bias is None else layer.bias._array
        return cls(codes, wq.scale._array, xq.scale._array, xq.zero_point._array, bias, (xq.quant_min, xq.quant_max),
                   **cls._geometry(layer))

    @staticmethod
    def _geometry(layer: Module) -> dict:
        return {}

    def input_codes(self, x: Any) -> Any:
        """The uint8 codes of ``x`` (as int32 values)."""
        return quantize_array(x, self.input_scale._array, self.input_zero_point._array, *self.input_range)

    def _dequantize(self, acc: Any, channel_axis: int) -> Tensor:
        bias = None if self.bias is None else self.bias._array
        return Tensor._from_array(dequantize_accumulator(acc, self.input_scale._array, self.weight_scale._array, bias,
                                                         channel_axis))


class Int8Conv2d(_Int8Layer):
    """Integer Conv2d (see the module docstring); ``forward`` takes and returns float tensors."""

    def __init__(self, weight_codes: Any, weight_scale: Any, input_scale: Any, input_zero_point: Any,
                 bias: Any = None, input_range: tuple[int, int] = (0, 255), stride: tuple = (1, 1),
                 padding: Any = (0, 0), dilation: tuple = (1, 1), groups: int = 1) -> None:
        super().__init__(weight_codes, weight_scale, input_scale, input_zero_point, bias, input_range)
        self.stride, self.padding, self.dilation, self.groups = tuple(stride), padding, tuple(dilation), groups

    @staticmethod
    def _geometry(layer: Module) -> dict:
        return {"stride": layer.stride, "padding": layer.padding, "dilation": layer.dilation, "groups": layer.groups}

    def accumulate(self, x: Any) -> Any:
        """``int32`` sums ``sum (q_x - z_x) * q_w`` of shape ``(N, C_out, H_out, W_out)``."""
        xp = get_array_module(x)
        centred = (self.input_codes(x) - self.input_zero_point._array).astype(xp.int16)  # -255..255
        return conv_accumulate(self, centred, self.weight_codes._array, xp.int32)

    def forward(self, x: Tensor) -> Tensor:
        return self._dequantize(self.accumulate(x._array), 1)


class Int8Linear(_Int8Layer):
    """Integer Linear: ``acc = (q_x - z_x) @ q_w^T`` in int32."""

    def accumulate(self, x: Any) -> Any:
        xp = get_array_module(x)
        centred = (self.input_codes(x) - self.input_zero_point._array).astype(xp.int16)
        return linear_accumulate(self, centred, self.weight_codes._array, xp.int32)

    def forward(self, x: Tensor) -> Tensor:
        return self._dequantize(self.accumulate(x._array), -1)


def convert(model: Module) -> Module:
    """A copy of a frozen fake-quantized ``model`` with integer Conv2d / Linear layers (eval mode)."""
    model = copy.deepcopy(model).eval()
    found = False
    for path, layer in layers.transformed_layers(model):
        if not isinstance(layer._modules.get("weight_transform"), FakeQuantize):
            continue
        cls = Int8Conv2d if isinstance(layer, layers.TransformedConv2d) else Int8Linear
        new = cls.from_fake_quant(layer)
        parent, _, name = path.rpartition(".")
        model.get_submodule(parent)._modules[name] = new
        found = True
    if not found:
        raise ValueError("convert: the model has no fake-quantized layers; run qat.prepare_qat and calibrate first")
    return model


def int8_layers(model: Module) -> list[tuple[str, _Int8Layer]]:
    return [(p, m) for p, m in model.named_modules() if isinstance(m, _Int8Layer)]
