"""``nn.Upsample``: resize feature maps (nearest or (bi)linear), e.g. in a U-Net or FCN decoder.

A thin layer around ``F.interpolate`` (``ops/resize.py`` has the sampling rules and the backward).
Learnable up-sampling is ``ConvTranspose2d``; ``Upsample`` has no parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ops._checks import check_resize_args
from ..tensors import Tensor
from . import functional as F
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """``(N, C, *spatial) -> (N, C, *size)`` or scaled by ``scale_factor``; see ``F.interpolate``."""

    def __init__(self, size: int | Sequence[int] | None = None, scale_factor: float | Sequence[float] | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        check_resize_args("Upsample", size, scale_factor, mode, align_corners)
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"scale_factor={self.scale_factor}" if self.size is None else f"size={self.size}"
        return f"{what}, mode={self.mode!r}"
