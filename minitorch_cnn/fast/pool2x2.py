"""The 2x2 / stride-2 max pooling of the unit's CNN without window views: two halving steps.

The textbook max pool (``ops/pool.py``) loops over the k*k kernel offsets, and for each compares a
strided slice of every window with the running maximum. For 2x2 windows that is four strided
slices whose innermost axis has step 2, which NumPy walks slowly. Here the same maximum is taken in
two halving steps over long 1-d/2-d runs (columns, then rows), the arg-max is kept as two bool
arrays (3/4 of a byte per input element instead of an int32 per output), the backward writes every
input element exactly once (no zero fill, no scatter-add), and both passes are split over the batch
with the thread pool. Ties go to the first maximum in row-major window order, as in the textbook
path, so the two agree exactly. Reached only through ``fast.max_pool_forward`` (``fast/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import get_array_module
from .threads import parallel_for

__all__ = ["is_2x2_pooling", "max_pool_2x2_forward_array", "max_pool_2x2_arg_array", "max_pool_2x2_backward_array"]


def is_2x2_pooling(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                   pads: Sequence[tuple[int, int]]) -> bool:
    """The CNN's ``max_pool2d(2)``: 2x2 windows, stride 2, no padding, no dilation."""
    return (tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and tuple(dilation) == (1, 1)
            and all(lo == 0 and hi == 0 for lo, hi in pads))


def max_pool_2x2_forward_array(x: Any, out: Sequence[int], need_state: bool) -> tuple:
    """2x2/stride-2 max pooling without window views, in two halving steps.

    Columns: ``h[.., r, j] = max(x[.., r, 2j], x[.., r, 2j+1])``, and ``right[.., r, j]`` = "the right
    one was strictly larger". Rows: ``y[.., i, j] = max(h[.., 2i, j], h[.., 2i+1, j])``, and
    ``lower[.., i, j]`` = "the lower row was strictly larger". Strict comparisons keep the *first*
    maximum in row-major window order, like PyTorch. Each step reads its input as long 1-d/2-d
    strided runs (NumPy is slow on arrays whose innermost axis has length 2). Work is split over
    the batch (``threads.parallel_for``). Returns ``(y, lower, right)``; the two bool arrays (3/4 of
    a byte per input element) are the backward state, None unless ``need_state``.
    """
    xp = get_array_module(x)
    oh, ow = out
    n, c = x.shape[:2]
    x = x[..., : 2 * oh, : 2 * ow]  # an odd last row/column is in no window
    y = xp.empty((n, c, oh, ow), dtype=x.dtype)
    lower = xp.empty(y.shape, dtype=bool) if need_state else None
    right = xp.empty((n, c, 2 * oh, ow), dtype=bool) if need_state else None

    def work(s: slice) -> None:
        pairs = x[s].reshape(-1, 2)  # (n*C*2oh*ow, 2): horizontal neighbours
        h = xp.maximum(pairs[:, 0], pairs[:, 1]).reshape(-1, 2, ow)  # (n*C*oh, 2, ow): row pairs
        xp.maximum(h[:, 0], h[:, 1], out=y[s].reshape(-1, ow))
        if need_state:
            xp.greater(pairs[:, 1], pairs[:, 0], out=right[s].reshape(-1))
            xp.greater(h[:, 1], h[:, 0], out=lower[s].reshape(-1, ow))

    parallel_for(xp, n, x.nbytes, work)
    return y, lower, right


def max_pool_2x2_arg_array(lower: Any, right: Any) -> Any:
    """The arg-max as the general path numbers it (0..3, row-major in the window):
    ``2*lower + right`` of the row that won."""
    xp = get_array_module(lower)
    n, c, oh, ow = lower.shape
    rows = right.reshape(n, c, oh, 2, ow)
    return xp.where(lower, rows[:, :, :, 1], rows[:, :, :, 0]).astype(xp.int32) + 2 * lower.astype(xp.int32)


def max_pool_2x2_backward_array(gy: Any, lower: Any, right: Any, in_shape: Sequence[int]) -> Any:
    """Undo the two halving steps: the gradient goes to the winning row, then to the winning
    column of that row (the losing row receives zeros, so its ``right`` does not matter). Every
    input element is written exactly once: no zero-filled buffer, no scatter-add."""
    xp = get_array_module(gy)
    n, c, oh, ow = gy.shape
    gx = xp.empty((n, c, 2 * oh, 2 * ow), dtype=gy.dtype)

    def work(s: slice) -> None:
        # multiplying by a bool mask is several times faster in NumPy than ``where``
        g, low = gy[s].reshape(-1, ow), lower[s].reshape(-1, ow)
        gh = xp.empty((g.shape[0], 2, ow), dtype=gy.dtype)  # gradient of h, (n*C*oh, 2, ow)
        xp.multiply(g, ~low, out=gh[:, 0])
        xp.multiply(g, low, out=gh[:, 1])
        gh, r = gh.reshape(-1), right[s].reshape(-1)
        pairs = gx[s].reshape(-1, 2)
        xp.multiply(gh, ~r, out=pairs[:, 0])
        xp.multiply(gh, r, out=pairs[:, 1])

    parallel_for(xp, n, gx.nbytes, work)
    if gx.shape == tuple(in_shape):
        return gx
    full = xp.zeros(tuple(in_shape), dtype=gy.dtype)  # odd H or W: the last row/column gets nothing
    full[..., : 2 * oh, : 2 * ow] = gx
    return full
