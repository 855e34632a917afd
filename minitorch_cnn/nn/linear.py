"""Fully connected layers: ``Linear`` (``y = x W^T + b``) and ``Identity``."""

from __future__ import annotations

from typing import Any

from .. import creation
from ..ops._checks import check_int
from ..tensors import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity"]


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer from a model)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x W^T + b``: ``(*, in_features) -> (*, out_features)``.

    ``weight (out_features, in_features)`` and ``bias (out_features,)`` start, as in PyTorch, uniform in
    ``[-1/sqrt(in_features), 1/sqrt(in_features)]`` (``kaiming_uniform_(w, a=sqrt(5))``).
    Parameters: ``in_features * out_features + out_features``.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        in_features = check_int("Linear", "in_features", in_features, 0)
        out_features = check_int("Linear", "out_features", out_features, 0)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in_features), dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty((out_features,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
