"""``x[key]``: slicing and fancy indexing, with a scatter-add backward.

The forward picks elements; element ``x[k]`` may be picked several times by an integer index
array (``x[[0, 0, 1]]``), so the backward *adds* each output gradient into the slot it came from:
``grad_x = zeros_like(x); add.at(grad_x, key, grad_out)``.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._util import unbroadcast


def _is_basic(key: tuple) -> bool:
    """True when the key only slices (no index arrays), so no element can be picked twice."""
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)


class GetItemFunction(Function):
    """``a[key]``: d/da is the output gradient scattered (added) back into the picked slots.

    With slices only, the output is a view of ``a``; index arrays give a copy.
    """

    shares_input_memory = True

    @staticmethod
    def forward(ctx: Context, a: Any, key: Any = None) -> Any:
        ctx.shape, ctx.dtype, ctx.key = a.shape, a.dtype, key
        return a[key]

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = get_array_module(g)
        grad = xp.zeros(ctx.shape, dtype=g.dtype)
        key = ctx.key if isinstance(ctx.key, tuple) else (ctx.key,)
        if _is_basic(key):
            grad[ctx.key] = g
        else:
            _scatter_add(xp, grad, ctx.key, g)
        return grad


class SetItemFunction(Function):
    """``out = a`` with ``out[key] = value`` (what ``a[key] = value`` records on a graph tensor).

    d/da = 1 outside the written slots, 0 inside; d/dvalue = the gradient of those slots (summed
    over broadcasting), as PyTorch's ``index_put_``.
    """

    @staticmethod
    def forward(ctx: Context, a: Any, value: Any, key: Any = None) -> Any:
        ctx.key = key
        ctx.value_shape, ctx.value_dtype = getattr(value, "shape", ()), getattr(value, "dtype", None)
        out = a.copy()
        out[key] = value
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[ctx.key] = 0
        if ctx.needs_input_grad[1]:
            gv = unbroadcast(g[ctx.key], ctx.value_shape).astype(ctx.value_dtype, copy=False)
        return ga, gv


class GatherFunction(Function):
    """``out[i][j] = a[i][index[i][j]]`` along ``dim`` (``torch.gather``): d/da scatter-adds the
    gradient back to the picked positions."""

    @staticmethod
    def forward(ctx: Context, a: Any, index: Any, dim: int = 0) -> Any:
        xp = get_array_module(a)
        key = tuple(index if d == dim else xp.arange(n).reshape([-1 if k == d else 1 for k in range(index.ndim)])
                    for d, n in enumerate(index.shape))
        if ctx.needs_backward:
            ctx.key, ctx.shape = key, a.shape
        return a[key]

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        xp = get_array_module(g)
        grad = xp.zeros(ctx.shape, dtype=g.dtype)
        _scatter_add(xp, grad, ctx.key, g)
        return grad, None


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
    if hasattr(key, "_array") and hasattr(key, "grad_fn"):
        return key._array
    return key
