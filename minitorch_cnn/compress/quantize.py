"""Affine quantization: the formula, fake quantization with a straight-through gradient.

An 8-bit affine quantizer maps a real ``x`` to an integer code ``q`` and back::

    q     = clamp(round(x / scale) + zero_point, quant_min, quant_max)
    x_hat = (q - zero_point) * scale                       ("dequantize")

``round`` is round-half-to-even (``nearbyint``), and ``x / scale`` is computed as
``x * (1 / scale)`` in float32, exactly as PyTorch's CPU kernels do (so the codes agree with
``torch.fake_quantize_per_tensor_affine`` bit for bit, which the tests check against frozen values).
``quint8`` activations use codes ``0..255`` with a zero point; ``qint8`` weights ``-128..127``,
symmetric (``zero_point = 0``). Per-channel quantization gives every output channel (``axis``) its
own ``scale`` / ``zero_point``: a filter with small weights keeps its resolution.

*Fake* quantization returns ``x_hat`` in float: the network sees the rounding error during
training (quantization-aware training). Its derivative is 0 almost everywhere, so the backward
pass uses the straight-through estimator (Bengio et al. 2013), as PyTorch does:
``d x_hat / d x = 1`` where ``x`` falls inside the representable range, 0 where it was clamped.
"""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ..tensors import Tensor

__all__ = [
    "quantize_array",
    "dequantize_array",
    "dequantize_accumulator",
    "fake_quantize_per_tensor_affine",
    "fake_quantize_per_channel_affine",
    "QINT8",
    "QUINT8",
]

QINT8 = (-128, 127)
"""Code range of signed 8-bit weights."""
QUINT8 = (0, 255)
"""Code range of unsigned 8-bit activations."""


def _broadcast(v: Any, x: Any, axis: int | None) -> Any:
    """A per-channel vector shaped to broadcast along ``axis`` of ``x`` (scalars pass through)."""
    if axis is None:
        return v
    shape = [1] * x.ndim
    shape[axis] = -1
    return v.reshape(shape)


def quantize_array(x: Any, scale: Any, zero_point: Any, quant_min: int, quant_max: int,
                   axis: int | None = None) -> Any:
    """Integer codes ``clamp(nearbyint(x * (1/scale)) + zero_point, qmin, qmax)`` as int32 arrays."""
    xp = get_array_module(x)
    inv = _broadcast(xp.asarray(1.0, dtype=x.dtype) / xp.asarray(scale, dtype=x.dtype), x, axis)
    zp = _broadcast(xp.asarray(zero_point).astype(x.dtype), x, axis)
    return xp.clip(xp.rint(x * inv) + zp, quant_min, quant_max).astype(xp.int32)


def dequantize_array(q: Any, scale: Any, zero_point: Any, axis: int | None = None, dtype: Any = "float32") -> Any:
    """``(q - zero_point) * scale`` in ``dtype``."""
    xp = get_array_module(q)
    s = _broadcast(xp.asarray(scale, dtype=dtype), q, axis)
    zp = _broadcast(xp.asarray(zero_point).astype(dtype), q, axis)
    return (q.astype(dtype) - zp) * s


def dequantize_accumulator(acc: Any, input_scale: Any, weight_scale: Any, bias: Any, channel_axis: int) -> Any:
    """float32 ``acc * (s_x * s_w[o]) + b[o]``, computed in float64 and rounded once at the end.

    Both the int8 layers and the fake-quantized layers (in eval mode) finish with this one
    function, so their outputs agree bit for bit whenever their integer sums agree.
    """
    xp = get_array_module(acc)
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    scale = xp.asarray(input_scale, dtype=xp.float64) * xp.asarray(weight_scale, dtype=xp.float64).reshape(shape)
    y = acc.astype(xp.float64) * scale
    if bias is not None:
        y = y + bias.astype(xp.float64).reshape(shape)
    return y.astype(xp.float32)


class FakeQuantizeFunction(Function):
    """``x_hat = (clamp(rint(x/s) + z, qmin, qmax) - z) * s``; ``d/dx = 1`` inside the range, else 0."""

    @staticmethod
    def forward(ctx: Context, x: Any, scale: Any = None, zero_point: Any = None, quant_min: int = 0,
                quant_max: int = 255, axis: int | None = None) -> Any:
        xp = get_array_module(x)
        inv = _broadcast(xp.asarray(1.0, dtype=x.dtype) / xp.asarray(scale, dtype=x.dtype), x, axis)
        zp = _broadcast(xp.asarray(zero_point).astype(x.dtype), x, axis)
        # BEGIN SOLUTION 7.2
        unclamped = xp.rint(x * inv) + zp
        ctx.inside = (unclamped >= quant_min) & (unclamped <= quant_max)
        q = xp.clip(unclamped, quant_min, quant_max)
        return (q - zp) * _broadcast(xp.asarray(scale, dtype=x.dtype), x, axis)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = get_array_module(g)
        # BEGIN SOLUTION 7.2
        return xp.where(ctx.inside, g, xp.zeros((), dtype=g.dtype))
        # END SOLUTION


def _check_range(fn: str, quant_min: int, quant_max: int) -> None:
    if not (isinstance(quant_min, int) and isinstance(quant_max, int) and quant_min < quant_max):
        raise ValueError(f"{fn}: need integers quant_min < quant_max, got {quant_min!r} and {quant_max!r}")


def _check_zero_point(fn: str, zero_point: Any, quant_min: int, quant_max: int) -> None:
    """PyTorch's rule: every zero point lies in ``[quant_min, quant_max]`` (else the code of 0.0 is clamped)."""
    xp = get_array_module(zero_point)
    z = xp.asarray(zero_point)
    if z.dtype.kind not in "iu" and not bool((z == xp.rint(z)).all()):
        raise ValueError(f"{fn}: zero_point must be an integer, got {zero_point!r}")
    outside = (z < quant_min) | (z > quant_max)
    if bool(outside.any()):
        first = z.reshape(-1)[int(xp.argmax(outside.reshape(-1)))]
        raise ValueError(f"{fn}: `zero_point` must be between `quant_min` and `quant_max`: zero_point={int(first)} "
                         f"is outside [{quant_min}, {quant_max}]")


def fake_quantize_per_tensor_affine(input: Tensor, scale: float, zero_point: int, quant_min: int,
                                    quant_max: int) -> Tensor:
    """``torch.fake_quantize_per_tensor_affine``: quantize and dequantize with one scale / zero point.

    As in PyTorch, ``zero_point`` outside ``[quant_min, quant_max]`` raises (a ``ValueError`` here).
    """
    _check_range("fake_quantize_per_tensor_affine", quant_min, quant_max)
    if not (float(scale) > 0 and math.isfinite(float(scale))):
        raise ValueError(f"fake_quantize_per_tensor_affine: scale must be positive and finite, got {scale!r}")
    _check_zero_point("fake_quantize_per_tensor_affine", zero_point, quant_min, quant_max)
    xp = get_array_module(input._array)
    return FakeQuantizeFunction.apply(input, scale=xp.asarray(float(scale), dtype=input.dtype),
                                      zero_point=xp.asarray(int(zero_point)), quant_min=quant_min,
                                      quant_max=quant_max)


def fake_quantize_per_channel_affine(input: Tensor, scale: Tensor, zero_point: Tensor, axis: int,
                                     quant_min: int, quant_max: int) -> Tensor:
    """``torch.fake_quantize_per_channel_affine``: one ``scale[c]`` / ``zero_point[c]`` per index of ``axis``."""
    _check_range("fake_quantize_per_channel_affine", quant_min, quant_max)
    s = getattr(scale, "_array", scale)
    z = getattr(zero_point, "_array", zero_point)
    if not -input.ndim <= axis < input.ndim or tuple(s.shape) != (input.shape[axis],) or s.shape != z.shape:
        raise ValueError(
            f"fake_quantize_per_channel_affine: scale {tuple(s.shape)} and zero_point {tuple(z.shape)} must both "
            f"have shape ({input.shape[axis] if -input.ndim <= axis < input.ndim else '?'},) = input.shape[axis] "
            f"for input {tuple(input.shape)} and axis={axis}"
        )
    _check_zero_point("fake_quantize_per_channel_affine", z, quant_min, quant_max)
    return FakeQuantizeFunction.apply(input, scale=s.astype(input.dtype), zero_point=z, quant_min=quant_min,
                                      quant_max=quant_max, axis=axis % input.ndim)
