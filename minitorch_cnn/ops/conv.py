"""Convolution (deep-learning convention: correlation) and transposed convolution, 1-d to 3-d.

The formula (2-d, one group; see ``conv_reference.py`` for it as plain loops)::

    y[n, o, i, j] = b[o] + sum_{c, m, k} w[o, c, m, k] * xpad[n, c, i*s + m*d, j*s + k*d]

    shapes: x (N, C_in, H_in, W_in), w (C_out, C_in / groups, kH, kW) -> y (N, C_out, H_out, W_out)
    H_out = floor((H_in + pad_top + pad_bottom - d*(kH - 1) - 1) / s) + 1

Forward ("im2col + one GEMM"):

1. zero-pad x once;
2. take a strided *view* of every window (``as_strided``, no copy) ordered as the im2col matrix
   ``cols[c*K + m, n*P + p]`` (K kernel taps, P output positions) and copy it once into a
   contiguous buffer: the only large temporary;
3. ``y = W (C_out, C_in*K) @ cols (C_in*K, N*P)``, a single BLAS matrix product per group
   (groups are a batch dimension of ``matmul``: depth-wise convolution needs no Python loop).

Backward, the way the unit derives it:

* ``grad_w = grad_y @ cols^T`` (computed as its transpose ``cols @ grad_y^T``): the correlation of
  the input with the output gradient; the columns are rebuilt from the saved input;
* ``grad_x``: the correlation of the output gradient -- dilated by the stride (``s - 1`` zeros
  between its elements) and padded by ``d*(k - 1) - pad`` -- with the *reflected* kernel whose
  in/out channels are swapped. That is a transposed convolution, and it is literally the same
  code as ``conv_transpose2d``'s forward (``transposed_gather_array`` below). The same adjoint
  can be computed in scatter form (``transposed_scatter_array``, "col2im": ``W^T @ grad_y`` then
  one strided add per kernel offset), which moves fewer numbers when ``C_in < C_out`` or the
  stride is > 1; ``transposed_conv_array`` picks the cheaper of the two (they agree to rounding);
* ``grad_b = sum of grad_y`` over batch and positions.

Memory: the im2col buffer holds ``C_in*K * N*P`` numbers. When that exceeds ``IM2COL_LIMIT_BYTES``
(256 MiB) the batch is cut into the fewest chunks that fit, so peak memory stays bounded (by one
image's columns at worst); each chunk is still one large GEMM. The backward pass re-creates the
columns from the saved input instead of keeping them alive between forward and backward (as
PyTorch keeps only the input). A strided convolution's input gradient works on the dilated
gradient, so it costs as much as a stride-1 convolution at the input's resolution.

The faster kernel: for 2-d, stride-1, single-group convolutions with at least 8 input channels
(every layer of the unit's CNN but the first), ``fast/conv_shifted.py`` computes the same three
products without any im2col matrix (its docstring derives it); for 3x3 kernels with at least 128
input and output channels ``fast/winograd.py`` (Winograd's F(2x2, 3x3)) takes them instead.
``_ConvNdFunction.forward`` hands such a call to the seam on its first line (``if
fast.conv_applies(...)``); ``MINITORCH_CNN_FAST=0`` or ``with mt.fast.disabled():`` keeps every
convolution on the code of this file. The kernels equal ``conv_reference.py``'s loops and this
file's path in the tests (``tests/test_fast_seam.py``, ``tests/fast/``).

Padding: an int or tuple (symmetric), ``'valid'`` (none), ``'same'`` (output size = input size at
stride 1; an even kernel puts the extra row/column on the bottom/right, as PyTorch does) and
``'full'`` -- a documented extension, not in PyTorch: ``dilation*(k - 1)`` on each side, the
"full" correlation of signal processing (every position where kernel and input overlap).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import fast
from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import Padding, check_conv, check_conv_transpose, conv_padding
from .geometry import Window, declare
from .windows import dilate, offset_slices, out_size, pad_or_crop, window_view

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "IM2COL_LIMIT_BYTES",
    "conv_forward_array",
    "conv_weight_grad_array",
    "conv_input_grad_array",
    "transposed_conv_array",
    "transposed_gather_array",
    "transposed_scatter_array",
    "conv_padding",
]

IM2COL_LIMIT_BYTES = 256 * 2**20
"""Largest im2col buffer a convolution allocates; bigger batches are processed in chunks."""



# --------------------------------------------------------------------------------------------------
# Array-level kernels (backend arrays in, backend arrays out; no autograd)
# --------------------------------------------------------------------------------------------------
def _batch_chunks(n: int, bytes_per_item: int, limit: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into the fewest equal chunks whose im2col buffer fits in ``limit``."""
    if n == 0:
        return []  # an empty batch: nothing to compute, the output keeps its 0 batch dim
    chunks = max(1, min(n, math.ceil(bytes_per_item * n / limit)))
    size = math.ceil(n / chunks)
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def conv_forward_array(x: Any, w: Any, stride: Sequence[int], pads: Sequence[tuple[int, int]],
                       dilation: Sequence[int], groups: int, limit: int | None = None,
                       acc_dtype: Any = None) -> Any:
    """Correlate ``x (N, C_in, *in)`` with ``w (C_out, C_in/groups, *k)``; no bias.

    ``pads`` holds ``(before, after)`` per spatial axis; negative amounts crop the input.
    ``acc_dtype`` (default: ``x``'s dtype) is the dtype the products are accumulated and returned in,
    e.g. ``int32`` for int8 codes (``compress.int8``): each im2col chunk and the weight are cast to it
    before the GEMM, so 8-bit products add up without overflowing 8 bits.
    """
    xp = get_array_module(x, w)
    limit = IM2COL_LIMIT_BYTES if limit is None else limit
    kernel = tuple(w.shape[2:])
    K = math.prod(kernel)
    xpd = pad_or_crop(x, pads)
    n, c = xpd.shape[:2]
    out = tuple(out_size(size, k, s, 0, 0, d) for size, k, s, d in zip(xpd.shape[2:], kernel, stride, dilation))
    P = math.prod(out)
    o = w.shape[0]
    acc = x.dtype if acc_dtype is None else acc_dtype
    wm = w.reshape(groups, o // groups, (c // groups) * K).astype(acc, copy=False)
    y = xp.empty((n, o, *out), dtype=acc)
    chunks = _batch_chunks(n, c * K * P * x.itemsize, limit)
    for n0, n1 in chunks:
        view = window_view(xpd[n0:n1], kernel, stride, dilation, out, order="im2col")  # (C, *k, n, *out)
        cols = view.reshape(groups, (c // groups) * K, (n1 - n0) * P).astype(acc, copy=False)  # the one big copy
        # (groups, C_out/groups, n*P): one GEMM per group, groups batched by matmul
        yc = fast.matmul(wm[0], cols[0])[None] if groups == 1 else wm @ cols
        y[n0:n1] = yc.reshape(o, n1 - n0, *out).swapaxes(0, 1)
    return y


def conv_weight_grad_array(x: Any, gy: Any, w_shape: Sequence[int], stride: Sequence[int],
                           pads: Sequence[tuple[int, int]], dilation: Sequence[int], groups: int,
                           limit: int | None = None) -> Any:
    """``grad_w[o, c, m] = sum_{n, i} grad_y[n, o, i] * xpad[n, c, i*s + m*d]``.

    The correlation of the input with the output gradient: one GEMM, ``grad_w^T = cols @ grad_y^T``.
    """
    xp = get_array_module(x, gy)
    limit = IM2COL_LIMIT_BYTES if limit is None else limit
    kernel = tuple(w_shape[2:])
    K = math.prod(kernel)
    o = w_shape[0]
    xpd = pad_or_crop(x, pads)
    n, c = xpd.shape[:2]
    out = tuple(gy.shape[2:])
    P = math.prod(out)
    gwt = xp.zeros((groups, (c // groups) * K, o // groups), dtype=x.dtype)
    for n0, n1 in _batch_chunks(n, c * K * P * x.itemsize, limit):
        view = window_view(xpd[n0:n1], kernel, stride, dilation, out, order="im2col")
        cols = view.reshape(groups, (c // groups) * K, (n1 - n0) * P)
        if groups == 1:
            gy2 = gy[n0:n1].swapaxes(0, 1).reshape(o, (n1 - n0) * P)  # (C_out, n*P), one copy
            # 2-d GEMM, BLAS reading the transposed operand in place. Orientation chosen by
            # measurement when this GEMM still ran on multi-threaded OpenBLAS: with a huge inner
            # dimension (n*P ~ 1e5) and a small result it sometimes stalled for seconds when the
            # *smaller* side was M, never with the larger side as M (kept: it costs nothing).
            if cols.shape[1] >= o:
                gwt[0] += fast.matmul(cols[0], gy2.T)  # grad_w^T (C_in*K, C_out)
            else:
                gwt[0] += fast.matmul(gy2, cols[0].T).T  # grad_w (C_out, C_in*K)
        else:
            # NumPy's *batched* matmul has no BLAS path for a transposed operand: make it contiguous
            gyt = gy[n0:n1].reshape(n1 - n0, groups, o // groups, P).transpose(1, 0, 3, 2)
            gwt += cols @ gyt.reshape(groups, (n1 - n0) * P, o // groups)
    return gwt.swapaxes(1, 2).reshape(tuple(w_shape))


def transposed_gather_array(y: Any, w: Any, stride: Sequence[int], pads: Sequence[tuple[int, int]],
                            dilation: Sequence[int], groups: int, limit: int | None = None) -> Any:
    """The adjoint of ``conv_forward_array(., w, stride, pads, dilation, groups)``, the unit's way.

    ``y (N, C_out, *out)`` and the *convolution's* weight ``w (C_out, C_in/groups, *k)`` give
    ``(N, C_in, *size)`` with ``size = (out - 1)*s + 1 + d*(k - 1) - before - after`` per axis.
    How: dilate ``y`` by the stride, pad it by ``d*(k-1) - before`` / ``d*(k-1) - after``, and
    correlate (stride 1) with the kernel reflected along every spatial axis and with its in/out
    channels swapped inside each group.
    """
    xp = get_array_module(y, w)
    nd = w.ndim - 2
    kernel = tuple(w.shape[2:])
    o, cg = w.shape[:2]
    og = o // groups
    # (C_out, C_in/g, *k) -> (g, C_out/g, C_in/g, *k) -> (g, C_in/g, C_out/g, *k), then reflect
    wt = w.reshape(groups, og, cg, *kernel).swapaxes(1, 2)
    wt = xp.flip(wt, axis=tuple(range(3, 3 + nd))).reshape(groups * cg, og, *kernel)
    yd = dilate(y, stride)  # s - 1 zeros between the gradient's elements
    full = [d * (k - 1) for k, d in zip(kernel, dilation)]
    tpads = [(e - lo, e - hi) for e, (lo, hi) in zip(full, pads)]
    return conv_forward_array(yd, xp.ascontiguousarray(wt), (1,) * nd, tpads, dilation, groups, limit)


def transposed_scatter_array(y: Any, w: Any, stride: Sequence[int], pads: Sequence[tuple[int, int]],
                             dilation: Sequence[int], groups: int, limit: int | None = None) -> Any:
    """The same adjoint as ``transposed_gather_array``, computed in scatter form ("col2im").

    Every ``y`` pixel scatters a copy of the kernel, scaled by the pixel, into the output at
    ``i*s + m*d - before``. As matrices: ``cols = W^T (C_in*K, C_out) @ y (C_out, N*P)`` (one GEMM
    per group), then one strided add per kernel offset folds the columns into the output. It
    touches ``C_in*K*N*P`` numbers where the gather form touches ``C_out*K`` times the (dilated)
    output size, so it is the cheaper choice when ``C_in < C_out`` or the stride is > 1.
    """
    xp = get_array_module(y, w)
    kernel = tuple(w.shape[2:])
    K = math.prod(kernel)
    o, cg = w.shape[:2]
    og = o // groups
    c = groups * cg
    n = y.shape[0]
    out_y = tuple(y.shape[2:])
    P = math.prod(out_y)
    # W^T per group, contiguous (NumPy's batched matmul is slow on transposed operands)
    wt = xp.ascontiguousarray(w.reshape(groups, og, cg * K).swapaxes(1, 2))  # (g, C_in/g*K, C_out/g)
    span = tuple((oy - 1) * s + d * (k - 1) + 1 for oy, s, d, k in zip(out_y, stride, dilation, kernel))
    full = xp.zeros((n, c, *span), dtype=y.dtype)
    for n0, n1 in _batch_chunks(n, c * K * P * y.itemsize, IM2COL_LIMIT_BYTES if limit is None else limit):
        yt = y[n0:n1].reshape(n1 - n0, groups, og, P).transpose(1, 2, 0, 3).reshape(groups, og, (n1 - n0) * P)
        prod = fast.matmul(wt[0], yt[0])[None] if groups == 1 else wt @ yt
        cols = prod.reshape(c, *kernel, n1 - n0, *out_y)  # (C_in, *k, n, *out)
        target = full[n0:n1]
        for m, index in offset_slices(kernel, stride, dilation, out_y):
            target[index] += cols[(slice(None), *m)].swapaxes(0, 1)  # col2im: one strided add per offset
    return pad_or_crop(full, [(-lo, -hi) for lo, hi in pads])


def transposed_conv_array(y: Any, w: Any, stride: Sequence[int], pads: Sequence[tuple[int, int]],
                          dilation: Sequence[int], groups: int, limit: int | None = None,
                          method: str = "auto") -> Any:
    """Transposed convolution (the adjoint of ``conv_forward_array``); ``method`` 'gather' (the
    correlation with the reflected kernel, as the unit derives it), 'scatter' (col2im) or 'auto':
    the textbook gather form, or the scatter form where the fast seam says it moves fewer numbers."""
    if method == "auto":
        method = fast.transposed_conv_method(tuple(y.shape), tuple(w.shape), tuple(stride), groups)
    if method == "gather":
        return transposed_gather_array(y, w, stride, pads, dilation, groups, limit)
    if method == "scatter":
        return transposed_scatter_array(y, w, stride, pads, dilation, groups, limit)
    raise ValueError(f"transposed_conv_array: method must be 'auto', 'gather' or 'scatter', got {method!r}")


def conv_input_grad_array(gy: Any, w: Any, in_shape: Sequence[int], stride: Sequence[int],
                          pads: Sequence[tuple[int, int]], dilation: Sequence[int], groups: int,
                          limit: int | None = None) -> Any:
    """``grad_x`` of a convolution: the transposed correlation of ``grad_y`` with ``w``.

    Input rows past the last window (when the stride does not divide the padded size) received no
    gradient; they appear as extra zero padding on the "after" side.
    """
    kernel = tuple(w.shape[2:])
    # BEGIN SOLUTION 3.5
    tpads = []
    for size, k, s, d, (lo, _), o in zip(in_shape[2:], kernel, stride, dilation, pads, gy.shape[2:]):
        used = (o - 1) * s + d * (k - 1) + 1  # padded rows that some window touched
        tpads.append((lo, used - size - lo))
    # END SOLUTION
    return transposed_conv_array(gy, w, stride, tpads, dilation, groups, limit)


# --------------------------------------------------------------------------------------------------
# Differentiable ops
# --------------------------------------------------------------------------------------------------
class _ConvNdFunction(Function):
    """``y = conv(x, w) + b``; ``window`` (a ``geometry.Window``) holds stride, pads, dilation, groups.

    Forward: ``y = W @ im2col(x)`` (``conv_forward_array``). Backward, as the unit derives it::

        dL/db[o]       = sum_{n, i} dL/dy[n, o, i]
        dL/dw[o, c, m] = sum_{n, i} dL/dy[n, o, i] * xpad[n, c, i*s + m*d]     (x correlated with dL/dy)
        dL/dx          = dilate(dL/dy, s), padded by d*(k - 1) - pad, correlated with the kernel
                         reflected along every spatial axis, in/out channels swapped per group

    The first line of each method is the seam to the shifted-slice kernel (``fast/``), taken for
    the unit's CNN unless the fast kernels are switched off. What is saved for backward is only
    what the needed gradients use: the input for the weight gradient, the weight for the input
    gradient; nothing at all when no input needs a gradient (e.g. under ``no_grad``).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any, window: Window) -> Any:
        if fast.conv_applies(x, w, window):
            return fast.conv_forward(ctx, x, w, b, window)
        unbatched = x.ndim == w.ndim - 1
        if unbatched:
            x = x[None]
        y = conv_forward_array(x, w, window.stride, window.pads, window.dilation, window.groups)
        if b is not None:
            y += b.reshape((1, -1) + (1,) * (w.ndim - 2))
        need_x, need_w = ctx.needs_input_grad[:2]
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x if need_w else None, w if need_x else None)
        ctx.geometry = window
        ctx.in_shape = tuple(x.shape)
        ctx.w_shape = tuple(w.shape)
        ctx.unbatched = unbatched
        ctx.has_bias = b is not None
        return y[0] if unbatched else y

    @staticmethod
    def backward(ctx: Context, gy: Any) -> tuple:
        if fast.took(ctx):
            return fast.conv_backward(ctx, gy)
        x, w = ctx.saved_tensors
        win = ctx.geometry
        if ctx.unbatched:
            gy = gy[None]
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if ctx.has_bias and need_b:
            # dL/db: the sum of dL/dy over batch and positions (contiguous axes first; the explicit
            # size, not -1, keeps an empty batch legal)
            gb = gy.reshape(gy.shape[0], gy.shape[1], math.prod(gy.shape[2:])).sum(axis=2).sum(axis=0)
        if need_w:
            # dL/dw: the correlation of the input with dL/dy, one GEMM dL/dy @ im2col(x)^T
            gw = conv_weight_grad_array(x, gy, ctx.w_shape, win.stride, win.pads, win.dilation, win.groups)
        if need_x:
            # dL/dx: dL/dy dilated by the stride, padded by d*(k - 1) - pad, correlated with the
            # reflected, channel-swapped kernel (a transposed convolution)
            gx = conv_input_grad_array(gy, w, ctx.in_shape, win.stride, win.pads, win.dilation, win.groups)
            if ctx.unbatched:
                gx = gx[0]
        return gx, gw, gb


class Conv1dFunction(_ConvNdFunction):
    """1-d convolution; an empty subclass so the graph node is named ``Conv1dFunction``."""


class Conv2dFunction(_ConvNdFunction):
    """2-d convolution; an empty subclass so the graph node is named ``Conv2dFunction``."""


class Conv3dFunction(_ConvNdFunction):
    """3-d convolution; an empty subclass so the graph node is named ``Conv3dFunction``."""


class _ConvTransposeNdFunction(Function):
    """``z = conv_transpose(x, w) + b``: the adjoint of a convolution whose weight is ``w``.

    ``w`` has shape ``(C_in, C_out/groups, *k)`` (PyTorch's layout): it is the weight of the
    convolution that maps the output back to the input, so the forward pass is exactly that
    convolution's input-gradient, and the backward pass is that convolution's forward:
    ``dL/dx = conv(dL/dz, w)``, ``dL/dw = correlation of dL/dz with x``, ``dL/db = sum of dL/dz``.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any, window: Window) -> Any:
        unbatched = x.ndim == w.ndim - 1
        if unbatched:
            x = x[None]
        z = transposed_conv_array(x, w, window.stride, window.pads, window.dilation, window.groups)
        if b is not None:
            z += b.reshape((1, -1) + (1,) * (w.ndim - 2))
        if any(ctx.needs_input_grad):  # grad_x needs w, grad_w needs x; nothing under no_grad
            ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.geometry = window
        ctx.w_shape = tuple(w.shape)
        ctx.unbatched = unbatched
        ctx.has_bias = b is not None
        return z[0] if unbatched else z

    @staticmethod
    def backward(ctx: Context, gz: Any) -> tuple:
        x, w = ctx.saved_tensors
        win = ctx.geometry
        stride, pads, dilation, groups = win.stride, win.pads, win.dilation, win.groups
        if ctx.unbatched:
            gz = gz[None]
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = conv_forward_array(gz, w, stride, pads, dilation, groups)
            if ctx.unbatched:
                gx = gx[0]
        if ctx.needs_input_grad[1]:
            # the "input" of the adjoint convolution is gz, its "output gradient" is x
            gw = conv_weight_grad_array(gz, x, ctx.w_shape, stride, pads, dilation, groups)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = gz.sum(axis=(0,) + tuple(range(2, gz.ndim)))
        return gx, gw, gb


class ConvTranspose1dFunction(_ConvTransposeNdFunction):
    """1-d transposed convolution; an empty subclass so the graph node has this name."""


class ConvTranspose2dFunction(_ConvTransposeNdFunction):
    """2-d transposed convolution; an empty subclass so the graph node has this name."""


class ConvTranspose3dFunction(_ConvTransposeNdFunction):
    """3-d transposed convolution; an empty subclass so the graph node has this name."""


_CONV = {1: Conv1dFunction, 2: Conv2dFunction, 3: Conv3dFunction}
_CONV_T = {1: ConvTranspose1dFunction, 2: ConvTranspose2dFunction, 3: ConvTranspose3dFunction}


# --------------------------------------------------------------------------------------------------
# Public functional API (PyTorch signatures)
# --------------------------------------------------------------------------------------------------
def _conv(nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Padding, dilation: Any,
          groups: int) -> Any:
    window = check_conv(f"conv{nd}d", nd, input, weight, bias, stride, padding, dilation, groups)
    y = _CONV[nd].apply(input, weight, bias, window=window)
    # each output element: C_in/groups * K multiply-adds
    return declare(y, window, mult_adds=y.numel() * math.prod(weight.shape[1:]))


def conv1d(input: Any, weight: Any, bias: Any = None, stride: int | Sequence[int] = 1,
           padding: Padding = 0, dilation: int | Sequence[int] = 1, groups: int = 1) -> Any:
    """1-d correlation: ``(N, C_in, L) -> (N, C_out, L_out)``; see the module docstring."""
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: int | Sequence[int] = 1,
           padding: Padding = 0, dilation: int | Sequence[int] = 1, groups: int = 1) -> Any:
    """2-d correlation ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``.

    ``y[n, o, i, j] = b[o] + sum_{c, m, k} w[o, c, m, k] * xpad[n, g*C_in/groups + c, i*s + m*d, j*s + k*d]``
    with ``g = o // (C_out/groups)``. ``padding``: int, (pH, pW), 'valid', 'same' or 'full'.
    Forward and backward: ``_ConvNdFunction`` (the base of ``Conv2dFunction``) above.
    """
    window = check_conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
    y = Conv2dFunction.apply(input, weight, bias, window=window)
    return declare(y, window, mult_adds=y.numel() * math.prod(weight.shape[1:]))


def conv3d(input: Any, weight: Any, bias: Any = None, stride: int | Sequence[int] = 1,
           padding: Padding = 0, dilation: int | Sequence[int] = 1, groups: int = 1) -> Any:
    """3-d correlation: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``."""
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any,
            groups: int, dilation: Any) -> Any:
    window = check_conv_transpose(f"conv_transpose{nd}d", nd, input, weight, bias, stride, padding,
                                  output_padding, groups, dilation)
    z = _CONV_T[nd].apply(input, weight, bias, window=window)
    # each input element scatters C_out/groups * K multiply-adds
    return declare(z, window, mult_adds=input.numel() * math.prod(weight.shape[1:]))


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: int | Sequence[int] = 1,
                     padding: int | Sequence[int] = 0, output_padding: int | Sequence[int] = 0,
                     groups: int = 1, dilation: int | Sequence[int] = 1) -> Any:
    """1-d transposed convolution; see ``conv_transpose2d``."""
    return _conv_t(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: int | Sequence[int] = 1,
                     padding: int | Sequence[int] = 0, output_padding: int | Sequence[int] = 0,
                     groups: int = 1, dilation: int | Sequence[int] = 1) -> Any:
    """Transposed convolution ("deconvolution", the gradient of ``conv2d`` w.r.t. its input).

    ``x (N, C_in, H, W)``, ``weight (C_in, C_out/groups, kH, kW)`` -> ``(N, C_out, H_out, W_out)``::

        H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1

    Each input pixel scatters a copy of the kernel, scaled by the pixel, into the output at
    ``i*stride - padding`` (``conv_reference.conv_transpose_nd_reference`` writes exactly that).
    ``output_padding`` (< stride or dilation) adds rows on the bottom/right to pick among the input
    sizes that a strided convolution maps to the same output size.
    """
    return _conv_t(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: int | Sequence[int] = 1,
                     padding: int | Sequence[int] = 0, output_padding: int | Sequence[int] = 0,
                     groups: int = 1, dilation: int | Sequence[int] = 1) -> Any:
    """3-d transposed convolution; see ``conv_transpose2d``."""
    return _conv_t(3, input, weight, bias, stride, padding, output_padding, groups, dilation)
