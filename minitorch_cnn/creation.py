"""Making tensors (factories) and the functions that take several tensors (cat, stack, where, ...).

Factories mirror PyTorch: ``zeros(2, 3)`` or ``zeros((2, 3))``, with ``dtype=`` (float32 by
default for floating values), ``device=`` (the default device unless given) and ``requires_grad=``.
Random factories draw from the generator seeded by ``manual_seed``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend
from .ops import elementwise
from .ops import shape as shape_ops  # `shape` is a parameter name here
from .ops._checks import check_tensor
from .ops._util import check_size, normalize_dims
from .tensors import (  # noqa: F401 - the legacy types are re-exported
    LEGACY_TYPES,
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    Tensor,
    _shape_arg,
    float32,
    int64,
)

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange", "linspace",
    "randn", "rand", "randint", "randperm", "zeros_like", "ones_like", "full_like", "randn_like", "rand_like",
    "empty_like", "cat", "concatenate", "stack", "split", "where", "maximum", "minimum", "matmul", "exp",
    "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "sum", "mean", "flatten",
    "clamp", "manual_seed", "argmax", "argmin", "is_tensor", "numel", "allclose", "max", "min", "topk", "sort",
    "argsort", "cumsum", "prod", "norm", "nonzero", "masked_fill", "gather",
    # function forms of Tensor methods and PyTorch's legacy typed constructors
    "unsqueeze", "squeeze", "eq", "ne", "lt", "gt", "le", "ge", "add", "sub", "mul", "div", "neg",
    *LEGACY_TYPES,
]


def _finish(array: Any, device: Any, requires_grad: bool) -> Tensor:
    dev = backend.get_default_device() if device is None else backend.device(device)
    t = Tensor._from_array(backend.to_device(array, dev))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _default_dtype(values: np.ndarray, dtype: Any) -> np.dtype:
    if dtype is not None:
        return np.dtype(dtype)
    if values.dtype.kind == "f":
        return float32  # PyTorch's default floating dtype for Python floats
    if values.dtype.kind in "iu":
        return int64
    return values.dtype


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a Tensor)."""
    if isinstance(data, Tensor):
        data = backend.to_numpy(data._array)
    elif hasattr(data, "shape") and not isinstance(data, np.ndarray):
        data = backend.to_numpy(data)
    keeps_dtype = isinstance(data, (np.ndarray, np.generic))  # PyTorch keeps a NumPy array's dtype
    try:
        values = np.array(data)
    except ValueError:  # NumPy's "inhomogeneous shape"
        values = np.array(None, dtype=object)
    if values.dtype == object or values.dtype.kind in "USV":
        raise TypeError(
            "tensor(): could not turn the data into a numeric array; nested lists must be rectangular "
            "and hold numbers only"
        )
    target = np.dtype(dtype) if dtype is not None else values.dtype if keeps_dtype else _default_dtype(values, None)
    return _finish(values.astype(target, copy=True), device, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a NumPy array without copying; the tensor keeps the array's dtype (as PyTorch)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._from_array(array)


def _sizes(sizes: tuple, size: Any, op: str) -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``, as PyTorch accepts."""
    if size is None:
        return _shape_arg(sizes)
    if sizes:
        raise TypeError(f"{op}(): got the size both positionally {sizes} and as size={size!r}; give one")
    return (size,) if isinstance(size, (int, np.integer)) else tuple(size)


def _filled(fill: Any, size: tuple, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    shape = check_size("zeros/ones/full", _shape_arg(size))
    dt = np.dtype(dtype) if dtype is not None else float32
    dev = backend.get_default_device() if device is None else backend.device(device)
    xp = backend._module_for(dev)
    # zeros come from calloc: pages are only touched when written (cheap for skip_init'ed models)
    arr = xp.zeros(shape, dtype=dt) if fill == 0 else xp.full(shape, fill, dtype=dt)
    return _finish(arr, dev, requires_grad)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _filled(0, _sizes(sizes, size, "zeros"), dtype, device, requires_grad)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _filled(1, _sizes(sizes, size, "ones"), dtype, device, requires_grad)


def empty(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _filled(0, _sizes(sizes, size, "empty"), dtype, device, requires_grad)


def full(size: Sequence[int], fill_value: float, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = int64
    return _filled(fill_value, (tuple(size),), dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_size("eye", (n,) if m is None else (n, m), name="n and m")
    return _finish(np.eye(n, m, dtype=dtype or float32), device, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    values = np.arange(start, end, step)
    return _finish(values.astype(_default_dtype(values, dtype)), device, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    check_size("linspace", (steps,), name="steps")
    return _finish(np.linspace(start, end, steps).astype(dtype or float32), device, requires_grad)


def _random_array(kind: str, shape: tuple, dtype: Any, device: Any) -> Any:
    """Standard normal or uniform [0, 1) numbers from the seeded generator of ``device``."""
    dev = backend.get_default_device() if device is None else backend.device(device)
    rng = backend.random_state(dev)
    dt = np.dtype(dtype) if dtype is not None else float32
    if dev.type == "cuda":
        arr = rng.standard_normal(shape, dtype=dt) if kind == "normal" else rng.random(shape, dtype=dt)
        return arr
    arr = rng.standard_normal(shape, dtype=dt) if kind == "normal" else rng.random(shape, dtype=dt)
    return backend.to_device(arr, dev)


def randn(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, N(0, 1)."""
    shape = check_size("randn", _sizes(sizes, size, "randn"))
    return _finish(_random_array("normal", shape, dtype, device), device, requires_grad)


def rand(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    shape = check_size("rand", _sizes(sizes, size, "rand"))
    return _finish(_random_array("uniform", shape, dtype, device), device, requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), dtype: Any = None,
            device: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    if not low < high:
        raise ValueError(f"randint: needs low < high, got low={low}, high={high} (high is exclusive)")
    values = backend.random_state("cpu").integers(low, high, size=check_size("randint", tuple(size)))
    return _finish(values.astype(dtype or int64), device, False)


def randperm(n: int, device: Any = None) -> Tensor:
    return _finish(backend.random_state("cpu").permutation(n).astype(int64), device, False)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple:
    return (dtype if dtype is not None else t.dtype, device if device is not None else t.device)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros_like(t, dtype, device, requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return randn(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return rand(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


# --------------------------------------------------------------------------------------------------
# Functions of several tensors
# --------------------------------------------------------------------------------------------------
def _tensors(op: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        check_tensor(t, f"tensors[{i}]", op)
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: tensors have different dtypes {sorted(map(str, dtypes))}; convert them first")
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = _tensors("cat", tensors)
    (d,) = normalize_dims(dim, tensors[0].ndim)
    shape_ops.check_same_rank("cat", [t.shape for t in tensors], d, stacking=False)
    return shape_ops.CatFunction.apply(*tensors, dim=d)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equally-shaped tensors along a new dimension."""
    tensors = _tensors("stack", tensors)
    (d,) = normalize_dims(dim, tensors[0].ndim + 1)
    shape_ops.check_same_rank("stack", [t.shape for t in tensors], d, stacking=True)
    return shape_ops.StackFunction.apply(*tensors, dim=d)


def split(t: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``t`` along ``dim``: equal pieces of a given size, or the listed sizes."""
    (d,) = normalize_dims(dim, t.ndim)
    n = t.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [builtins.min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)] or [0]
    else:
        sizes = list(split_size_or_sections)
        total = builtins.sum(sizes)  # this module defines its own sum()
        if total != n:
            raise ValueError(f"split: sections {sizes} sum to {total} but dim {d} has size {n}")
    out, start = [], 0
    for size in sizes:
        index = [slice(None)] * t.ndim
        index[d] = slice(start, start + size)
        out.append(t[tuple(index)])
        start += size
    return tuple(out)


def where(condition: Tensor, input: Any, other: Any) -> Tensor:  # noqa: A002
    """Pick ``input`` where ``condition`` holds, else ``other`` (element-wise, broadcasting)."""
    ref = input if isinstance(input, Tensor) else other
    cond = condition._array if isinstance(condition, Tensor) else condition
    a = ref._coerce(input) if isinstance(ref, Tensor) else input
    b = ref._coerce(other) if isinstance(ref, Tensor) else other
    return elementwise.WhereFunction.apply(Tensor._from_array(cond), a, b)


def maximum(a: Tensor, b: Any) -> Tensor:
    return a.maximum(b)


def minimum(a: Tensor, b: Any) -> Tensor:
    return a.minimum(b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return a @ b


def exp(t: Tensor) -> Tensor:
    return t.exp()


def log(t: Tensor) -> Tensor:
    return t.log()


def sqrt(t: Tensor) -> Tensor:
    return t.sqrt()


def abs(t: Tensor) -> Tensor:  # noqa: A001
    return t.abs()


def relu(t: Tensor) -> Tensor:
    return t.relu()


def sigmoid(t: Tensor) -> Tensor:
    return t.sigmoid()


def tanh(t: Tensor) -> Tensor:
    return t.tanh()


def softmax(t: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return t.softmax(dim, axis=axis)


def log_softmax(t: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return t.log_softmax(dim, axis=axis)


def sum(t: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A001
    return t.sum(dim, keepdim, axis=axis)


def mean(t: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    return t.mean(dim, keepdim, axis=axis)


def argmax(t: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
    return t.argmax(dim, keepdim, axis=axis)


def argmin(t: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
    return t.argmin(dim, keepdim, axis=axis)


def max(t: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:  # noqa: A001
    """``mt.max(x)`` the largest element, ``mt.max(x, 1)`` a ``(values, indices)`` pair, ``mt.max(x, y)`` element-wise."""
    return t.max(dim, keepdim, axis=axis)


def min(t: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:  # noqa: A001
    """As :func:`max`, for the smallest."""
    return t.min(dim, keepdim, axis=axis)


def unsqueeze(t: Tensor, dim: int) -> Tensor:
    return t.unsqueeze(dim)


def squeeze(t: Tensor, dim: Any = None, *, axis: Any = None) -> Tensor:
    return t.squeeze(dim, axis=axis)


def _tensor_first(op: str, t: Any) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, got {type(t).__name__}")
    return t


def eq(t: Tensor, other: Any) -> Tensor:
    return _tensor_first("eq", t) == other


def ne(t: Tensor, other: Any) -> Tensor:
    return _tensor_first("ne", t) != other


def lt(t: Tensor, other: Any) -> Tensor:
    return _tensor_first("lt", t) < other


def gt(t: Tensor, other: Any) -> Tensor:
    return _tensor_first("gt", t) > other


def le(t: Tensor, other: Any) -> Tensor:
    return _tensor_first("le", t) <= other


def ge(t: Tensor, other: Any) -> Tensor:
    return _tensor_first("ge", t) >= other


def add(t: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """``t + alpha * other`` (``t`` may be a number when ``other`` is a Tensor, as in PyTorch)."""
    return t + (other * alpha if alpha != 1 else other)


def sub(t: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """``t - alpha * other``."""
    return t - (other * alpha if alpha != 1 else other)


def mul(t: Any, other: Any) -> Tensor:
    return t * other


def div(t: Any, other: Any) -> Tensor:
    return t / other


def neg(t: Tensor) -> Tensor:
    return -_tensor_first("neg", t)


def topk(t: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    return t.topk(k, dim, largest, sorted)


def sort(t: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return t.sort(dim, descending, stable)


def argsort(t: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return t.argsort(dim, descending, stable)


def cumsum(t: Tensor, dim: int) -> Tensor:
    return t.cumsum(dim)


def prod(t: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return t.prod(dim, keepdim)


def norm(t: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    return t.norm(p, dim, keepdim)


def nonzero(t: Tensor, as_tuple: bool = False) -> Any:
    return t.nonzero(as_tuple=as_tuple)


def masked_fill(t: Tensor, mask: Tensor, value: Any) -> Tensor:
    return t.masked_fill(mask, value)


def gather(t: Tensor, dim: int, index: Tensor) -> Tensor:
    return t.gather(dim, index)


def flatten(t: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return t.flatten(start_dim, end_dim)


def clamp(t: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    return t.clamp(min, max)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    return t.numel()


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(backend.to_numpy(a._array), backend.to_numpy(b._array), rtol=rtol, atol=atol))


def manual_seed(seed: int) -> None:
    """Seed the random generators of every backend (``torch.manual_seed``)."""
    backend.manual_seed(seed)
