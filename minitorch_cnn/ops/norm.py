"""Normalisation over trailing axes: the one primitive behind LayerNorm and GroupNorm.

``normalize(x, k)`` standardises ``x`` over its last ``k`` axes (each "row" of ``m`` values)::

    mu = mean(x), var = mean((x - mu)^2)  (biased, as PyTorch's LayerNorm / GroupNorm)
    xhat = (x - mu) / sqrt(var + eps)

LayerNorm normalises each sample over ``normalized_shape`` (its last axes); GroupNorm reshapes
``(N, C, *)`` to ``(N, G, C/G * prod(*))`` and normalises each group. Both then apply a per-element
(LayerNorm) or per-channel (GroupNorm) affine ``gamma * xhat + beta`` with ordinary Tensor ops, so
autograd differentiates that part by itself. Unlike BatchNorm nothing couples the samples of a
batch, so training and evaluation compute the same thing and a batch of one is fine.
``layer_norm`` and ``group_norm`` are the Tensor-level entry points (``F.layer_norm``, ``nn.LayerNorm``...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_eps, check_groups_divide, check_normalized_shape, check_tensor
from .geometry import Global, declare

if TYPE_CHECKING:
    from ..tensors import Tensor

__all__ = ["NormalizeFunction", "layer_norm", "group_norm"]


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


def _check_affine(fn: str, name: str, t: Tensor | None, shape: tuple, input: Tensor) -> None:
    if t is None:
        return
    check_tensor(t, name, fn)
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{fn}: {name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    if t.dtype != input.dtype:
        raise TypeError(f"{fn}: {name} dtype {t.dtype} differs from input dtype {input.dtype}; convert one")


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return x


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last axes ``normalized_shape``, then ``weight * xhat + bias``
    (both of shape ``normalized_shape``); see ``ops/norm.py``."""
    check_tensor(input, "input", "layer_norm")
    shape = check_normalized_shape("layer_norm", normalized_shape)
    check_eps("layer_norm", eps)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise ValueError(
            f"layer_norm: normalized_shape={list(shape)} expects an input of shape [*, {', '.join(map(str, shape))}], "
            f"got {tuple(input.shape)}; pass the input's trailing sizes"
        )
    _check_affine("layer_norm", "weight", weight, shape, input)
    _check_affine("layer_norm", "bias", bias, shape, input)
    xhat = NormalizeFunction.apply(input, k=len(shape), eps=eps)
    return _spatial_stats(_affine(xhat, weight, bias, shape), input)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Split the ``C`` channels of ``(N, C, *)`` into ``num_groups`` groups and normalise each group of
    each sample over its channels and positions; then a per-channel ``weight * xhat + bias``."""
    check_tensor(input, "input", "group_norm")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    check_groups_divide("group_norm", num_groups, channels)
    check_eps("group_norm", eps)
    per_group = (channels // num_groups) * math.prod(input.shape[2:])
    if per_group < 1:
        raise ValueError(f"group_norm: each group of input {tuple(input.shape)} would be empty")
    _check_affine("group_norm", "weight", weight, (channels,), input)
    _check_affine("group_norm", "bias", bias, (channels,), input)
    n = input.shape[0]
    xhat = NormalizeFunction.apply(input.reshape(n, num_groups, per_group), k=1, eps=eps).reshape(input.shape)
    return _spatial_stats(_affine(xhat, weight, bias, (1, channels) + (1,) * (input.ndim - 2)), input)


def _spatial_stats(y: Tensor, input: Tensor) -> Tensor:
    """Layer / group norm of a map normalise with statistics over its positions: every output sees
    the whole map. Declared on the output's node for ``viz.receptive_field`` (group norm's reshape
    into groups would otherwise leave it no layout to follow)."""
    return declare(y, Global(tuple(input.shape[2:]))) if input.ndim >= 3 else y
