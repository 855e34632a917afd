"""Dropout layers: random zeroing during training, the identity in ``eval()`` mode."""

from __future__ import annotations

from ..tensors import Tensor
from . import functional as F
from ._checks import check_bool, check_number
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_number(type(self).__name__, "p", p, 0.0, 1.0,
                              hint="dropout probability has to be between 0 and 1")
        self.inplace = check_bool(type(self).__name__, "inplace", inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale survivors by ``1 / (1 - p)`` (training only).

    The scaling keeps the expected activation unchanged, so nothing needs rescaling at test time.
    Masks come from the seeded generator (``mt.manual_seed``). Any shape in, same shape out.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p`` (spatial dropout)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` with probability ``p`` (for 1-d conv nets)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` with probability ``p`` (for 3-d conv nets)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training)
