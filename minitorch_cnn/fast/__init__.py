"""The seam between the textbook ops and the speed kernels: the only name ``ops``, ``nn`` and ``optim`` import.

Every op in ``ops/`` is written the way the unit derives it (im2col correlation, window views,
batch-statistics formulas), and that code is correct on its own. Some ops have a faster kernel for
the shapes the unit's CNN uses. Such an op asks this module once, on the first line of its
``forward`` (tinygrad style)::

    if fast.conv_applies(x, w, window):
        return fast.conv_forward(ctx, x, w, b, window)

and its ``backward`` starts with ``if fast.took(ctx): return fast.conv_backward(ctx, gy)``. The
kernels live next to this file:

* ``conv_shifted.py`` -- stride-1 2-d convolution as GEMMs over shifted slices, no im2col copy;
* ``winograd.py`` -- Winograd's F(2x2, 3x3) for 3x3, stride-1 convolutions: 16 GEMMs over
  transformed 4x4 tiles, 2.25x fewer multiplications; taken instead of ``conv_shifted`` where
  ``winograd.winograd_pays`` (measured) says so, or as ``MINITORCH_CNN_WINOGRAD`` says (``1``:
  wherever eligible, ``0``: never; read on every call);
* ``pool2x2.py`` -- the 2x2 / stride-2 max pool in two halving steps, bool arg-max state;
* ``batchnorm.py`` -- BatchNorm's sweeps split over the threads in cache-sized pieces;
* ``relu.py`` -- ReLU forward and backward the same way;
* ``optim.py`` -- Adam / AdamW's update fused into one pass over memory per cache-sized chunk, the
  moments in one flat buffer per dtype (``Adam._update_group`` asks ``adam_applies`` first);
* ``threads.py`` -- the thread pool, and ``matmul``: 2-D GEMMs in one band per thread with BLAS at
  one thread (OpenBLAS's spinning workers would otherwise take the pool's cores);
* ``allocator.py`` -- glibc ``malloc`` settings applied at ``import minitorch_cnn``
  (``MINITORCH_CNN_MALLOC=0`` leaves them alone; not a kernel, so not under the switch below).

**One switch** turns every kernel off, so the textbook code runs alone: the environment variable
``MINITORCH_CNN_FAST=0`` (read on every call), or in code::

    with mt.fast.disabled():       # or fast.enabled(False); fast.enabled(True) forces them on
        loss.backward()

The switch is read when an op runs its ``forward``; the ``backward`` follows what ``forward``
chose (``took``), so turning it off between the two is harmless. With the switch on, the results
equal the textbook path's to rounding (``tests/test_fast_seam.py``).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

from ..backend import get_array_module
from . import allocator, batchnorm, conv_shifted, optim, pool2x2, relu, threads, winograd

__all__ = [
    "transposed_conv_method",
    "ENV_VAR",
    "is_enabled",
    "enabled",
    "disabled",
    "took",
    "matmul",
    "conv_applies",
    "conv_forward",
    "conv_backward",
    "relu_applies",
    "relu_forward",
    "relu_backward",
    "max_pool_applies",
    "max_pool_forward",
    "max_pool_backward",
    "batch_norm_applies",
    "batch_norm_forward",
    "batch_norm_backward",
    "adam_applies",
    "adam_update",
    "allocator",
    "threads",
    "winograd",
]

ENV_VAR = "MINITORCH_CNN_FAST"
"""``MINITORCH_CNN_FAST=0`` turns every fast kernel off (any other value, or unset: on)."""

_override: list[bool] = []  # the innermost ``enabled(...)`` block wins over the environment


def is_enabled() -> bool:
    """Whether the fast kernels may run: the innermost ``enabled``/``disabled`` block, else the
    environment variable ``MINITORCH_CNN_FAST`` (``0`` = off)."""
    if _override:
        return _override[-1]
    return os.environ.get(ENV_VAR, "1").strip() != "0"


@contextlib.contextmanager
def enabled(flag: bool = True) -> Iterator[None]:
    """Inside the block the fast kernels run (``True``) or not (``False``), whatever the environment."""
    _override.append(bool(flag))
    try:
        yield
    finally:
        _override.pop()


def disabled() -> contextlib.AbstractContextManager[None]:
    """``with fast.disabled():`` -- only the textbook code runs inside the block."""
    return enabled(False)


def took(ctx: Any) -> bool:
    """Whether ``forward`` handed this node to a fast kernel (its ``backward`` must follow)."""
    return getattr(ctx, "fast_kernel", None) is not None


# --------------------------------------------------------------------------------------------------
# GEMMs
# --------------------------------------------------------------------------------------------------
def matmul(a: Any, b: Any) -> Any:
    """``a @ b``; for two 2-D operands, with the switch on, split over the thread pool with BLAS
    at one thread (``threads.parallel_matmul``: the same product, cut into bands)."""
    if a.ndim == 2 and b.ndim == 2 and is_enabled():
        return threads.parallel_matmul(a, b)
    return a @ b


# --------------------------------------------------------------------------------------------------
# Convolution: the shifted-slice kernel, or Winograd's F(2x2, 3x3)
# --------------------------------------------------------------------------------------------------
def transposed_conv_method(y_shape: tuple, w_shape: tuple, stride: tuple, groups: int) -> str:
    """How to compute a transposed convolution (a conv's input gradient): the textbook ``"gather"``
    (the dilated, padded gradient correlated with the reflected kernel) or, when the fast kernels
    are on and it moves fewer numbers, ``"scatter"`` (col2im: each pixel scatters a scaled kernel)."""
    if not is_enabled():
        return "gather"
    c = groups * w_shape[1]
    dilated = math.prod((n - 1) * s + 1 for n, s in zip(y_shape[2:], stride))
    return "scatter" if c * math.prod(y_shape[2:]) < w_shape[0] * dilated else "gather"


def _winograd_applies(x: Any, w: Any, window: Any) -> bool:
    return winograd.applies(x.shape, w.shape, window.stride, window.pads, window.dilation, window.groups)


def conv_applies(x: Any, w: Any, window: Any) -> bool:
    """2-d, stride 1, one group, non-negative padding, and either at least
    ``conv_shifted.MIN_CHANNELS`` input channels (every convolution of the unit's CNN but the first,
    ``C_in = 1``) or a 3x3 kernel that ``winograd.applies`` to (``MINITORCH_CNN_WINOGRAD=1``)."""
    return is_enabled() and (
        conv_shifted.use_shifted(x.shape, w.shape, window.stride, window.pads, window.groups)
        or _winograd_applies(x, w, window))


def conv_forward(ctx: Any, x: Any, w: Any, b: Any, window: Any) -> Any:
    """``conv(x, w) + b`` by ``winograd`` where ``winograd.applies``, else by ``conv_shifted``; saves
    the padded input the kernel built (all the weight gradient needs) and the weight, each only when
    its gradient is needed. ``ctx.fast_kernel`` holds the kernel's geometry (a ``WinogradPlan`` or a
    ``ShiftedGrid``): the backward dispatches on it."""
    unbatched = x.ndim == w.ndim - 1
    if unbatched:
        x = x[None]
    if _winograd_applies(x, w, window):
        y, X, plan = winograd.winograd_forward(x, w, window.pads)
        if b is not None:
            y += b.reshape((1, -1) + (1,) * (w.ndim - 2))
    else:  # the bias is added block by block, in cache
        y, X, plan = conv_shifted.shifted_forward(x, w, window.pads, window.dilation, b)
    need_x, need_w = ctx.needs_input_grad[:2]
    if any(ctx.needs_input_grad):
        ctx.save_for_backward(X if need_w else None, w if need_x else None)
    ctx.fast_kernel = plan
    ctx.w_shape = tuple(w.shape)
    ctx.unbatched = unbatched
    ctx.has_bias = b is not None
    return y[0] if unbatched else y


def conv_backward(ctx: Any, gy: Any) -> tuple:
    """``(grad_x, grad_w, grad_b)`` of ``conv_forward``: ``winograd.winograd_backward`` or
    ``conv_shifted.shifted_backward``, whichever kernel the forward took."""
    X, w = ctx.saved_tensors
    if ctx.unbatched:
        gy = gy[None]
    need_x, need_w = ctx.needs_input_grad[:2]
    w, X = (w if need_x else None), (X if need_w else None)
    if isinstance(ctx.fast_kernel, winograd.WinogradPlan):
        gx, gw = winograd.winograd_backward(gy, w, X, ctx.fast_kernel)
    else:
        gx, gw = conv_shifted.shifted_backward(gy, w, X, ctx.w_shape, ctx.fast_kernel)
    if gx is not None and ctx.unbatched:
        gx = gx[0]
    gb = None
    if ctx.has_bias and ctx.needs_input_grad[2]:
        # summed here, not beside the weight gradient's blocks (tried): that order rounds differently,
        # and a 1e-8 change in the bias gradients moved README's default run from 95.4% to 93.5% (a
        # short run on 8,000 images is chaotic), for about 1 ms a step
        gb = gy.reshape(gy.shape[0], gy.shape[1], math.prod(gy.shape[2:])).sum(axis=2).sum(axis=0)
    return gx, gw, gb


# --------------------------------------------------------------------------------------------------
# ReLU
# --------------------------------------------------------------------------------------------------
def relu_applies(a: Any) -> bool:
    """A NumPy activation big enough to share out over the pool (``relu.relu_pays``)."""
    return is_enabled() and relu.relu_pays(a)


def relu_forward(ctx: Any, a: Any) -> Any:
    """``max(a, 0)`` in pieces over the threads; saves the output, as the textbook forward does."""
    out = relu.relu_forward_array(a)
    ctx.save_for_backward(out)
    ctx.fast_kernel = "relu"
    return out


def relu_backward(ctx: Any, g: Any) -> Any:
    (out,) = ctx.saved_tensors
    return relu.relu_backward_array(g, out)


# --------------------------------------------------------------------------------------------------
# Max pooling: 2x2, stride 2
# --------------------------------------------------------------------------------------------------
def max_pool_applies(x: Any, window: Any, return_indices: bool) -> bool:
    """The CNN's ``max_pool2d(2)`` on a batched input: 2x2 windows, stride 2, no padding or dilation
    (``return_indices`` stays with the textbook path, which numbers the arg-max)."""
    return (is_enabled() and x.ndim == 4 and not return_indices
            and pool2x2.is_2x2_pooling(window.kernel, window.stride, window.dilation, window.pads))


def max_pool_forward(ctx: Any, x: Any, window: Any) -> Any:
    """The window maxima; the arg-max state (two bool arrays) only when a gradient will flow."""
    need = ctx.needs_input_grad[0]
    y, lower, right = pool2x2.max_pool_2x2_forward_array(x, window.out, need)
    ctx.save_for_backward(*((lower, right) if need else ()))
    ctx.fast_kernel = tuple(x.shape)
    return y


def max_pool_backward(ctx: Any, gy: Any) -> Any:
    return pool2x2.max_pool_2x2_backward_array(gy, *ctx.saved_tensors, ctx.fast_kernel)


# --------------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------------
def batch_norm_applies(x: Any) -> bool:
    """Every ``(N, C, *)`` input: the chunked kernels equal the formulas at any size."""
    return is_enabled() and x.ndim >= 2


def batch_norm_forward(ctx: Any, x: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any,
                       use_batch_stats: bool, momentum: float, eps: float) -> Any:
    """``BatchNormFunction.forward`` (same arguments, same running-statistics update), its sweeps
    done by ``batchnorm.py``'s chunked kernels."""
    xp = get_array_module(x)
    C = x.shape[1]
    m = x.size // C
    one = x.dtype.type
    saving = any(ctx.needs_input_grad[:3])
    if use_batch_stats:
        y, xhat, mean, var, invstd = batchnorm.batch_norm_train_array(x, weight, bias, eps)
        if running_mean is not None:  # as in the textbook forward: unbiased variance in the running stats
            running_mean *= 1 - momentum
            running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
            unbiased = var * (m / (m - 1)) if m > 1 else var
            running_var *= 1 - momentum
            running_var += momentum * unbiased.astype(running_var.dtype, copy=False)
        ctx.save_for_backward(*((xhat, weight, invstd) if saving else ()))
    else:
        mean = running_mean.astype(x.dtype, copy=False)
        invstd = 1 / xp.sqrt(running_var.astype(x.dtype, copy=False) + one(eps))
        scale = invstd if weight is None else weight * invstd
        shift = -mean * scale if bias is None else bias - mean * scale
        y = batchnorm.batch_norm_eval_array(x, scale, shift)
        ctx.save_for_backward(*((x, weight, invstd, mean) if saving else ()))
    ctx.fast_kernel = "batch_stats" if use_batch_stats else "running_stats"
    return y


def batch_norm_backward(ctx: Any, g: Any) -> tuple:
    """``(dx, dgamma, dbeta, None, None)``: ``dx = coef * (g - dbeta/m - xhat * dgamma/m)`` with
    ``coef = gamma / sqrt(var + eps)``, as one fused sweep (``batchnorm.batch_norm_update_array``)."""
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    bshape = (1, g.shape[1]) + (1,) * (g.ndim - 2)
    if ctx.fast_kernel == "batch_stats":
        xhat, weight, invstd = ctx.saved_tensors
        coef = invstd if weight is None else weight * invstd
        dbeta, dgamma = batchnorm.batch_norm_sums_array(g, xhat)
        gx = None
        if need_x:
            inv_m = g.dtype.type(1.0 / max(g.size // g.shape[1], 1))
            gx = batchnorm.batch_norm_update_array(g, xhat, coef, coef * dgamma * inv_m, coef * dbeta * inv_m)
    else:
        x, weight, invstd, mean = ctx.saved_tensors
        coef = invstd if weight is None else weight * invstd
        gx = g * coef.reshape(bshape) if need_x else None
        dbeta = batchnorm.channel_sum(g) if need_b else None
        dgamma = (batchnorm.channel_dot(g, (x - mean.reshape(bshape)) * invstd.reshape(bshape))
                  if need_w else None)
    gw = dgamma if (need_w and weight is not None) else None
    gb = dbeta if need_b else None
    return gx, gw, gb, None, None


# --------------------------------------------------------------------------------------------------
# Optimizers: Adam / AdamW
# --------------------------------------------------------------------------------------------------
def adam_applies(optimizer: Any, group: dict) -> bool:
    """NumPy float parameters (contiguous) with at least ``optim.MIN_FUSED_ELEMENTS`` elements that
    have a gradient, and state that is empty or moments shaped like them (``optim.adam_applies``)."""
    return is_enabled() and optim.adam_applies(optimizer, group)


def adam_update(optimizer: Any, group: dict) -> None:
    """``Adam._update_group(group)``: the same statements, fused per cache-sized chunk over the pool."""
    optim.adam_update(optimizer, group)
