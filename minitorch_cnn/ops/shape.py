"""Ops that move numbers around without changing them: reshape, permute, expand, cat, stack, flip.

Their backward applies the inverse movement to the gradient: reshape back, permute by the inverse
permutation, sum over the expanded axes, slice the concatenated gradient into pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._util import unbroadcast


class ReshapeFunction(Function):
    """``a.reshape(shape)``: the gradient is reshaped back (d/da = identity). May be a view of ``a``."""

    shares_input_memory = True

    @staticmethod
    def forward(ctx: Context, a: Any, shape: tuple = ()) -> Any:
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return g.reshape(ctx.shape)


class PermuteFunction(Function):
    """``a.transpose(dims)``: the gradient is permuted by the inverse permutation. A view of ``a``."""

    shares_input_memory = True

    @staticmethod
    def forward(ctx: Context, a: Any, dims: tuple = ()) -> Any:
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return g.transpose(inverse)


class ExpandFunction(Function):
    """Broadcast to a larger shape (a read-only view): d/da sums the gradient over the copies."""

    shares_input_memory = True

    @staticmethod
    def forward(ctx: Context, a: Any, shape: tuple = ()) -> Any:
        ctx.shape = a.shape
        return get_array_module(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return unbroadcast(g, ctx.shape)


class FlipFunction(Function):
    """Reverse the order along ``dims``: the gradient is flipped back. A view of ``a``."""

    shares_input_memory = True

    @staticmethod
    def forward(ctx: Context, a: Any, dims: tuple = ()) -> Any:
        ctx.dims = dims
        return get_array_module(a).flip(a, dims)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return get_array_module(g).flip(g, ctx.dims)


class CatFunction(Function):
    """Concatenate along ``dim``: d/d(piece i) is the gradient's slice where piece i landed."""

    @staticmethod
    def forward(ctx: Context, *arrays: Any, dim: int = 0) -> Any:
        ctx.sizes = [a.shape[dim] for a in arrays]
        ctx.dim = dim
        return get_array_module(*arrays).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        out = []
        start = 0
        index: list[Any] = [slice(None)] * g.ndim
        for i, size in enumerate(ctx.sizes):
            index[ctx.dim] = slice(start, start + size)
            out.append(g[tuple(index)] if ctx.needs_input_grad[i] else None)
            start += size
        return tuple(out)


class StackFunction(Function):
    """Stack along a new ``dim``: d/d(input i) is slice i of the gradient along ``dim``."""

    @staticmethod
    def forward(ctx: Context, *arrays: Any, dim: int = 0) -> Any:
        ctx.dim = dim
        return get_array_module(*arrays).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        xp = get_array_module(g)
        parts = xp.moveaxis(g, ctx.dim, 0)
        return tuple(parts[i] if need else None for i, need in enumerate(ctx.needs_input_grad))


def check_same_rank(op: str, shapes: Sequence[tuple], dim: int, stacking: bool) -> None:
    """cat needs equal shapes except along ``dim``; stack needs equal shapes everywhere."""
    first = shapes[0]
    for s in shapes[1:]:
        same = s == first if stacking else (
            len(s) == len(first) and all(a == b for i, (a, b) in enumerate(zip(s, first)) if i != dim)
        )
        if not same:
            rule = "all tensors must have the same shape" if stacking else f"shapes must match except in dim {dim}"
            raise ValueError(f"{op}: got shapes {[tuple(x) for x in shapes]}; {rule}")


class RepeatFunction(Function):
    """``a.repeat(*reps)`` (NumPy's ``tile``): d/da sums the gradient over the ``reps`` copies."""

    @staticmethod
    def forward(ctx: Context, a: Any, reps: tuple = ()) -> Any:
        inner = (1,) * (len(reps) - a.ndim) + tuple(a.shape)  # leading axes of size 1 for extra reps
        ctx.shape, ctx.inner, ctx.reps = a.shape, inner, reps
        return get_array_module(a).tile(a.reshape(inner), reps)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        split = [n for pair in zip(ctx.reps, ctx.inner) for n in pair]  # (r0, s0, r1, s1, ...)
        return g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(ctx.shape)
