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

import builtins
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd, backend
from .inplace import _VersionCounter, apply_inplace, check_inplace, write_inplace
from .ops import elementwise, indexing, matmul, reduce
from .ops import shape as shape_ops  # `shape` is a parameter and property name throughout
from .ops._util import normalize_dims

__all__ = ["Tensor", "float32", "float64", "int64", "int32", "bool_", "uint8", "float16", "FloatTensor",
           "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"]

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_FLOAT_KINDS = "f"
_TYPE_NAMES = {
    float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor", np.dtype("int8"): "CharTensor",
    np.dtype("int16"): "ShortTensor", int32: "IntTensor", int64: "LongTensor", uint8: "ByteTensor",
    bool_: "BoolTensor",
}
MaxResult = namedtuple("MaxResult", ["values", "indices"])

# NumPy ufunc name -> (Tensor operator, the operator to call when the tensor is on the right)
_UFUNC_OPERATORS = {
    "add": ("add", "radd"), "subtract": ("sub", "rsub"), "multiply": ("mul", "rmul"),
    "divide": ("truediv", "rtruediv"), "power": ("pow", "rpow"), "matmul": ("matmul", "rmatmul"),
    "less": ("lt", "gt"), "less_equal": ("le", "ge"), "greater": ("gt", "lt"), "greater_equal": ("ge", "le"),
    "equal": ("eq", "eq"), "not_equal": ("ne", "ne"),
}


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



def _legacy_array(args: tuple, dtype: np.dtype, device: Any, name: str) -> Any:
    """The array of PyTorch's legacy constructors ``Tensor(...)`` / ``LongTensor(...)`` & co.

    Integers are sizes (zeros: PyTorch leaves the memory uninitialised); one sequence or array is
    converted to ``dtype`` (an array of that dtype is shared, not copied); one Tensor is aliased
    (``Tensor(t)`` keeps any dtype, ``LongTensor(t)`` needs an int64 ``t``, as PyTorch).
    """
    dev = backend.get_default_device() if device is None else backend.device(device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if name != "Tensor" and src.dtype != dtype:
            raise TypeError(f"{name}(): expected a tensor of dtype {dtype}, got {src.dtype}; convert it with .to(dtype)")
        if device is not None and dev != src.device:
            raise TypeError(f"{name}(): the tensor is on {src.device}, not {dev}; move it with .to(device)")
        return src._array
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
        if any(a < 0 for a in args):
            raise ValueError(f"{name}(): negative dimension in size {tuple(int(a) for a in args)}")
        shape = tuple(int(a) for a in args) if args else (0,)  # Tensor() is empty, not 0-d
        return backend.to_device(np.zeros(shape, dtype=dtype), dev)
    if len(args) != 1 or isinstance(args[0], (str, bytes, float, complex, bool, np.generic)) or args[0] is None:
        got = type(args[0]).__name__ if len(args) == 1 else f"{len(args)} arguments {args!r}"
        raise TypeError(f"{name}(): expected sizes (ints) or one sequence of values, got {got}; "
                        "for a 0-d tensor use minitorch_cnn.tensor(value)")
    data = args[0]
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        if data.dtype == dtype and backend.device_of(data) == dev:
            return data  # shares the array, as torch.Tensor(float32_ndarray) does
        values = backend.to_numpy(data)
    else:
        try:
            values = np.array(data)
        except ValueError:  # NumPy's "inhomogeneous shape"
            values = np.array(None, dtype=object)
        if values.dtype == object or values.dtype.kind in "USV":
            raise TypeError(f"{name}(): could not turn the data into a numeric array; nested lists must be "
                            "rectangular and hold numbers only")
    return backend.to_device(values.astype(dtype), dev)


class _LegacyTensorType(type):
    """``FloatTensor``, ``LongTensor``, ...: constructors of one dtype; ``isinstance(t, mt.LongTensor)``
    is true for an int64 tensor on the CPU, as in PyTorch."""

    dtype: np.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        t = Tensor._from_array(_legacy_array(args, cls.dtype, device, cls.__name__))
        if len(args) == 1 and isinstance(args[0], Tensor):
            t._version_counter = args[0]._version_counter
        return t


def _legacy_type(name: str, dtype: np.dtype) -> type:
    doc = (f"``{name}(*sizes)`` or ``{name}(values)``: PyTorch's legacy {dtype} constructor "
           "(sizes give zeros).")
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": "minitorch_cnn"})


FloatTensor = _legacy_type("FloatTensor", float32)
DoubleTensor = _legacy_type("DoubleTensor", float64)
HalfTensor = _legacy_type("HalfTensor", float16)
LongTensor = _legacy_type("LongTensor", int64)
IntTensor = _legacy_type("IntTensor", int32)
ByteTensor = _legacy_type("ByteTensor", uint8)
BoolTensor = _legacy_type("BoolTensor", bool_)
LEGACY_TYPES = ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor")


def _dim_or_axis(dim: Any, axis: Any, op: str) -> Any:
    """PyTorch accepts NumPy's ``axis=`` for ``dim=``."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}(): got both dim={dim!r} and axis={axis!r}; give one")
    return axis


def parse_to_args(args: tuple, kwargs: dict) -> tuple[backend.device | None, np.dtype | None]:
    """The ``(device, dtype)`` that ``Tensor.to`` and ``Module.to`` are asked for (None: keep it).

    Positional arguments may be a device (``"cuda"``, ``mt.device("cpu")``), a dtype, or a tensor
    (its device and dtype); ``device=`` and ``dtype=`` keywords work as in PyTorch. ``non_blocking``
    (keyword or a positional bool, as torch's) is accepted: every copy here completes before ``to``
    returns, which is what a non-blocking copy promises once it is used.
    """
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    non_blocking = kwargs.pop("non_blocking", False)
    if not isinstance(non_blocking, bool):
        raise TypeError(f"to(): non_blocking must be True or False, got {non_blocking!r}")
    if kwargs:
        raise TypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, bool):  # torch's positional non_blocking
            continue
        if isinstance(a, (str, backend.device)):
            dev = a
        elif isinstance(a, Tensor):
            dev, dtype = a.device, a.dtype
        elif a is not None:
            dtype = a
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to(): expected a device, a dtype or a tensor, got {dtype!r}") from None
    return (None if dev is None else backend.device(dev)), dtype

class Tensor:
    """An array with gradient bookkeeping. Create one with ``minitorch_cnn.tensor(...)``.

    ``Tensor(...)`` is PyTorch's legacy constructor: ``Tensor([1, 2])`` is a float32 copy of the
    values, ``Tensor(2, 3)`` a float32 tensor of that shape (zeros: PyTorch leaves it
    uninitialised), ``Tensor()`` an empty one, ``Tensor(other_tensor)`` an alias of its memory
    (any dtype), ``Tensor(float32_ndarray)`` shares the array. Internally ops wrap backend arrays
    with ``Tensor._from_array`` (no copy); ``t._array`` is that raw array (``t.data`` is a Tensor).
    """

    __array_priority__ = 1000  # make ndarray + Tensor defer to Tensor.__radd__

    def __init__(self, *args: Any, requires_grad: bool = False, device: Any = None) -> None:
        self._init_array(_legacy_array(args, float32, device, "Tensor"))
        if len(args) == 1 and isinstance(args[0], Tensor):
            self._version_counter = args[0]._version_counter  # an alias of the same memory
        if requires_grad:
            self.requires_grad_(True)

    def _init_array(self, array: Any) -> None:
        if isinstance(array, np.generic):  # NumPy reductions return read-only scalars: 0-d arrays instead
            array = np.asarray(array)
        self._array = array
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Node | None = None
        self._output_index = 0
        self._leaf_hooks: list[Callable] = []
        self._retains_grad = False
        self.requires_grad = False
        self._version_counter = _VersionCounter()
        self._view_base: Tensor | None = None  # the tensor whose memory this one views, if any
        self._view_version = 0  # the shared version when the view was taken

    @classmethod
    def _from_array(cls, array: Any) -> Tensor:
        """Wrap a backend array without copying (what every op does with its result)."""
        t = Tensor.__new__(Tensor)
        if isinstance(array, np.generic):  # x.sum() on NumPy: a writable 0-d array, so `total += x` works
            array = np.asarray(array)
        t._array = array
        t.grad = None
        t.grad_fn = None
        t._output_index = 0
        t._leaf_hooks = []
        t._retains_grad = False
        t.requires_grad = False
        t._version_counter = _VersionCounter()
        t._view_base = None
        t._view_version = 0
        return t

    @property
    def data(self) -> Tensor:
        """A Tensor sharing this tensor's memory, outside the graph (``requires_grad=False``, no
        ``grad_fn``), with its own version counter: changes through it are not tracked, as in
        PyTorch (``p.data.mul_(0.5)``, ``w.data[0] = 1``). ``t.data = other`` swaps the memory."""
        return Tensor._from_array(self._array)

    @data.setter
    def data(self, value: Any) -> None:
        if isinstance(value, Tensor):
            value = value._array
        elif not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(f"data: assigned value must be a Tensor, got {type(value).__name__}")
        if isinstance(value, np.generic):
            value = np.asarray(value)
        self._array = value

    # ----------------------------------------------------------------------------------------------
    # Metadata
    # ----------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._array.shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def dim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        return int(self._array.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def device(self) -> backend.device:
        return backend.device_of(self._array)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with its views)."""
        return self._version_counter.value

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
        return backend.get_array_module(self._array)

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
            self.grad._array = self.grad._array + grad

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and the version counter, as in PyTorch)."""
        out = Tensor._from_array(self._array)
        out._version_counter = self._version_counter
        return out

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
        return backend.to_numpy(self._array)

    def item(self) -> float | int | bool:
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return backend.to_numpy(self._array).reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_numpy(self._array).tolist()

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
        out = backend.to_numpy(self._array)
        return out.astype(dtype) if dtype is not None else out

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``t.to(device)``, ``t.to(dtype)``, ``t.to(device, dtype)`` or ``t.to(other)``: differentiable copies."""
        dev, dtype = parse_to_args(args, kwargs)
        out = self
        if dtype is not None and dtype != self.dtype:
            out = _CastFunction.apply(out, dtype=dtype)
        if dev is not None and dev != self.device:
            out = _ToDeviceFunction.apply(out, device=dev)
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

    def type(self, dtype: Any = None) -> Any:
        """Without an argument the type's name (``"minitorch_cnn.FloatTensor"``, as torch's
        ``"torch.FloatTensor"``); with a dtype or such a name (``"torch.DoubleTensor"``) a cast copy."""
        if dtype is None:
            return f"minitorch_cnn.{_TYPE_NAMES.get(self.dtype, str(self.dtype))}"
        if isinstance(dtype, str) and dtype.split(".")[-1] in _TYPE_NAMES.values():
            dtype = next(d for d, name in _TYPE_NAMES.items() if name == dtype.split(".")[-1])
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"type(): dtype must be a dtype (mt.float64) or a type name such as 'torch.DoubleTensor', "
                f"got {dtype!r}"
            ) from None
        return self.to(dtype)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """A new tensor from ``data`` with this tensor's dtype and device unless given."""
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size: Sequence[int], fill_value: float, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        from .creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_shape_arg(size), 0, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_shape_arg(size), 1, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def clone(self) -> Tensor:
        return self + 0 if self.requires_grad else Tensor._from_array(self._array.copy())

    def contiguous(self) -> Tensor:
        return self

    # ----------------------------------------------------------------------------------------------
    # Printing
    # ----------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        arr = backend.to_numpy(self._array)
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

    def __format__(self, format_spec: str) -> str:
        """As PyTorch: a 0-d tensor formats its number (``f"{loss:.4f}"``, ``"{}".format(loss)`` gives
        ``str(loss.item())``); other tensors accept only an empty spec (their ``str``)."""
        if self.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __hash__(self) -> int:
        return id(self)

    # ----------------------------------------------------------------------------------------------
    # Arithmetic
    # ----------------------------------------------------------------------------------------------
    def _coerce(self, other: Any) -> Any:
        """Python and NumPy scalars (and 0-d arrays) become Python numbers, so the result keeps the
        tensor's dtype (``x * np.sqrt(2)`` stays float32, as in PyTorch); arrays become Tensors."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, np.generic) or (hasattr(other, "shape") and len(other.shape) == 0):
            return other.item()  # before the float check: np.float64 is a subclass of float
        if isinstance(other, (int, float, bool)):
            return other
        if isinstance(other, (str, bytes)) or other is None:
            raise TypeError(
                f"unsupported operand: a Tensor cannot be combined with {type(other).__name__} {other!r}; "
                "use a number, a Tensor or an array of numbers"
            )
        arr = backend.to_device(np.asarray(other), self.device) if not hasattr(other, "shape") else other
        return Tensor._from_array(arr)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.float32(2) * x`` or ``array + x`` calls the Tensor operator (a Tensor comes back);
        other NumPy functions see the tensor as an array (``np.exp(x)`` returns an ndarray)."""
        names = _UFUNC_OPERATORS.get(getattr(ufunc, "__name__", ""))
        if method == "__call__" and names and len(inputs) == 2 and not kwargs:
            a, b = inputs
            if isinstance(a, Tensor):
                return getattr(a, f"__{names[0]}__")(b)
            return getattr(b, f"__{names[1]}__")(a)
        arrays = [np.asarray(x) if isinstance(x, Tensor) else x for x in inputs]
        return getattr(ufunc, method)(*arrays, **kwargs)

    def __add__(self, other: Any) -> Tensor:
        return elementwise.AddFunction.apply(self, self._coerce(other))

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.AddFunction.apply(self._coerce(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return elementwise.SubFunction.apply(self, self._coerce(other))

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.SubFunction.apply(self._coerce(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return elementwise.MulFunction.apply(self, self._coerce(other))

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.MulFunction.apply(self._coerce(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return elementwise.DivFunction.apply(self, self._coerce(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return elementwise.DivFunction.apply(self._coerce(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return elementwise.PowFunction.apply(self, self._coerce(other))

    def __rpow__(self, other: Any) -> Tensor:
        return elementwise.PowFunction.apply(self._coerce(other), self)

    def __neg__(self) -> Tensor:
        return elementwise.NegFunction.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return matmul.MatMulFunction.apply(self, self._coerce(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul.MatMulFunction.apply(self._coerce(other), self)

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
        return elementwise.ExpFunction.apply(self)

    def log(self) -> Tensor:
        return elementwise.LogFunction.apply(self)

    def sqrt(self) -> Tensor:
        return elementwise.SqrtFunction.apply(self)

    def abs(self) -> Tensor:
        return elementwise.AbsFunction.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return elementwise.ClampFunction.apply(self, min=min, max=max)

    clip = clamp

    def relu(self) -> Tensor:
        return elementwise.ReLUFunction.apply(self)

    def sigmoid(self) -> Tensor:
        return elementwise.SigmoidFunction.apply(self)

    def tanh(self) -> Tensor:
        return elementwise.TanhFunction.apply(self)

    def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        dim = dim if axis is None else axis
        axis = normalize_dims(dim, self.ndim)[0] if self.ndim else 0
        return elementwise.SoftmaxFunction.apply(self, dim=axis)

    def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        dim = dim if axis is None else axis
        axis = normalize_dims(dim, self.ndim)[0] if self.ndim else 0
        return elementwise.LogSoftmaxFunction.apply(self, dim=axis)

    def maximum(self, other: Any) -> Tensor:
        return elementwise.MaximumFunction.apply(self, self._coerce(other))

    def minimum(self, other: Any) -> Tensor:
        return elementwise.MinimumFunction.apply(self, self._coerce(other))

    # comparisons: no gradient, boolean result
    def _compare(self, other: Any, op: Callable) -> Tensor:
        other = other._array if isinstance(other, Tensor) else other
        return Tensor._from_array(op(self._array, other))

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
        return Tensor._from_array(~self._array)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def any(self) -> Tensor:
        return Tensor._from_array(self._array.any())

    def all(self) -> Tensor:
        return Tensor._from_array(self._array.all())

    def isnan(self) -> Tensor:
        return Tensor._from_array(self.xp.isnan(self._array))

    def isfinite(self) -> Tensor:
        return Tensor._from_array(self.xp.isfinite(self._array))

    # ----------------------------------------------------------------------------------------------
    # Reductions
    # ----------------------------------------------------------------------------------------------
    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        dim = _dim_or_axis(dim, axis, "sum")
        return reduce.SumFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        dim = _dim_or_axis(dim, axis, "mean")
        if self.dtype.kind not in _FLOAT_KINDS:
            raise TypeError(f"mean(): needs a floating-point tensor, got dtype {self.dtype}; use .float() first")
        return reduce.MeanFunction.apply(self, axes=normalize_dims(dim, self.ndim), keepdim=keepdim)

    def var(
        self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None,
    ) -> Tensor:
        """Variance; ``correction=1`` (default, Bessel) divides by n - 1, ``correction=0`` by n."""
        if correction is None:
            correction = 1 if unbiased in (None, True) else 0
        axes = normalize_dims(dim, self.ndim)
        return reduce.VarFunction.apply(self, axes=axes, keepdim=keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None) -> Tensor:
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def _extreme(self, dim: int | None, keepdim: bool, mode: str) -> Any:
        if dim is None:
            _check_nonempty_reduction(mode, self.shape, None)
            return reduce.MaxMinFunction.apply(self, axes=None, keepdim=False, mode=mode)
        (d,) = normalize_dims(dim, self.ndim)
        _check_nonempty_reduction(mode, self.shape, (d,))
        values, indices = reduce.MaxMinDimFunction.apply(self, dim=d, keepdim=keepdim, mode=mode)
        return MaxResult(values, indices)

    def max(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Any:
        """Without ``dim`` the largest element; with ``dim`` a ``(values, indices)`` pair."""
        dim = _dim_or_axis(dim, axis, "max")
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, "max")

    def min(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Any:
        dim = _dim_or_axis(dim, axis, "min")
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim, keepdim, "min")

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        dim = _dim_or_axis(dim, axis, "amax")
        axes = normalize_dims(dim, self.ndim)
        _check_nonempty_reduction("amax", self.shape, axes)
        return reduce.MaxMinFunction.apply(self, axes=axes, keepdim=keepdim, mode="max")

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        dim = _dim_or_axis(dim, axis, "amin")
        axes = normalize_dims(dim, self.ndim)
        _check_nonempty_reduction("amin", self.shape, axes)
        return reduce.MaxMinFunction.apply(self, axes=axes, keepdim=keepdim, mode="min")

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
        return self._arg(_dim_or_axis(dim, axis, "argmax"), keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
        return self._arg(_dim_or_axis(dim, axis, "argmin"), keepdim, "argmin")

    def _arg(self, dim: int | None, keepdim: bool, name: str) -> Tensor:
        if dim is None:
            return Tensor._from_array(getattr(self._array.reshape(-1), name)().astype(int64))
        (d,) = normalize_dims(dim, self.ndim)
        out = getattr(self._array, name)(axis=d)
        if keepdim:
            out = self.xp.expand_dims(out, d)
        return Tensor._from_array(out.astype(int64))

    def prod(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Product of the elements (over ``dim``, or all of them)."""
        d = None if dim is None else normalize_dims(dim, self.ndim)[0]
        return reduce.ProdFunction.apply(self, dim=d, keepdim=keepdim)

    def cumsum(self, dim: int) -> Tensor:
        """Running sum along ``dim``: out[i] = x[0] + ... + x[i]."""
        (d,) = normalize_dims(dim, self.ndim)
        return reduce.CumsumFunction.apply(self, dim=d)

    def norm(self, p: Any = "fro", dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """The p-norm ``(sum |x|^p)^(1/p)`` over ``dim`` (all elements by default): p = 2 / 'fro'
        (Euclidean, the default), 1, inf (largest |x|), -inf, or any p > 0."""
        if self.dtype.kind not in _FLOAT_KINDS:
            raise TypeError(f"norm(): needs a floating-point tensor, got dtype {self.dtype}; use .float() first")
        axes = normalize_dims(dim, self.ndim)
        if p in ("fro", 2):
            return reduce.Norm2Function.apply(self, axes=axes, keepdim=keepdim)
        if p == 1:
            return self.abs().sum(axes, keepdim)
        if p in (float("inf"), -float("inf")):
            return self.abs().amax(axes, keepdim) if p > 0 else self.abs().amin(axes, keepdim)
        if isinstance(p, (int, float)) and not isinstance(p, bool) and p > 0:
            return (self.abs() ** p).sum(axes, keepdim) ** (1.0 / p)
        raise ValueError(f"norm(): p must be 'fro', a number > 0, inf or -inf, got {p!r}")

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """``(values, indices)`` sorted along ``dim``; ties keep their order (always stable)."""
        (d,) = normalize_dims(dim, self.ndim) if self.ndim else (0,)
        order = self._argsort(d, descending)
        return MaxResult(self.gather(d, order) if self.ndim else self * 1, order)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        (d,) = normalize_dims(dim, self.ndim) if self.ndim else (0,)
        return self._argsort(d, descending)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        """The ``k`` largest (or smallest) elements along ``dim`` as ``(values, indices)``, in order."""
        (d,) = normalize_dims(dim, self.ndim) if self.ndim else (0,)
        size = self.shape[d] if self.ndim else 1
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
            raise ValueError(f"topk(): k must be an integer in [0, {size}] (the size of dim {dim}), got {k!r}")
        if self.ndim == 0:
            return MaxResult(self * 1, Tensor._from_array(self.xp.zeros((), dtype=int64)))
        key = tuple(slice(0, k) if i == d else slice(None) for i in range(self.ndim))
        order = Tensor._from_array(self._argsort(d, largest)._array[key])
        return MaxResult(self.gather(d, order), order)

    def _argsort(self, d: int, descending: bool) -> Tensor:
        """Stable sort order along ``d`` (descending keeps ties in their original order too)."""
        xp = self.xp
        if self.ndim == 0:
            return Tensor._from_array(xp.zeros((), dtype=int64))
        if not descending:
            return Tensor._from_array(xp.argsort(self._array, axis=d, kind="stable").astype(int64))
        # descending and stable: sort the reversed array ascending, then undo the reversal
        n = self.shape[d]
        rev = xp.argsort(xp.flip(self._array, d), axis=d, kind="stable")
        return Tensor._from_array(xp.flip(n - 1 - rev, d).astype(int64))

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` for ``dim=1`` (any dim likewise), as ``torch.gather``."""
        (d,) = normalize_dims(dim, self.ndim)
        idx = index._array if isinstance(index, Tensor) else self._coerce(index)._array
        if idx.dtype.kind not in "iu" or idx.ndim != self.ndim:
            raise TypeError(
                f"gather(): index must be an integer tensor with {self.ndim} dims like the input, got dtype "
                f"{idx.dtype} with shape {tuple(idx.shape)}"
            )
        if any(n > m for i, (n, m) in enumerate(zip(idx.shape, self.shape)) if i != d):
            raise ValueError(f"gather(): index shape {tuple(idx.shape)} exceeds input shape {self.shape} outside dim {d}")
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= self.shape[d]):
            raise IndexError(
                f"gather(): index values must be in [0, {self.shape[d] - 1}] for dim {d} of shape {self.shape}, "
                f"got values in [{int(idx.min())}, {int(idx.max())}]"
            )
        return indexing.GatherFunction.apply(self, Tensor._from_array(idx), dim=d)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where the boolean ``mask`` (broadcast to this shape) is True, the tensor elsewhere."""
        return _masked_fill(self, mask, value, inplace=False)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return _masked_fill(self, mask, value, inplace=True)

    def nonzero(self, as_tuple: bool = False) -> Any:
        """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-d tensor per dim."""
        xp = self.xp
        data = self._array.reshape(1) if self.ndim == 0 else self._array
        found = xp.nonzero(data)
        if as_tuple:
            return tuple(Tensor._from_array(f.astype(int64)) for f in found)
        if self.ndim == 0:
            return Tensor._from_array(xp.zeros((int(found[0].size), 0), dtype=int64))
        return Tensor._from_array(xp.stack(found, axis=1).astype(int64))

    def repeat(self, *sizes: Any) -> Tensor:
        """Tile the tensor ``sizes[i]`` times along dim i (NumPy's ``tile``); extra sizes add leading dims."""
        reps = _shape_arg(sizes)
        if len(reps) < self.ndim or any(not isinstance(r, (int, np.integer)) or r < 0 for r in reps):
            raise ValueError(
                f"repeat(): needs one non-negative integer per dim (at least {self.ndim} for shape {self.shape}), "
                f"got {reps}"
            )
        return shape_ops.RepeatFunction.apply(self, reps=tuple(int(r) for r in reps))

    # ----------------------------------------------------------------------------------------------
    # Shape
    # ----------------------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        shape = _resolve_shape(_shape_arg(shape), self.numel(), self.shape)
        return shape_ops.ReshapeFunction.apply(self, shape=shape)

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

    def squeeze(self, dim: int | Sequence[int] | None = None, *, axis: Any = None) -> Tensor:
        dim = _dim_or_axis(dim, axis, "squeeze")
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
        return shape_ops.PermuteFunction.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        d0, d1 = (normalize_dims(d, self.ndim)[0] for d in (dim0, dim1))
        order = list(range(self.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return shape_ops.PermuteFunction.apply(self, dims=tuple(order))

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
        return shape_ops.ExpandFunction.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.broadcast_to(other.shape)

    def flip(self, dims: int | Sequence[int]) -> Tensor:
        return shape_ops.FlipFunction.apply(self, dims=normalize_dims(dims, self.ndim))

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        from .creation import split

        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
        (d,) = normalize_dims(dim, self.ndim)
        size = builtins.max(-(-self.shape[d] // chunks), 1)
        return self.split(size, dim)

    def __getitem__(self, key: Any) -> Tensor:
        key = indexing.normalize_key(key, self._host_to_device)
        self._selected_shape(key)  # validates the key before any work
        return indexing.GetItemFunction.apply(self, key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``x[key] = value``, in place; recorded in the graph when ``x`` or ``value`` requires grad."""
        key = indexing.normalize_key(key, self._host_to_device)
        selected = self._selected_shape(key)
        value_shape = tuple(getattr(value, "shape", ()))
        fitted = value_shape
        while len(fitted) > len(selected) and fitted[0] == 1:  # PyTorch drops leading 1s: x[0] = v[None]
            fitted = fitted[1:]
        if not _broadcasts_to(fitted, selected):
            raise ValueError(
                f"x[key] = value: value of shape {value_shape} cannot be broadcast to the selected "
                f"shape {selected} of this tensor of shape {self.shape}"
            )
        if fitted != value_shape:
            value = value.reshape(fitted)
        if check_inplace(self, "x[key] = value", (value,)):
            value = value if isinstance(value, Tensor) else self._coerce(value)
            apply_inplace(indexing.SetItemFunction, self, value, key=key, op="x[key] = value")
        else:
            write_inplace(self, self._inplace_operand(value), "x[key] = value", key=key)

    def _host_to_device(self, k: Any) -> Any:
        return backend.to_device(np.asarray(k), self.device)

    def _selected_shape(self, key: Any) -> tuple:
        """The shape of ``self[key]``, found on a zero-size probe; an IndexError names the shape."""
        try:
            probe = np.lib.stride_tricks.as_strided(np.empty(1), self.shape, [0] * self.ndim)
            return tuple(probe[_host_key(key)].shape)
        except IndexError as exc:
            raise IndexError(f"index {key!r} is invalid for a tensor of shape {self.shape}: {exc}") from None

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ----------------------------------------------------------------------------------------------
    # In-place ops (``x += 1``, ``x.mul_(2)``): PyTorch's rules, see ``apply_inplace``.
    # Allowed on leaves under no_grad (optimizers, init), refused on a leaf that requires grad
    # otherwise, recorded in the graph on other tensors; every change bumps ``x._version``.
    # ----------------------------------------------------------------------------------------------
    def _inplace_operand(self, other: Any) -> Any:
        """``other`` as a scalar or an array on this tensor's device (what an in-place write takes)."""
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise TypeError(
                    f"in-place op: the other operand is on {other.device} but this tensor is on {self.device}; "
                    "move it with .to(device)"
                )
            return other._array
        other = self._coerce(other)
        return other._array if isinstance(other, Tensor) else other

    def _inplace_binary(self, op: str, function: type[autograd.Function], other: Any) -> Tensor:
        other = self._coerce(other)
        shape = getattr(other, "shape", ())
        if not _broadcasts_to(tuple(shape), self.shape):
            raise ValueError(
                f"{op}: the other operand has shape {tuple(shape)}, which does not broadcast to this "
                f"tensor's shape {self.shape}; an in-place op cannot change the shape (PyTorch: output "
                f"with shape {list(self.shape)} doesn't match the broadcast shape)"
            )
        return apply_inplace(function, self, other, op=op)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._inplace_binary("add_", elementwise.AddFunction, other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._inplace_binary("sub_", elementwise.SubFunction, other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace_binary("mul_", elementwise.MulFunction, other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace_binary("div_", elementwise.DivFunction, other)

    def pow_(self, other: Any) -> Tensor:
        return self._inplace_binary("pow_", elementwise.PowFunction, other)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __ipow__(self, other: Any) -> Tensor:
        return self.pow_(other)

    def addcmul_(self, t1: Any, t2: Any, value: float = 1) -> Tensor:
        """``self += value * t1 * t2``."""
        return self._inplace_binary("addcmul_", elementwise.AddFunction, self._coerce(t1) * t2 * value)

    def addcdiv_(self, t1: Any, t2: Any, value: float = 1) -> Tensor:
        """``self += value * t1 / t2``."""
        return self._inplace_binary("addcdiv_", elementwise.AddFunction, self._coerce(t1) / t2 * value)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return apply_inplace(elementwise.ClampFunction, self, min=min, max=max, op="clamp_")

    clip_ = clamp_

    def relu_(self) -> Tensor:
        return apply_inplace(elementwise.ReLUFunction, self, op="relu_")

    def _inplace_unary(self, op: str, function: type[autograd.Function]) -> Tensor:
        if self.dtype.kind not in _FLOAT_KINDS and op not in ("abs_", "neg_"):
            raise TypeError(f"{op}: the result is floating point but this tensor has dtype {self.dtype}; "
                            "use the out-of-place op or .float() first")
        return apply_inplace(function, self, op=op)

    def sqrt_(self) -> Tensor:
        return self._inplace_unary("sqrt_", elementwise.SqrtFunction)

    def exp_(self) -> Tensor:
        return self._inplace_unary("exp_", elementwise.ExpFunction)

    def log_(self) -> Tensor:
        return self._inplace_unary("log_", elementwise.LogFunction)

    def abs_(self) -> Tensor:
        return self._inplace_unary("abs_", elementwise.AbsFunction)

    def neg_(self) -> Tensor:
        return self._inplace_unary("neg_", elementwise.NegFunction)

    def sigmoid_(self) -> Tensor:
        return self._inplace_unary("sigmoid_", elementwise.SigmoidFunction)

    def tanh_(self) -> Tensor:
        return self._inplace_unary("tanh_", elementwise.TanhFunction)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape, converted to this dtype and device) into this tensor."""
        if isinstance(src, Tensor):
            src = src.to(self.device).to(self.dtype)
        else:
            src = Tensor._from_array(backend.to_device(np.asarray(backend.to_numpy(src) if hasattr(src, "shape")
                                                                  else src, dtype=self.dtype), self.device))
        if not _broadcasts_to(src.shape, self.shape):
            raise ValueError(f"copy_: source shape {src.shape} does not broadcast to this tensor's shape {self.shape}")
        return apply_inplace(elementwise.CopyFunction, self, src, op="copy_")

    def fill_(self, value: Any) -> Tensor:
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise ValueError(f"fill_: value must be a number or a 1-element tensor, got shape {value.shape}")
            value = value.item()
        return apply_inplace(elementwise.FillFunction, self, value=value, op="fill_")

    def zero_(self) -> Tensor:
        return apply_inplace(elementwise.FillFunction, self, value=0, op="zero_")

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from .creation import _random_array

        check_inplace(self, "normal_")
        return self.copy_(Tensor._from_array(_random_array("normal", self.shape, self.dtype, self.device) * std + mean))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from .creation import _random_array

        check_inplace(self, "uniform_")
        return self.copy_(Tensor._from_array(_random_array("uniform", self.shape, self.dtype, self.device) * (b - a) + a))


def _masked_fill(t: Tensor, mask: Any, value: Any, inplace: bool) -> Tensor:
    """``masked_fill`` / ``masked_fill_``: checks the mask, then one MaskedFillFunction."""
    op = "masked_fill_" if inplace else "masked_fill"
    m = mask if isinstance(mask, Tensor) else t._coerce(mask)
    if not isinstance(m, Tensor) or m.dtype != bool_:
        raise TypeError(f"{op}: mask must be a boolean tensor (e.g. x > 0), got {getattr(m, 'dtype', type(m).__name__)}")
    if not _broadcasts_to(m.shape, t.shape):
        raise ValueError(f"{op}: mask of shape {m.shape} does not broadcast to the tensor's shape {t.shape}")
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{op}: value must be a number or a 1-element tensor, got shape {value.shape}")
        value = value.item()
    if inplace:
        return apply_inplace(elementwise.MaskedFillFunction, t, m, value=value, op=op)
    return elementwise.MaskedFillFunction.apply(t, m, value=value)


def _check_nonempty_reduction(op: str, shape: tuple, axes: tuple | None) -> None:
    """max/min of no elements has no value: refuse a reduced axis of size 0 (as PyTorch)."""
    reduced = range(len(shape)) if axes is None or not shape else axes  # a 0-d tensor accepts dim 0
    if any(shape[a] == 0 for a in reduced):
        raise RuntimeError(
            f"{op}(): cannot reduce an empty tensor of shape {shape} over "
            f"{'all dims' if axes is None else f'dim {axes[0] if len(axes) == 1 else axes}'} (no elements to compare)"
        )


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """True when an operand of ``shape`` broadcasts to exactly ``target`` (what an in-place write needs)."""
    try:
        return np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False


def _resolve_shape(shape: tuple, numel: int, source: tuple) -> tuple:
    """Fill in a single -1 and check that the element count is preserved."""
    if any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) for n in shape):
        raise TypeError(f"reshape: the target shape must hold integers, got {shape}")
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
    """dtype conversion: d/da = 1, the gradient cast back to the source dtype."""

    @staticmethod
    def forward(ctx: autograd.Context, a: Any, dtype: np.dtype = float32) -> Any:
        ctx.src = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx: autograd.Context, g: Any) -> Any:
        return g.astype(ctx.src)


class _ToDeviceFunction(autograd.Function):
    """Move to another device: d/da = 1, the gradient moved back."""

    @staticmethod
    def forward(ctx: autograd.Context, a: Any, device: str = "cpu") -> Any:
        ctx.src = backend.device_of(a)
        return backend.to_device(a, device)

    @staticmethod
    def backward(ctx: autograd.Context, g: Any) -> Any:
        return backend.to_device(g, ctx.src)
