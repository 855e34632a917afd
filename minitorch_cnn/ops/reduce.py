"""Reductions over dimensions: sum, mean, var, max, min.

A reduction maps many inputs to one output, so its backward copies (broadcasts) the output
gradient back over the reduced axes, weighted by d(out)/d(in): 1 for sum, 1/n for mean,
2(x - mean)/(n - correction) for var, and "all of it to the arg-max" for max.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module


def _expand_back(g: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """Re-insert the reduced axes of ``g`` (if dropped) and broadcast it to ``shape``."""
    # BEGIN SOLUTION 1.3
    xp = get_array_module(g)
    if axes is None:
        axes = tuple(range(len(shape)))
    if not keepdim:
        g = xp.expand_dims(g, axes) if axes else g
    return xp.broadcast_to(g, shape)
    # END SOLUTION


def _axes(a: Any, axes: tuple | None) -> tuple | None:
    """A 0-d tensor accepts dim=0 / dim=-1 (as PyTorch); NumPy wants no axis at all there."""
    return None if a.ndim == 0 else axes


def _count(shape: tuple, axes: tuple | None) -> int:
    axes = range(len(shape)) if axes is None else axes
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class SumFunction(Function):
    """``sum(a)`` over ``axes``: d/da_i = 1 (the output gradient copied back over the reduced axes)."""

    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple | None = None, keepdim: bool = False) -> Any:
        axes = _axes(a, axes)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return a.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)


class MeanFunction(Function):
    """``mean(a)`` over ``axes`` (n elements each): d/da_i = 1 / n."""

    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple | None = None, keepdim: bool = False) -> Any:
        axes = _axes(a, axes)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return a.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        n = _count(ctx.shape, ctx.axes)
        return _expand_back(g / g.dtype.type(max(n, 1)), ctx.shape, ctx.axes, ctx.keepdim)


class VarFunction(Function):
    """var = sum (x - mean)^2 / (n - correction); d var / dx_i = 2 (x_i - mean) / (n - correction)."""

    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple | None = None, keepdim: bool = False, correction: int = 1) -> Any:
        axes = _axes(a, axes)
        centered = a - a.mean(axis=axes, keepdims=True)
        n = _count(a.shape, axes)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdim, ctx.denominator = axes, keepdim, max(n - correction, 0)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / a.dtype.type(ctx.denominator)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (centered,) = ctx.saved_tensors
        g = _expand_back(g, centered.shape, ctx.axes, ctx.keepdim)
        return g * centered * (g.dtype.type(2) / g.dtype.type(ctx.denominator))


class MaxMinFunction(Function):
    """max (or min) over one axis or all of them.

    The whole gradient goes to the extreme element; ties share it equally (PyTorch's choice for
    full reductions), so the derivative stays the mean of the one-sided derivatives.
    """

    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple | None = None, keepdim: bool = False, mode: str = "max") -> Any:
        axes = _axes(a, axes)
        out = a.max(axis=axes, keepdims=True) if mode == "max" else a.min(axis=axes, keepdims=True)
        mask = a == out
        ctx.save_for_backward(mask)
        ctx.axes, ctx.keepdim = axes, keepdim
        if keepdim:
            return out
        return out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in (axes or range(a.ndim))))

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (mask,) = ctx.saved_tensors
        share = mask / mask.sum(axis=ctx.axes, keepdims=True)
        return _expand_back(g, mask.shape, ctx.axes, ctx.keepdim) * share.astype(g.dtype)


class MaxMinDimFunction(Function):
    """``x.max(dim)`` returning (values, indices): d values / da = 1 at the first arg-max, 0 elsewhere."""

    @staticmethod
    def forward(ctx: Context, a: Any, dim: int = 0, keepdim: bool = False, mode: str = "max") -> tuple:
        xp = get_array_module(a)
        idx = a.argmax(axis=dim) if mode == "max" else a.argmin(axis=dim)
        idx = xp.expand_dims(idx, dim)
        values = xp.take_along_axis(a, idx, axis=dim)
        ctx.save_for_backward(idx)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        ctx.mark_non_differentiable(1)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        return values, idx.astype(xp.int64)

    @staticmethod
    def backward(ctx: Context, g: Any, _g_idx: Any = None) -> Any:
        (idx,) = ctx.saved_tensors
        xp = get_array_module(g)
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.dim)
        # one-hot of the arg-max along dim (put_along_axis is not in every CuPy)
        positions = xp.arange(ctx.shape[ctx.dim]).reshape(
            tuple(n if i == ctx.dim else 1 for i, n in enumerate(ctx.shape))
        )
        return (positions == idx) * g
