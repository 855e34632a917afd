"""Argument checks of the ops and their layers: one function per rule, one wording per rule.

Kept apart from the arithmetic, as chainer keeps ``check_type_forward`` apart from ``forward``:
each public op calls one ``check_*`` function from here first. It validates *every* argument
before a single number is computed and returns them normalised (tuples of ints, ``(before,
after)`` padding pairs), so the compute in ``conv.py`` / ``pool.py`` / ``pad.py`` can trust them.
Every message names the op, the argument, the value it got, what was expected and how to fix it.

The pieces, smallest first:

* ``check_tensor`` -- "must be a Tensor";
* ``ntuple`` -- the one tuple normaliser: ``3 -> (3, 3)`` for a 2-d op;
* ``check_positive`` -- strides, dilations, kernel sizes >= 1 (padding >= 0);
* ``check_input_rank`` -- an ``(N, C, *spatial)`` input, or ``(C, *spatial)`` without the batch;
* ``conv_padding`` -- ``'valid'`` / ``'same'`` / ``'full'`` / numbers -> ``(before, after)`` pairs;
* ``check_conv`` / ``check_conv_transpose`` / ``pool_geometry`` / ``check_adaptive`` /
  ``check_max_unpool`` / ``pad_pairs``: one per public entry point, built from the pieces above;
* the hyper-parameter checks shared by the functional entry points and the layer constructors (which
  have no tensor yet: ``nn.Conv2d(3, 8, 3, stride=0)`` fails when it is built, not at the first forward
  pass) and the optimizers: ``check_int`` (the one bool-safe int check), ``check_number``,
  ``check_eps``, ``check_momentum``, ``check_choice``, ``check_bool``, ``check_groups_divide``,
  ``check_divisible_by_groups``, ``check_normalized_shape``, ``check_optional_dim``,
  ``check_same_dtype``, ``check_float``. ``nn/_checks.py`` re-exports them for ``nn`` and ``optim``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, Union

from .geometry import Window
from .windows import out_size

__all__ = [
    "is_int",
    "check_tensor",
    "ntuple",
    "check_positive",
    "check_input_rank",
    "conv_padding",
    "check_conv",
    "check_conv_transpose",
    "pool_geometry",
    "check_pool_args",
    "check_avg_pool",
    "check_adaptive",
    "check_max_unpool",
    "pad_pairs",
    "check_interpolate",
    "check_resize_args",
    "check_output_padding",
    "check_divisor_override",
    "check_int",
    "is_real",
    "check_number",
    "check_eps",
    "check_momentum",
    "check_choice",
    "check_bool",
    "check_groups_divide",
    "check_divisible_by_groups",
    "check_normalized_shape",
    "check_optional_dim",
    "check_same_dtype",
    "check_float",
    "PAD_MODES",
    "PADDING_STRINGS",
]

Padding = Union[int, Sequence[int], str]
PADDING_STRINGS = ("valid", "same", "full")
PAD_MODES = ("constant", "reflect", "replicate", "circular")
_DIMS = ("(N, C, L)", "(N, C, H, W)", "(N, C, D, H, W)")


# --------------------------------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------------------------------
def check_tensor(t: Any, name: str, op: str) -> None:
    """``t`` must be a Tensor (not a NumPy array or a list)."""
    from ..tensors import Tensor  # ops sit below tensors in the layering: import on use

    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}; wrap it with mt.tensor(...)")


def is_int(v: Any) -> bool:
    """An int or an integer scalar (``np.int64(3)``), but not a bool."""
    if isinstance(v, bool):
        return False
    try:
        operator.index(v)
    except TypeError:
        return False
    return True


def ntuple(value: Any, n: int, name: str, op: str) -> tuple[int, ...]:
    """``3 -> (3, 3)`` for a 2-d op; a sequence must hold exactly ``n`` ints (or one, repeated)."""
    expected = f"an int or a tuple of {n} ints"
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be {expected}, got {value!r}")
    if is_int(value) and not isinstance(value, (tuple, list)):
        return (int(value),) * n
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be {expected}, got {value!r}") from None
    if len(items) == 1:
        items = items * n
    if len(items) != n or not all(is_int(v) for v in items):
        raise ValueError(f"{op}: {name} must be {expected}, got {value!r}")
    return tuple(int(v) for v in items)


def check_positive(values: Sequence[int], name: str, op: str, allow_zero: bool = False) -> None:
    """Strides, dilations and kernel sizes must be >= 1 (padding >= 0: ``allow_zero``)."""
    bad = [v for v in values if (v < 0 if allow_zero else v < 1)]
    if bad:
        need = "non-negative" if allow_zero else "positive (>= 1)"
        raise ValueError(f"{op}: {name} must be {need}, got {tuple(values)}")


def check_input_rank(op: str, nd: int, shape: Sequence[int]) -> None:
    """An ``nd``-d op takes ``(N, C, *spatial)`` or, without the batch, ``(C, *spatial)``."""
    if len(shape) not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 2}-d input {_DIMS[nd - 1]} (or {nd + 1}-d without the batch), got shape "
            f"{tuple(shape)}; add the missing axes with x.reshape(...) or x[None]"
        )


def _check_bias(op: str, b: Any, c_out: int, dtype: Any) -> None:
    if b is None:
        return
    check_tensor(b, "bias", op)
    if tuple(b.shape) != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},) (out_channels), got {tuple(b.shape)}")
    if b.dtype != dtype:
        raise TypeError(f"{op}: bias dtype {b.dtype} differs from input dtype {dtype}; convert one of them")


# --------------------------------------------------------------------------------------------------
# Hyper-parameters: shared by the functional entry points, the layer constructors and the optimizers
# --------------------------------------------------------------------------------------------------
def check_int(owner: str, name: str, value: Any, minimum: int = 0) -> int:
    """An int (not a bool, not a float) ``>= minimum``."""
    if not is_int(value) or value < minimum:
        what = {0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return int(value)


def check_number(owner: str, name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """A finite real number in ``[low, high]`` (``(low, ...`` / ``..., high)`` when open)."""
    ok = is_real(value)
    v = float(value) if ok else math.nan
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok or not math.isfinite(v) or not inside:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{owner}: {name} must be a finite number in {lo}{low}, {high}{hi}, got {value!r}"
                         + (f"; {hint}" if hint else ""))
    return v


def _is_real_scalar(v: Any) -> bool:
    """NumPy scalars and 0-d arrays of a real dtype count as numbers."""
    return getattr(v, "shape", None) == () and getattr(getattr(v, "dtype", None), "kind", "") in "fiu"


def check_eps(owner: str, eps: Any) -> float:
    return check_number(owner, "eps", eps, 0.0, low_open=True, hint="a small positive number such as 1e-5")


def check_momentum(owner: str, momentum: Any, allow_none: bool = False) -> float | None:
    if momentum is None and allow_none:
        return None
    return check_number(owner, "momentum", momentum, 0.0, 1.0)


def check_choice(owner: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return value


def check_groups_divide(owner: str, num_groups: Any, channels: int, name: str = "num_groups") -> int:
    check_int(owner, name, num_groups, 1)
    if channels % num_groups:
        raise ValueError(f"{owner}: {name}={num_groups} must divide the number of channels {channels}; "
                         f"pick a divisor of {channels}")
    return int(num_groups)


def check_normalized_shape(owner: str, normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape``: an int or a non-empty sequence of positive ints."""
    shape = (normalized_shape,) if is_int(normalized_shape) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{owner}: normalized_shape must be an int or a tuple of ints, got "
                        f"{normalized_shape!r}") from None
    if not shape or not all(is_int(v) and v >= 1 for v in shape):
        raise ValueError(f"{owner}: normalized_shape must hold positive ints, got {normalized_shape!r}")
    return tuple(int(v) for v in shape)


def check_optional_dim(owner: str, dim: Any) -> int | None:
    """A dimension index (any int, negative counts from the end) or None."""
    if dim is not None and not is_int(dim):
        raise TypeError(f"{owner}: dim must be an int or None, got {dim!r}")
    return dim


def is_real(v: Any) -> bool:
    """A real number (int, float, or a real NumPy scalar / 0-d array), but not a bool."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) or _is_real_scalar(v)


def check_divisible_by_groups(owner: str, name: str, value: int, groups: int, where: str = "") -> None:
    """Grouped convolution: ``value`` (a channel count) must be a multiple of ``groups``."""
    if value % groups:
        raise ValueError(f"{owner}: {name}={value}{where} is not divisible by groups={groups}; use a groups "
                         "that divides both in_channels and out_channels")


def check_same_dtype(fn: str, a: Any, b: Any, names: tuple[str, str]) -> None:
    """Two operands of one op share a dtype (no silent promotion)."""
    if a.dtype != b.dtype:
        raise TypeError(
            f"{fn}: {names[0]} has dtype {a.dtype} but {names[1]} has dtype {b.dtype}; "
            f"convert one, e.g. {names[1]}.to({a.dtype})"
        )


def check_float(fn: str, name: str, a: Any) -> None:
    """A floating-point array or tensor."""
    if a.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be a floating point tensor, got dtype {a.dtype}; call .float() on it")


# --------------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------------
def conv_padding(padding: Padding, kernel: Sequence[int], dilation: Sequence[int], stride: Sequence[int],
                 op: str) -> list[tuple[int, int]]:
    """Resolve ``padding`` (int, tuple, 'valid', 'same', 'full') into ``(before, after)`` pairs.

    'same' pads ``d*(k - 1)`` in total, the odd one extra on the after side (PyTorch's choice for
    an even kernel); 'full' pads ``d*(k - 1)`` on both sides.
    """
    if not isinstance(padding, str):
        p = ntuple(padding, len(kernel), "padding", op)
        check_positive(p, "padding", op, allow_zero=True)
        return [(v, v) for v in p]
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding == "full":
        return [(t, t) for t in total]
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions (stride={tuple(stride)}); "
                "use stride=1 or give the padding as numbers"
            )
        return [(t // 2, t - t // 2) for t in total]
    raise ValueError(f"{op}: padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")


def _check_operands(op: str, nd: int, x: Any, w: Any) -> None:
    """Input and weight: Tensors of the right rank and the same dtype."""
    check_tensor(x, "input", op)
    check_tensor(w, "weight", op)
    check_input_rank(op, nd, x.shape)
    if w.ndim != nd + 2:
        raise ValueError(f"{op}: weight must be {nd + 2}-d (out, in/groups, *kernel), got shape {tuple(w.shape)}")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: input dtype {x.dtype} and weight dtype {w.dtype} differ; convert one of them")


def _check_conv_channels(op: str, nd: int, x: Any, w: Any, groups: int) -> None:
    """``weight (C_out, C_in/groups, *k)``: both channel counts divisible by ``groups``."""
    c_in = x.shape[-nd - 1]
    check_divisible_by_groups(op, "in_channels", c_in, groups, f" (input shape {tuple(x.shape)})")
    check_divisible_by_groups(op, "out_channels", w.shape[0], groups, f" (weight shape {tuple(w.shape)})")
    if w.shape[1] * groups != c_in:
        raise ValueError(
            f"{op}: weight of shape {tuple(w.shape)} with groups={groups} expects "
            f"{w.shape[1] * groups} input channels, but the input of shape {tuple(x.shape)} has {c_in}"
        )


def _check_kernel_fits(op: str, sizes: Sequence[int], window: Window) -> None:
    for size, span, (lo, hi) in zip(sizes, window.effective_kernel, window.pads):
        if size + lo + hi < span:
            raise ValueError(
                f"{op}: the (dilated) kernel {window.kernel} with dilation={window.dilation} is larger than "
                f"the padded input: input spatial size {tuple(sizes)} plus padding {window.pads}; pad more "
                "or use a smaller kernel"
            )


def _check_conv_common(op: str, nd: int, x: Any, w: Any, stride: Any, dilation: Any,
                       groups: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What convolution and transposed convolution share: operands, groups, stride, dilation."""
    _check_operands(op, nd, x, w)
    check_int(op, "groups", groups, 1)
    stride_t = ntuple(stride, nd, "stride", op)
    dilation_t = ntuple(dilation, nd, "dilation", op)
    check_positive(stride_t, "stride", op)
    check_positive(dilation_t, "dilation", op)
    return stride_t, dilation_t


def check_conv(op: str, nd: int, x: Any, w: Any, b: Any, stride: Any, padding: Padding, dilation: Any,
               groups: Any) -> Window:
    """Validate ``conv{nd}d(x, w, b, ...)``; return its resolved ``Window`` (output size included)."""
    stride_t, dilation_t = _check_conv_common(op, nd, x, w, stride, dilation, groups)
    _check_conv_channels(op, nd, x, w, groups)
    kernel = tuple(w.shape[2:])
    pads = conv_padding(padding, kernel, dilation_t, stride_t, op)
    window = Window(kernel, stride_t, tuple(pads), dilation_t, groups=groups)
    sizes = tuple(x.shape[-nd:])
    _check_kernel_fits(op, sizes, window)
    _check_bias(op, b, w.shape[0], x.dtype)
    out = tuple(out_size(n, k, s, lo, hi, d) for n, k, s, (lo, hi), d in zip(sizes, kernel, stride_t, pads, dilation_t))
    return window.replace(out=out)


# --------------------------------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------------------------------
def _check_transposed_channels(op: str, nd: int, x: Any, w: Any, groups: int) -> None:
    """``weight (C_in, C_out/groups, *k)``: its first axis is the input's channel count."""
    c_in = x.shape[-nd - 1]
    if w.shape[0] != c_in:
        raise ValueError(
            f"{op}: weight of shape {tuple(w.shape)} expects {w.shape[0]} input channels "
            f"(weight.shape[0]) but the input of shape {tuple(x.shape)} has {c_in}"
        )
    check_divisible_by_groups(op, "in_channels", c_in, groups, f" (input shape {tuple(x.shape)})")


def check_output_padding(op: str, output_padding: Sequence[int], stride: Sequence[int],
                         dilation: Sequence[int]) -> None:
    """Transposed convolution: ``0 <= output_padding < max(stride, dilation)`` per axis."""
    check_positive(output_padding, "output_padding", op, allow_zero=True)
    if any(o_p >= max(s, d) for o_p, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding={tuple(output_padding)} must be smaller than either stride={tuple(stride)} "
            f"or dilation={tuple(dilation)} in every dimension"
        )


def transposed_out_sizes(sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                         padding: Sequence[int], dilation: Sequence[int],
                         output_padding: Sequence[int]) -> tuple[int, ...]:
    """``(n - 1)*s - 2p + d*(k - 1) + output_padding + 1`` per axis."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + o_p + 1
                 for n, k, s, p, d, o_p in zip(sizes, kernel, stride, padding, dilation, output_padding))


def check_conv_transpose(op: str, nd: int, x: Any, w: Any, b: Any, stride: Any, padding: Any,
                         output_padding: Any, groups: Any, dilation: Any) -> Window:
    """Validate ``conv_transpose{nd}d``; return the ``Window`` (``transposed=True``) of the adjoint convolution.

    The pads are the ones of the convolution this is the adjoint of: ``(padding, padding -
    output_padding)`` per axis (the extra output rows are the ones that convolution's last window
    would not have reached).
    """
    stride_t, dilation_t = _check_conv_common(op, nd, x, w, stride, dilation, groups)
    _check_transposed_channels(op, nd, x, w, groups)
    p = ntuple(padding, nd, "padding", op)
    check_positive(p, "padding", op, allow_zero=True)
    op_t = ntuple(output_padding, nd, "output_padding", op)
    check_output_padding(op, op_t, stride_t, dilation_t)
    sizes = transposed_out_sizes(x.shape[-nd:], w.shape[2:], stride_t, p, dilation_t, op_t)
    if any(v < 1 for v in sizes):
        raise ValueError(
            f"{op}: the output would be empty ({sizes}) for input {tuple(x.shape)}, weight "
            f"{tuple(w.shape)}, stride={stride_t}, padding={p}; use less padding"
        )
    _check_bias(op, b, w.shape[1] * groups, x.dtype)
    pads = tuple((pp, pp - o_p) for pp, o_p in zip(p, op_t))
    return Window(tuple(w.shape[2:]), stride_t, pads, dilation_t, transposed=True, groups=groups, out=sizes)


# --------------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------------
def check_pool_args(op: str, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
    """Normalise and range-check kernel, stride (None or () = kernel), padding, dilation."""
    k = ntuple(kernel_size, nd, "kernel_size", op)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    s = k if no_stride else ntuple(stride, nd, "stride", op)
    p = ntuple(padding, nd, "padding", op)
    d = ntuple(dilation, nd, "dilation", op)
    check_positive(k, "kernel_size", op)
    check_positive(s, "stride", op)
    check_positive(d, "dilation", op)
    check_positive(p, "padding", op, allow_zero=True)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding={p} must be at most half of kernel_size={k}")
    return k, s, p, d


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Windows along one axis; with ``ceil_mode`` a last window starting in the right padding is
    dropped (PyTorch's rule)."""
    o = out_size(n, k, s, p, p, d, ceil=ceil_mode)
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def pool_geometry(op: str, nd: int, shape: Sequence[int], kernel_size: Any, stride: Any, padding: Any,
                  dilation: Any, ceil_mode: bool) -> Window:
    """Validate pooling arguments; return their ``Window`` (output size included).

    Its ``pads`` hold ``(before, after)`` per axis: the symmetric ``padding`` plus, with ceil_mode,
    whatever the last partial window needs beyond the input.
    """
    check_input_rank(op, nd, shape)
    k, s, p, d = check_pool_args(op, nd, kernel_size, stride, padding, dilation)
    sizes = tuple(shape[-nd:])
    out = tuple(pool_out_size(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(sizes, k, s, p, d))
    if any(o < 1 for o in out):
        raise ValueError(
            f"{op}: the output would be empty: input spatial size {sizes}, kernel_size={k}, stride={s}, "
            f"padding={p}, dilation={d}; the (dilated) kernel is larger than the padded input"
        )
    window = Window(k, s, tuple((pi, pi) for pi in p), d, out=out)
    # the padded length the windows reach decides the after-side padding
    pads = tuple((pi, max(pi, (o - 1) * si + span - n - pi))
                 for n, o, si, pi, span in zip(sizes, out, s, p, window.effective_kernel))
    return window.replace(pads=pads)


def check_avg_pool(op: str, x: Any, divisor_override: Any) -> None:
    """Average pooling needs a float input and, if given, a non-zero int divisor."""
    check_tensor(x, "input", op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point input, got {x.dtype}; call .float() first")
    check_divisor_override(op, divisor_override)


def check_divisor_override(op: str, divisor_override: Any) -> None:
    """Average pooling's ``divisor_override``: None or a non-zero int."""
    if divisor_override is not None and (not is_int(divisor_override) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int or None, got {divisor_override!r}")


def check_adaptive_output_size(op: str, output_size: Any) -> None:
    """``output_size``: a positive int, or a pair of positive ints / None (None keeps that axis)."""
    sizes = (output_size, output_size) if output_size is None or is_int(output_size) else output_size
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}") from None
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    if not all(v is None or (is_int(v) and v >= 1) for v in sizes):
        raise ValueError(f"{op}: output_size entries must be positive ints (or None), got {output_size!r}")


def check_adaptive(op: str, x: Any, output_size: Any) -> tuple[int, int]:
    """Validate an adaptive 2-d pooling call; return the output's ``(H_out, W_out)``."""
    check_tensor(x, "input", op)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-d input (N, C, H, W) or 3-d (C, H, W), got shape {tuple(x.shape)}")
    check_adaptive_output_size(op, output_size)
    sizes = (output_size, output_size) if output_size is None or is_int(output_size) else tuple(output_size)
    if any(n < 1 for n in x.shape[-2:]):
        raise ValueError(f"{op}: the input's spatial size {tuple(x.shape[-2:])} is empty")
    return tuple(int(x.shape[-2 + i]) if v is None else int(v) for i, v in enumerate(sizes))


def _unpool_out(op: str, default: tuple, stride: tuple, output_size: Any) -> tuple[int, int]:
    if output_size is None:
        out_hw = default
    else:
        out_hw = tuple(output_size)[-2:]
        for o, dflt, si in zip(out_hw, default, stride):
            if not dflt - si < o < dflt + si:
                raise ValueError(
                    f"{op}: output_size {tuple(output_size)} must be within one stride of the default "
                    f"{default} (stride {stride})"
                )
    if any(o < 1 for o in out_hw):
        raise ValueError(f"{op}: the output size {out_hw} is empty")
    return out_hw


def check_max_unpool(op: str, x: Any, indices: Any, kernel_size: Any, stride: Any, padding: Any,
                     output_size: Any) -> tuple[int, int]:
    """Validate ``max_unpool2d``; return the output's ``(H_out, W_out)``.

    It reads the extreme index values (two reductions), the only check here that looks at data:
    an index outside the output plane would otherwise write out of bounds.
    """
    check_tensor(x, "input", op)
    check_tensor(indices, "indices", op)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-d input (N, C, H, W) or 3-d (C, H, W), got shape {tuple(x.shape)}")
    if tuple(indices.shape) != tuple(x.shape):
        raise ValueError(f"{op}: indices shape {tuple(indices.shape)} must equal input shape {tuple(x.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers (from max_pool2d(..., return_indices=True)), got "
                        f"{indices.dtype}")
    k = ntuple(kernel_size, 2, "kernel_size", op)
    s = k if stride is None else ntuple(stride, 2, "stride", op)
    p = ntuple(padding, 2, "padding", op)
    check_positive(k, "kernel_size", op)
    check_positive(s, "stride", op)
    check_positive(p, "padding", op, allow_zero=True)
    default = tuple((n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(x.shape[-2:], s, p, k))
    out_hw = _unpool_out(op, default, s, output_size)
    if indices.numel() > 0:
        lo, hi = int(indices.min().item()), int(indices.max().item())
        if lo < 0 or hi >= out_hw[0] * out_hw[1]:
            raise ValueError(
                f"{op}: indices must lie in [0, {out_hw[0] * out_hw[1]}) for output size {out_hw}, found "
                f"[{lo}, {hi}]; pass the output_size of the tensor that was pooled"
            )
    return out_hw


# --------------------------------------------------------------------------------------------------
# Padding
# --------------------------------------------------------------------------------------------------
def _pad_amounts(op: str, pad: Any, ndim: int, shape: Sequence[int]) -> tuple[int, ...]:
    try:
        amounts = tuple(pad)
    except TypeError:
        raise TypeError(f"{op}: pad must be a tuple of ints (last axis first), got {pad!r}") from None
    if not all(is_int(v) for v in amounts):
        raise TypeError(f"{op}: pad must contain ints, got {pad!r}")
    if len(amounts) % 2 or len(amounts) // 2 > ndim:
        raise ValueError(
            f"{op}: pad {amounts} must have an even length of at most 2*ndim = {2 * ndim} for an input of "
            f"shape {tuple(shape)}"
        )
    return tuple(int(v) for v in amounts)


def _check_mode_pairs(op: str, mode: str, pairs: list, sizes: tuple, amounts: tuple, shape: tuple) -> None:
    """reflect / replicate / circular copy input pixels: amounts >= 0 and within reach of the input."""
    for (lo, hi), n in zip(pairs, sizes):
        if lo < 0 or hi < 0:
            raise ValueError(f"{op}: mode={mode!r} needs non-negative pad amounts, got {amounts}")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(
                f"{op}: reflect padding must be smaller than the padded axis: pad {amounts} for input "
                f"shape {shape}; use mode='replicate' for larger borders"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise ValueError(
                f"{op}: circular padding may wrap around at most once: pad {amounts} for input shape {shape}"
            )
        if mode == "replicate" and n == 0:
            raise ValueError(f"{op}: cannot replicate the edge of an empty axis (input shape {shape})")


def pad_pairs(pad: Sequence[int], ndim: int, shape: Sequence[int], mode: str, op: str = "pad") -> list[tuple[int, int]]:
    """Check PyTorch's last-axis-first ``pad`` tuple and return ``(before, after)`` in axis order."""
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, PAD_MODES))}, got {mode!r}")
    amounts = _pad_amounts(op, pad, ndim, shape)
    k = len(amounts) // 2
    pairs = [(amounts[2 * i], amounts[2 * i + 1]) for i in range(k)][::-1]  # axis order
    sizes = tuple(shape[ndim - k:])
    shape = tuple(shape)
    if mode == "constant":
        if any(n + lo + hi < 0 for (lo, hi), n in zip(pairs, sizes)):
            raise ValueError(f"{op}: negative pad {amounts} removes more than the input shape {shape}")
        return pairs
    if k > 3 or ndim < k + 1:
        raise ValueError(
            f"{op}: mode={mode!r} pads the last 1, 2 or 3 axes of an input with a channel axis in front; got "
            f"pad {amounts} for an input of shape {shape}"
        )
    _check_mode_pairs(op, mode, pairs, sizes, amounts, shape)
    return pairs


def check_pad(input: Any, pad: Any, mode: str, value: Any) -> list[tuple[int, int]]:
    """Validate ``pad(input, pad, mode, value)``; return the ``(before, after)`` pairs."""
    check_tensor(input, "input", "pad")
    pairs = pad_pairs(pad, input.ndim, input.shape, mode)
    if value is not None and mode != "constant" and value != 0:
        raise ValueError(f"pad: value={value} only applies to mode='constant', not mode={mode!r}")
    return pairs


# --------------------------------------------------------------------------------------------------
# Interpolation
# --------------------------------------------------------------------------------------------------
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
RESIZE_MODES = ("nearest", *_LINEAR_MODES)


def _positive_number(f: Any) -> bool:
    return is_real(f) and math.isfinite(float(f)) and f > 0


def check_resize_args(op: str, size: Any, scale_factor: Any, mode: Any, align_corners: Any) -> None:
    """What ``interpolate`` and ``nn.Upsample`` check before there is a tensor: the mode, exactly one
    of ``size`` / ``scale_factor``, ``align_corners`` only with the interpolating modes, and positive
    sizes / factors (their number is checked against the input's rank by ``check_interpolate``)."""
    check_choice(op, "mode", mode, RESIZE_MODES)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if align_corners is not None and mode == "nearest":
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes (linear, bilinear, "
                         "trilinear), not mode='nearest'; leave it None")
    if scale_factor is not None:
        factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,)
        if not factors or not all(_positive_number(f) for f in factors):
            raise ValueError(f"{op}: scale_factor must be a positive number or a tuple of them (one per spatial "
                             f"axis), got {scale_factor!r}")
    if size is not None:
        sizes = size if isinstance(size, (tuple, list)) else (size,)
        if not sizes or not all(is_int(v) and v >= 1 for v in sizes):
            raise ValueError(f"{op}: size must be positive (>= 1) ints: an int or a tuple of them (one per spatial "
                             f"axis), got {size!r}")


def _interpolate_mode(op: str, x: Any, mode: Any) -> int:
    """The number of spatial axes, after checking ``mode`` against the input's rank."""
    nd = x.ndim - 2
    if not 1 <= nd <= 3:
        raise ValueError(f"{op}: expected a 3-d, 4-d or 5-d input (N, C, *spatial), got shape {tuple(x.shape)}")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != nd:
        need = 2 + _LINEAR_MODES[mode]
        raise ValueError(f"{op}: mode={mode!r} needs a {need}-d input, got shape {tuple(x.shape)}; use "
                         f"mode={[m for m, k in _LINEAR_MODES.items() if k == nd][0]!r} for this input")
    return nd


def check_interpolate(x: Any, size: Any, scale_factor: Any, mode: Any, align_corners: Any,
                      recompute_scale_factor: Any, op: str = "interpolate") -> tuple[tuple, tuple]:
    """Validate ``interpolate``; return ``(output size, sampling scale per axis or None)``."""
    check_tensor(x, "input", op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point input, got {x.dtype}; call .float() first")
    check_resize_args(op, size, scale_factor, mode, align_corners)
    nd = _interpolate_mode(op, x, mode)
    sizes = tuple(x.shape[-nd:])
    if size is not None:
        out = ntuple(size, nd, "size", op)
        check_positive(out, "size", op)
        return out, (None,) * nd
    factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if len(factors) != nd:
        raise ValueError(f"{op}: scale_factor must be a positive number or {nd} of them (one per spatial axis of "
                         f"the input {tuple(x.shape)}), got {scale_factor!r}")
    out = tuple(int(math.floor(n * f)) for n, f in zip(sizes, factors))
    if any(o < 1 for o in out):
        raise ValueError(f"{op}: scale_factor={scale_factor!r} shrinks the input {sizes} to an empty output {out}")
    scales = (None,) * nd if recompute_scale_factor else tuple(1.0 / f for f in factors)
    return out, scales
