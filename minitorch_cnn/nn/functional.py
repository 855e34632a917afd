"""Stateless functions behind the layers (``torch.nn.functional``): ``F.relu(x)``, ``F.cross_entropy(...)``.

Layers (``nn.Linear``, ``nn.BatchNorm2d``, ...) hold parameters and call these. Every op's Tensor-level
entry point lives in ``ops/`` beside its ``Function`` and is re-exported here (``F.linear is
ops.linear.linear``): ``ops/conv.py``, ``pad.py``, ``pool.py``, ``resize.py``, ``pixel_shuffle.py``,
``linear.py``, ``batch_norm.py``, ``dropout.py``, ``losses.py``, ``gelu.py``, ``norm.py``,
``elementwise.py`` (``leaky_relu``). What is defined here is not an op of its own: wrappers of a Tensor
method (``relu``, ``sigmoid``, ``tanh``, ``softmax``, ``log_softmax``, ``flatten``), ``one_hot`` (no
gradient), and compositions of differentiable ops (``hardtanh``, ``relu6``, ``hardswish``,
``local_response_norm``), whose gradient comes from theirs.
"""

from __future__ import annotations

import warnings

from .. import backend
from ..ops._checks import check_int, check_optional_dim, check_tensor
from ..ops.batch_norm import batch_norm
from ..ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..ops.dropout import dropout, dropout1d, dropout2d, dropout3d
from ..ops.elementwise import leaky_relu
from ..ops.gelu import gelu
from ..ops.linear import linear
from ..ops.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from ..ops.norm import group_norm, layer_norm
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

__all__ = [
    # re-exported from ops/ (each beside its Function)
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "pad", "max_pool1d", "max_pool2d", "max_pool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_unpool2d",
    # re-exported from ops/, or defined here (see the module docstring)
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "dropout2d",
    "batch_norm", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
    "one_hot", "flatten", "gelu", "layer_norm", "group_norm", "binary_cross_entropy", "interpolate",
    # added for the model zoo (MobileNet, AlexNet's paper variant)
    "relu6", "hardtanh", "hardswish", "dropout1d", "dropout3d", "local_response_norm",
    # sub-pixel up-/down-sampling (ops/pixel_shuffle.py)
    "pixel_shuffle", "pixel_unshuffle",
]


# --------------------------------------------------------------------------------------------------
# Activations: wrappers of the Tensor methods
# --------------------------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``. (``inplace`` is accepted for PyTorch compatibility; a new tensor is returned.)"""
    check_tensor(input, "input", "relu")
    return input.relu()

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
# One-hot encoding (no gradient)
# --------------------------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices ``(*)`` -> ``(*, num_classes)`` int64 of zeros and ones (no gradient)."""
    check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {tensor.dtype}")
    xp = backend.get_array_module(tensor._array)
    idx = tensor._array
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes - 1}], got min {int(idx.min())} and max "
            f"{int(idx.max())}"
        )
    out = (idx[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._from_array(out)


# Functions the model zoo needs (MobileNet's ReLU6 / hard-swish,
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
    check_int("local_response_norm", "size", size, 1)
    n, c = input.shape[:2]
    squares = (input * input).reshape(n, 1, c, input.shape[2], -1)  # channels become a pooling axis
    squares = pad(squares, (0, 0, 0, 0, size // 2, (size - 1) // 2))
    mean_sq = avg_pool3d(squares, (size, 1, 1), stride=1).reshape(tuple(input.shape))
    return input / (mean_sq * alpha + k) ** beta
