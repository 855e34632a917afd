"""Element-wise ops with NumPy broadcasting.

For ``z = f(x, y)`` applied element by element, the chain rule is element-wise too:
``dL/dx = dL/dz * df/dx``. When ``x`` was broadcast to ``z``'s shape, the gradient is summed back
over the broadcast axes (``unbroadcast``), so it always has exactly ``x``'s shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import fast
from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_number, check_tensor
from ._util import unbroadcast

if TYPE_CHECKING:
    from ..tensors import Tensor


def _check_binary(op: str, a: Any, b: Any) -> tuple[Any, ...]:
    """Refuse dtype mixes and non-broadcastable shapes with a message that names both."""
    a_arr = hasattr(a, "shape")
    b_arr = hasattr(b, "shape")
    if a_arr and b_arr:
        if a.dtype != b.dtype:
            raise TypeError(
                f"{op}: dtype mismatch, {a.dtype} and {b.dtype}. minitorch_cnn does not promote "
                f"dtypes implicitly; convert one side first, e.g. .to({a.dtype}) or .float()"
            )
        try:
            return tuple(get_array_module(a, b).broadcast_shapes(a.shape, b.shape))
        except ValueError:
            raise ValueError(
                f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together "
                "(trailing dimensions must be equal or 1)"
            ) from None
    return ()


class AddFunction(Function):
    """``a + b``: d/da = 1, d/db = 1 (each summed back over broadcast axes)."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("add", a, b)
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return a + b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        sa, sb = ctx.shapes
        return (
            unbroadcast(g, sa) if ctx.needs_input_grad[0] else None,
            unbroadcast(g, sb) if ctx.needs_input_grad[1] else None,
        )


class SubFunction(Function):
    """``a - b``: d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("sub", a, b)
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return a - b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        sa, sb = ctx.shapes
        return (
            unbroadcast(g, sa) if ctx.needs_input_grad[0] else None,
            unbroadcast(-g, sb) if ctx.needs_input_grad[1] else None,
        )


class MulFunction(Function):
    """``a * b``: d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("mul", a, b)
        # BEGIN SOLUTION 1.1
        ctx.save_for_backward(a, b)
        return a * b
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        # BEGIN SOLUTION 1.1
        a, b = ctx.saved_tensors
        return (
            unbroadcast(g * b, a.shape) if ctx.needs_input_grad[0] else None,
            unbroadcast(g * a, b.shape) if ctx.needs_input_grad[1] else None,
        )
        # END SOLUTION


class DivFunction(Function):
    """``a / b``: d/da = 1 / b, d/db = -a / b^2."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("div", a, b)
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        a, b = ctx.saved_tensors
        ga = unbroadcast(g / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class PowFunction(Function):
    """``a ** b``: d/da = b a^(b-1); d/db = a^b ln a (only where a > 0)."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("pow", a, b)
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        a, b, out = ctx.saved_tensors
        xp = get_array_module(a, b)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g * b * a ** (b - 1), getattr(a, "shape", ()))
        if ctx.needs_input_grad[1]:
            safe = xp.where(a > 0, a, 1)
            gb = unbroadcast(g * out * xp.log(safe) * (a > 0), b.shape)
        return ga, gb


class MaximumFunction(Function):
    """Element-wise max: d/da = 1 where a > b, d/db = 1 where b > a; ties split it evenly (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("maximum", a, b)
        ctx.save_for_backward(a, b)
        return get_array_module(a, b).maximum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        a, b = ctx.saved_tensors
        return _split_grad(ctx, g, a, b, a > b)


class MinimumFunction(Function):
    """Element-wise min: d/da = 1 where a < b (1/2 on ties), d/db the rest."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check_binary("minimum", a, b)
        ctx.save_for_backward(a, b)
        return get_array_module(a, b).minimum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        a, b = ctx.saved_tensors
        return _split_grad(ctx, g, a, b, a < b)


def _split_grad(ctx: Context, g: Any, a: Any, b: Any, a_wins: Any) -> tuple:
    tie = (a == b) * 0.5
    wa = a_wins + tie
    ga = unbroadcast(g * wa.astype(g.dtype), getattr(a, "shape", ())) if ctx.needs_input_grad[0] else None
    gb = unbroadcast(g * (1 - wa).astype(g.dtype), getattr(b, "shape", ())) if ctx.needs_input_grad[1] else None
    return ga, gb


class WhereFunction(Function):
    """``where(cond, a, b)``: d/da = cond, d/db = not cond (no gradient for cond)."""

    @staticmethod
    def forward(ctx: Context, cond: Any, a: Any, b: Any) -> Any:
        _check_binary("where", a, b)
        xp = get_array_module(cond, a, b)
        ctx.save_for_backward(cond)
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        zero = g.dtype.type(0)
        xp = get_array_module(g)
        ga = unbroadcast(xp.where(cond, g, zero), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(xp.where(cond, zero, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


# --- unary -----------------------------------------------------------------------------------------
class NegFunction(Function):
    """``-a``: d/da = -1."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return -g


class ExpFunction(Function):
    """``e^a``: d/da = e^a (the saved output)."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        # BEGIN SOLUTION 1.2
        out = get_array_module(a).exp(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        # BEGIN SOLUTION 1.2
        (out,) = ctx.saved_tensors
        return g * out
        # END SOLUTION


class LogFunction(Function):
    """``ln a``: d/da = 1 / a."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return get_array_module(a).log(a)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (a,) = ctx.saved_tensors
        return g / a


class SqrtFunction(Function):
    """``sqrt(a)``: d/da = 1 / (2 sqrt(a)) (from the saved output)."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = get_array_module(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class AbsFunction(Function):
    """``|a|``: d/da = sign(a) (0 at a = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return get_array_module(a).abs(a)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (a,) = ctx.saved_tensors
        return g * get_array_module(a).sign(a)


class ClampFunction(Function):
    """Clip to [min, max]: d/da = 1 where min <= a <= max, else 0."""

    @staticmethod
    def forward(ctx: Context, a: Any, min: float | None = None, max: float | None = None) -> Any:  # noqa: A002
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        xp = get_array_module(a)
        if ctx.needs_backward:  # the mask is only for backward
            inside = xp.ones(a.shape, dtype=bool)
            if min is not None:
                inside &= a >= min
            if max is not None:
                inside &= a <= max
            ctx.save_for_backward(inside)
        return xp.clip(a, min, max).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (inside,) = ctx.saved_tensors
        return g * inside


class MaskedFillFunction(Function):
    """``value`` where ``mask`` holds, ``a`` elsewhere (``masked_fill``): d/da = 1 where the mask is False, else 0."""

    @staticmethod
    def forward(ctx: Context, a: Any, mask: Any, value: float = 0) -> Any:
        xp = get_array_module(a)
        if ctx.needs_backward:
            ctx.save_for_backward(mask)
        return xp.where(mask, a.dtype.type(value), a)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        (mask,) = ctx.saved_tensors
        return get_array_module(g).where(mask, g.dtype.type(0), g), None


class FillFunction(Function):
    """Every element set to ``value`` (``fill_`` / ``zero_``): d/da = 0."""

    @staticmethod
    def forward(ctx: Context, a: Any, value: float = 0) -> Any:
        return get_array_module(a).full(a.shape, value, dtype=a.dtype)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return None


class CopyFunction(Function):
    """``src`` broadcast to the shape of ``a`` (``a.copy_(src)``): d/da = 0, d/dsrc = 1 (summed over broadcast)."""

    @staticmethod
    def forward(ctx: Context, a: Any, src: Any) -> Any:
        ctx.src_shape = src.shape
        return get_array_module(a).broadcast_to(src, a.shape)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        return None, unbroadcast(g, ctx.src_shape) if ctx.needs_input_grad[1] else None


class ReLUFunction(Function):
    """``max(a, 0)``: d/da = 1 where a > 0, else 0."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        if fast.relu_applies(a):
            return fast.relu_forward(ctx, a)
        # BEGIN SOLUTION 1.6
        out = get_array_module(a).maximum(a, 0)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        if fast.took(ctx):
            return fast.relu_backward(ctx, g)
        # BEGIN SOLUTION 1.6
        (out,) = ctx.saved_tensors
        return g * (out > 0)
        # END SOLUTION


class LeakyReLUFunction(Function):
    """``a`` where a > 0, else ``slope * a``: d/da = 1 or slope."""

    @staticmethod
    def forward(ctx: Context, a: Any, negative_slope: float = 0.01) -> Any:
        xp = get_array_module(a)
        positive = a > 0
        ctx.save_for_backward(positive)
        ctx.slope = negative_slope
        return xp.where(positive, a, a * a.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (positive,) = ctx.saved_tensors
        xp = get_array_module(g)
        return xp.where(positive, g, g * g.dtype.type(ctx.slope))


class SigmoidFunction(Function):
    """s = 1 / (1 + e^-x), computed without overflow; ds/dx = s (1 - s)."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        xp = get_array_module(a)
        e = xp.exp(-xp.abs(a))  # in (0, 1]: never overflows
        out = xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (s,) = ctx.saved_tensors
        return g * s * (1 - s)


class TanhFunction(Function):
    """``tanh(a)``: d/da = 1 - tanh(a)^2."""

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = get_array_module(a).tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (t,) = ctx.saved_tensors
        return g * (1 - t * t)


class SoftmaxFunction(Function):
    """softmax(x)_i = e^(x_i - max x) / sum_j e^(x_j - max x).

    Backward: dL/dx = s * (g - sum(g * s)) along ``dim`` (the Jacobian diag(s) - s s^T applied to g).
    """

    @staticmethod
    def forward(ctx: Context, a: Any, dim: int = -1) -> Any:
        if a.size == 0:  # nothing to normalise (and max() of an empty axis would fail)
            ctx.save_for_backward(a)
            ctx.dim = dim
            return a.copy()
        xp = get_array_module(a)
        e = xp.exp(a - a.max(axis=dim, keepdims=True))
        out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        # BEGIN SOLUTION 1.7
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(axis=ctx.dim, keepdims=True))
        # END SOLUTION


class LogSoftmaxFunction(Function):
    """log_softmax(x) = x - max - log sum e^(x - max) (stable); dL/dx = g - softmax * sum(g)."""

    @staticmethod
    def forward(ctx: Context, a: Any, dim: int = -1) -> Any:
        if a.size == 0:  # nothing to normalise (and max() of an empty axis would fail)
            ctx.save_for_backward(a)
            ctx.dim = dim
            return a.copy()
        xp = get_array_module(a)
        shifted = a - a.max(axis=dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        xp = get_array_module(out)
        return g - xp.exp(out) * g.sum(axis=ctx.dim, keepdims=True)


# --------------------------------------------------------------------------------------------------
# Tensor-level entry points of the activations that have no Tensor method
# --------------------------------------------------------------------------------------------------
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    check_tensor(input, "input", "leaky_relu")
    check_number("leaky_relu", "negative_slope", negative_slope)
    return LeakyReLUFunction.apply(input, negative_slope=negative_slope)
