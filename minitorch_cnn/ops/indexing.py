"""``x[key]``: slicing and fancy indexing, with a scatter-add backward.

The forward picks elements; element ``x[k]`` may be picked several times by an integer index
array (``x[[0, 0, 1]]``), so the backward *adds* each output gradient into the slot it came from:
``grad_x = zeros_like(x); add.at(grad_x, key, grad_out)``.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ._util import array_module


def _is_basic(key: tuple) -> bool:
    """True when the key only slices (no index arrays), so no element can be picked twice."""
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)


class GetItemFunction(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, key: Any = None) -> Any:
        ctx.shape, ctx.dtype, ctx.key = a.shape, a.dtype, key
        return a[key]

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = array_module(g)
        grad = xp.zeros(ctx.shape, dtype=g.dtype)
        key = ctx.key if isinstance(ctx.key, tuple) else (ctx.key,)
        if _is_basic(key):
            grad[ctx.key] = g
        else:
            _scatter_add(xp, grad, ctx.key, g)
        return grad


def _scatter_add(xp: Any, target: Any, key: Any, values: Any) -> None:
    if hasattr(xp.add, "at"):
        xp.add.at(target, key, values)
    else:  # older CuPy
        import cupyx  # type: ignore[import-not-found]

        cupyx.scatter_add(target, key, values)


def normalize_key(key: Any, to_backend: Any) -> Any:
    """Replace Tensors inside an index key with their arrays (on the indexed tensor's device)."""
    if isinstance(key, tuple):
        return tuple(normalize_key(k, to_backend) for k in key)
    if isinstance(key, list):
        return to_backend(key)
    if hasattr(key, "data") and hasattr(key, "grad_fn"):
        return key.data
    return key
