"""Linear (fully connected) layer's op: ``y = x W^T + b`` as ONE graph node with a hand-derived backward.

``LinearFunction`` works on arrays (the GEMM goes through ``fast.matmul``, the seam to the banded,
threaded products); ``linear(input, weight, bias)`` is the Tensor-level entry point (``F.linear``,
``nn.Linear``), which checks its Tensors and declares the multiply-adds on the node it made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import fast
from ..autograd import Context, Function
from ._checks import check_same_dtype, check_tensor
from .geometry import declare

if TYPE_CHECKING:
    from ..tensors import Tensor

__all__ = ["LinearFunction", "linear"]


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
        check_same_dtype("linear", x, w, ("input", "weight"))
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
