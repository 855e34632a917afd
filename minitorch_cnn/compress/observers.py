"""Observers: watch the values a tensor takes and choose its ``scale`` and ``zero_point``.

All observers turn a range ``[lo, hi]`` into quantization parameters the way PyTorch does
(``torch.ao.quantization``), after widening it to include 0 so that 0 is exactly representable
(zero padding, ReLU outputs)::

    affine (quint8 activations):  scale = (hi - lo) / (qmax - qmin),  zero_point = qmin - round(lo / scale)
    symmetric (qint8 weights):    scale = max(-lo, hi) / ((qmax - qmin) / 2),  zero_point = 0

What differs is how the range is estimated, and it matters:

* ``MinMaxObserver``: the extreme values ever seen. One outlier activation stretches the range,
  the step ``scale`` grows, and every ordinary value loses resolution;
* ``MovingAverageMinMaxObserver``: ``lo <- lo + c * (batch_min - lo)`` (``c = 0.01``), the choice
  for quantization-aware training, where early batches are unrepresentative;
* ``PercentileObserver``: the ``percentile``-th and ``(100 - percentile)``-th percentiles of each
  batch, averaged over batches: it *clips* the rare outliers on purpose and keeps the step small
  for the bulk of the distribution.

``PerChannelMinMaxObserver(ch_axis=0)`` keeps one range per output channel (weights).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module
from ..nn import Module
from ..tensors import Tensor
from .quantize import QUINT8

__all__ = [
    "MinMaxObserver",
    "MovingAverageMinMaxObserver",
    "PercentileObserver",
    "PerChannelMinMaxObserver",
    "PerChannelWeightObserver",
    "qparams_from_range",
]

_EPS = float(np.finfo(np.float32).eps)


def qparams_from_range(lo: Any, hi: Any, quant_min: int, quant_max: int, symmetric: bool) -> tuple[Any, Any]:
    """``(scale, zero_point)`` (float32, int32 arrays) for the range ``[lo, hi]`` (PyTorch's formula)."""
    xp = get_array_module(lo)
    lo = xp.minimum(lo, 0).astype(xp.float32)
    hi = xp.maximum(hi, 0).astype(xp.float32)
    if symmetric:
        scale = xp.maximum(-lo, hi) / xp.float32((quant_max - quant_min) / 2)
        scale = xp.maximum(scale, xp.float32(_EPS))
        zero_point = xp.zeros(scale.shape, dtype=xp.int32) + (0 if quant_min < 0 else (quant_min + quant_max + 1) // 2)
        return scale, zero_point
    scale = xp.maximum((hi - lo) / xp.float32(quant_max - quant_min), xp.float32(_EPS))
    zero_point = xp.clip(quant_min - xp.rint(lo / scale), quant_min, quant_max).astype(xp.int32)
    return scale, zero_point


class _Observer(Module):
    """Holds the running range as buffers ``min_val`` / ``max_val``; ``forward`` returns ``x``."""

    def __init__(self, quant_min: int = QUINT8[0], quant_max: int = QUINT8[1], symmetric: bool = False,
                 ch_axis: int | None = None) -> None:
        super().__init__()
        self.quant_min, self.quant_max, self.symmetric, self.ch_axis = quant_min, quant_max, symmetric, ch_axis
        self.register_buffer("min_val", Tensor._from_array(np.array(np.inf, dtype=np.float32)))
        self.register_buffer("max_val", Tensor._from_array(np.array(-np.inf, dtype=np.float32)))

    def _batch_range(self, x: Any) -> tuple[Any, Any]:
        xp = get_array_module(x)
        if self.ch_axis is None:
            return x.min(), x.max()
        flat = xp.moveaxis(x, self.ch_axis, 0).reshape(x.shape[self.ch_axis], -1)
        return flat.min(axis=1), flat.max(axis=1)

    def _update(self, lo: Any, hi: Any) -> None:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        lo, hi = self._batch_range(x._array.astype("float32", copy=False))
        if not bool(get_array_module(lo).isfinite(self.min_val._array).all()) or self.min_val.shape != lo.shape:
            self.min_val._array, self.max_val._array = lo, hi  # first batch
        else:
            self._update(lo, hi)
        return x

    def calculate_qparams(self) -> tuple[Any, Any]:
        """``(scale, zero_point)`` arrays for the range observed so far."""
        if not bool(get_array_module(self.min_val._array).isfinite(self.min_val._array).all()):
            raise RuntimeError(f"{type(self).__name__}: no values observed yet; run calibration batches first")
        return qparams_from_range(self.min_val._array, self.max_val._array, self.quant_min, self.quant_max,
                                  self.symmetric)

    def extra_repr(self) -> str:
        return f"quant_min={self.quant_min}, quant_max={self.quant_max}, symmetric={self.symmetric}"


class MinMaxObserver(_Observer):
    """Range = the smallest and largest value ever observed."""

    def _update(self, lo: Any, hi: Any) -> None:
        xp = get_array_module(lo)
        self.min_val._array = xp.minimum(self.min_val._array, lo)
        self.max_val._array = xp.maximum(self.max_val._array, hi)


class PerChannelMinMaxObserver(MinMaxObserver):
    """One min/max per index of ``ch_axis`` (default 0, a weight's output channels)."""

    def __init__(self, ch_axis: int = 0, quant_min: int = -128, quant_max: int = 127, symmetric: bool = True) -> None:
        super().__init__(quant_min, quant_max, symmetric, ch_axis)


class MovingAverageMinMaxObserver(_Observer):
    """Range = exponential moving averages of the batch minima and maxima (``averaging_constant``)."""

    def __init__(self, averaging_constant: float = 0.01, quant_min: int = QUINT8[0], quant_max: int = QUINT8[1],
                 symmetric: bool = False) -> None:
        super().__init__(quant_min, quant_max, symmetric)
        self.averaging_constant = averaging_constant

    def _update(self, lo: Any, hi: Any) -> None:
        c = np.float32(self.averaging_constant)
        self.min_val._array = self.min_val._array + c * (lo - self.min_val._array)
        self.max_val._array = self.max_val._array + c * (hi - self.max_val._array)


class PercentileObserver(_Observer):
    """Range = the batch's ``(100 - percentile)``-th and ``percentile``-th percentiles, averaged over batches."""

    def __init__(self, percentile: float = 99.99, quant_min: int = QUINT8[0], quant_max: int = QUINT8[1],
                 symmetric: bool = False) -> None:
        if not 50.0 < percentile <= 100.0:
            raise ValueError(f"PercentileObserver: percentile must lie in (50, 100], got {percentile!r}")
        super().__init__(quant_min, quant_max, symmetric)
        self.percentile = percentile
        self.register_buffer("batches", Tensor._from_array(np.array(0, dtype=np.int64)))

    def _batch_range(self, x: Any) -> tuple[Any, Any]:
        xp = get_array_module(x)
        flat = x.reshape(-1)
        return xp.percentile(flat, 100.0 - self.percentile), xp.percentile(flat, self.percentile)

    def forward(self, x: Tensor) -> Tensor:
        super().forward(x)
        self.batches._array = self.batches._array + 1
        return x

    def _update(self, lo: Any, hi: Any) -> None:
        n = self.batches._array.astype("float32") + 1  # running mean over the batches seen
        self.min_val._array = (self.min_val._array + (lo - self.min_val._array) / n).astype("float32")
        self.max_val._array = (self.max_val._array + (hi - self.max_val._array) / n).astype("float32")


class PerChannelWeightObserver(PerChannelMinMaxObserver):
    """Per-channel range of the *current* weight only: during QAT the weights move, an old extreme
    must not keep stretching the range."""

    def _update(self, lo: Any, hi: Any) -> None:
        self.min_val._array, self.max_val._array = lo, hi
