"""Shared plumbing of the sliding-window ops (convolution, padding, pooling).

Everything here works on backend arrays through ``xp = get_array_module(x)``, so it runs on
NumPy, CuPy and the strict test stand-in alike. The pieces:

* the output-size formula shared by convolution and pooling::

      out = floor((size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) / stride) + 1

* ``pad_or_crop``: zero padding with per-side amounts, negative amounts cropping instead;
* ``window_view``: the strided "im2col" view of every window without copying a byte;
* ``offset_slices``: for each kernel offset, the strided slice of the input that this offset
  touches across all output positions (the loop over k*k offsets used by pooling);
* ``dilate``: ``s - 1`` zeros between neighbouring elements, the named piece of a strided
  convolution's backward (needle's ``Dilate``).

Argument checking lives apart, in ``_checks.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from ..backend import get_array_module

__all__ = [
    "out_size",
    "pad_or_crop",
    "window_view",
    "offset_slices",
    "dilate",
]


def out_size(size: int, kernel: int, stride: int, lo: int, hi: int, dilation: int, ceil: bool = False) -> int:
    """Number of window positions along one axis (PyTorch's formula; ``ceil`` for ceil_mode)."""
    # BEGIN SOLUTION 2.2
    span = size + lo + hi - dilation * (kernel - 1) - 1
    steps = -(-span // stride) if ceil else span // stride
    return steps + 1
    # END SOLUTION


def pad_or_crop(x: Any, pads: Sequence[tuple[int, int]], value: float = 0.0) -> Any:
    """Pad the last ``len(pads)`` axes of ``x`` by ``(lo, hi)`` each; negative amounts crop.

    Returns ``x`` itself when nothing changes (callers never write into the result). The padded
    array is allocated once and the source copied into its interior: cheaper than ``xp.pad``.
    """
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    xp = get_array_module(x)
    lead = x.ndim - len(pads)
    # cropping first (negative amounts), so that the padding below is purely non-negative
    crop = (slice(None),) * lead + tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in
                                         zip(pads, x.shape[lead:]))
    x = x[crop]
    if all(lo <= 0 and hi <= 0 for lo, hi in pads):
        return x
    shape = tuple(x.shape[:lead]) + tuple(n + max(lo, 0) + max(hi, 0) for (lo, hi), n in
                                          zip(pads, x.shape[lead:]))
    out = xp.full(shape, value, dtype=x.dtype) if value != 0 else xp.zeros(shape, dtype=x.dtype)
    inner = (slice(None),) * lead + tuple(slice(max(lo, 0), max(lo, 0) + n) for (lo, _), n in
                                          zip(pads, x.shape[lead:]))
    out[inner] = x
    return out


def window_view(x: Any, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                out: Sequence[int], order: str = "out-first") -> Any:
    """A strided view of every window of ``x`` (shape ``(N, C, *spatial)``), no copy.

    ``order="out-first"`` gives ``(N, C, *out, *kernel)``: ``view[n, c, i, j, m, k] =
    x[n, c, i*s + m*d, j*s + k*d]``. ``order="im2col"`` gives ``(C, *kernel, N, *out)``, the row
    order of the im2col matrix used by the convolution GEMM (``reshape(C*K, N*P)``).
    """
    xp = get_array_module(x)
    # BEGIN SOLUTION 2.4
    sn, sc, *ss = x.strides
    n_, c_ = x.shape[:2]
    win_strides = tuple(s * d for s, d in zip(ss, dilation))
    pos_strides = tuple(s * st for s, st in zip(ss, stride))
    if order == "out-first":
        shape = (n_, c_, *out, *kernel)
        strides = (sn, sc, *pos_strides, *win_strides)
    else:
        shape = (c_, *kernel, n_, *out)
        strides = (sc, *win_strides, sn, *pos_strides)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)
    # END SOLUTION


def offset_slices(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                  out: Sequence[int]) -> Iterator[tuple[tuple[int, ...], tuple]]:
    """For every kernel offset ``m``: ``(m, index)`` where ``x[index]`` holds, for all output
    positions ``i`` at once, the input element ``x[..., i*s + m*d]`` (a strided slice, no copy).

    Looping over the k*k offsets and doing whole-array work for each is the vectorised way to
    write pooling and its backward: no loop over batch, channels or positions.
    """
    for m in itertools.product(*(range(k) for k in kernel)):
        index = (Ellipsis,) + tuple(
            slice(mi * d, mi * d + s * (o - 1) + 1, s) for mi, d, s, o in zip(m, dilation, stride, out)
        )
        yield m, index


def dilate(x: Any, stride: Sequence[int]) -> Any:
    """Insert ``stride - 1`` zeros between neighbouring elements of the last ``len(stride)`` axes.

    This is what makes a strided convolution's backward a plain (stride-1) correlation.
    """
    if all(s == 1 for s in stride):
        return x
    xp = get_array_module(x)
    # BEGIN SOLUTION 2.5
    lead = x.ndim - len(stride)
    shape = tuple(x.shape[:lead]) + tuple((n - 1) * s + 1 for n, s in zip(x.shape[lead:], stride))
    out = xp.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(None, None, s) for s in stride)] = x
    return out
    # END SOLUTION
