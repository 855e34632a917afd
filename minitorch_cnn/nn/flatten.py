"""``Flatten`` and ``Unflatten``: reshape between feature maps and feature vectors."""

from __future__ import annotations

from collections.abc import Sequence

from ..tensors import Tensor
from ._checks import check_int, is_int
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dims ``start_dim..end_dim``: by default ``(N, C, H, W) -> (N, C*H*W)``, e.g. (N, 64, 7, 7) -> (N, 3136)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim, minimum=-(2**31))
        self.end_dim = check_int("Flatten", "end_dim", end_dim, minimum=-(2**31))

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: e.g. ``(N, 3136) -> (N, 64, 7, 7)``."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = check_int("Unflatten", "dim", dim, minimum=-(2**31))
        try:
            sizes = tuple(unflattened_size)
        except TypeError:
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}") from None
        if not sizes or not all(is_int(v) and (v >= 0 or v == -1) for v in sizes) \
                or sizes.count(-1) > 1:
            raise ValueError(f"Unflatten: unflattened_size must hold sizes >= 0 (at most one -1), got {unflattened_size!r}")
        self.unflattened_size = sizes

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
