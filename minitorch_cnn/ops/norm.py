"""Normalisation over trailing axes: the one primitive behind LayerNorm and GroupNorm.

``normalize(x, k)`` standardises ``x`` over its last ``k`` axes (each "row" of ``m`` values)::

    mu = mean(x), var = mean((x - mu)^2)  (biased, as PyTorch's LayerNorm / GroupNorm)
    xhat = (x - mu) / sqrt(var + eps)

LayerNorm normalises each sample over ``normalized_shape`` (its last axes); GroupNorm reshapes
``(N, C, *)`` to ``(N, G, C/G * prod(*))`` and normalises each group. Both then apply a per-element
(LayerNorm) or per-channel (GroupNorm) affine ``gamma * xhat + beta`` with ordinary Tensor ops, so
autograd differentiates that part by itself. Unlike BatchNorm nothing couples the samples of a
batch, so training and evaluation compute the same thing and a batch of one is fine.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module

__all__ = ["NormalizeFunction"]


class NormalizeFunction(Function):
    """``xhat = (x - mu) / sqrt(var + eps)`` over the last ``k`` axes (``m`` values per row);
    ``dL/dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)`` (means over the row)."""

    @staticmethod
    def forward(ctx: Context, x: Any, k: int = 1, eps: float = 1e-5) -> Any:
        xp = get_array_module(x)
        axes = tuple(range(x.ndim - k, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        centred = x - mu
        inv_std = 1.0 / xp.sqrt((centred * centred).mean(axis=axes, keepdims=True) + x.dtype.type(eps))
        xhat = centred * inv_std
        ctx.save_for_backward(xhat, inv_std)
        ctx.axes = axes
        return xhat

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xhat, inv_std = ctx.saved_tensors
        axes = ctx.axes
        return (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std
