"""BatchNorm's passes over memory, split over the thread pool and walked in cache-sized pieces.

The textbook ``BatchNormFunction`` (``ops/batch_norm.py``) writes the formulas as whole-array NumPy
expressions: ``mean``, ``var``, ``xhat``, ``y``, and in backward ``dx`` from ``sum(g)`` and
``sum(g * xhat)``. Each expression is a separate sweep over an activation that does not fit in the
cache, on one core. These kernels compute the same numbers with fewer trips to main memory: each
sweep is shared out over the threads (``threads.parallel_chunks``), and each thread walks its share
in pieces of about 1 MiB so that the several operations on one piece (centre, square-sum; scale,
shift; the three terms of ``dx``) find it in L2. Reached only through ``fast.batch_norm_forward`` /
``fast.batch_norm_backward`` (``fast/__init__.py``).
"""

from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from .threads import parallel_chunks

__all__ = ["batch_norm_train_array", "batch_norm_sums_array", "batch_norm_update_array", "batch_norm_eval_array",
           "channel_sum", "channel_dot"]


def channel_sum(a: Any) -> Any:
    """Sum over every axis except 1 (the channel axis): ``(N, C, *) -> (C,)``.

    Summing the contiguous trailing axes first is much faster in NumPy than ``sum(axis=(0, 2, 3))``.
    """
    if a.ndim == 2:
        return a.sum(axis=0)
    return a.reshape(a.shape[0], a.shape[1], -1).sum(axis=2).sum(axis=0)


def channel_dot(a: Any, b: Any) -> Any:
    """``sum(a * b)`` per channel, ``(N, C, *) -> (C,)``, in one pass without the temporary product."""
    xp = get_array_module(a)
    if a.ndim == 2:
        return xp.einsum("nc,nc->c", a, b)
    n, c = a.shape[0], a.shape[1]
    return xp.einsum("ncl,ncl->c", a.reshape(n, c, -1), b.reshape(n, c, -1))


def _total(xp: Any, parts: list, c: int, dtype: Any) -> Any:
    """Sum of per-piece ``(C,)`` partial results (zeros for an empty batch)."""
    return sum(parts[1:], parts[0]) if parts else xp.zeros(c, dtype=dtype)


def batch_norm_train_array(x: Any, weight: Any, bias: Any, eps: float) -> tuple:
    """Training-mode forward with batch statistics; returns ``(y, xhat, mean, var, invstd)``.

    Three sweeps over the batch, each split over the threads and walked in cache-sized pieces
    (``threads.parallel_chunks``): (1) per-channel sums -> ``mu``; (2) ``xhat = x - mu`` written once
    and squared-summed while the piece is still in cache -> ``var`` (two passes, not the one-pass
    ``E[x^2] - mu^2``, which loses float32 precision when ``|mu| >> sigma``); (3) ``xhat *= invstd``
    and ``y = gamma * xhat + beta``, again on a piece in cache.
    """
    xp = get_array_module(x)
    n, c = x.shape[:2]
    bshape = (1, c) + (1,) * (x.ndim - 2)
    one = x.dtype.type
    m = max(x.size // c, 1)
    mean = _total(xp, parallel_chunks(xp, n, x.nbytes, lambda s: channel_sum(x[s])), c, x.dtype) / one(m)
    mean_b = mean.reshape(bshape)
    xhat = xp.empty_like(x)

    def centre(s: slice) -> Any:
        xp.subtract(x[s], mean_b, out=xhat[s])
        return channel_dot(xhat[s], xhat[s])

    var = _total(xp, parallel_chunks(xp, n, x.nbytes, centre), c, x.dtype) / one(m)
    invstd = 1 / xp.sqrt(var + one(eps))
    invstd_b = invstd.reshape(bshape)
    y = xp.empty_like(x)

    def affine(s: slice) -> None:
        xhat[s] *= invstd_b
        if weight is None:
            y[s] = xhat[s]
        else:
            xp.multiply(xhat[s], weight.reshape(bshape), out=y[s])
        if bias is not None:
            y[s] += bias.reshape(bshape)

    parallel_chunks(xp, n, x.nbytes, affine)
    return y, xhat, mean, var, invstd


def batch_norm_sums_array(g: Any, xhat: Any) -> tuple:
    """``(dbeta, dgamma) = (sum(g), sum(g * xhat))`` per channel: one sweep, split over the
    threads in cache-sized pieces (``g`` and ``xhat`` each read from memory once)."""
    xp = get_array_module(g)
    n, c = g.shape[:2]
    parts = parallel_chunks(xp, n, g.nbytes, lambda s: (channel_sum(g[s]), channel_dot(g[s], xhat[s])))
    return _total(xp, [p[0] for p in parts], c, g.dtype), _total(xp, [p[1] for p in parts], c, g.dtype)


def batch_norm_update_array(g: Any, xhat: Any, k_g: Any, k_xhat: Any, k_0: Any) -> Any:
    """``dx = k_g * g - k_xhat * xhat - k_0`` with per-channel ``(C,)`` coefficients, fused on
    cache-sized pieces split over the threads (one read of ``g`` and ``xhat``, one write)."""
    xp = get_array_module(g)
    bshape = (1, g.shape[1]) + (1,) * (g.ndim - 2)
    k_g, k_xhat, k_0 = k_g.reshape(bshape), k_xhat.reshape(bshape), k_0.reshape(bshape)
    gx = xp.empty_like(g)

    def update(s: slice) -> None:
        xp.multiply(g[s], k_g, out=gx[s])
        gx[s] -= xhat[s] * k_xhat
        gx[s] -= k_0

    parallel_chunks(xp, g.shape[0], g.nbytes, update)
    return gx


def batch_norm_eval_array(x: Any, scale: Any, shift: Any) -> Any:
    """``y = x * scale + shift`` per channel (constant statistics), split over the threads."""
    xp = get_array_module(x)
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    y = xp.empty_like(x)

    def affine(s: slice) -> None:
        xp.multiply(x[s], scale.reshape(bshape), out=y[s])
        y[s] += shift.reshape(bshape)

    parallel_chunks(xp, x.shape[0], x.nbytes, affine)
    return y
