"""Resizing feature maps: ``interpolate`` (``F.interpolate``, ``nn.Upsample``), nearest and (bi)linear.

Per spatial axis of input size ``n_in`` and output size ``n_out``, output position ``o`` reads from
the source coordinate ``src`` (PyTorch's rules, ``scale = 1/scale_factor`` when a factor is given,
else ``n_in/n_out``)::

    nearest                     src = floor(o * scale)                     (at most n_in - 1)
    linear, align_corners=False src = max((o + 0.5) * scale - 0.5, 0)       (pixel centres line up)
    linear, align_corners=True  src = o * (n_in - 1) / (n_out - 1)          (corner pixels line up)

and linear interpolation mixes ``x[i0]`` and ``x[i0 + 1]`` (clamped to the last pixel) with
weights ``1 - l`` and ``l``, ``i0 = floor(src)``, ``l = src - i0``. Bilinear is linear along H then W.

Fast path: along each axis the op is a fixed linear map, a matrix ``A (n_out, n_in)`` with at most
two non-zeros per row, so ``y = A_h x A_w^T`` per channel plane (``tensordot``, no loop over pixels)
and the backward pass is the transpose, ``dL/dx = A_h^T (dL/dy) A_w``: each output's gradient goes
back to the (one or two) pixels it was read from, weighted the same way. ``resize_reference.py``
writes the same rules as plain loops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_interpolate
from .geometry import Global, Window, declare

__all__ = ["interpolate", "interpolation_matrix", "InterpolateFunction"]


def interpolation_matrix(xp: Any, dtype: Any, n_in: int, n_out: int, mode: str, align_corners: bool,
                         scale: float | None) -> Any:
    """``A (n_out, n_in)``: row ``o`` holds the weights output ``o`` gives each input pixel."""
    o = xp.arange(n_out, dtype=xp.float64)
    if mode == "nearest":
        step = scale if scale is not None else n_in / n_out
        i0 = xp.minimum(xp.floor(o * step), n_in - 1).astype(xp.int64)
        i1, lam = i0, xp.zeros(n_out)
    else:
        if align_corners:
            src = o * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
        else:
            step = scale if scale is not None else n_in / n_out
            src = xp.maximum((o + 0.5) * step - 0.5, 0.0)
        i0 = xp.minimum(xp.floor(src), n_in - 1).astype(xp.int64)
        i1 = xp.minimum(i0 + 1, n_in - 1)
        lam = src - i0
    cols = xp.arange(n_in).reshape(1, n_in)
    a = (i0.reshape(-1, 1) == cols) * (1.0 - lam).reshape(-1, 1) + (i1.reshape(-1, 1) == cols) * lam.reshape(-1, 1)
    return a.astype(dtype)


def _apply_along(x: Any, mats: Sequence[Any], transpose: bool) -> Any:
    """Multiply axis ``-nd + a`` of ``x`` by ``mats[a]`` (or its transpose), for every spatial axis."""
    xp = get_array_module(x)
    nd = len(mats)
    for a, m in enumerate(mats):
        axis = x.ndim - nd + a
        x = xp.moveaxis(xp.tensordot(x, m, axes=([axis], [0 if transpose else 1])), -1, axis)
    return xp.ascontiguousarray(x)


class InterpolateFunction(Function):
    """``y = A_1 x A_2^T ...`` (one interpolation matrix per spatial axis);
    ``dL/dx = A_1^T (dL/dy) A_2 ...``: the transposed maps send each gradient back to its sources."""

    @staticmethod
    def forward(ctx: Context, x: Any, out: tuple = (), mode: str = "nearest", align_corners: bool = False,
                scales: tuple = ()) -> Any:
        xp = get_array_module(x)
        nd = len(out)
        mats = [interpolation_matrix(xp, x.dtype, n, o, mode, align_corners, s)
                for n, o, s in zip(x.shape[-nd:], out, scales)]
        ctx.mats = mats
        return _apply_along(x, mats, transpose=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return _apply_along(g, ctx.mats, transpose=True)


def _geometry(sizes: Sequence[int], out: Sequence[int], mode: str, align_corners: bool) -> Window | Global:
    """Integer up-sampling factors are transposed windows: nearest by ``f`` is a kernel ``f``, stride
    ``f``; linear by ``f`` (align_corners=False) reads the two nearest centres, a kernel ``2f - f%2``
    with padding ``ceil((f-1)/2)``, stride ``f`` (the classic bilinear deconvolution). Anything else
    is declared global."""
    if align_corners or any(o % n for n, o in zip(sizes, out)):
        return Global(tuple(out))
    f = tuple(o // n for n, o in zip(sizes, out))
    if mode == "nearest":
        return Window(f, f, tuple((0, 0) for _ in f), (1,) * len(f), transposed=True)
    pads = tuple((math.ceil((k - 1) / 2),) * 2 for k in f)
    return Window(tuple(2 * k - k % 2 for k in f), f, pads, (1,) * len(f), transposed=True)


def interpolate(input: Any, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> Any:
    """Resize ``(N, C, *spatial)`` to ``size`` or by ``scale_factor`` (see the module docstring).

    ``mode``: 'nearest' (any 1-3 spatial axes), 'linear' (3-d input), 'bilinear' (4-d), 'trilinear'
    (5-d). The output size is ``floor(n * scale_factor)``; with ``recompute_scale_factor=True`` the
    sampling uses ``n_in / n_out`` instead of ``1 / scale_factor`` (they differ for non-integer factors).
    """
    out, scales = check_interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor)
    linear = mode != "nearest"
    y = InterpolateFunction.apply(input, out=out, mode="linear" if linear else "nearest",
                                  align_corners=bool(align_corners), scales=scales)
    return declare(y, _geometry(tuple(input.shape[-len(out):]), out, mode, bool(align_corners)))
