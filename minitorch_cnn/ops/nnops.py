"""Fused neural-network kernels: each is ONE graph node with a hand-derived backward.

Writing ``cross_entropy`` as ``log_softmax`` + indexing + ``mean`` would work, but every small op
allocates arrays and adds a node; for the training step of a CNN these fused kernels are both faster
and easier to read in the graph (``CrossEntropyBackward``, ``BatchNormBackward``).

Derivations, in the notation of each docstring, are given next to the code that implements them.
"""

from __future__ import annotations

from typing import Any

from .. import fast
from ..autograd import Context, Function
from ..backend import get_array_module

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
        y = fast.matmul(x2, w.T)
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
        gx = fast.matmul(g2, w).reshape(*ctx.lead, w.shape[1]) if ctx.needs_input_grad[0] else None
        gw = fast.matmul(g2.T, x2) if ctx.needs_input_grad[1] else None
        gb = g2.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return gx, gw, gb


# --------------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------------
def _channel_sum(a: Any) -> Any:
    """Sum over every axis except 1 (the channel axis), ``(N, C, *) -> (C,)``, keeping the channel
    axis as size 1 in front of the others: ``(1, C, 1, ...)``, ready to broadcast against ``a``."""
    return a.sum(axis=(0, *range(2, a.ndim)), keepdims=True)


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
    The first line of each method is the seam to the chunked, threaded kernels (``fast/batchnorm.py``:
    the same formulas, fewer trips through memory). Nothing is saved for backward when no input
    needs a gradient (evaluation under ``no_grad``).
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
        if fast.batch_norm_applies(x):
            return fast.batch_norm_forward(ctx, x, weight, bias, running_mean, running_var, use_batch_stats,
                                           momentum, eps)
        xp = get_array_module(x)
        C = x.shape[1]
        m = x.size // C
        one = x.dtype.type
        bshape = (1, C) + (1,) * (x.ndim - 2)
        if use_batch_stats:
            mean = _channel_sum(x) / one(max(m, 1))
            centred = x - mean
            var = _channel_sum(centred * centred) / one(max(m, 1))  # two passes: precise in float32
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(C).astype(running_mean.dtype, copy=False)
                unbiased = var * (m / (m - 1)) if m > 1 else var
                running_var *= 1 - momentum
                running_var += momentum * unbiased.reshape(C).astype(running_var.dtype, copy=False)
        else:
            mean = running_mean.astype(x.dtype, copy=False).reshape(bshape)
            var = running_var.astype(x.dtype, copy=False).reshape(bshape)
            centred = x - mean
        invstd = 1 / xp.sqrt(var + one(eps))
        xhat = centred * invstd
        y = xhat if weight is None else xhat * weight.reshape(bshape)
        if bias is not None:
            y = y + bias.reshape(bshape)
        if any(ctx.needs_input_grad[:3]):
            ctx.save_for_backward(xhat, weight, invstd)
        ctx.use_batch_stats = use_batch_stats
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        if fast.took(ctx):
            return fast.batch_norm_backward(ctx, g)
        xhat, weight, invstd = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        C = g.shape[1]
        coef = invstd if weight is None else weight.reshape(invstd.shape) * invstd  # gamma / sqrt(var + eps)
        dbeta = _channel_sum(g)  # (1, C, 1, ...)
        dgamma = _channel_sum(g * xhat)
        gx = None
        if need_x and not ctx.use_batch_stats:
            gx = coef * g  # running statistics: mu and var are constants
        elif need_x:
            # BEGIN SOLUTION 3.7
            m = max(g.size // C, 1)
            gx = coef * (g - dbeta / m - xhat * (dgamma / m))
            # END SOLUTION
        gw = dgamma.reshape(C) if (need_w and weight is not None) else None
        gb = dbeta.reshape(C) if need_b else None
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
