"""``nn.PixelShuffle`` / ``nn.PixelUnshuffle``: sub-pixel up- and down-sampling without parameters.

``PixelShuffle(r)`` turns ``(*, C*r^2, H, W)`` into ``(*, C, H*r, W*r)``, the last layer of a
sub-pixel super-resolution net (ESPCN: convolutions at low resolution, then the shuffle);
``PixelUnshuffle(r)`` is its inverse, a lossless stride-``r`` down-sampling into channels. Thin layers
around ``F.pixel_shuffle`` / ``F.pixel_unshuffle`` (``ops/pixel_shuffle.py`` has the index map,
the backward and the geometry the receptive-field tool reads).
"""

from __future__ import annotations

from ..tensors import Tensor
from . import functional as F
from ._checks import check_int
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``(*, C*r^2, H, W) -> (*, C, H*r, W*r)`` with ``r = upscale_factor``; see ``F.pixel_shuffle``."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = check_int("PixelShuffle", "upscale_factor", upscale_factor, minimum=1)

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H*r, W*r) -> (*, C*r^2, H, W)`` with ``r = downscale_factor``; see ``F.pixel_unshuffle``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = check_int("PixelUnshuffle", "downscale_factor", downscale_factor, minimum=1)

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
