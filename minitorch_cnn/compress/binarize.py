"""Binarized weights (BinaryConnect, BWN) and binarized activations (XNOR-Net).

* **BinaryConnect** (Courbariaux et al. 2015): the layer computes with ``sign(w)`` (``+1`` / ``-1``)
  while the optimizer updates the real-valued shadow weight ``w``. ``sign`` has derivative 0, so
  the backward pass is straight-through, cancelled where the shadow weight left ``[-1, 1]``::

      w_b = sign(w)                 d w_b / d w = 1 if |w| <= 1 else 0

* **BWN** (binary-weight networks, Rastegari et al. 2016): ``w_b = alpha[o] * sign(w)`` with
  ``alpha[o] = mean |w[o]|`` per output channel, the scale that minimises ``||w - alpha sign(w)||^2``.
  Every filter then takes exactly two values, ``+alpha[o]`` and ``-alpha[o]``.
* **XNOR-Net**: the input is binarized too, ``sign(x)``, and the product is rescaled by
  ``K = A * k``: ``A`` the mean of ``|x|`` over channels at each position, averaged over each
  kernel window (a ``k x k`` box filter), so ``conv(x, w) ~ conv(sign(x), sign(w)) * K * alpha``.

``binarize(model, method)`` applies it to every Conv2d / Linear except the first and the last
(``keep_first_last=True``), which stay in float as in the papers: the first sees raw pixels, the
last produces the class scores, and both are small. ``sign(0)`` is taken as ``+1``.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ..nn import Conv2d, Linear, Module
from ..nn import functional as F
from ..tensors import Tensor
from . import layers

__all__ = ["SignSTE", "BinaryConnect", "BinaryWeight", "XNORConv2d", "binarize", "binarizable_layers"]


class SignSTE(Function):
    """``sign(x)`` (``+1`` at 0); backward: straight-through where ``|x| <= 1``, else 0."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        # BEGIN SOLUTION 7.3
        ctx.inside = xp.abs(x) <= 1
        return xp.where(x >= 0, xp.ones((), dtype=x.dtype), -xp.ones((), dtype=x.dtype))
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = get_array_module(g)
        # BEGIN SOLUTION 7.3
        return xp.where(ctx.inside, g, xp.zeros((), dtype=g.dtype))
        # END SOLUTION


class BinaryConnect(Module):
    """Weight transform ``w -> sign(w)`` with the clipped straight-through gradient."""

    def forward(self, w: Tensor) -> Tensor:
        return SignSTE.apply(w)


class BinaryWeight(Module):
    """Weight transform ``w -> alpha[o] * sign(w)``, ``alpha[o] = mean |w[o]|`` (BWN / XNOR-Net).

    ``d/dw``: through ``sign`` straight-through (clipped at 1) and through ``alpha`` exactly.
    """

    def forward(self, w: Tensor) -> Tensor:
        axes = tuple(range(1, w.ndim))
        alpha = w.abs().mean(dim=axes, keepdim=True)
        return SignSTE.apply(w) * alpha


class XNORConv2d(layers.TransformedConv2d):
    """Conv2d with binary weights (``BinaryWeight``) *and* binary inputs rescaled by ``K``."""

    def forward(self, input: Tensor) -> Tensor:
        xb = SignSTE.apply(input)
        y = F.conv2d(xb, self.used_weight(), None, self.stride, self.padding, self.dilation, self.groups)
        a = input.abs().mean(dim=1, keepdim=True)  # (N, 1, H, W)
        k = F.avg_pool2d(a, self.kernel_size, self.stride, self.padding)  # box filter, zero padding counted
        y = y * k
        return y if self.bias is None else y + self.bias.reshape(1, -1, 1, 1)


def binarizable_layers(model: Module, keep_first_last: bool = True) -> list[tuple[str, Module]]:
    """The Conv2d / Linear layers ``binarize`` changes (first and last excluded by default)."""
    found = [(p, m) for p, m in model.named_modules() if isinstance(m, (Conv2d, Linear))]
    return found[1:-1] if keep_first_last else found


def binarize(model: Module, method: str = "bwn", keep_first_last: bool = True) -> Module:
    """Binarize ``model``'s Conv2d / Linear weights in place.

    ``method``: ``"binaryconnect"`` (``sign(w)``), ``"bwn"`` (``alpha * sign(w)``) or ``"xnor"``
    (BWN weights, and convolutions also binarize their inputs; Linear layers get BWN weights).
    """
    methods = ("binaryconnect", "bwn", "xnor")
    if method not in methods:
        raise ValueError(f"binarize: method must be one of {methods}, got {method!r}")
    chosen = binarizable_layers(model, keep_first_last)
    if not chosen:
        raise ValueError(f"binarize: {type(model).__name__} has no Conv2d/Linear to binarize besides the first "
                         "and last; pass keep_first_last=False")
    for _, m in chosen:
        layers.attach(m, weight=BinaryConnect() if method == "binaryconnect" else BinaryWeight())
        if method == "xnor" and isinstance(m, Conv2d):
            m.__class__ = XNORConv2d
    return model
