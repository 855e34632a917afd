"""Loss functions, each ONE graph node with a hand-derived backward (``F.cross_entropy``, ``nn.MSELoss``, ...).

Writing ``cross_entropy`` as ``log_softmax`` + indexing + ``mean`` would work, but every small op
allocates arrays and adds a node; a fused loss is faster and reads as one node in the graph
(``CrossEntropyLossBackward``). Each class is named after PyTorch's loss layer + ``Function``
(``nn.MSELoss`` -> ``MSELossFunction``, whose node is ``MSELossBackward``); the Tensor-level entry
points at the end of this file (``cross_entropy``, ``nll_loss``, ..., re-exported by ``nn.functional``)
validate the Tensors and call ``.apply``; ``nn/loss.py`` holds the options.

* classification, from class scores: ``CrossEntropyLossFunction`` (logits), ``NLLLossFunction``
  (log-probabilities); both write every variant as ``l_i = -sum_c a_ic log p_ic``;
* element-wise: ``MSELossFunction``, ``L1LossFunction``, ``BCEWithLogitsLossFunction`` (stable
  for any logit), ``BCELossFunction`` (probabilities, logs clamped at -100 as PyTorch does).

Derivations, in the notation of each docstring, are given next to the code that implements them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_float, check_number, check_same_dtype, check_tensor

if TYPE_CHECKING:
    from ..tensors import Tensor

__all__ = [
    "CrossEntropyLossFunction",
    "NLLLossFunction",
    "MSELossFunction",
    "L1LossFunction",
    "BCEWithLogitsLossFunction",
    "BCELossFunction",
    "check_reduction",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy",
]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r} is not valid; use 'none', 'mean' or 'sum'")


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
    check_same_dtype(fn, x, weight, ("input", "weight"))


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


class CrossEntropyLossFunction(Function):
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
        check_float(fn, "input", z)
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
            check_same_dtype(fn, z, target, ("input", "target"))
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


class NLLLossFunction(Function):
    """Negative log likelihood of log-probabilities ``x (N, C, *)``: ``l_i = -w_{y_i} x_{i, y_i}``.

    Backward: ``dl_i/dx_ij = -w_{y_i} [j == y_i]`` (0 for ignored targets).
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, target: Any, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> Any:
        fn = "nll_loss"
        check_reduction(reduction, fn)
        check_float(fn, "input", x)
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
    check_float(fn, "input", x)
    check_same_dtype(fn, x, t, ("input", "target"))


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


class MSELossFunction(Function):
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


class BCEWithLogitsLossFunction(Function):
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
            check_same_dtype(fn, x, extra, ("input", name))
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


class BCELossFunction(Function):
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


# --------------------------------------------------------------------------------------------------
# Tensor-level entry points (F.cross_entropy, ...)
# --------------------------------------------------------------------------------------------------
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``(N, C)`` / ``(N, C, d1, ...)`` and class indices ``(N, d1, ...)``
    or class probabilities (same shape as the input).

    ``loss_i = -w_{y_i} log softmax(x_i)_{y_i}``; ``'mean'`` divides by ``sum_i w_{y_i}`` over targets
    that are not ``ignore_index``. ``label_smoothing = s`` mixes the target with the uniform distribution:
    ``(1 - s) onehot + s / C``.
    """
    check_tensor(input, "input", "cross_entropy")
    check_tensor(target, "target", "cross_entropy")
    _check_class_target("cross_entropy", input, target)
    check_number("cross_entropy", "label_smoothing", label_smoothing, 0.0, 1.0)
    return CrossEntropyLossFunction.apply(
        input, target, weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )


def _check_class_target(fn: str, input: Tensor, target: Tensor) -> None:
    """A float target shaped like class indices is almost always ``y`` loaded as floats."""
    index_shape = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
    if target.dtype.kind == "f" and input.ndim >= 2 and tuple(target.shape) == index_shape:
        raise TypeError(
            f"{fn}: target has dtype {target.dtype} and shape {tuple(target.shape)}, the shape of class indices; "
            "class indices must be integers: use target.long() (class probabilities would have the input's "
            f"shape {tuple(input.shape)})"
        )


def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log likelihood of log-probabilities ``(N, C, *)`` (e.g. the output of ``log_softmax``)."""
    check_tensor(input, "input", "nll_loss")
    check_tensor(target, "target", "nll_loss")
    _check_class_target("nll_loss", input, target)
    return NLLLossFunction.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``(x - y)^2``, averaged (or summed) over all elements."""
    check_tensor(input, "input", "mse_loss")
    check_tensor(target, "target", "mse_loss")
    return MSELossFunction.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``|x - y|``, averaged (or summed) over all elements."""
    check_tensor(input, "input", "l1_loss")
    check_tensor(target, "target", "l1_loss")
    return L1LossFunction.apply(input, target, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross entropy in one stable step: ``-[pw y log s(x) + (1 - y) log(1 - s(x))]``."""
    check_tensor(input, "input", "binary_cross_entropy_with_logits")
    check_tensor(target, "target", "binary_cross_entropy_with_logits")
    return BCEWithLogitsLossFunction.apply(input, target, weight, pos_weight, reduction=reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """``-w [t log x + (1 - t) log(1 - x)]`` for probabilities ``x`` (e.g. after a sigmoid), logs
    clamped at -100. Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is stabler."""
    fn = "binary_cross_entropy"
    check_tensor(input, "input", fn)
    check_tensor(target, "target", fn)
    check_reduction(reduction, fn)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{fn}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)}")
    if input.dtype.kind != "f" or target.dtype != input.dtype:
        raise TypeError(f"{fn}: input and target must be floating point of one dtype, got {input.dtype} and "
                        f"{target.dtype}; call .float() on both")
    if weight is not None:
        check_tensor(weight, "weight", fn)
        if tuple(np.broadcast_shapes(tuple(weight.shape), tuple(input.shape))) != tuple(input.shape):
            raise ValueError(f"{fn}: weight of shape {tuple(weight.shape)} cannot be broadcast to the input's "
                             f"shape {tuple(input.shape)}")
    if input.numel() and (float(input.min().item()) < 0 or float(input.max().item()) > 1):
        raise ValueError(f"{fn}: all elements of input should be between 0 and 1 (probabilities), got "
                         f"[{float(input.min().item())}, {float(input.max().item())}]; apply a sigmoid, or "
                         "use binary_cross_entropy_with_logits on the raw scores")
    return BCELossFunction.apply(input, target, weight, reduction=reduction)
