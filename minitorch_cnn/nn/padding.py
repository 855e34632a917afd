"""Padding layers (PyTorch's): thin wrappers around ``nn.functional.pad``.

``padding`` is an int (the same on every side) or a tuple in ``pad``'s last-axis-first order:
``(left, right)`` for 1-d, ``(left, right, top, bottom)`` for 2-d,
``(left, right, top, bottom, front, back)`` for 3-d. See ``ops/pad.py`` for the modes and for how
the backward pass folds gradients back onto the source pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ops._checks import is_int, is_real
from ..ops.pad import pad
from ..tensors import Tensor
from .module import Module

__all__ = [
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad2d",
]


class _PadNd(Module):
    _nd = 2
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        n = 2 * self._nd
        if is_int(padding):
            amounts = (int(padding),) * n
        else:
            amounts = tuple(padding)
            if len(amounts) != n or not all(is_int(v) for v in amounts):
                raise ValueError(f"{name}: padding must be an int or a tuple of {n} ints, got {padding!r}")
        if self._mode != "constant" and any(v < 0 for v in amounts):
            raise ValueError(f"{name}: padding must be non-negative for {self._mode} padding, got {padding!r}; "
                             "crop with ConstantPad (negative amounts) instead")
        if not is_real(value):
            raise TypeError(f"{name}: value must be a number, got {value!r}")
        self.padding = amounts
        self.value = float(value)

    def forward(self, input: Tensor) -> Tensor:
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with ``value``: ``(N, C, L) -> (N, C, L + left + right)``."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two axes with ``value``: ``(N, C, H, W) -> (N, C, H + top + bottom, W + left + right)``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three axes with ``value``."""

    _nd = 3


class ZeroPad2d(_PadNd):
    """Zero padding of the last two axes: what ``Conv2d(..., padding=p)`` does internally."""

    _nd = 2


class ReflectionPad1d(_PadNd):
    """Mirror padding without repeating the edge (``c b | a b c d | c b``); pad < size."""

    _nd = 1
    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror padding of the last two axes; pad < size."""

    _nd = 2
    _mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge pixel (``a a | a b c d | d d``)."""

    _nd = 1
    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edge pixels of the last two axes."""

    _nd = 2
    _mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge pixels of the last three axes."""

    _nd = 3
    _mode = "replicate"


class CircularPad2d(_PadNd):
    """Wrap around (a torus): ``c d | a b c d | a b``; pad <= size."""

    _nd = 2
    _mode = "circular"
