"""Fused neural-network kernels: each is ONE graph node with a hand-derived backward.

Writing ``cross_entropy`` as ``log_softmax`` + indexing + ``mean`` would work, but every small op
allocates arrays and adds a node; for the training step of a CNN these fused kernels are both faster
and easier to read in the graph (``CrossEntropyBackward``, ``BatchNormBackward``).

Derivations, in the notation of each docstring, are given next to the code that implements them.
"""

from __future__ import annotations

import math
from typing import Any

from .. import fast
from ..autograd import Context, Function
from ..backend import get_array_module

__all__ = [
    "LinearFunction",
    "BatchNormFunction",
    "DropoutFunction",
    "CrossEntropyFunction",
    "NllLossFunction",
    "MseLossFunction",
    "L1LossFunction",
    "BCEWithLogitsFunction",
    "check_reduction",
]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r} is not valid; use 'none', 'mean' or 'sum'")


def _check_float(fn: str, name: str, a: Any) -> None:
    if a.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be a floating point tensor, got dtype {a.dtype}; call .float() on it")


def _check_same_dtype(fn: str, a: Any, b: Any, names: tuple[str, str]) -> None:
    if a.dtype != b.dtype:
        raise TypeError(
            f"{fn}: {names[0]} has dtype {a.dtype} but {names[1]} has dtype {b.dtype}; "
            f"convert one, e.g. {names[1]}.to({a.dtype})"
        )


# --------------------------------------------------------------------------------------------------
# Linear
# --------------------------------------------------------------------------------------------------
class LinearFunction(Function):
    """``y = x W^T + b`` for ``x (*, in)``, ``W (out, in)``, ``b (out,)`` -> ``y (*, out)``.

    Backward (with ``G = dL/dy`` flattened to ``(M, out)``): ``dL/dx = G W``, ``dL/dW = G^T x``,
    ``dL/db = sum_rows G``.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any = None) -> Any:
        if w.ndim != 2:
            raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(w.shape)}")
        if x.ndim < 1 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input shape {tuple(x.shape)} does not match weight shape {tuple(w.shape)}: the "
                f"last input dimension must equal in_features={w.shape[1]} (flatten the input first?)"
            )
        if b is not None and tuple(b.shape) != (w.shape[0],):
            raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {tuple(b.shape)}")
        _check_same_dtype("linear", x, w, ("input", "weight"))
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        y = fast.matmul(x2, w.T)
        if b is not None:
            y += b
        if any(ctx.needs_input_grad):  # dx needs w, dW needs x
            ctx.save_for_backward(x2 if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.lead = lead
        return y.reshape(*lead, w.shape[0])

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        x2, w = ctx.saved_tensors
        g2 = g.reshape(-1, g.shape[-1])
        gx = fast.matmul(g2, w).reshape(*ctx.lead, w.shape[1]) if ctx.needs_input_grad[0] else None
        gw = fast.matmul(g2.T, x2) if ctx.needs_input_grad[1] else None
        gb = g2.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return gx, gw, gb


# --------------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------------
def _channel_sum(a: Any) -> Any:
    """Sum over every axis except 1 (the channel axis), ``(N, C, *) -> (C,)``, keeping the channel
    axis as size 1 in front of the others: ``(1, C, 1, ...)``, ready to broadcast against ``a``."""
    return a.sum(axis=(0, *range(2, a.ndim)), keepdims=True)


class BatchNormFunction(Function):
    """Batch normalisation of ``x (N, C, *)`` per channel ``c``.

    Forward, with ``m = N * prod(*)`` values per channel::

        mu = mean(x), var = mean((x - mu)^2)   (biased)   -- or the running stats in eval mode
        xhat = (x - mu) / sqrt(var + eps),   y = gamma * xhat + beta

    In training the running statistics are updated in place, with the *unbiased* variance::

        running_mean = (1 - momentum) running_mean + momentum mu
        running_var  = (1 - momentum) running_var  + momentum var * m / (m - 1)

    Backward (batch statistics, so mu and var depend on x)::

        dbeta = sum(g), dgamma = sum(g xhat)
        dx = gamma / sqrt(var + eps) * (g - dbeta / m - xhat * dgamma / m)

    With running statistics mu and var are constants and ``dx = gamma / sqrt(var + eps) * g``.
    The first line of each method is the seam to the chunked, threaded kernels (``fast/batchnorm.py``:
    the same formulas, fewer trips through memory). Nothing is saved for backward when no input
    needs a gradient (evaluation under ``no_grad``).
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        weight: Any,
        bias: Any,
        running_mean: Any = None,
        running_var: Any = None,
        *,
        use_batch_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Any:
        if fast.batch_norm_applies(x):
            return fast.batch_norm_forward(ctx, x, weight, bias, running_mean, running_var, use_batch_stats,
                                           momentum, eps)
        xp = get_array_module(x)
        C = x.shape[1]
        m = x.size // C
        one = x.dtype.type
        bshape = (1, C) + (1,) * (x.ndim - 2)
        if use_batch_stats:
            mean = _channel_sum(x) / one(max(m, 1))
            centred = x - mean
            var = _channel_sum(centred * centred) / one(max(m, 1))  # two passes: precise in float32
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(C).astype(running_mean.dtype, copy=False)
                unbiased = var * (m / (m - 1)) if m > 1 else var
                running_var *= 1 - momentum
                running_var += momentum * unbiased.reshape(C).astype(running_var.dtype, copy=False)
        else:
            mean = running_mean.astype(x.dtype, copy=False).reshape(bshape)
            var = running_var.astype(x.dtype, copy=False).reshape(bshape)
            centred = x - mean
        invstd = 1 / xp.sqrt(var + one(eps))
        xhat = centred * invstd
        y = xhat if weight is None else xhat * weight.reshape(bshape)
        if bias is not None:
            y = y + bias.reshape(bshape)
        if any(ctx.needs_input_grad[:3]):
            ctx.save_for_backward(xhat, weight, invstd)
        ctx.use_batch_stats = use_batch_stats
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        if fast.took(ctx):
            return fast.batch_norm_backward(ctx, g)
        xhat, weight, invstd = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        C = g.shape[1]
        coef = invstd if weight is None else weight.reshape(invstd.shape) * invstd  # gamma / sqrt(var + eps)
        dbeta = _channel_sum(g)  # (1, C, 1, ...)
        dgamma = _channel_sum(g * xhat)
        gx = None
        if need_x and not ctx.use_batch_stats:
            gx = coef * g  # running statistics: mu and var are constants
        elif need_x:
            # BEGIN SOLUTION 3.7
            m = max(g.size // C, 1)
            gx = coef * (g - dbeta / m - xhat * (dgamma / m))
            # END SOLUTION
        gw = dgamma.reshape(C) if (need_w and weight is not None) else None
        gb = dbeta.reshape(C) if need_b else None
        return gx, gw, gb, None, None


# --------------------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------------------
class DropoutFunction(Function):
    """``y = x * mask`` with a precomputed ``mask`` of zeros and ``1 / (1 - p)``; ``dL/dx = g * mask``.

    The mask (drawn by ``nn.functional.dropout`` from the seeded generator) may broadcast, e.g.
    ``(N, C, 1, 1)`` for ``Dropout2d``, which zeroes whole channels.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, mask: Any) -> Any:
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (mask,) = ctx.saved_tensors
        return g * mask, None


# --------------------------------------------------------------------------------------------------
# Classification losses
# --------------------------------------------------------------------------------------------------
def _class_last(a: Any) -> Any:
    """``(N, C, d1, ...) -> (N * d1 * ..., C)``: one row per prediction."""
    if a.ndim == 2:
        return a
    xp = get_array_module(a)
    return xp.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _class_back(a2: Any, shape: tuple) -> Any:
    """Inverse of ``_class_last`` for an array of the original ``shape``."""
    if len(shape) == 2:
        return a2
    xp = get_array_module(a2)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.ascontiguousarray(xp.moveaxis(a2.reshape(moved), -1, 1))


def _index_target_coeffs(
    fn: str, shape: tuple, target: Any, weight: Any, ignore_index: int, smoothing: float, dtype: Any
) -> tuple:
    """Per-row coefficients for losses of the form ``l_i = -sum_c a_ic logp_ic`` with class-index targets.

    ``a_ic = (1 - s) w_{y_i} [c == y_i] + (s / C) w_c``, and 0 for ignored rows. Returns ``(a, denom)``
    where ``denom = sum over kept rows of w_{y_i}``, PyTorch's divisor for ``reduction='mean'``.
    """
    xp = get_array_module(target)
    C = shape[1]
    expected = (shape[0],) + tuple(shape[2:])
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: class-index target must be an integer tensor, got dtype {target.dtype}; use .long() "
            "(or pass class probabilities with the same shape as the input)"
        )
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{fn}: input of shape {shape} expects a target of shape {expected} (class indices), "
            f"got {tuple(target.shape)}"
        )
    y = target.reshape(-1)
    ignored = y == ignore_index
    bad = ((y < 0) | (y >= C)) & ~ignored
    if bool(bad.any()):
        bad_vals = xp.unique(y[bad])[:5]
        raise ValueError(
            f"{fn}: target contains class indices {bad_vals.tolist()} outside [0, {C - 1}] for an input "
            f"with {C} classes (ignore_index={ignore_index})"
        )
    safe_y = xp.where(ignored, 0, y)
    keep = (~ignored).astype(dtype)
    w_row = keep if weight is None else weight[safe_y] * keep
    M = y.shape[0]
    a = xp.zeros((M, C), dtype=dtype)
    a[xp.arange(M), safe_y] = w_row * dtype.type(1.0 - smoothing)
    if smoothing > 0:
        per_class = xp.full((C,), smoothing / C, dtype=dtype) if weight is None else weight * dtype.type(smoothing / C)
        a += per_class[None, :] * keep[:, None]
    return a, w_row.sum()


def _check_weight(fn: str, weight: Any, C: int, x: Any) -> None:
    if weight is None:
        return
    if tuple(weight.shape) != (C,):
        raise ValueError(f"{fn}: weight must have one entry per class, shape ({C},), got {tuple(weight.shape)}")
    _check_same_dtype(fn, x, weight, ("input", "weight"))


def _reduce_rows(loss_rows: Any, reduction: str, out_shape: tuple, denom: Any) -> Any:
    if reduction == "none":
        return loss_rows.reshape(out_shape)
    xp = get_array_module(loss_rows)
    total = loss_rows.sum()
    # NumPy reductions give scalars; a Tensor's data is always an array
    return xp.asarray(total / denom if reduction == "mean" else total)


def _row_grad(g: Any, reduction: str, M: int, denom: Any) -> Any:
    """dL/d(l_i) per row as an ``(M, 1)`` column."""
    xp = get_array_module(g)
    if reduction == "none":
        return g.reshape(M, 1)
    scale = g / denom if reduction == "mean" else g
    return xp.broadcast_to(scale.reshape(1, 1), (M, 1))


class CrossEntropyFunction(Function):
    """Cross entropy from logits ``z (N, C, *)``, i.e. log-softmax and negative log likelihood in one.

    Every variant (class weights ``w``, label smoothing ``s``, class-probability targets) is
    ``l_i = -sum_c a_ic log p_ic`` with ``p_i = softmax(z_i)`` and fixed coefficients ``a_ic``; then

        dl_i / dz_ij = (sum_c a_ic) p_ij - a_ij

    (for one-hot ``a`` this is the familiar ``p - onehot``). ``reduction='mean'`` divides by the
    summed weights of the kept targets (class indices) or by the number of rows (probabilities), as
    PyTorch does. ``log p`` is computed as ``z - max z - log sum exp(z - max z)``, which never overflows.
    """

    @staticmethod
    def forward(
        ctx: Context,
        z: Any,
        target: Any,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> Any:
        xp = get_array_module(z)
        fn = "cross_entropy"
        check_reduction(reduction, fn)
        _check_float(fn, "input", z)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
        unbatched = z.ndim == 1
        if unbatched:
            z = z.reshape(1, -1)
            target = target.reshape(1, *target.shape)
        if z.ndim < 2 or z.shape[1] == 0:
            raise ValueError(f"{fn}: input must be (C,), (N, C) or (N, C, d1, ...), got shape {tuple(z.shape)}")
        shape = tuple(z.shape)
        C = shape[1]
        _check_weight(fn, weight, C, z)
        z2 = _class_last(z)
        M = z2.shape[0]
        shifted = z2 - z2.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        logp = shifted - xp.log(s)
        p = e / s
        prob_target = target.dtype.kind == "f"
        if prob_target:
            if tuple(target.shape) != shape:
                raise ValueError(
                    f"{fn}: class-probability target must have the input's shape {shape}, got {tuple(target.shape)}"
                )
            _check_same_dtype(fn, z, target, ("input", "target"))
            t2 = _class_last(target)
            if label_smoothing > 0:
                t2 = t2 * z.dtype.type(1 - label_smoothing) + z.dtype.type(label_smoothing / C)
            a = t2 if weight is None else t2 * weight[None, :]
            denom = z.dtype.type(M)
        else:
            a, denom = _index_target_coeffs(fn, shape, target, weight, ignore_index, label_smoothing, z.dtype)
        loss_rows = -(a * logp).sum(axis=1)
        out_shape = (shape[0],) + shape[2:]
        if unbatched:
            out_shape = ()
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(p, a, logp if prob_target else None, weight)
        ctx.meta = (reduction, denom, shape, unbatched, prob_target, label_smoothing)
        return _reduce_rows(loss_rows, reduction, out_shape, denom).astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        p, a, logp, weight = ctx.saved_tensors
        reduction, denom, shape, unbatched, prob_target, smoothing = ctx.meta
        M = p.shape[0]
        gi = _row_grad(g, reduction, M, denom)
        gz = gt = None
        if ctx.needs_input_grad[0]:
            gz2 = (a.sum(axis=1, keepdims=True) * p - a) * gi
            gz = _class_back(gz2, shape)
            if unbatched:
                gz = gz.reshape(shape[1])
        if prob_target and ctx.needs_input_grad[1]:
            # l_i = -sum_c ((1 - s) t_ic + s / C) w_c logp_ic  =>  dl_i/dt_ic = -(1 - s) w_c logp_ic
            coef = -logp * p.dtype.type(1 - smoothing)
            if weight is not None:
                coef = coef * weight[None, :]
            gt = _class_back(coef * gi, shape)
            if unbatched:
                gt = gt.reshape(shape[1])
        return gz, gt, None


class NllLossFunction(Function):
    """Negative log likelihood of log-probabilities ``x (N, C, *)``: ``l_i = -w_{y_i} x_{i, y_i}``.

    Backward: ``dl_i/dx_ij = -w_{y_i} [j == y_i]`` (0 for ignored targets).
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, target: Any, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> Any:
        fn = "nll_loss"
        check_reduction(reduction, fn)
        _check_float(fn, "input", x)
        unbatched = x.ndim == 1
        if unbatched:
            x = x.reshape(1, -1)
            target = target.reshape(1)
        shape = tuple(x.shape)
        _check_weight(fn, weight, shape[1], x)
        a, denom = _index_target_coeffs(fn, shape, target, weight, ignore_index, 0.0, x.dtype)
        loss_rows = -(a * _class_last(x)).sum(axis=1)
        out_shape = () if unbatched else (shape[0],) + shape[2:]
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(a)
        ctx.meta = (reduction, denom, shape, unbatched)
        return _reduce_rows(loss_rows, reduction, out_shape, denom).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (a,) = ctx.saved_tensors
        reduction, denom, shape, unbatched = ctx.meta
        gi = _row_grad(g, reduction, a.shape[0], denom)
        gx = _class_back(-a * gi, shape)
        if unbatched:
            gx = gx.reshape(shape[1])
        return gx, None, None


# --------------------------------------------------------------------------------------------------
# Element-wise losses
# --------------------------------------------------------------------------------------------------
def _check_pair(fn: str, x: Any, t: Any) -> None:
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(
            f"{fn}: input shape {tuple(x.shape)} and target shape {tuple(t.shape)} differ. Broadcasting them "
            "is almost always a bug (e.g. (N, 1) against (N,) gives an (N, N) loss); reshape one to match"
        )
    _check_float(fn, "input", x)
    _check_same_dtype(fn, x, t, ("input", "target"))


def _reduce_elems(loss: Any, reduction: str) -> Any:
    if reduction == "none":
        return loss
    xp = get_array_module(loss)
    total = loss.sum()
    return xp.asarray(total / loss.dtype.type(max(loss.size, 1)) if reduction == "mean" else total)


def _elem_grad(g: Any, reduction: str, shape: tuple, dtype: Any, weight: Any = None) -> Any:
    """dL/d(l_e) for every element ``e`` of the unreduced loss, times ``w_e`` for a weighted loss."""
    if reduction != "none":
        n = 1
        for s in shape:
            n *= s
        g = g / dtype.type(n) if reduction == "mean" else g
    return g if weight is None else g * weight


class MseLossFunction(Function):
    """``l = (x - t)^2``; ``dl/dx = 2 (x - t) = -dl/dt``."""

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, *, reduction: str = "mean") -> Any:
        check_reduction(reduction, "mse_loss")
        _check_pair("mse_loss", x, t)
        d = x - t
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(d)
        ctx.reduction = reduction
        return _reduce_elems(d * d, reduction)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (d,) = ctx.saved_tensors
        gd = 2 * d * _elem_grad(g, ctx.reduction, d.shape, d.dtype)
        return (gd if ctx.needs_input_grad[0] else None, -gd if ctx.needs_input_grad[1] else None)


class L1LossFunction(Function):
    """``l = |x - t|``; ``dl/dx = sign(x - t) = -dl/dt`` (0 where ``x == t``, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, *, reduction: str = "mean") -> Any:
        check_reduction(reduction, "l1_loss")
        _check_pair("l1_loss", x, t)
        xp = get_array_module(x)
        d = x - t
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(xp.sign(d))
        ctx.reduction = reduction
        return _reduce_elems(xp.abs(d), reduction)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (sgn,) = ctx.saved_tensors
        gd = sgn * _elem_grad(g, ctx.reduction, sgn.shape, sgn.dtype)
        return (gd if ctx.needs_input_grad[0] else None, -gd if ctx.needs_input_grad[1] else None)


class BCEWithLogitsFunction(Function):
    """Binary cross entropy on logits ``x`` with targets ``t`` in [0, 1], stable for any ``x``.

    ``l = -w [pw t log s(x) + (1 - t) log(1 - s(x))]`` with ``s`` the sigmoid, ``pw`` the positive
    class weight (broadcast along the last axis), computed as
    ``(1 - t) x + (1 + (pw - 1) t) softplus(-x)`` where ``softplus(-x) = max(-x, 0) + log(1 + e^-|x|)``.

    Backward: ``dl/dx = w [(1 + (pw - 1) t) s(x) - pw t]`` and ``dl/dt = w [(pw - 1) softplus(-x) - x]``.
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, t: Any, weight: Any = None, pos_weight: Any = None, *, reduction: str = "mean"
    ) -> Any:
        fn = "binary_cross_entropy_with_logits"
        check_reduction(reduction, fn)
        _check_pair(fn, x, t)
        xp = get_array_module(x)
        for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
            if extra is None:
                continue
            _check_same_dtype(fn, x, extra, ("input", name))
            try:
                if tuple(xp.broadcast_shapes(extra.shape, x.shape)) != tuple(x.shape):
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{fn}: {name} of shape {tuple(extra.shape)} cannot be broadcast to the input's "
                    f"shape {tuple(x.shape)}"
                ) from None
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + log_weight * softplus_neg
        if weight is not None:
            loss = loss * weight
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, t, weight, pos_weight, softplus_neg)
        ctx.reduction = reduction
        return _reduce_elems(loss, reduction)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        x, t, weight, pos_weight, softplus_neg = ctx.saved_tensors
        xp = get_array_module(x)
        ge = _elem_grad(g, ctx.reduction, x.shape, x.dtype, weight)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            e = xp.exp(-xp.abs(x))
            sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
            if pos_weight is None:
                gx = (sig - t) * ge
            else:
                gx = ((1 + (pos_weight - 1) * t) * sig - pos_weight * t) * ge
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                gt = -x * ge
            else:
                gt = ((pos_weight - 1) * softplus_neg - x) * ge
        return gx, gt, None, None


class BCEFunction(Function):
    """Binary cross entropy on probabilities ``x`` in [0, 1]: ``l = -w [t log x + (1 - t) log(1 - x)]``,
    each log clamped at -100 as PyTorch does (so ``x = 0`` or ``1`` gives a finite loss).

    ``dl/dx = w (x - t) / max(x (1 - x), 1e-12)`` (PyTorch's guarded form) and
    ``dl/dt = w [log(1 - x) - log x]`` (the clamped logs).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, weight: Any = None, *, reduction: str = "mean") -> Any:
        xp = get_array_module(x)
        tiny = x.dtype.type(math.exp(-100))  # log(max(v, e^-100)) = max(log v, -100), without log(0)
        log_x = xp.maximum(xp.log(xp.maximum(x, tiny)), -100)
        log_1mx = xp.maximum(xp.log(xp.maximum(1 - x, tiny)), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t, weight, log_x, log_1mx)
        ctx.reduction = reduction
        return _reduce_elems(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        x, t, weight, log_x, log_1mx = ctx.saved_tensors
        xp = get_array_module(x)
        ge = _elem_grad(g, ctx.reduction, x.shape, x.dtype, weight)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = ge * (x - t) / xp.maximum(x * (1 - x), x.dtype.type(1e-12))
        if ctx.needs_input_grad[1]:
            gt = ge * (log_1mx - log_x)
        return gx, gt, None
