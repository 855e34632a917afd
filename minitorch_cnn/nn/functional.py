"""Stateless functions behind the layers (``torch.nn.functional``): ``F.relu(x)``, ``F.cross_entropy(...)``.

Layers (``nn.Linear``, ``nn.BatchNorm2d``, ...) hold parameters and call these. The convolution,
padding, pooling, resizing and pixel-shuffle functions live in ``ops/conv.py``, ``ops/pad.py``,
``ops/pool.py``, ``ops/resize.py`` and ``ops/pixel_shuffle.py`` and are re-exported here; the loss
Functions are in ``ops/losses.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..ops import elementwise as _ew
from ..ops._checks import check_tensor
from ..ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..ops.gelu import GELUFunction
from ..ops.geometry import Global, declare
from ..ops.losses import (
    BCELossFunction,
    BCEWithLogitsLossFunction,
    CrossEntropyLossFunction,
    L1LossFunction,
    MSELossFunction,
    NLLLossFunction,
    check_reduction,
)
from ..ops.nnops import BatchNormFunction, DropoutFunction, LinearFunction
from ..ops.norm import NormalizeFunction
from ..ops.pad import pad
from ..ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from ..ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool2d,
)
from ..ops.resize import interpolate
from ..tensors import Tensor
from ._checks import (
    check_bool,
    check_choice,
    check_eps,
    check_groups_divide,
    check_momentum,
    check_normalized_shape,
    check_number,
    check_optional_dim,
)

__all__ = [
    # from the CNN primitives
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "pad", "max_pool1d", "max_pool2d", "max_pool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_unpool2d",
    # defined here
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "dropout2d",
    "batch_norm", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
    "one_hot", "flatten", "gelu", "layer_norm", "group_norm", "binary_cross_entropy", "interpolate",
    # added for the model zoo (MobileNet, AlexNet's paper variant)
    "relu6", "hardtanh", "hardswish", "dropout1d", "dropout3d", "local_response_norm",
    # sub-pixel up-/down-sampling (ops/pixel_shuffle.py)
    "pixel_shuffle", "pixel_unshuffle",
]


# --------------------------------------------------------------------------------------------------
# Linear and activations
# --------------------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y = x W^T + b``: ``(*, in_features) -> (*, out_features)`` (one fused graph node)."""
    check_tensor(input, "input", "linear")
    check_tensor(weight, "weight", "linear")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} has {input.shape[-1] if input.ndim else 0} "
                         f"features in its last axis, the weight {tuple(weight.shape)} expects in_features="
                         f"{weight.shape[1]}; reshape the input (e.g. x.flatten(1)) or fix in_features")
    if bias is not None:
        check_tensor(bias, "bias", "linear")
    y = LinearFunction.apply(input, weight, bias)
    return declare(y, None, mult_adds=y.numel() * (weight.shape[-1] if weight.ndim else 1))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``. (``inplace`` is accepted for PyTorch compatibility; a new tensor is returned.)"""
    check_tensor(input, "input", "relu")
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    check_tensor(input, "input", "leaky_relu")
    check_number("leaky_relu", "negative_slope", negative_slope)
    return _ew.LeakyReLUFunction.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + e^-x)``."""
    check_tensor(input, "input", "sigmoid")
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """``tanh(x)``."""
    check_tensor(input, "input", "tanh")
    return input.tanh()


def _softmax_dim(name: str, ndim: int, dim: int | None) -> int:
    check_optional_dim(name, dim)
    if dim is not None:
        return dim
    # PyTorch's legacy rule when no dim is given
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
        "argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim`` (stable: the max is subtracted first)."""
    check_tensor(input, "input", "softmax")
    return input.softmax(_softmax_dim("softmax", input.ndim, dim))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``log softmax(x)`` along ``dim``, computed without overflow."""
    check_tensor(input, "input", "log_softmax")
    return input.log_softmax(_softmax_dim("log_softmax", input.ndim, dim))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (``torch.flatten``)."""
    check_tensor(input, "input", "flatten")
    return input.flatten(start_dim, end_dim)


# --------------------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------------------
def _dropout_mask(input: Tensor, p: float, shape: tuple) -> Any:
    """Zeros with probability ``p`` and ``1 / (1 - p)`` elsewhere, so the expected output equals the input."""
    dev = backend.device_of(input.data)
    rng = backend.random_state(dev)
    dtype = input.dtype
    if dev.type == "cuda":
        u = rng.random(shape, dtype=dtype)
    else:
        u = backend.to_device(rng.random(shape, dtype=dtype if dtype.itemsize >= 4 else "float32"), dev)
    if p >= 1.0:
        return (u * 0).astype(dtype)
    keep = (u >= dtype.type(p)).astype(dtype)
    keep *= dtype.type(1.0 / (1.0 - p))
    return keep


def _check_p(fn: str, p: float, input: Any, training: Any) -> None:
    check_tensor(input, "input", fn)
    if input.dtype.kind != "f":
        # the mask scales survivors by 1 / (1 - p): an integer or bool tensor cannot hold that (uint8 and
        # bool used to come back silently wrong). Raised in eval mode too, so the bug shows up at once.
        raise TypeError(f"{fn}: needs a floating-point input tensor, got dtype {input.dtype} (shape "
                        f"{tuple(input.shape)}); convert it with x.float() first")
    check_number(fn, "p", p, 0.0, 1.0, hint="dropout probability has to be between 0 and 1")
    check_bool(fn, "training", training)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only)."""
    _check_p("dropout", p, input, training)
    if not training or p == 0.0:
        return input
    return DropoutFunction.apply(input, _dropout_mask(input, p, tuple(input.shape)))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) with probability ``p``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels barely
    regularises a CNN; dropping a whole map does.
    """
    _check_p("dropout2d", p, input, training)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:-2]) + (1, 1)
    return DropoutFunction.apply(input, _dropout_mask(input, p, shape))


# --------------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------------
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
    """Normalise ``(N, C, *)`` per channel; see ``ops.nnops.BatchNormFunction`` for the formulas.

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
    rm = running_mean.data if (running_mean is not None and training) else None
    rv = running_var.data if (running_var is not None and training) else None
    if not use_batch_stats:
        rm, rv = running_mean.data, running_var.data
    return BatchNormFunction.apply(
        input, weight, bias, rm, rv, use_batch_stats=use_batch_stats, momentum=momentum, eps=eps
    )


# --------------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------------
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``(N, C)`` / ``(N, C, d1, ...)`` and class indices ``(N, d1, ...)``
    or class probabilities (same shape as the input).

    ``loss_i = -w_{y_i} log softmax(x_i)_{y_i}``; ``'mean'`` divides by ``sum_i w_{y_i}`` over targets
    that are not ``ignore_index``. ``label_smoothing = s`` mixes the target with the uniform distribution:
    ``(1 - s) onehot + s / C``.
    """
    check_tensor(input, "input", "cross_entropy")
    check_tensor(target, "target", "cross_entropy")
    _check_class_target("cross_entropy", input, target)
    check_number("cross_entropy", "label_smoothing", label_smoothing, 0.0, 1.0)
    return CrossEntropyLossFunction.apply(
        input, target, weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )


def _check_class_target(fn: str, input: Tensor, target: Tensor) -> None:
    """A float target shaped like class indices is almost always ``y`` loaded as floats."""
    index_shape = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
    if target.dtype.kind == "f" and input.ndim >= 2 and tuple(target.shape) == index_shape:
        raise TypeError(
            f"{fn}: target has dtype {target.dtype} and shape {tuple(target.shape)}, the shape of class indices; "
            "class indices must be integers: use target.long() (class probabilities would have the input's "
            f"shape {tuple(input.shape)})"
        )


def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log likelihood of log-probabilities ``(N, C, *)`` (e.g. the output of ``log_softmax``)."""
    check_tensor(input, "input", "nll_loss")
    check_tensor(target, "target", "nll_loss")
    _check_class_target("nll_loss", input, target)
    return NLLLossFunction.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``(x - y)^2``, averaged (or summed) over all elements."""
    check_tensor(input, "input", "mse_loss")
    check_tensor(target, "target", "mse_loss")
    return MSELossFunction.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``|x - y|``, averaged (or summed) over all elements."""
    check_tensor(input, "input", "l1_loss")
    check_tensor(target, "target", "l1_loss")
    return L1LossFunction.apply(input, target, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross entropy in one stable step: ``-[pw y log s(x) + (1 - y) log(1 - s(x))]``."""
    check_tensor(input, "input", "binary_cross_entropy_with_logits")
    check_tensor(target, "target", "binary_cross_entropy_with_logits")
    return BCEWithLogitsLossFunction.apply(input, target, weight, pos_weight, reduction=reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices ``(*)`` -> ``(*, num_classes)`` int64 of zeros and ones (no gradient)."""
    check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {tensor.dtype}")
    xp = backend.get_array_module(tensor.data)
    idx = tensor.data
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes - 1}], got min {int(idx.min())} and max "
            f"{int(idx.max())}"
        )
    out = (idx[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._from_array(out)


# --------------------------------------------------------------------------------------------------
# GELU, LayerNorm, GroupNorm, binary cross entropy on probabilities
# --------------------------------------------------------------------------------------------------
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (``Phi`` the normal CDF); ``approximate='tanh'`` for the tanh formula."""
    check_tensor(input, "input", "gelu")
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    if input.dtype.kind != "f":
        raise TypeError(f"gelu: needs a floating-point input, got {input.dtype}; call .float() first")
    return GELUFunction.apply(input, approximate=approximate)


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


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """``-w [t log x + (1 - t) log(1 - x)]`` for probabilities ``x`` (e.g. after a sigmoid), logs
    clamped at -100. Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is stabler."""
    fn = "binary_cross_entropy"
    check_tensor(input, "input", fn)
    check_tensor(target, "target", fn)
    check_reduction(reduction, fn)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{fn}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)}")
    if input.dtype.kind != "f" or target.dtype != input.dtype:
        raise TypeError(f"{fn}: input and target must be floating point of one dtype, got {input.dtype} and "
                        f"{target.dtype}; call .float() on both")
    if weight is not None:
        check_tensor(weight, "weight", fn)
        if tuple(np.broadcast_shapes(tuple(weight.shape), tuple(input.shape))) != tuple(input.shape):
            raise ValueError(f"{fn}: weight of shape {tuple(weight.shape)} cannot be broadcast to the input's "
                             f"shape {tuple(input.shape)}")
    if input.numel() and (float(input.min().item()) < 0 or float(input.max().item()) > 1):
        raise ValueError(f"{fn}: all elements of input should be between 0 and 1 (probabilities), got "
                         f"[{float(input.min().item())}, {float(input.max().item())}]; apply a sigmoid, or "
                         "use binary_cross_entropy_with_logits on the raw scores")
    return BCELossFunction.apply(input, target, weight, reduction=reduction)


# Functions the model zoo needs (MobileNet's ReLU6 / hard-swish, channel dropout in 1-d and 3-d,
# the original AlexNet's local response normalisation). Each is built from differentiable ops, so
# its gradient comes from theirs.
# --------------------------------------------------------------------------------------------------
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``clamp(x, min_val, max_val)``; ``d/dx = 1`` strictly inside the range, 0 outside."""
    check_tensor(input, "input", "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return input.clamp(min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)`` (MobileNet): ReLU capped at 6, which keeps activations small enough
    for low-precision inference. ``d/dx = 1`` for ``0 < x < 6``, else 0."""
    return hardtanh(input, 0.0, 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (MobileNet v3): a piecewise-quadratic stand-in for ``x * sigmoid(x)``.

    ``d/dx = 0`` for ``x < -3``, ``(2x + 3) / 6`` for ``-3 < x < 3``, ``1`` for ``x > 3``.
    """
    check_tensor(input, "input", "hardswish")
    return input * relu6(input + 3.0) / 6.0


def _channel_dropout(fn: str, input: Tensor, p: float, training: bool, spatial: int) -> Tensor:
    """Zero whole channels: one mask value per (sample, channel), broadcast over ``spatial`` axes."""
    _check_p(fn, p, input, training)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{fn}: expected a {spatial + 1}-D (C, ...) or {spatial + 2}-D (N, C, ...) input, "
            f"got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[: input.ndim - spatial]) + (1,) * spatial
    return DropoutFunction.apply(input, _dropout_mask(input, p, shape))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) with probability ``p``, scale the rest by ``1/(1-p)``."""
    return _channel_dropout("dropout1d", input, p, training, spatial=1)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) with probability ``p``."""
    return _channel_dropout("dropout3d", input, p, training, spatial=3)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3)::

        b_c = a_c / (k + alpha / size * sum_{c' in window(c)} a_c'^2) ** beta

    the window being ``size`` neighbouring channels centred on ``c`` (``size // 2`` before,
    ``(size - 1) // 2`` after, zero beyond the edges). PyTorch divides ``alpha`` by ``size`` (the
    paper does not: its ``alpha = 1e-4`` is PyTorch's ``alpha = size * 1e-4``). Input ``(N, C, *)``
    with at least one spatial axis. The windowed sum of squares is an average pool over channels.
    """
    check_tensor(input, "input", "local_response_norm")
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected an input of 3 or more dims (N, C, *), got shape {tuple(input.shape)}"
        )
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    n, c = input.shape[:2]
    squares = (input * input).reshape(n, 1, c, input.shape[2], -1)  # channels become a pooling axis
    squares = pad(squares, (0, 0, 0, 0, size // 2, (size - 1) // 2))
    mean_sq = avg_pool3d(squares, (size, 1, 1), stride=1).reshape(tuple(input.shape))
    return input / (mean_sq * alpha + k) ** beta
