"""Pooling, 1-d to 3-d: max, average, adaptive (any output size), global, and max-unpooling.

A pooling window at output position ``i`` covers input positions ``i*s + m*d - p`` for kernel
offsets ``m = 0 .. k-1`` (``d``, the dilation, only for max pooling)::

    max:  y[n, c, i, j] = max_{m, k}  xpad[n, c, i*s + m*d, j*s + k*d]     (xpad padded with -inf)
    avg:  y[n, c, i, j] = (1/Q) sum_{m, k} xpad[n, c, i*s + m, j*s + k]    (xpad padded with 0)

    H_out = floor_or_ceil((H + 2p - d*(k - 1) - 1) / s) + 1,  stride defaults to kernel_size

With ``ceil_mode=True`` a last, partial window is kept as long as it starts inside the input or
its left padding (PyTorch's rule). ``Q`` is the window size counted inside the padded input
(``count_include_pad=True``) or the number of real input pixels in the window (``False``), or
``divisor_override``.

Vectorised: one loop over the k*k kernel *offsets*; for each offset the strided slice
``xpad[..., m::s, k::s]`` holds that tap of every window at once, so all the arithmetic is
whole-array (no loop over batch, channels or positions). The unit's ``max_pool2d(2)`` has a faster
kernel (``fast/pool2x2.py``: two halving steps, bool arg-max state), taken on the first line of
``_MaxPoolNdFunction.forward`` unless the fast kernels are switched off (``MINITORCH_CNN_FAST=0``);
it returns the same values and gradients.

Backward:

* max pooling routes each output gradient to the arg-max of its window. **Ties go to the first
  maximum** in row-major window order (like PyTorch on CPU); a NaN in a window makes the output
  NaN. Overlapping windows (stride < kernel) that share an arg-max add up there. A window lying
  entirely in the padding (possible with dilation) outputs -inf, index -1, and passes no gradient.
* average pooling spreads each output gradient evenly, ``1/Q`` to every tap of its window.

``return_indices=True`` also returns, per output, the flat index of the arg-max inside its
channel plane (``h*W + w`` for 2-d, unpadded coordinates), PyTorch's convention, which is what
``max_unpool2d`` consumes.

Adaptive pooling splits each axis of size ``H`` into ``out`` bins, bin ``i`` covering
``[floor(i*H/out), ceil((i+1)*H/out))`` (they may overlap by one when ``out`` does not divide
``H``). Global pooling is ``adaptive_*_pool2d(x, 1)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import fast
from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_adaptive, check_avg_pool, check_max_unpool, check_tensor, pool_geometry
from .geometry import Global, Window, declare
from .windows import offset_slices, pad_or_crop

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "max_unpool2d",
    "pool_geometry",
    "adaptive_bins",
]


def _lowest(dtype: Any) -> float:
    """The padding value that never wins a max: -inf for floats, the smallest integer otherwise."""
    dtype = np.dtype(dtype)  # dtype metadata only, no array data
    return -math.inf if dtype.kind == "f" else int(np.iinfo(dtype).min)


# --------------------------------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------------------------------
def max_pool_forward_array(x: Any, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                           pads: Sequence[tuple[int, int]], out: Sequence[int], need_arg: bool) -> tuple:
    """Return ``(y, arg)``: the window maxima and, if ``need_arg``, the kernel offset (0..K-1,
    row-major) of each arg-max, else ``None``."""
    xp = get_array_module(x)
    xpd = pad_or_crop(x, pads, value=_lowest(x.dtype))
    y = upd = arg = None
    for t, (_, index) in enumerate(offset_slices(kernel, stride, dilation, out)):
        v = xpd[index]
        if y is None:
            y = v.copy()
            if need_arg:
                arg = xp.zeros(y.shape, dtype=xp.int32)
                upd = xp.empty(y.shape, dtype=bool)
            continue
        if need_arg:
            xp.greater(v, y, out=upd)  # strictly greater: the first maximum keeps the index
            xp.copyto(arg, t, where=upd)
        xp.maximum(y, v, out=y)  # NaN-propagating, like PyTorch
    return y, arg


def max_pool_backward_array(gy: Any, arg: Any, in_shape: Sequence[int], kernel: Sequence[int],
                            stride: Sequence[int], dilation: Sequence[int], pads: Sequence[tuple[int, int]],
                            out: Sequence[int]) -> Any:
    """Route every output gradient to its window's arg-max (one strided add per kernel offset)."""
    xp = get_array_module(gy)
    nd = len(kernel)
    padded = tuple(in_shape[:-nd]) + tuple(n + lo + hi for n, (lo, hi) in zip(in_shape[-nd:], pads))
    gx = xp.zeros(padded, dtype=gy.dtype)
    zero = xp.zeros((), dtype=gy.dtype)
    # BEGIN SOLUTION 3.3
    for t, (_, index) in enumerate(offset_slices(kernel, stride, dilation, out)):
        # within one offset the target pixels are distinct, so += never collides
        gx[index] += xp.where(arg == t, gy, zero)
    # END SOLUTION
    return pad_or_crop(gx, [(-lo, -hi) for lo, hi in pads])


def flat_indices_array(arg: Any, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                       padding: Sequence[int], in_sizes: Sequence[int]) -> Any:
    """Turn kernel-offset arg-maxes into PyTorch's flat index inside each (unpadded) channel plane."""
    xp = get_array_module(arg)
    nd = len(kernel)
    arg = arg.astype(xp.int64)
    flat = xp.zeros(arg.shape, dtype=xp.int64)
    valid = xp.ones(arg.shape, dtype=bool)
    rest = arg
    for axis in range(nd):
        inner = math.prod(kernel[axis + 1:])
        m = rest // inner  # this axis' kernel offset
        rest = rest - m * inner
        shape = [1] * arg.ndim
        shape[arg.ndim - nd + axis] = arg.shape[arg.ndim - nd + axis]
        pos = xp.arange(arg.shape[arg.ndim - nd + axis], dtype=xp.int64).reshape(shape)
        coord = pos * stride[axis] + m * dilation[axis] - padding[axis]
        valid &= (coord >= 0) & (coord < in_sizes[axis])
        flat = flat * in_sizes[axis] + coord
    # an arg-max in the padding means the window saw no input pixel at all (possible with dilation)
    return xp.where(valid, flat, -1)


class _MaxPoolNdFunction(Function):
    """``y[i] = max_m xpad[i*s + m*d]``; ``dL/dx[j] = sum of dL/dy[i] over the windows i whose
    (first) arg-max is j``: the gradient is routed, not spread. ``window``: a ``geometry.Window``."""

    @staticmethod
    def forward(ctx: Context, x: Any, window: Window, return_indices: bool = False) -> Any:
        if fast.max_pool_applies(x, window, return_indices):
            return fast.max_pool_forward(ctx, x, window)
        w = window
        # the arg-max is backward state: computed and kept only when a gradient will flow
        # (not under no_grad), or for return_indices
        y, arg = max_pool_forward_array(x, w.kernel, w.stride, w.dilation, w.pads, w.out,
                                        ctx.needs_input_grad[0] or return_indices)
        ctx.save_for_backward(*((arg,) if ctx.needs_input_grad[0] else ()))
        ctx.geometry = window
        ctx.in_shape = tuple(x.shape)
        if not return_indices:
            return y
        ctx.mark_non_differentiable(1)
        nd = len(w.kernel)
        return y, flat_indices_array(arg, w.kernel, w.stride, w.dilation, w.padding, x.shape[-nd:])

    @staticmethod
    def backward(ctx: Context, gy: Any, *_: Any) -> Any:
        if fast.took(ctx):
            return fast.max_pool_backward(ctx, gy)
        (arg,) = ctx.saved_tensors
        w = ctx.geometry
        return max_pool_backward_array(gy, arg, ctx.in_shape, w.kernel, w.stride, w.dilation, w.pads, w.out)


class MaxPool1dFunction(_MaxPoolNdFunction):
    """1-d max pooling; an empty subclass so the graph node is named ``MaxPool1dFunction``."""


class MaxPool2dFunction(_MaxPoolNdFunction):
    """2-d max pooling; an empty subclass so the graph node is named ``MaxPool2dFunction``."""


class MaxPool3dFunction(_MaxPoolNdFunction):
    """3-d max pooling; an empty subclass so the graph node is named ``MaxPool3dFunction``."""


_MAX = {1: MaxPool1dFunction, 2: MaxPool2dFunction, 3: MaxPool3dFunction}


def _max_pool(nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool) -> Any:
    op = f"max_pool{nd}d"
    check_tensor(input, "input", op)
    window = pool_geometry(op, nd, input.shape, kernel_size, stride, padding, dilation, ceil_mode)
    y = _MAX[nd].apply(input, window=window, return_indices=return_indices)
    return declare(y, window)


def max_pool1d(input: Any, kernel_size: int | Sequence[int], stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-d max pooling ``(N, C, L) -> (N, C, L_out)``; see the module docstring."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Any, kernel_size: int | Sequence[int], stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-d max pooling ``(N, C, H, W) -> (N, C, H_out, W_out)``; ``return_indices`` adds the flat
    arg-max index ``h*W + w`` per output. Backward: gradient to the (first) arg-max."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Any, kernel_size: int | Sequence[int], stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-d max pooling ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)``."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# --------------------------------------------------------------------------------------------------
# Average pooling
# --------------------------------------------------------------------------------------------------
def avg_divisor_array(xp: Any, dtype: Any, sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], out: Sequence[int], count_include_pad: bool,
                      divisor_override: int | None) -> Any:
    """``Q`` for every output position, shape ``out`` (windows are boxes, so Q is a product of
    per-axis counts)."""
    if divisor_override is not None:
        return xp.full(tuple(out), divisor_override, dtype=dtype)
    q = xp.ones(tuple(out), dtype=dtype)
    for axis, (n, k, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, out)):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)  # clipped to the padded input (ceil_mode overhang)
        if not count_include_pad:
            start = xp.maximum(start, 0)
            end = xp.minimum(end, n)
        shape = [1] * len(out)
        shape[axis] = o
        q = q * (end - start).astype(dtype).reshape(shape)
    return q


class _AvgPoolNdFunction(Function):
    """``y[i] = (1/Q_i) sum_m xpad[i*s + m]``; ``dL/dx[j] = sum over the windows i holding j of
    dL/dy[i] / Q_i``: each window spreads its gradient evenly over its taps."""

    @staticmethod
    def forward(ctx: Context, x: Any, window: Window, count_include_pad: bool = True,
                divisor_override: int | None = None) -> Any:
        xp = get_array_module(x)
        w = window
        xpd = pad_or_crop(x, w.pads)
        total = None
        for _, index in offset_slices(w.kernel, w.stride, w.dilation, w.out):
            if total is None:
                total = xpd[index].copy()
            else:
                total += xpd[index]
        q = avg_divisor_array(xp, x.dtype, x.shape[-len(w.kernel):], w.kernel, w.stride, w.padding, w.out,
                              count_include_pad, divisor_override)
        ctx.geometry = window
        ctx.in_shape = tuple(x.shape)
        ctx.q = q
        return total / q

    @staticmethod
    def backward(ctx: Context, gy: Any) -> Any:
        xp = get_array_module(gy)
        in_shape, win = ctx.in_shape, ctx.geometry
        kernel, stride, pads, out = win.kernel, win.stride, win.pads, win.out
        nd = len(kernel)
        # BEGIN SOLUTION 3.4
        share = gy / ctx.q  # each tap of a window gets 1/Q of its output's gradient
        padded = tuple(in_shape[:-nd]) + tuple(n + lo + hi for n, (lo, hi) in zip(in_shape[-nd:], pads))
        gx = xp.zeros(padded, dtype=gy.dtype)
        for _, index in offset_slices(kernel, stride, (1,) * nd, out):
            gx[index] += share
        # END SOLUTION
        return pad_or_crop(gx, [(-lo, -hi) for lo, hi in pads])


class AvgPool1dFunction(_AvgPoolNdFunction):
    """1-d average pooling; an empty subclass so the graph node is named ``AvgPool1dFunction``."""


class AvgPool2dFunction(_AvgPoolNdFunction):
    """2-d average pooling; an empty subclass so the graph node is named ``AvgPool2dFunction``."""


class AvgPool3dFunction(_AvgPoolNdFunction):
    """3-d average pooling; an empty subclass so the graph node is named ``AvgPool3dFunction``."""


_AVG = {1: AvgPool1dFunction, 2: AvgPool2dFunction, 3: AvgPool3dFunction}


def _avg_pool(nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None) -> Any:
    op = f"avg_pool{nd}d"
    check_avg_pool(op, input, divisor_override)
    window = pool_geometry(op, nd, input.shape, kernel_size, stride, padding, 1, ceil_mode)
    y = _AVG[nd].apply(input, window=window, count_include_pad=count_include_pad,
                       divisor_override=divisor_override)
    return declare(y, window)


def avg_pool1d(input: Any, kernel_size: int | Sequence[int], stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Any:
    """1-d average pooling ``(N, C, L) -> (N, C, L_out)``."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Any, kernel_size: int | Sequence[int], stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
    """2-d average pooling ``(N, C, H, W) -> (N, C, H_out, W_out)``; backward spreads 1/Q."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input: Any, kernel_size: int | Sequence[int], stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
    """3-d average pooling ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)``."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# --------------------------------------------------------------------------------------------------
# Adaptive pooling
# --------------------------------------------------------------------------------------------------
def adaptive_bins(size: int, out: int) -> tuple[list[int], list[int]]:
    """PyTorch's bins: ``start_i = floor(i*size/out)``, ``end_i = ceil((i+1)*size/out)``."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    return starts, ends


def adaptive_geometry(shape: Sequence[int], out: Sequence[int]) -> Window | Global:
    """Global pooling (output 1x1) and unequal (overlapping) bins are declared global; equal bins
    (the output size divides the input's) are a plain window of size and stride ``H // out``."""
    sizes = tuple(shape[-2:])
    if any(o != 1 for o in out) and all(n % o == 0 for n, o in zip(sizes, out)):
        k = tuple(n // o for n, o in zip(sizes, out))
        return Window(k, k, ((0, 0), (0, 0)), (1, 1))
    return Global(tuple(out))


def _avg_matrix(xp: Any, dtype: Any, size: int, out: int) -> Any:
    """``A (out, size)``: row ``i`` averages bin ``i``; adaptive average pooling is ``A_h x A_w^T``."""
    starts, ends = adaptive_bins(size, out)
    pos = xp.arange(size).reshape(1, size)
    start = xp.asarray(starts).reshape(out, 1)
    end = xp.asarray(ends).reshape(out, 1)
    inside = (pos >= start) & (pos < end)
    return inside.astype(dtype) / (end - start).astype(dtype)


class AdaptiveAvgPool2dFunction(Function):
    """Adaptive average pooling is linear and separable: ``y = A_h @ x @ A_w^T`` per channel
    plane, two big matrix products (``tensordot``); ``dL/dx = A_h^T @ dL/dy @ A_w``."""

    @staticmethod
    def forward(ctx: Context, x: Any, output_size: tuple = (1, 1)) -> Any:
        xp = get_array_module(x)
        H, W = x.shape[-2:]
        oh, ow = output_size
        ctx.in_shape = tuple(x.shape)
        if H % oh == 0 and W % ow == 0:  # equal, non-overlapping bins (includes global pooling)
            ctx.mats = None
            lead = tuple(x.shape[:-2])
            return x.reshape(*lead, oh, H // oh, ow, W // ow).mean(axis=(-3, -1))
        a_h = _avg_matrix(xp, x.dtype, H, oh)
        a_w = _avg_matrix(xp, x.dtype, W, ow)
        ctx.mats = (a_h, a_w)
        y = xp.tensordot(x, a_w, axes=([-1], [1]))  # (..., H, ow)
        y = xp.tensordot(y, a_h, axes=([-2], [1]))  # (..., ow, oh)
        return y.swapaxes(-1, -2)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        xp = get_array_module(g)
        shape = ctx.in_shape
        H, W = shape[-2:]
        oh, ow = g.shape[-2:]
        if ctx.mats is None:
            lead = tuple(shape[:-2])
            share = g / ((H // oh) * (W // ow))
            gx = xp.broadcast_to(share.reshape(*lead, oh, 1, ow, 1), (*lead, oh, H // oh, ow, W // ow))
            return gx.reshape(shape)
        a_h, a_w = ctx.mats
        gx = xp.tensordot(g, a_w, axes=([-1], [0]))  # (..., oh, W)
        gx = xp.tensordot(gx, a_h, axes=([-2], [0]))  # (..., W, H)
        return xp.ascontiguousarray(gx.swapaxes(-1, -2))


def adaptive_avg_pool2d(input: Any, output_size: int | Sequence[int | None]) -> Any:
    """``(N, C, H, W) -> (N, C, *output_size)``: the average of each adaptive bin."""
    sizes = check_adaptive("adaptive_avg_pool2d", input, output_size)
    if input.dtype.kind != "f":
        raise TypeError(f"adaptive_avg_pool2d: needs a floating-point input, got {input.dtype}")
    return declare(AdaptiveAvgPool2dFunction.apply(input, output_size=sizes), adaptive_geometry(input.shape, sizes))


def _gather_index(xp: Any, size: int, out: int) -> Any:
    """``(out, L)`` input positions of each bin, ``L`` the longest bin; short bins repeat their
    last position (harmless for a max, and later than the original, so ties stay first)."""
    starts, ends = adaptive_bins(size, out)
    longest = max(e - s for s, e in zip(starts, ends))
    start = xp.asarray(starts).reshape(out, 1)
    end = xp.asarray(ends).reshape(out, 1)
    return xp.minimum(start + xp.arange(longest).reshape(1, longest), end - 1)


class AdaptiveMaxPool2dFunction(Function):
    """``y[i, j] = max over bin (i, j) of x``; ``dL/dx`` scatter-adds ``dL/dy[i, j]`` onto the bin's
    (first) arg-max (bins may overlap, so a pixel can collect from several)."""

    @staticmethod
    def forward(ctx: Context, x: Any, output_size: tuple = (1, 1), return_indices: bool = False) -> Any:
        xp = get_array_module(x)
        H, W = x.shape[-2:]
        oh, ow = output_size
        ih = _gather_index(xp, H, oh)  # (oh, Lh)
        iw = _gather_index(xp, W, ow)  # (ow, Lw)
        lh, lw = ih.shape[1], iw.shape[1]
        # every bin's pixels gathered at once: (..., oh, Lh, ow, Lw) -> (..., oh, ow, Lh*Lw)
        win = x[..., ih.reshape(oh, lh, 1, 1), iw.reshape(1, 1, ow, lw)]
        win = xp.moveaxis(win, -3, -2).reshape(*x.shape[:-2], oh, ow, lh * lw)
        t = xp.argmax(win, axis=-1)  # first maximum on ties
        y = xp.take_along_axis(win, t[..., None], axis=-1)[..., 0]
        rows = ih[xp.arange(oh).reshape(oh, 1), t // lw]  # (..., oh, ow): the arg-max's input row
        cols = iw[xp.arange(ow).reshape(1, ow), t % lw]
        flat = (rows * W + cols).astype(xp.int64)
        ctx.in_shape = tuple(x.shape)
        ctx.save_for_backward(flat)
        if not return_indices:
            return y
        ctx.mark_non_differentiable(1)
        return y, flat

    @staticmethod
    def backward(ctx: Context, g: Any, *_: Any) -> Any:
        (flat,) = ctx.saved_tensors
        return scatter_add_planes(g, flat, ctx.in_shape)


def scatter_add_planes(values: Any, flat: Any, shape: Sequence[int]) -> Any:
    """``out[..., flat]`` += ``values`` within each channel plane of ``shape`` (duplicates add up).

    ``bincount`` with weights is the portable (NumPy and CuPy) scatter-add."""
    xp = get_array_module(values)
    plane = shape[-1] * shape[-2]
    planes = math.prod(shape[:-2])
    offsets = (xp.arange(planes, dtype=xp.int64) * plane).reshape(*shape[:-2], *([1] * (flat.ndim - len(shape) + 2)))
    idx = (flat + offsets).reshape(-1)
    out = xp.bincount(idx, weights=values.reshape(-1), minlength=planes * plane)
    return out.astype(values.dtype).reshape(tuple(shape))


def adaptive_max_pool2d(input: Any, output_size: int | Sequence[int | None], return_indices: bool = False) -> Any:
    """``(N, C, H, W) -> (N, C, *output_size)``: the maximum of each adaptive bin (ties: first)."""
    sizes = check_adaptive("adaptive_max_pool2d", input, output_size)
    y = AdaptiveMaxPool2dFunction.apply(input, output_size=sizes, return_indices=return_indices)
    return declare(y, adaptive_geometry(input.shape, sizes))


# --------------------------------------------------------------------------------------------------
# Max unpooling
# --------------------------------------------------------------------------------------------------
class MaxUnpool2dFunction(Function):
    """``y[idx[i]] = x[i]``, zeros elsewhere (every value back where its max pool took it from);
    ``dL/dx[i] = dL/dy[idx[i]]``, a gather; the indices get no gradient."""

    @staticmethod
    def forward(ctx: Context, x: Any, indices: Any, out_hw: tuple = (1, 1)) -> Any:
        xp = get_array_module(x, indices)
        lead = tuple(x.shape[:-2])
        planes = math.prod(lead)
        plane = out_hw[0] * out_hw[1]
        rows = (xp.arange(planes, dtype=xp.int64) * plane).reshape(*lead, 1, 1)
        idx = (indices + rows).reshape(-1)
        out = xp.zeros(planes * plane, dtype=x.dtype)
        out[idx] = x.reshape(-1)
        ctx.save_for_backward(idx)
        ctx.in_shape = tuple(x.shape)
        return out.reshape(*lead, *out_hw)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (idx,) = ctx.saved_tensors
        return g.reshape(-1)[idx].reshape(ctx.in_shape), None


def max_unpool2d(input: Any, indices: Any, kernel_size: int | Sequence[int], stride: Any = None,
                 padding: Any = 0, output_size: Sequence[int] | None = None) -> Any:
    """Partial inverse of ``max_pool2d``: ``(N, C, H, W)`` values and their flat indices (from
    ``return_indices=True``) -> ``(N, C, H_out, W_out)``, ``H_out = (H - 1)*stride - 2*padding + k``
    unless ``output_size`` (``(H_out, W_out)`` or the full shape) says otherwise."""
    out_hw = check_max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size)
    return MaxUnpool2dFunction.apply(input, indices, out_hw=out_hw)
