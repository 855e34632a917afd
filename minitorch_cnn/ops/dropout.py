"""Dropout: ``DropoutFunction`` (``y = x * mask``, one graph node) and its Tensor-level entry points
``dropout``, ``dropout1d``, ``dropout2d``, ``dropout3d`` (``F.dropout``..., ``nn.Dropout``...), which
draw the mask from the seeded generator of the input's device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import backend
from ..autograd import Context, Function
from ._checks import check_bool, check_number, check_tensor

if TYPE_CHECKING:
    from ..tensors import Tensor

__all__ = ["DropoutFunction", "dropout", "dropout1d", "dropout2d", "dropout3d"]


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


def _dropout_mask(input: Tensor, p: float, shape: tuple) -> Any:
    """Zeros with probability ``p`` and ``1 / (1 - p)`` elsewhere, so the expected output equals the input."""
    dev = backend.device_of(input._array)
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
