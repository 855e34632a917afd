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
        if _count(a.shape, axes) == 0:  # the mean of nothing is NaN (as PyTorch), without NumPy's warning
            return get_array_module(a).full(a.sum(axis=axes, keepdims=keepdim).shape, float("nan"), dtype=a.dtype)
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
        n = _count(a.shape, axes)
        if n == 0:  # NaN, as PyTorch, without NumPy's warning; the gradient is empty
            ctx.save_for_backward(a)
            ctx.axes, ctx.keepdim, ctx.denominator = axes, keepdim, 1
            return get_array_module(a).full(a.sum(axis=axes, keepdims=keepdim).shape, float("nan"), dtype=a.dtype)
        centered = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdim, ctx.denominator = axes, keepdim, max(n - correction, 0)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / a.dtype.type(ctx.denominator)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (centered,) = ctx.saved_tensors
        g = _expand_back(g, centered.shape, ctx.axes, ctx.keepdim)
        return g * centered * (g.dtype.type(2) / g.dtype.type(ctx.denominator))


class MaxMinFunction(Function):
    """max (or min) over one axis or all of them: d/da = 1 at the extreme element, 0 elsewhere.

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


class ProdFunction(Function):
    """``prod(a)`` over one axis or all: d/da_i = product of the other elements.

    Computed as (product of those before i) * (product of those after i), two cumulative
    products, so a zero among the inputs needs no division by zero.
    """

    @staticmethod
    def forward(ctx: Context, a: Any, dim: int | None = None, keepdim: bool = False) -> Any:
        dim = None if a.ndim == 0 else dim
        ctx.save_for_backward(a)
        ctx.dim, ctx.keepdim = dim, keepdim
        if dim is None:
            out = a.prod()
            return out.reshape((1,) * a.ndim) if keepdim else out
        return a.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (a,) = ctx.saved_tensors
        xp = get_array_module(a)
        if ctx.dim is None:
            others = _exclusive_products(xp, a.reshape(-1)).reshape(a.shape)
            return g.reshape((1,) * a.ndim) * others if a.ndim else g * others
        others = xp.moveaxis(_exclusive_products(xp, xp.moveaxis(a, ctx.dim, -1)), -1, ctx.dim)
        return (g if ctx.keepdim else xp.expand_dims(g, ctx.dim)) * others


def _exclusive_products(xp: Any, x: Any) -> Any:
    """Along the last axis, out[..., i] = product of x[..., j] for every j != i."""
    n = x.shape[-1] if x.ndim else 1
    if n == 0:
        return x.copy()
    x = x.reshape(x.shape if x.ndim else (1,))
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    before = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(x, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return before * after


class CumsumFunction(Function):
    """Running sum along ``dim``, out_i = sum_{j <= i} a_j: d/da_j sums the gradient of every i >= j
    (a cumulative sum of the flipped gradient, flipped back)."""

    @staticmethod
    def forward(ctx: Context, a: Any, dim: int = 0) -> Any:
        xp = get_array_module(a)
        ctx.dim, ctx.dtype = dim, a.dtype
        if a.ndim == 0:
            return a.copy()
        return xp.cumsum(a, axis=dim, dtype=a.dtype if a.dtype.kind == "f" else xp.int64)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = get_array_module(g)
        if g.ndim == 0:
            return g
        return xp.flip(xp.cumsum(xp.flip(g, ctx.dim), axis=ctx.dim), ctx.dim).astype(ctx.dtype, copy=False)


class Norm2Function(Function):
    """Euclidean norm ``sqrt(sum a^2)`` over ``axes``: d/da = a / norm (0 where the norm is 0, as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple | None = None, keepdim: bool = False) -> Any:
        xp = get_array_module(a)
        axes = _axes(a, axes)
        norm = xp.sqrt((a * a).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(a, norm)
        ctx.axes, ctx.keepdim = axes, keepdim
        if keepdim:
            return norm
        return norm.reshape(tuple(n for i, n in enumerate(a.shape) if i not in (axes if axes is not None else range(a.ndim))))

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        a, norm = ctx.saved_tensors
        xp = get_array_module(a)
        g = _expand_back(g, a.shape, ctx.axes, ctx.keepdim)
        safe = xp.where(norm > 0, norm, norm.dtype.type(1))
        return g * xp.where(norm > 0, a / safe, a.dtype.type(0))
