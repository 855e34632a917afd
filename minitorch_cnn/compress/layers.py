"""Conv2d / Linear whose weight (and input) pass through a transform on the way into the product.

Quantization-aware training, binarization and weight sharing all compute a layer with a
*derived* weight ``w_used = T(w)`` while the optimizer keeps updating the real-valued "shadow"
weight ``w``. ``attach(layer, weight=T, input=U)`` turns an ``nn.Conv2d`` / ``nn.Linear`` in place
into its ``Transformed`` subclass, whose forward is::

    y = conv2d(U(x), T(weight), bias, ...)        (or linear(U(x), T(weight), bias))

``T`` and ``U`` are Modules (registered as ``weight_transform`` / ``input_transform``, so their
buffers travel in ``state_dict``); their backward passes are what lets gradients reach ``w``
(a straight-through estimator for rounding and ``sign``). The parameters keep their names
(``weight``, ``bias``), so optimizers built before ``attach`` keep working. ``detach(layer)``
turns it back into a plain layer; ``fold=True`` writes ``T(w)`` into ``weight`` first.
"""

from __future__ import annotations

from typing import Any

from ..autograd import no_grad
from ..nn import Conv2d, Linear, Module
from ..nn import functional as F
from ..tensors import Tensor

__all__ = ["TransformedConv2d", "TransformedLinear", "attach", "detach", "used_weight", "transformed_layers"]


class _Transformed:
    """Mixin: ``used_weight()`` is ``weight_transform(weight)`` (the weight itself without one)."""

    weight_transform: Module | None
    input_transform: Module | None

    def used_weight(self) -> Tensor:
        t = self._modules.get("weight_transform")  # type: ignore[attr-defined]
        return self.weight if t is None else t(self.weight)  # type: ignore[attr-defined]

    def _input(self, x: Tensor) -> Tensor:
        u = self._modules.get("input_transform")  # type: ignore[attr-defined]
        return x if u is None else u(x)


class TransformedConv2d(_Transformed, Conv2d):
    """``Conv2d`` computing ``conv2d(input_transform(x), weight_transform(weight), bias)``."""

    def forward(self, input: Tensor) -> Tensor:
        x = self._input(input)
        return F.conv2d(x, self.used_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)


class TransformedLinear(_Transformed, Linear):
    """``Linear`` computing ``linear(input_transform(x), weight_transform(weight), bias)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(self._input(input), self.used_weight(), self.bias)


_PLAIN_TO_TRANSFORMED = {Conv2d: TransformedConv2d, Linear: TransformedLinear}


def attach(layer: Module, weight: Module | None = None, input: Module | None = None) -> Module:
    """Give ``layer`` (an ``nn.Conv2d`` or ``nn.Linear``, in place) a weight and/or input transform."""
    cls = type(layer)
    if cls not in _PLAIN_TO_TRANSFORMED and not isinstance(layer, _Transformed):
        raise TypeError(f"attach: layer must be an nn.Conv2d or nn.Linear, got {cls.__name__}")
    if isinstance(layer, Conv2d) and layer.padding_mode != "zeros":
        raise ValueError(f"attach: Conv2d with padding_mode={layer.padding_mode!r} is not supported, only 'zeros'")
    layer.__class__ = _PLAIN_TO_TRANSFORMED.get(cls, cls)
    if weight is not None:
        layer.weight_transform = weight
    if input is not None:
        layer.input_transform = input
    return layer


def used_weight(layer: Module) -> Tensor:
    """The weight ``layer`` multiplies with: ``weight_transform(weight)`` or just ``weight``."""
    return layer.used_weight() if isinstance(layer, _Transformed) else layer.weight


def detach(layer: Module, fold: bool = True) -> Module:
    """Back to a plain layer; with ``fold`` the transformed weight replaces the shadow weight."""
    if not isinstance(layer, _Transformed):
        raise TypeError(f"detach: {type(layer).__name__} has no transforms attached")
    if fold:
        with no_grad():
            w = layer.used_weight()._array
            layer.weight._array[...] = w
    for key in ("weight_transform", "input_transform"):
        layer._modules.pop(key, None)
    layer.__class__ = Conv2d if isinstance(layer, TransformedConv2d) else Linear
    return layer


def transformed_layers(model: Module) -> list[tuple[str, Any]]:
    """``(path, layer)`` of every layer with transforms attached."""
    return [(p, m) for p, m in model.named_modules() if isinstance(m, _Transformed)]
