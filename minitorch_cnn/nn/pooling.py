"""Pooling layers (PyTorch's): max, average, adaptive and max-unpooling.

They have no parameters; each calls the functional op in ``ops/pool.py`` (see there for the
output-size formula, ceil_mode, count_include_pad and the backward rules). Global average
pooling, as at the end of ResNet-style networks, is ``AdaptiveAvgPool2d(1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ops._checks import (
    check_adaptive_output_size,
    check_divisor_override,
    check_pool_args,
    check_positive,
    ntuple,
)
from ..ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool2d,
)
from ..tensors import Tensor
from ._checks import check_bool
from .module import Module

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "MaxUnpool2d",
]

_Size = Any  # an int or a tuple of ints


class _MaxPoolNd(Module):
    _fn = staticmethod(max_pool2d)
    _nd = 2

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0, dilation: _Size = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        check_pool_args(name, self._nd, kernel_size, stride, padding, dilation)  # at construction, not forward
        check_bool(name, "return_indices", return_indices)
        check_bool(name, "ceil_mode", ceil_mode)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                        self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """``(N, C, L) -> (N, C, L_out)``: the maximum of each window."""

    _fn = staticmethod(max_pool1d)
    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """``(N, C, H, W) -> (N, C, H_out, W_out)``: the maximum of each window.

    ``MaxPool2d(2)`` halves height and width; ``return_indices=True`` also returns the flat arg-max
    positions for ``MaxUnpool2d``. The gradient flows only to each window's (first) maximum.
    """

    _fn = staticmethod(max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)``: the maximum of each window."""

    _fn = staticmethod(max_pool3d)
    _nd = 3


class _AvgPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_pool_args(name, self._nd, kernel_size, stride, padding, 1)  # at construction, not forward
        check_bool(name, "ceil_mode", ceil_mode)
        check_bool(name, "count_include_pad", count_include_pad)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """``(N, C, L) -> (N, C, L_out)``: the mean of each window."""

    _nd = 1

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        # PyTorch stores AvgPool1d's arguments as 1-tuples
        self.kernel_size, self.stride, self.padding = (
            v if isinstance(v, tuple) else (v,) for v in (self.kernel_size, self.stride, self.padding)
        )

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """``(N, C, H, W) -> (N, C, H_out, W_out)``: the mean of each window; the gradient is spread
    evenly (1/Q) over the window. ``divisor_override`` replaces Q."""

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        check_divisor_override(type(self).__name__, divisor_override)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AvgPool3d(_AvgPoolNd):
    """``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)``: the mean of each window."""

    _nd = 3

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        check_divisor_override(type(self).__name__, divisor_override)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AdaptiveAvgPool2d(Module):
    """``(N, C, H, W) -> (N, C, *output_size)`` whatever H and W are; ``AdaptiveAvgPool2d(1)`` is
    global average pooling. ``None`` in ``output_size`` keeps that input size."""

    def __init__(self, output_size: int | Sequence[int | None]) -> None:
        super().__init__()
        check_adaptive_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """``(N, C, H, W) -> (N, C, *output_size)``: the maximum of each adaptive bin."""

    def __init__(self, output_size: int | Sequence[int | None], return_indices: bool = False) -> None:
        super().__init__()
        check_adaptive_output_size("AdaptiveMaxPool2d", output_size)
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """Inverse of ``MaxPool2d`` where it can be: values go back to their arg-max positions,
    zeros elsewhere. ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0) -> None:
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 2, "kernel_size", "MaxUnpool2d")
        self.stride = ntuple(stride if stride is not None else kernel_size, 2, "stride", "MaxUnpool2d")
        self.padding = ntuple(padding, 2, "padding", "MaxUnpool2d")
        check_positive(self.kernel_size, "kernel_size", "MaxUnpool2d")
        check_positive(self.stride, "stride", "MaxUnpool2d")
        check_positive(self.padding, "padding", "MaxUnpool2d", allow_zero=True)

    def forward(self, input: Tensor, indices: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
