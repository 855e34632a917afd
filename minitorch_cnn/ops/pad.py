"""Padding as its own differentiable op: ``pad(x, pad, mode='constant', value=0)``.

``pad`` lists amounts for the *last* axes first, as in PyTorch: ``(left, right)`` pads the last
axis, ``(left, right, top, bottom)`` the last two, ``(left, right, top, bottom, front, back)``
the last three. The modes, on the row ``a b c d`` padded by 2 on each side:

=============  ===================  ============================================
mode           result               rule
=============  ===================  ============================================
``constant``   ``0 0 a b c d 0 0``  fill with ``value`` (negative amounts crop)
``reflect``    ``c b a b c d c b``  mirror without repeating the edge (pad < size)
``replicate``  ``a a a b c d d d``  repeat the edge pixel
``circular``   ``c d a b c d a b``  wrap around, a torus (pad <= size)
=============  ===================  ============================================

Forward is built per axis from slices of the input concatenated around it. Backward runs the
same picture in reverse and **folds** each padded cell's gradient back onto the source pixel it
copied: a reflected cell adds into its mirror image, a replicated cell into the edge pixel (so the
edge gets ``1 + pad`` contributions), a wrapped cell into the pixel on the opposite side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import PAD_MODES, check_pad, pad_pairs
from .geometry import Window, declare
from .windows import pad_or_crop

__all__ = ["pad", "pad_array", "pad_backward_array", "pad_pairs", "PAD_MODES"]


def _along(axis: int, ndim: int, sl: slice) -> tuple:
    """An index that applies ``sl`` to ``axis`` and keeps every other axis whole."""
    return (slice(None),) * axis + (sl,) + (slice(None),) * (ndim - axis - 1)


def pad_array(x: Any, pairs: Sequence[tuple[int, int]], mode: str, value: float = 0.0) -> Any:
    """Pad the last ``len(pairs)`` axes of ``x``; ``pairs`` is in axis order (first padded axis first)."""
    if mode == "constant":
        return pad_or_crop(x, pairs, value)
    xp = get_array_module(x)
    nd = x.ndim
    for axis, (lo, hi) in zip(range(nd - len(pairs), nd), pairs):
        if lo == 0 and hi == 0:
            continue
        n = x.shape[axis]
        # BEGIN SOLUTION 3.6
        if mode == "reflect":  # cells lo..1 on the left, n-2..n-1-hi on the right
            left = xp.flip(x[_along(axis, nd, slice(1, lo + 1))], axis=axis)
            right = xp.flip(x[_along(axis, nd, slice(n - 1 - hi, n - 1))], axis=axis)
        elif mode == "replicate":
            edge0 = x[_along(axis, nd, slice(0, 1))]
            edge1 = x[_along(axis, nd, slice(n - 1, n))]
            left = xp.repeat(edge0, lo, axis=axis)
            right = xp.repeat(edge1, hi, axis=axis)
        else:  # circular
            left = x[_along(axis, nd, slice(n - lo, n))]
            right = x[_along(axis, nd, slice(0, hi))]
        # END SOLUTION
        x = xp.concatenate([left, x, right], axis=axis)
    return x


def pad_backward_array(g: Any, pairs: Sequence[tuple[int, int]], mode: str) -> Any:
    """The adjoint of ``pad_array``: fold the gradient of every padded cell onto its source."""
    if mode == "constant":
        return pad_or_crop(g, [(-lo, -hi) for lo, hi in pairs])
    xp = get_array_module(g)
    nd = g.ndim
    for axis, (lo, hi) in reversed(list(zip(range(nd - len(pairs), nd), pairs))):
        if lo == 0 and hi == 0:
            continue
        n = g.shape[axis] - lo - hi
        core = g[_along(axis, nd, slice(lo, lo + n))].copy()
        g_left = g[_along(axis, nd, slice(0, lo))]
        g_right = g[_along(axis, nd, slice(lo + n, lo + n + hi))]
        if mode == "reflect":
            core[_along(axis, nd, slice(1, lo + 1))] += xp.flip(g_left, axis=axis)
            core[_along(axis, nd, slice(n - 1 - hi, n - 1))] += xp.flip(g_right, axis=axis)
        elif mode == "replicate":
            core[_along(axis, nd, slice(0, 1))] += g_left.sum(axis=axis, keepdims=True)
            core[_along(axis, nd, slice(n - 1, n))] += g_right.sum(axis=axis, keepdims=True)
        else:  # circular
            core[_along(axis, nd, slice(n - lo, n))] += g_left
            core[_along(axis, nd, slice(0, hi))] += g_right
        g = core
    return g


class _PadFunction(Function):
    """``y = pad(x)``: every output cell copies one input cell (or is a constant);
    ``dL/dx[j] = sum of dL/dy over the cells that copied j`` (the fold of the module docstring)."""

    @staticmethod
    def forward(ctx: Context, x: Any, pairs: tuple = (), mode: str = "constant", value: float = 0.0) -> Any:
        ctx.pairs = pairs
        ctx.mode = mode
        return pad_array(x, pairs, mode, value)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return pad_backward_array(g, ctx.pairs, ctx.mode)


class ConstantPadFunction(_PadFunction):
    """Constant padding (``dL/dx`` = the centre crop of ``dL/dy``); a subclass only to name the node."""


class ReflectionPadFunction(_PadFunction):
    """Reflect padding (mirrored cells add into their mirror image); a subclass only to name the node."""


class ReplicationPadFunction(_PadFunction):
    """Replicate padding (the edge pixel gets ``1 + pad`` contributions); a subclass only to name the node."""


class CircularPadFunction(_PadFunction):
    """Circular padding (wrapped cells add into the opposite side); a subclass only to name the node."""


_FUNCTIONS = {
    "constant": ConstantPadFunction,
    "reflect": ReflectionPadFunction,
    "replicate": ReplicationPadFunction,
    "circular": CircularPadFunction,
}


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Any:
    """Pad ``input``; ``pad = (left, right[, top, bottom[, front, back]])``, last axis first.

    Shapes: ``(*, H, W)`` with ``pad=(l, r, t, b)`` -> ``(*, H + t + b, W + l + r)``.
    ``value`` fills constant padding (default 0) and is an error for the other modes.
    """
    pairs = check_pad(input, pad, mode, value)
    y = _FUNCTIONS[mode].apply(input, pairs=tuple(pairs), mode=mode, value=0.0 if value is None else value)
    # a window of size 1 whose padding shifts the grid (every mode copies pixels from inside the
    # field a window of the padded size would see)
    k = len(pairs)
    return declare(y, Window((1,) * k, (1,) * k, tuple(pairs), (1,) * k))
