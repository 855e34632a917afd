"""Sub-pixel rearrangement: ``pixel_shuffle`` (``nn.PixelShuffle``) and ``pixel_unshuffle`` (``nn.PixelUnshuffle``).

The worked example of adding an op (ARCHITECTURE.md, "Adding an op"). With upscale factor ``r``,
``pixel_shuffle`` moves channels into space, ``(*, C*r^2, H, W) -> (*, C, H*r, W*r)``::

    y[..., c, h*r + i, w*r + j] = x[..., c*r^2 + i*r + j, h, w]        0 <= i, j < r

(the sub-pixel convolution of Shi et al. 2016, ESPCN: a convolution at low resolution makes ``r^2``
output channels per colour, the shuffle interleaves them into an image ``r`` times larger).
``pixel_unshuffle`` with factor ``r`` is its inverse, ``(*, C, H*r, W*r) -> (*, C*r^2, H, W)``.

Both are one reshape, one permutation of axes, one reshape, and nothing is computed: every output
element is exactly one input element. So the backward is the inverse movement (see the Functions).

Geometry (what ``viz.receptive_field`` reads off the graph node, ``ops/geometry.py``): an output
pixel of ``pixel_shuffle`` at ``(h, w)`` reads input pixel ``(h // r, w // r)`` -- one pixel (of
one channel), shared by an ``r x r`` block of outputs: ``Blocks((r, r))``. An output pixel of
``pixel_unshuffle`` at ``(h, w)`` reads, over its ``r^2`` channels, the pixels
``(h*r + i, w*r + j)``: per channel one pixel, per position a ``r x r`` window of stride ``r``,
so it declares ``Window(kernel=r, stride=r)`` (the receptive field is per position, summed over
channels, like the inverse image it is checked against).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..autograd import Context, Function
from ._checks import check_tensor, is_int
from .geometry import Window, declare

__all__ = ["pixel_shuffle", "pixel_unshuffle", "PixelShuffleFunction", "PixelUnshuffleFunction", "Blocks"]


@dataclass(frozen=True)
class Blocks:
    """Geometry: output pixel ``o`` reads input pixel ``o // factor`` per spatial axis (the last axes),
    so every input pixel's receptive field is shared, unchanged, by a block of ``factor`` outputs.

    Exact for ``pixel_shuffle`` (and nearest up-sampling by an integer factor). A sibling of
    ``geometry.Window`` / ``geometry.Global``; it belongs in ``ops/geometry.py`` once that file is free.
    """

    factor: tuple[int, ...]


def shuffle_array(x: Any, r: int) -> Any:
    """``(*, C*r^2, H, W) -> (*, C, H*r, W*r)``: split the channel axis into ``(C, i, j)``, move ``i``
    after ``H`` and ``j`` after ``W``, merge ``(H, i) -> H*r`` and ``(W, j) -> W*r``."""
    *lead, c, h, w = x.shape
    k = len(lead)
    x = x.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, i, W, j)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def unshuffle_array(x: Any, r: int) -> Any:
    """``(*, C, H*r, W*r) -> (*, C*r^2, H, W)``: the exact inverse of :func:`shuffle_array`."""
    *lead, c, hr, wr = x.shape
    k = len(lead)
    x = x.reshape(*lead, c, hr // r, r, wr // r, r)  # (*, C, H, i, W, j)
    x = x.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, i, j, H, W)
    return x.reshape(*lead, c * r * r, hr // r, wr // r)


class PixelShuffleFunction(Function):
    """``y = P x`` for a permutation ``P`` of the elements (the module docstring's index map).

    Derivation: ``y_k = x_{p(k)}`` with ``p`` a bijection, so ``dy_k/dx_m = [p(k) = m]`` and
    ``dL/dx_m = sum_k dL/dy_k [p(k) = m] = dL/dy_{p^-1(m)}``: the gradient is moved back by the
    inverse permutation ``P^T = P^-1``, i.e. ``pixel_unshuffle`` with the same factor.

    d/dx: ``dL/dx = pixel_unshuffle(dL/dy, r)``.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, upscale_factor: int = 1) -> Any:
        ctx.r = upscale_factor
        return shuffle_array(x, upscale_factor)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return unshuffle_array(g, ctx.r)


class PixelUnshuffleFunction(Function):
    """``y = P^-1 x``, the inverse of ``PixelShuffleFunction``'s permutation; by the same derivation
    its gradient is moved back by ``(P^-1)^-1 = P``.

    d/dx: ``dL/dx = pixel_shuffle(dL/dy, r)``.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, downscale_factor: int = 1) -> Any:
        ctx.r = downscale_factor
        return unshuffle_array(x, downscale_factor)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return shuffle_array(g, ctx.r)


def _check(op: str, input: Any, name: str, factor: Any) -> int:
    check_tensor(input, "input", op)
    if not is_int(factor) or int(factor) < 1:
        raise ValueError(f"{op} expects a positive {name}, but got {factor!r}; pass an int >= 1 "
                         f"(e.g. {name}=2)")
    if input.ndim < 3:
        raise ValueError(f"{op} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                         f"dimension(s) (shape {tuple(input.shape)}); it needs (*, C, H, W), e.g. "
                         "add a batch or channel axis with x.unsqueeze(0)")
    return int(factor)


def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
    """``(*, C*r^2, H, W) -> (*, C, H*r, W*r)`` with ``r = upscale_factor`` (see the module docstring)."""
    op = "pixel_shuffle"
    r = _check(op, input, "upscale_factor", upscale_factor)
    c = input.shape[-3]
    if c % (r * r):
        raise ValueError(
            f"{op} expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={c} is not divisible by {r * r} (input shape {tuple(input.shape)}, "
            f"upscale_factor={r}); give the layer before it a multiple of {r * r} output channels "
            f"(C*{r * r} for C output channels, e.g. {(c // (r * r) + 1) * r * r})"
        )
    return declare(PixelShuffleFunction.apply(input, upscale_factor=r), Blocks((r, r)))


def pixel_unshuffle(input: Any, downscale_factor: int) -> Any:
    """``(*, C, H*r, W*r) -> (*, C*r^2, H, W)`` with ``r = downscale_factor``: the inverse of
    :func:`pixel_shuffle`."""
    op = "pixel_unshuffle"
    r = _check(op, input, "downscale_factor", downscale_factor)
    for axis, what in ((-2, "height"), (-1, "width")):
        n = input.shape[axis]
        if n % r:
            raise ValueError(
                f"{op} expects {what} to be divisible by downscale_factor, but input.size({axis})={n} is not "
                f"divisible by {r} (input shape {tuple(input.shape)}); crop or pad the input to a multiple "
                f"of {r} (e.g. {n - n % r} or {n - n % r + r}), or pick a downscale_factor dividing {n}"
            )
    y = PixelUnshuffleFunction.apply(input, downscale_factor=r)
    return declare(y, Window((r, r), (r, r), ((0, 0), (0, 0)), (1, 1)))
