"""The strict stand-in for CuPy: NumPy arrays that refuse to be used as NumPy arrays.

The ``"strict"`` device (``backend.device("strict")``) is a CPU stand-in for CuPy used by the test
suite. Its arrays refuse implicit conversion to NumPy (``np.asarray(x)``, ``x.__array__()``,
NumPy-only helpers, mixing with plain ``np.ndarray``), exactly the operations that crash on a real
GPU. Running the op tests on it on a machine without a GPU catches every code path that would break
under CuPy. ``strict`` is its array module (what ``get_array_module`` returns for a ``StrictArray``);
both names are importable from ``minitorch_cnn.backend`` too.
"""

from __future__ import annotations

import functools
import numbers
import operator
from typing import Any

import numpy as np

__all__ = ["StrictArray", "strict"]

_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed (this is the strict CuPy stand-in, "
    "which behaves like a GPU array). Use the array module from get_array_module(x), or "
    "backend.to_numpy(x) for an explicit copy to the host."
)


def _unwrap(obj: Any, allow_numpy: bool = False) -> Any:
    """StrictArray -> ndarray, recursively through lists and tuples. Plain ndarrays are refused."""
    if isinstance(obj, StrictArray):
        return obj._a
    if isinstance(obj, np.ndarray) and not allow_numpy and obj.ndim > 0:
        raise TypeError(
            "a NumPy array was mixed with a strict (GPU-like) array; CuPy refuses this. "
            "Create it with the input's array module (xp = get_array_module(x)) instead."
        )
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, allow_numpy) for o in obj)
    if isinstance(obj, dict):  # keyword arguments, e.g. out=
        return {k: _unwrap(v, allow_numpy) for k, v in obj.items()}
    return obj


def _wrap(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return StrictArray(obj)
    if isinstance(obj, np.generic):
        # CuPy reductions return 0-d device arrays, not host scalars
        return StrictArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class StrictArray:
    """A NumPy array in a GPU-like shell: it works through its array module, never through NumPy.

    Operators, methods and attributes are those of the wrapped ``ndarray``; results come back
    wrapped. ``np.asarray(a)``, ``float(a)`` on a non-scalar, passing it to a NumPy-only
    function, or combining it with a plain ``np.ndarray`` raises ``TypeError``, as CuPy does.
    """

    __slots__ = ("_a",)
    __array_priority__ = 1000

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # --- what CuPy refuses ---------------------------------------------------------------------
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # CuPy supports NumPy ufuncs on its own arrays but refuses host arrays mixed in
        args = _unwrap(inputs)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"])
        return _wrap(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = getattr(func, "__name__", "")
        if name not in _STRICT_ALLOWED_NP_FUNCTIONS:
            raise TypeError(
                f"numpy.{name} was called on a strict (GPU-like) array. Use xp.{name} with "
                "xp = get_array_module(x), so that the code also runs on CuPy."
            )
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def get(self) -> np.ndarray:
        """Explicit copy to the host, as ``cupy.ndarray.get()``."""
        return self._a

    # --- plain attribute and method access ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            # never forward protocol hooks such as __array_interface__ / __array_struct__: NumPy
            # would use them to read the host buffer behind __array__'s back
            raise AttributeError(f"'StrictArray' object has no attribute {name!r}")
        value = getattr(self._a, name)
        if callable(value):

            @functools.wraps(value)
            def method(*args: Any, **kwargs: Any) -> Any:
                return _wrap(value(*_unwrap(args), **_unwrap(kwargs)))

            return method
        return _wrap(value)

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[_unwrap(key)] = _unwrap(value)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_wrap(x) for x in self._a)

    def __repr__(self) -> str:
        return f"strict({self._a!r})"

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return operator.index(self._a)

    def __deepcopy__(self, memo: Any) -> StrictArray:
        return StrictArray(self._a.copy())

    def __reduce__(self):
        return (StrictArray, (self._a,))


def _binary(op: Any, reflected: bool = False):
    def f(self: StrictArray, other: Any) -> Any:
        other = _unwrap(other)
        return _wrap(op(other, self._a) if reflected else op(self._a, other))

    return f


def _inplace(op: Any):
    def f(self: StrictArray, other: Any) -> StrictArray:
        self._a = op(self._a, _unwrap(other))
        return self

    return f


for _name, _op in {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "matmul": operator.matmul,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
}.items():
    setattr(StrictArray, f"__{_name}__", _binary(_op))
    setattr(StrictArray, f"__r{_name}__", _binary(_op, reflected=True))
    setattr(StrictArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(StrictArray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name, _op in {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}.items():
    setattr(StrictArray, f"__{_name}__", (lambda op: lambda self: _wrap(op(self._a)))(_op))
StrictArray.__hash__ = None  # type: ignore[assignment]

# NumPy functions that CuPy also implements via __array_function__ dispatch. Anything else called
# on a strict array is a NumPy-only helper, which would fail (or silently copy) under CuPy.
_STRICT_ALLOWED_NP_FUNCTIONS = frozenset(
    "sum mean var std max min amax amin argmax argmin prod cumsum where clip concatenate stack "
    "reshape transpose moveaxis swapaxes squeeze expand_dims broadcast_to zeros_like ones_like "
    "empty_like full_like copyto pad dot matmul tensordot einsum allclose isclose array_equal "
    "round around sort argsort take take_along_axis put_along_axis ravel unique nonzero any all "
    "split array_split flip diag tile repeat count_nonzero isfinite isnan abs sqrt exp log "
    "result_type ndim shape size".split()
)


class _StrictUfunc:
    """A NumPy ufunc seen through the strict module: calls and ``.at`` / ``.reduce`` work on strict arrays."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _wrap(self._ufunc(*_unwrap(args), **_unwrap(kwargs)))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._ufunc, name)

        def fn(*args: Any, **kwargs: Any) -> Any:
            return _wrap(method(*_unwrap(args), **_unwrap(kwargs)))

        return fn


class _StrictNamespace:
    """Resolves ``name`` to NumPy's ``name`` with arguments unwrapped and results wrapped."""

    def __init__(self, target: Any, path: str) -> None:
        self._target = target
        self._path = path

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in ("ndarray",):
            return StrictArray
        if isinstance(value, type) and issubclass(value, np.generic):
            return value  # dtypes: xp.float32 etc.
        if isinstance(value, (numbers.Number, np.dtype, str)):
            return value
        if isinstance(value, np.ufunc):
            return _StrictUfunc(value)
        if callable(value) and not isinstance(value, type):
            allow_host = name in ("asarray", "array", "ascontiguousarray", "asanyarray")

            @functools.wraps(value)
            def fn(*args: Any, **kwargs: Any) -> Any:
                return _wrap(value(*_unwrap(args, allow_host), **_unwrap(kwargs, allow_host)))

            return fn
        if hasattr(value, "__dict__") or hasattr(value, "__getattr__"):
            return _StrictNamespace(value, f"{self._path}.{name}")
        return value

    def asnumpy(self, a: Any) -> np.ndarray:
        """``cupy.asnumpy``: the explicit copy back to the host."""
        from .backend import to_numpy

        return to_numpy(a)

    def __repr__(self) -> str:
        return f"<strict stand-in for {self._path}>"


strict = _StrictNamespace(np, "numpy")
"""The strict stand-in array module: ``strict.zeros(3)`` returns a ``StrictArray``."""
