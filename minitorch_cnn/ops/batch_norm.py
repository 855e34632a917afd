"""Batch normalisation: ``BatchNormFunction`` (one graph node, hand-derived backward) and its
Tensor-level entry point ``batch_norm`` (``F.batch_norm``, ``nn.BatchNorm1d/2d``).

Derivations, in the notation of the docstring, are given next to the code that implements them;
the first line of ``forward`` and ``backward`` is the seam to the chunked, threaded kernels
(``fast/batchnorm.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import fast
from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_momentum, check_number, check_tensor

if TYPE_CHECKING:
    from ..tensors import Tensor

__all__ = ["BatchNormFunction", "batch_norm"]


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


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise ``(N, C, *)`` per channel; see ``BatchNormFunction`` for the formulas.

    ``training=True`` (or no running statistics) normalises with the batch's statistics and updates
    ``running_mean`` / ``running_var`` in place; otherwise the running statistics are used.
    """
    check_tensor(input, "input", "batch_norm")
    check_number("batch_norm", "eps", eps, 0.0)  # 0 is allowed here (PyTorch too); layers need eps > 0
    check_momentum("batch_norm", momentum)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {tuple(input.shape)}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(
                f"batch_norm: {name} must have shape ({C},) for an input with {C} channels "
                f"(shape {tuple(input.shape)}), got {tuple(t.shape)}"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: pass both running_mean and running_var, or neither")
    use_batch_stats = training or running_mean is None
    if use_batch_stats:
        per_channel = input.numel() // C if C else 0
        if per_channel <= 1 and training:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}; "
                "use a batch of at least 2 samples (or call model.eval())"
            )
    rm = running_mean._array if (running_mean is not None and training) else None
    rv = running_var._array if (running_var is not None and training) else None
    if not use_batch_stats:
        rm, rv = running_mean._array, running_var._array
    return BatchNormFunction.apply(
        input, weight, bias, rm, rv, use_batch_stats=use_batch_stats, momentum=momentum, eps=eps
    )
