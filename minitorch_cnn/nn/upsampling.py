"""``nn.Upsample``: resize feature maps (nearest or (bi)linear), e.g. in a U-Net or FCN decoder.

A thin layer around ``F.interpolate`` (``ops/resize.py`` has the sampling rules and the backward).
Learnable up-sampling is ``ConvTranspose2d``; ``Upsample`` has no parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..tensors import Tensor
from . import functional as F
from ._checks import check_choice
from .module import Module

__all__ = ["Upsample"]

_MODES = ("nearest", "linear", "bilinear", "trilinear")


class Upsample(Module):
    """``(N, C, *spatial) -> (N, C, *size)`` or scaled by ``scale_factor``; see ``F.interpolate``."""

    def __init__(self, size: int | Sequence[int] | None = None, scale_factor: float | Sequence[float] | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        check_choice("Upsample", "mode", mode, _MODES)
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample: give exactly one of size and scale_factor, got size={size!r}, "
                             f"scale_factor={scale_factor!r}")
        if align_corners is not None and mode == "nearest":
            raise ValueError("Upsample: align_corners can only be set with the interpolating modes (linear, "
                             "bilinear, trilinear), not mode='nearest'; leave it None")
        values = scale_factor if isinstance(scale_factor, (tuple, list)) else [scale_factor]
        if scale_factor is not None and not all(
                isinstance(f, (int, float)) and not isinstance(f, bool) and math.isfinite(f) and f > 0 for f in values):
            raise ValueError(f"Upsample: scale_factor must be a positive number or a tuple of them, got "
                             f"{scale_factor!r}")
        sizes = size if isinstance(size, (tuple, list)) else [size]
        if size is not None and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in sizes):
            raise ValueError(f"Upsample: size must be a positive int or a tuple of them, got {size!r}")
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
