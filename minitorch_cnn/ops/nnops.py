"""Fused neural-network kernels: each is ONE graph node with a hand-derived backward.

Writing ``cross_entropy`` as ``log_softmax`` + indexing + ``mean`` would work, but every small op
allocates arrays and adds a node; for the training step of a CNN these fused kernels are both faster
and easier to read in the graph (``CrossEntropyBackward``, ``BatchNormBackward``).

Derivations, in the notation of each docstring, are given next to the code that implements them.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from .threads import parallel_chunks, parallel_matmul

__all__ = [
    "LinearFunction",
    "BatchNormFunction",
    "DropoutFunction",
    "check_reduction",
]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r} is not valid; use 'none', 'mean' or 'sum'")


def _check_float(fn: str, name: str, a: Any) -> None:
    if a.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be a floating point tensor, got dtype {a.dtype}; call .float() on it")


def _check_same_dtype(fn: str, a: Any, b: Any, names: tuple[str, str]) -> None:
    if a.dtype != b.dtype:
        raise TypeError(
            f"{fn}: {names[0]} has dtype {a.dtype} but {names[1]} has dtype {b.dtype}; "
            f"convert one, e.g. {names[1]}.to({a.dtype})"
        )


# --------------------------------------------------------------------------------------------------
# Linear
# --------------------------------------------------------------------------------------------------
class LinearFunction(Function):
    """``y = x W^T + b`` for ``x (*, in)``, ``W (out, in)``, ``b (out,)`` -> ``y (*, out)``.

    Backward (with ``G = dL/dy`` flattened to ``(M, out)``): ``dL/dx = G W``, ``dL/dW = G^T x``,
    ``dL/db = sum_rows G``.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any = None) -> Any:
        if w.ndim != 2:
            raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(w.shape)}")
        if x.ndim < 1 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input shape {tuple(x.shape)} does not match weight shape {tuple(w.shape)}: the "
                f"last input dimension must equal in_features={w.shape[1]} (flatten the input first?)"
            )
        if b is not None and tuple(b.shape) != (w.shape[0],):
            raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {tuple(b.shape)}")
        _check_same_dtype("linear", x, w, ("input", "weight"))
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        y = parallel_matmul(x2, w.T)
        if b is not None:
            y += b
        if any(ctx.needs_input_grad):  # dx needs w, dW needs x
            ctx.save_for_backward(x2 if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.lead = lead
        return y.reshape(*lead, w.shape[0])

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        x2, w = ctx.saved_tensors
        g2 = g.reshape(-1, g.shape[-1])
        gx = parallel_matmul(g2, w).reshape(*ctx.lead, w.shape[1]) if ctx.needs_input_grad[0] else None
        gw = parallel_matmul(g2.T, x2) if ctx.needs_input_grad[1] else None
        gb = g2.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return gx, gw, gb


# --------------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------------
def _channel_sum(a: Any) -> Any:
    """Sum over every axis except 1 (the channel axis): ``(N, C, *) -> (C,)``.

    Summing the contiguous trailing axes first is much faster in NumPy than ``sum(axis=(0, 2, 3))``.
    """
    if a.ndim == 2:
        return a.sum(axis=0)
    return a.reshape(a.shape[0], a.shape[1], -1).sum(axis=2).sum(axis=0)


def _channel_dot(a: Any, b: Any) -> Any:
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
    mean = _total(xp, parallel_chunks(xp, n, x.nbytes, lambda s: _channel_sum(x[s])), c, x.dtype) / one(m)
    mean_b = mean.reshape(bshape)
    xhat = xp.empty_like(x)

    def centre(s: slice) -> Any:
        xp.subtract(x[s], mean_b, out=xhat[s])
        return _channel_dot(xhat[s], xhat[s])

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
    parts = parallel_chunks(xp, n, g.nbytes, lambda s: (_channel_sum(g[s]), _channel_dot(g[s], xhat[s])))
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


class BatchNormFunction(Function):
    """Batch normalisation of ``x (N, C, *)`` per channel ``c``.

    Forward, with ``m = N * prod(*)`` values per channel::

        mu = mean(x), var = mean((x - mu)^2)   (biased)   -- or the running stats in eval mode
        xhat = (x - mu) / sqrt(var + eps),   y = gamma * xhat + beta

    In training the running statistics are updated in place, with the *unbiased* variance::

        running_mean = (1 - momentum) running_mean + momentum mu
        running_var  = (1 - momentum) running_var  + momentum var * m / (m - 1)

    Backward (batch statistics, so mu and var depend on x)::

        dbeta = sum(g), dgamma = sum(g xhat)
        dx = gamma / sqrt(var + eps) * (g - dbeta / m - xhat * dgamma / m)

    With running statistics mu and var are constants and ``dx = gamma / sqrt(var + eps) * g``.
    The array kernels above do the passes over memory (see their docstrings); nothing is saved
    for backward when no input needs a gradient (evaluation under ``no_grad``).
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        weight: Any,
        bias: Any,
        running_mean: Any = None,
        running_var: Any = None,
        *,
        use_batch_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Any:
        xp = get_array_module(x)
        C = x.shape[1]
        m = x.size // C
        one = x.dtype.type
        saving = any(ctx.needs_input_grad[:3])
        if use_batch_stats:
            y, xhat, mean, var, invstd = batch_norm_train_array(x, weight, bias, eps)
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
                unbiased = var * (m / (m - 1)) if m > 1 else var
                running_var *= 1 - momentum
                running_var += momentum * unbiased.astype(running_var.dtype, copy=False)
            ctx.save_for_backward(*((xhat, weight, invstd) if saving else ()))
        else:
            mean = running_mean.astype(x.dtype, copy=False)
            invstd = 1 / xp.sqrt(running_var.astype(x.dtype, copy=False) + one(eps))
            scale = invstd if weight is None else weight * invstd
            shift = -mean * scale if bias is None else bias - mean * scale
            y = batch_norm_eval_array(x, scale, shift)
            ctx.save_for_backward(*((x, weight, invstd, mean) if saving else ()))
        ctx.use_batch_stats = use_batch_stats
        ctx.bshape = (1, C) + (1,) * (x.ndim - 2)
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        bshape = ctx.bshape
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if ctx.use_batch_stats:
            xhat, weight, invstd = ctx.saved_tensors
            coef = invstd if weight is None else weight * invstd
            dbeta, dgamma = batch_norm_sums_array(g, xhat)
            gx = None
            if need_x:
                # BEGIN SOLUTION 3.7
                # dx = coef * g - xhat * (coef * dgamma / m) - coef * dbeta / m
                inv_m = g.dtype.type(1.0 / max(g.size // g.shape[1], 1))
                gx = batch_norm_update_array(g, xhat, coef, coef * dgamma * inv_m, coef * dbeta * inv_m)
                # END SOLUTION
        else:
            x, weight, invstd, mean = ctx.saved_tensors
            coef = invstd if weight is None else weight * invstd
            gx = g * coef.reshape(bshape) if need_x else None
            dbeta = _channel_sum(g) if need_b else None
            dgamma = _channel_dot(g, (x - mean.reshape(bshape)) * invstd.reshape(bshape)) if need_w else None
        gw = dgamma if (need_w and weight is not None) else None
        gb = dbeta if need_b else None
        return gx, gw, gb, None, None


# --------------------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------------------
class DropoutFunction(Function):
    """``y = x * mask`` with a precomputed ``mask`` of zeros and ``1 / (1 - p)``; ``dL/dx = g * mask``.

    The mask (drawn by ``nn.functional.dropout`` from the seeded generator) may broadcast, e.g.
    ``(N, C, 1, 1)`` for ``Dropout2d``, which zeroes whole channels.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, mask: Any) -> Any:
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (mask,) = ctx.saved_tensors
        return g * mask, None
