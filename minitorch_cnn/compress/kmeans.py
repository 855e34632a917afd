"""Weight sharing by k-means (Deep Compression, Han et al. 2016).

Each layer keeps only ``2**bits`` distinct weight values, its *codebook* (the centroids); every
weight stores a ``bits``-bit index into it. One dimension makes k-means simple: sorted
centroids split the line at the midpoints between neighbours, so assigning a weight is a
``searchsorted`` and updating a centroid is the mean of its weights (a ``bincount``)::

    assign[i] = index of the nearest centroid to w[i]
    c[j]      = mean of the w[i] with assign[i] = j            (repeat ``iterations`` times)

Centroids start spread linearly between the smallest and largest weight (the paper's best
initialisation: it keeps the rare large weights, which matter most). Pruned weights (exact zeros,
e.g. from magnitude pruning) are not clustered and stay 0: the layer's values are the
``2**bits`` centroids plus 0.

Fine-tuning trains the centroids, not the weights: the gradient of centroid ``j`` is the sum of
the gradients of all weights that share it, ``dL/dc_j = sum_{assign[i] = j} dL/dw_i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..backend import get_array_module
from ..nn import Conv2d, Linear, Module, Parameter
from ..tensors import Tensor
from . import layers
from .checks import check_finite_weights

__all__ = ["kmeans_1d", "SharedWeights", "share_weights", "GatherCentroids"]


def kmeans_1d(values: Any, k: int, iterations: int = 30) -> tuple[Any, Any]:
    """Lloyd's algorithm on a 1-d array: ``(centroids (k,), assignments (n,))``, centroids sorted.

    ``k`` is an int in ``1..len(values)`` (more clusters than values would leave some empty);
    ``values`` must be finite (a NaN would make every centroid NaN); ``iterations`` >= 0.
    """
    xp = get_array_module(values)
    if getattr(values, "ndim", None) != 1:
        raise ValueError(f"kmeans_1d: values must be a 1-d array, got shape {tuple(getattr(values, 'shape', ()))}")
    n = int(values.shape[0])
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= max(n, 1):
        raise ValueError(f"kmeans_1d: k={k!r} must be an int in 1..{n} (the number of values); "
                         "give at least one cluster and no more clusters than values")
    if n == 0:
        raise ValueError("kmeans_1d: values is empty; there is nothing to cluster")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ValueError(f"kmeans_1d: iterations={iterations!r} must be an int >= 0")
    bad = int((~xp.isfinite(values)).sum())
    if bad:
        raise ValueError(f"kmeans_1d: values has {bad} non-finite (NaN or inf) entries; clustering them gives NaN "
                         "centroids")
    v = values.astype(xp.float64)
    centroids = xp.linspace(float(v.min()), float(v.max()), k)
    for _ in range(iterations):
        assign = xp.searchsorted((centroids[1:] + centroids[:-1]) / 2, v)
        counts = xp.bincount(assign, minlength=k)
        sums = xp.bincount(assign, weights=v, minlength=k)
        centroids = xp.where(counts > 0, sums / xp.maximum(counts, 1), centroids)  # empty: stays put
        centroids = xp.sort(centroids)
    return centroids, xp.searchsorted((centroids[1:] + centroids[:-1]) / 2, v)


class GatherCentroids(Function):
    """``w = where(keep, c[assign], 0)``; ``dL/dc_j = sum of dL/dw_i over the kept i with assign[i] = j``."""

    @staticmethod
    def forward(ctx: Context, c: Any, assign: Any = None, keep: Any = None) -> Any:
        xp = get_array_module(c)
        ctx.assign, ctx.keep, ctx.k = assign, keep, c.shape[0]
        return xp.where(keep, c[assign], xp.zeros((), dtype=c.dtype))

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = get_array_module(g)
        return xp.bincount(ctx.assign[ctx.keep], weights=g[ctx.keep], minlength=ctx.k).astype(g.dtype)


class SharedWeights(Module):
    """Weight transform that ignores the shadow weight and returns ``where(keep, centroids[assign], 0)``.

    ``centroids`` is a Parameter (trained by fine-tuning); ``assignments`` (uint8) and ``keep``
    (bool, the non-zero positions) are buffers.
    """

    def __init__(self, weight: Any, bits: int, iterations: int = 30) -> None:
        super().__init__()
        if not isinstance(bits, int) or not 1 <= bits <= 8:
            raise ValueError(f"SharedWeights: bits must be an int in 1..8 (a uint8 index), got {bits!r}")
        xp = get_array_module(weight)
        keep = weight != 0
        if not bool(keep.any()):
            raise ValueError("SharedWeights: every weight is zero; nothing to cluster")
        values = weight[keep]
        # a layer with fewer non-zero weights than 2**bits needs no more values than it has
        centroids, assign = kmeans_1d(values, min(2 ** bits, int(values.shape[0])), iterations)
        full = xp.zeros(weight.shape, dtype=xp.uint8)
        full[keep] = assign.astype(xp.uint8)
        self.bits = bits
        self.centroids = Parameter(centroids.astype(weight.dtype))
        self.register_buffer("assignments", Tensor._from_array(full))
        self.register_buffer("keep", Tensor._from_array(keep))

    def forward(self, weight: Tensor) -> Tensor:
        return GatherCentroids.apply(self.centroids, assign=self.assignments._array.astype("int64"),
                                     keep=self.keep._array)

    def extra_repr(self) -> str:
        return f"bits={self.bits}, values={self.centroids.shape[0]}"


def share_weights(model: Module, bits: int = 4, iterations: int = 30) -> Module:
    """Replace every Conv2d / Linear weight of ``model`` by ``2**bits`` shared values (in place).

    A layer whose weights are all zero (pruned away entirely) is left alone.

    Train afterwards with an optimizer over ``model.parameters()`` (that now lists the centroids)
    to fine-tune the codebooks; ``layers.detach(m)`` writes the shared values back as plain weights.

    Raises ``ValueError`` before changing anything when ``bits`` is not an int in 1..8 or a weight
    is not finite (naming the layer and the count of NaN / inf values).
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 8:
        raise ValueError(f"share_weights: bits={bits!r} must be an int in 1..8 (a uint8 index)")
    check_finite_weights(model, "share_weights")
    for m in list(model.modules()):
        if type(m) in (Conv2d, Linear) and bool((m.weight._array != 0).any()):  # an all-zero layer stays as is
            layers.attach(m, weight=SharedWeights(m.weight._array, bits, iterations))
    return model


