"""``Tensor``: an n-dimensional array that remembers how it was computed.

A Tensor holds

* ``data``: the numbers, a backend array (``numpy.ndarray`` on "cpu", ``cupy.ndarray`` on "cuda");
* ``requires_grad``: whether gradients should flow to it;
* ``grad_fn``: the graph ``Node`` of the op that produced it (``None`` for leaves you created);
* ``grad``: after ``backward()``, dL/d(this tensor), a Tensor of the same shape (leaves only,
  unless ``retain_grad()`` was called).

Every operator and method below calls a differentiable ``Function`` from ``minitorch_cnn.ops``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd, backend
from .ops import elementwise as E
from .ops import indexing as I
from .ops import matmul as M
from .ops import reduce as R
from .ops import shape as S
from .ops._util import normalize_dims

__all__ = ["Tensor", "float32", "float64", "int64", "int32", "bool_", "uint8", "float16"]

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_FLOAT_KINDS = "f"
MaxResult = namedtuple("MaxResult", ["values", "indices"])


class _Handle:
    """Returned by ``register_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _shape_arg(shape: tuple) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Tensor:
    """An array with gradient bookkeeping. Create one with ``minitorch_cnn.tensor(...)``.

    ``Tensor(array)`` wraps a backend array without copying it (used internally by ops).
    """

    __array_priority__ = 1000  # make ndarray + Tensor defer to Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if not hasattr(data, "shape") or not hasattr(data, "dtype"):
            data = np.asarray(data)
        self.data = data
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Node | None = None
        self._output_index = 0
        self._leaf_hooks: list[Callable] = []
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_array(cls, array: Any) -> Tensor:
        t = Tensor.__new__(Tensor)
        t.data = array
        t.grad = None
        t.grad_fn = None
        t._output_index = 0
        t._leaf_hooks = []
        t._retains_grad = False
        t.requires_grad = False
        return t

    # ----------------------------------------------------------------------------------------------
    # Metadata
    # ----------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> backend.device:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def xp(self) -> Any:
        """The array module of this tensor's data (numpy, cupy or the strict stand-in)."""
        return backend.get_array_module(self.data)

    # ----------------------------------------------------------------------------------------------
    # Autograd
    # ----------------------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only floating-point tensors can require gradients, but this one has dtype {self.dtype}; "
                "convert it first with .float() or .double()"
            )
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute d(self)/d(leaf) for every leaf with ``requires_grad`` and add it to ``leaf.grad``."""
        autograd.backward(self, gradient, retain_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep theirs)."""
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self.grad_fn.retained[self._output_index] = self

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _Handle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        hooks = self._leaf_hooks if self.grad_fn is None else self.grad_fn.hooks.setdefault(self._output_index, [])
        hooks.append(hook)
        return _Handle(hooks, hook)

    def _accumulate(self, grad: Any) -> None:
        if self._leaf_hooks:
            grad = autograd._run_hooks(self._leaf_hooks, grad)
        if self.grad is None:
            # always a fresh array: the incoming gradient may be a view (broadcast), the very array
            # another leaf received (x + y hands the same g to both) or the caller's `gradient=`,
            # and optimizers later modify .grad in place (grad clipping, weight decay)
            self.grad = Tensor._from_array(grad.copy())
        else:
            self.grad.data = self.grad.data + grad

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor._from_array(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    # ----------------------------------------------------------------------------------------------
    # Conversion
    # ----------------------------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (a copy from the GPU; shared memory on the CPU)."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy(): can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return backend.to_numpy(self.data)

    def item(self) -> float | int | bool:
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_numpy(self.data).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.numel()} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("can't convert a tensor that requires grad to NumPy; use .detach().numpy()")
        out = backend.to_numpy(self.data)
        return out.astype(dtype) if dtype is not None else out

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``t.to(device)``, ``t.to(dtype)`` or ``t.to(device, dtype)``: differentiable copies."""
        dev = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, (str, backend.device)):
                dev = a
            elif isinstance(a, Tensor):
                dev, dtype = a.device, a.dtype
            else:
                dtype = a
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = _CastFunction.apply(out, dtype=np.dtype(dtype))
        if dev is not None and backend.device(dev) != self.device:
            out = _ToDeviceFunction.apply(out, device=backend.device(dev))
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def clone(self) -> Tensor:
        return self + 0 if self.requires_grad else Tensor._from_array(self.data.copy())

    def contiguous(self) -> Tensor:
        return self

    # ----------------------------------------------------------------------------------------------
    # Printing
    # ----------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        arr = backend.to_numpy(self.data)
        finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
        if arr.dtype.kind == "f" and arr.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 1e8):
            # whole numbers print as PyTorch does: tensor([1., 2.])
            body = np.array2string(
                arr, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
                formatter={"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)},
            )
        else:
            # 4 decimals, switching to scientific notation for wide ranges (PyTorch's rule, and NumPy's):
            # tensor([1.5000, 2.0000]), tensor([1.0000e-01, 1.0000e-05]); small values are never shown as 0
            body = np.array2string(
                arr, separator=", ", prefix="tensor(", precision=4, floatmode="fixed", threshold=1000, edgeitems=3
            )
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if arr.size == 0:
            extras.insert(0, f"size={self.shape}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __hash__(self) -> int:
        return id(self)

    # ----------------------------------------------------------------------------------------------
    # Arithmetic
    # ----------------------------------------------------------------------------------------------
    def _coerce(self, other: Any) -> Any:
        """Python scalars stay scalars (NumPy keeps the tensor's dtype); arrays become Tensors."""
        if isinstance(other, Tensor) or isinstance(other, (int, float, bool)):
            return other
        if isinstance(other, np.generic):
            return other.item()
        arr = backend.to_device(np.asarray(other), self.device) if not hasattr(other, "shape") else other
        return Tensor._from_array(arr)

    def __add__(self, other: Any) -> Tensor:
        return E.AddFunction.apply(self, self._coerce(other))

    def __radd__(self, other: Any) -> Tensor:
        return E.AddFunction.apply(self._coerce(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return E.SubFunction.apply(self, self._coerce(other))

    def __rsub__(self, other: Any) -> Tensor:
        return E.SubFunction.apply(self._coerce(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return E.MulFunction.apply(self, self._coerce(other))

    def __rmul__(self, other: Any) -> Tensor:
        return E.MulFunction.apply(self._coerce(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return E.DivFunction.apply(self, self._coerce(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return E.DivFunction.apply(self._coerce(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return E.PowFunction.apply(self, self._coerce(other))

    def __rpow__(self, other: Any) -> Tensor:
        return E.PowFunction.apply(self._coerce(other), self)

    def __neg__(self) -> Tensor:
        return E.NegFunction.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return M.MatMulFunction.apply(self, self._coerce(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return M.MatMulFunction.apply(self._coerce(other), self)

    def __abs__(self) -> Tensor:
        return self.abs()

    def add(self, other: Any, alpha: float = 1) -> Tensor:
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, alpha: float = 1) -> Tensor:
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def pow(self, other: Any) -> Tensor:
        return self**other

    def neg(self) -> Tensor:
        return -self

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    def mm(self, other: Any) -> Tensor:
        return self @ other

    def exp(self) -> Tensor:
        return E.ExpFunction.apply(self)

    def log(self) -> Tensor:
        return E.LogFunction.apply(self)

    def sqrt(self) -> Tensor:
        return E.SqrtFunction.apply(self)

    def abs(self) -> Tensor:
        return E.AbsFunction.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return E.ClampFunction.apply(self, min=min, max=max)

    clip = clamp

    def relu(self) -> Tensor:
        return E.ReLUFunction.apply(self)

    def sigmoid(self) -> Tensor:
        return E.SigmoidFunction.apply(self)

    def tanh(self) -> Tensor:
        return E.TanhFunction.apply(self)

    def softmax(self, dim: int = -1) -> Tensor:
        return E.SoftmaxFunction.apply(self, dim=normalize_dims(dim, self.ndim)[0] if self.ndim else 0)

    def log_softmax(self, dim: int = -1) -> Tensor:
        return E.LogSoftmaxFunction.apply(self, dim=normalize_dims(dim, self.ndim)[0] if self.ndim else 0)

    def maximum(self, other: Any) -> Tensor:
        return E.MaximumFunction.apply(self, self._coerce(other))

    def minimum(self, other: Any) -> Tensor:
        return E.MinimumFunction.apply(self, self._coerce(other))

    # comparisons: no gradient, boolean result
    def _compare(self, other: Any, op: Callable) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_array(op(self.data, other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a >= b)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a & b)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a | b)

    def __invert__(self) -> Tensor:
        return Tensor._from_array(~self.data)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def any(self) -> Tensor:
        return Tensor._from_array(self.data.any())

    def all(self) -> Tensor:
        return Tensor._from_array(self.data.all())

    def isnan(self) -> Tensor:
        return Tensor._from_array(self.xp.isnan(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._from_array(self.xp.isfinite(self.data))

    # ----------------------------------------------------------------------------------------------
    # Reductions
    # ----------------------------------------------------------------------------------------------
    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return R.SumFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        if self.dtype.kind not in _FLOAT_KINDS:
            raise TypeError(f"mean(): needs a floating-point tensor, got dtype {self.dtype}; use .float() first")
        return R.MeanFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim)

    def var(
        self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None,
    ) -> Tensor:
        """Variance; ``correction=1`` (default, Bessel) divides by n - 1, ``correction=0`` by n."""
        if correction is None:
            correction = 1 if unbiased in (None, True) else 0
        return R.VarFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None) -> Tensor:
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def _extreme(self, dim: int | None, keepdim: bool, mode: str) -> Any:
        if self.numel() == 0:
            raise RuntimeError(f"{mode}(): cannot reduce an empty tensor of shape {self.shape}")
        if dim is None:
            return R.MaxMinFunction.apply(self, axes=None, keepdim=False, mode=mode)
        (d,) = normalize_dims(dim, self.ndim)
        values, indices = R.MaxMinDimFunction.apply(self, dim=d, keepdim=keepdim, mode=mode)
        return MaxResult(values, indices)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Without ``dim`` the largest element; with ``dim`` a ``(values, indices)`` pair."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, "max")

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim, keepdim, "min")

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return R.MaxMinFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim, mode="max")

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return R.MaxMinFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim, mode="min")

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg(dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg(dim, keepdim, "argmin")

    def _arg(self, dim: int | None, keepdim: bool, name: str) -> Tensor:
        if dim is None:
            return Tensor._from_array(getattr(self.data.reshape(-1), name)().astype(int64))
        (d,) = normalize_dims(dim, self.ndim)
        out = getattr(self.data, name)(axis=d)
        if keepdim:
            out = self.xp.expand_dims(out, d)
        return Tensor._from_array(out.astype(int64))

    # ----------------------------------------------------------------------------------------------
    # Shape
    # ----------------------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        shape = _resolve_shape(_shape_arg(shape), self.numel(), self.shape)
        return S.ReshapeFunction.apply(self, shape=shape)

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = normalize_dims(start_dim, self.ndim)[0], normalize_dims(end_dim, self.ndim)[0]
        if s > e:
            raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})")
        shape = self.shape[:s] + (int(np.prod(self.shape[s : e + 1])),) + self.shape[e + 1 :]
        return self.reshape(shape)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        (d,) = normalize_dims(dim, self.ndim)
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1 :])

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        dims = normalize_dims(dim, self.ndim)
        if dims is None:
            dims = tuple(i for i, n in enumerate(self.shape) if n == 1)
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        (d,) = normalize_dims(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def permute(self, *dims: Any) -> Tensor:
        dims = _shape_arg(dims)
        if sorted(normalize_dims(dims, self.ndim) or ()) != list(range(self.ndim)) or len(dims) != self.ndim:
            raise ValueError(f"permute: dims {dims} are not a permutation of the {self.ndim} dims of shape {self.shape}")
        return S.PermuteFunction.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        d0, d1 = (normalize_dims(d, self.ndim)[0] for d in (dim0, dim1))
        order = list(range(self.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return S.PermuteFunction.apply(self, dims=tuple(order))

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with <= 2 dimensions, got shape {self.shape}")
        return self.T

    def swapaxes(self, a: int, b: int) -> Tensor:
        return self.transpose(a, b)

    def expand(self, *sizes: Any) -> Tensor:
        sizes = _shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: the target {sizes} has fewer dimensions than the tensor's shape {self.shape}")
        target = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return self.broadcast_to(target)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        shape = tuple(shape)
        try:
            np.broadcast_shapes(self.shape, shape)
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"expand/broadcast_to: cannot broadcast shape {self.shape} to {shape}") from None
        return S.ExpandFunction.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.broadcast_to(other.shape)

    def flip(self, dims: int | Sequence[int]) -> Tensor:
        return S.FlipFunction.apply(self, dims=normalize_dims(dims, self.ndim))

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        from .creation import split

        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        size = -(-self.shape[dim] // chunks)
        return self.split(size, dim)

    def __getitem__(self, key: Any) -> Tensor:
        key = I.normalize_key(key, lambda k: backend.to_device(np.asarray(k), self.device))
        try:
            out_probe = np.lib.stride_tricks.as_strided(np.empty(1), self.shape, [0] * self.ndim)
            out_probe[_host_key(key)]
        except IndexError as exc:
            raise IndexError(f"index {key!r} is invalid for a tensor of shape {self.shape}: {exc}") from None
        return I.GetItemFunction.apply(self, key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                "in-place assignment to a tensor that requires grad would break its gradient; "
                "do it under minitorch_cnn.no_grad() or on a detached copy"
            )
        key = I.normalize_key(key, lambda k: backend.to_device(np.asarray(k), self.device))
        self.data[key] = value.data if isinstance(value, Tensor) else value

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ----------------------------------------------------------------------------------------------
    # In-place updates (for optimizers and initialisers: use under no_grad)
    # ----------------------------------------------------------------------------------------------
    def _check_inplace(self, name: str) -> None:
        if autograd.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad is being modified in place while gradients are "
                "being recorded; wrap the update in `with minitorch_cnn.no_grad():`"
            )

    def _value(self, other: Any) -> Any:
        return other.data if isinstance(other, Tensor) else other

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        self._check_inplace("add_")
        o = self._value(other)
        self.data += o if alpha == 1 else o * self.dtype.type(alpha)
        return self

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        self._check_inplace("sub_")  # so that the error names the method the user called
        return self.add_(other, alpha=-alpha)

    def mul_(self, other: Any) -> Tensor:
        self._check_inplace("mul_")
        self.data *= self._value(other)
        return self

    def div_(self, other: Any) -> Tensor:
        self._check_inplace("div_")
        self.data /= self._value(other)
        return self

    def addcmul_(self, t1: Any, t2: Any, value: float = 1) -> Tensor:
        self._check_inplace("addcmul_")
        self.data += self.dtype.type(value) * self._value(t1) * self._value(t2)
        return self

    def addcdiv_(self, t1: Any, t2: Any, value: float = 1) -> Tensor:
        self._check_inplace("addcdiv_")
        self.data += self.dtype.type(value) * self._value(t1) / self._value(t2)
        return self

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        self._check_inplace("clamp_")
        self.xp.clip(self.data, min, max, out=self.data)
        return self

    def copy_(self, src: Any) -> Tensor:
        self._check_inplace("copy_")
        value = self._value(src)
        if tuple(getattr(value, "shape", ())) not in ((), self.shape):
            try:
                np.broadcast_shapes(tuple(value.shape), self.shape)
            except ValueError:
                raise ValueError(f"copy_: source shape {tuple(value.shape)} does not match {self.shape}") from None
        if backend.device_of(value) != self.device if hasattr(value, "shape") else False:
            value = backend.to_device(value, self.device)
        self.data[...] = value
        return self

    def fill_(self, value: float) -> Tensor:
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def zero_(self) -> Tensor:
        self._check_inplace("zero_")
        return self.fill_(0)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from .creation import _random_array

        self._check_inplace("normal_")
        return self.copy_(_random_array("normal", self.shape, self.dtype, self.device) * std + mean)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from .creation import _random_array

        self._check_inplace("uniform_")
        return self.copy_(_random_array("uniform", self.shape, self.dtype, self.device) * (b - a) + a)


def _resolve_shape(shape: tuple, numel: int, source: tuple) -> tuple:
    """Fill in a single -1 and check that the element count is preserved."""
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = int(np.prod([n for n in shape if n != -1]))
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"reshape: invalid target shape {shape} (at most one -1, no other negatives)")
    if unknown:
        if known == 0 or numel % known:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {source} ({numel} elements) into shape {shape}"
            )
        shape = tuple(numel // known if n == -1 else n for n in shape)
    elif known != numel:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {source} ({numel} elements) into shape {shape}")
    return tuple(int(n) for n in shape)


def _host_key(key: Any) -> Any:
    """The key with device index arrays replaced by host ones of the same shape (for validation)."""
    if isinstance(key, tuple):
        return tuple(_host_key(k) for k in key)
    if hasattr(key, "shape") and not isinstance(key, np.ndarray):
        return backend.to_numpy(key)
    return key


class _CastFunction(autograd.Function):
    """dtype conversion; the gradient is cast back to the source dtype."""

    @staticmethod
    def forward(ctx: autograd.Context, a: Any, dtype: np.dtype = float32) -> Any:
        ctx.src = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx: autograd.Context, g: Any) -> Any:
        return g.astype(ctx.src)


class _ToDeviceFunction(autograd.Function):
    """Move to another device; the gradient moves back."""

    @staticmethod
    def forward(ctx: autograd.Context, a: Any, device: str = "cpu") -> Any:
        ctx.src = backend.device_of(a)
        return backend.to_device(a, device)

    @staticmethod
    def backward(ctx: autograd.Context, g: Any) -> Any:
        return backend.to_device(g, ctx.src)
