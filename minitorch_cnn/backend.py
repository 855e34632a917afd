"""Array backends: where a tensor's numbers live and which array library computes on them.

Every kernel in minitorch_cnn starts the same way (chainer's idiom)::

    xp = get_array_module(x)      # numpy for "cpu" arrays, cupy for "cuda" arrays
    y = xp.maximum(x, 0)          # never np.maximum: that would pull GPU data back to the host

Three backends exist:

* ``"cpu"``  -- NumPy arrays.
* ``"cuda"`` -- CuPy arrays (optional: ``pip install minitorch_cnn[cuda12]`` or ``[cuda13]`` and an NVIDIA GPU).
* ``"strict"`` -- a CPU stand-in for CuPy used by the test suite. Its arrays refuse implicit
  conversion to NumPy (``np.asarray(x)``, ``x.__array__()``, NumPy-only helpers, mixing with plain
  ``np.ndarray``), exactly the operations that crash on a real GPU. Running the op tests on it on a
  machine without a GPU catches every code path that would break under CuPy.
"""

from __future__ import annotations

import functools
import numbers
import operator
from typing import Any

import numpy as np

__all__ = [
    "device",
    "get_array_module",
    "device_of",
    "to_device",
    "to_numpy",
    "set_default_device",
    "get_default_device",
    "cuda_is_available",
    "manual_seed",
    "random_state",
    "StrictArray",
    "strict",
]


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------
class device:  # noqa: N801  (lower-case to mirror torch.device)
    """A device name, as ``torch.device``: ``device("cpu")``, ``device("cuda")``, ``device("strict")``.

    Compares equal to its string, so ``t.device == "cpu"`` works as in PyTorch.
    """

    __slots__ = ("type",)
    _KNOWN = ("cpu", "cuda", "strict")

    def __init__(self, type: str | device) -> None:  # noqa: A002 - torch's parameter name
        name = type.type if isinstance(type, device) else str(type)
        name = name.split(":")[0]  # "cuda:0" -> "cuda"; one GPU is all we address
        if name not in self._KNOWN:
            raise ValueError(
                f"device: unknown device {type!r}; expected one of {', '.join(self._KNOWN)}"
            )
        self.type = name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, device):
            return self.type == other.type
        if isinstance(other, str):
            return self.type == other.split(":")[0]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


_default_device = device("cpu")


def set_default_device(dev: str | device) -> None:
    """Make ``dev`` the device that factories (``zeros``, ``randn``, ...) use when given none."""
    global _default_device
    dev = device(dev)
    _module_for(dev)  # fail now, with the install hint, rather than at the first factory call
    _default_device = dev


def get_default_device() -> device:
    return _default_device


# --------------------------------------------------------------------------------------------------
# CuPy, imported lazily so that a CPU-only install never pays for (or trips over) it
# --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _cupy_or_reason() -> tuple[Any, str]:
    try:
        import cupy  # type: ignore[import-not-found]
    except Exception as exc:  # ImportError, or a CUDA library that fails to load
        return None, (
            f"CuPy is not importable ({exc.__class__.__name__}: {exc}). "
            "Install it with `pip install minitorch_cnn[cuda12]` (or `[cuda13]`, matching the "
            "\"CUDA Version\" that nvidia-smi prints) on a machine with an NVIDIA GPU."
        )
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return None, f"CuPy is installed but no CUDA GPU is usable ({exc.__class__.__name__}: {exc})."
    if count < 1:
        return None, "CuPy is installed but no CUDA GPU is present."
    return cupy, ""


def cuda_is_available() -> bool:
    """True when CuPy imports and at least one GPU is present (``torch.cuda.is_available``)."""
    return _cupy_or_reason()[0] is not None


def cuda_unavailable_reason() -> str:
    """Why ``cuda`` cannot be used (CuPy missing, no GPU), or ``""`` when it can."""
    return _cupy_or_reason()[1]


def _cupy() -> Any:
    cp, reason = _cupy_or_reason()
    if cp is None:
        raise RuntimeError(f"device 'cuda' is not available: {reason}")
    return cp


def _module_for(dev: device) -> Any:
    if dev.type == "cpu":
        return np
    if dev.type == "strict":
        return strict
    return _cupy()


# --------------------------------------------------------------------------------------------------
# The switch
# --------------------------------------------------------------------------------------------------
def get_array_module(*arrays: Any) -> Any:
    """Return the array module (``numpy``, ``cupy`` or the strict stand-in) of the given arrays.

    Tensors are looked through to their ``.data``. Python scalars are ignored. With no array
    argument at all, NumPy is returned. Arrays from two different backends raise ``TypeError``.
    """
    found = None
    found_name = None
    for a in arrays:
        a = getattr(a, "data", a) if not isinstance(a, (np.ndarray, StrictArray)) else a
        if isinstance(a, StrictArray):
            mod, name = strict, "strict"
        elif isinstance(a, (np.ndarray, np.generic)):
            mod, name = np, "cpu"
        elif type(a).__module__.startswith("cupy"):
            mod, name = _cupy(), "cuda"
        else:
            continue
        if found is None:
            found, found_name = mod, name
        elif mod is not found:
            raise TypeError(
                f"arrays from two devices were mixed: {found_name!r} and {name!r}; "
                "move them to one device first with .to(device)"
            )
    return np if found is None else found


def device_of(array: Any) -> device:
    """The device on which a backend array lives."""
    if isinstance(array, StrictArray):
        return device("strict")
    if isinstance(array, (np.ndarray, np.generic)):
        return device("cpu")
    if type(array).__module__.startswith("cupy"):
        return device("cuda")
    raise TypeError(f"not a backend array: {type(array).__name__}")


def to_numpy(array: Any) -> np.ndarray:
    """Copy a backend array to the host as a NumPy array (the one sanctioned way off a device)."""
    if isinstance(array, StrictArray):
        return array._a
    if isinstance(array, (np.ndarray, np.generic)):
        return np.asarray(array)
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return np.asarray(array)


def to_device(array: Any, dev: str | device) -> Any:
    """Return ``array`` on device ``dev`` (no copy when it already lives there)."""
    dev = device(dev)
    if device_of(array) == dev:
        return array
    host = to_numpy(array)
    if dev.type == "cpu":
        return host
    if dev.type == "strict":
        return StrictArray(host)
    return _cupy().asarray(host)


# --------------------------------------------------------------------------------------------------
# Random numbers: one seeded generator per backend, so runs are reproducible on both
# --------------------------------------------------------------------------------------------------
_rng_numpy = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Seed every backend's generator (``torch.manual_seed``)."""
    global _rng_numpy
    _rng_numpy = np.random.default_rng(seed)
    if cuda_is_available():
        _cupy().random.seed(seed)


def random_state(dev: str | device = "cpu") -> Any:
    """The generator that factories use on ``dev``: NumPy's ``Generator`` or CuPy's ``random``."""
    dev = device(dev)
    if dev.type == "cuda":
        return _cupy().random
    return _rng_numpy


def get_rng_state() -> dict:
    """The CPU generator's state (a JSON-able dict), for checkpoints."""
    return _rng_numpy.bit_generator.state


def set_rng_state(state: dict) -> None:
    _rng_numpy.bit_generator.state = state


# CuPy's generator cannot be saved: cuRAND keeps its state opaque, and CuPy offers no get_state /
# set_state (cupy/cupy#5430). So a run on the GPU that must resume bit-identically derives the GPU
# generator from the CPU one, whose state *is* saved: ``reseed_device_generator`` draws a seed from
# the CPU generator and seeds the GPU generator with it (the training loop does this before every
# batch), and ``device_rng_seed`` is the seed in force, stored in checkpoints beside the CPU state.
_device_seed: int | None = None


def reseed_device_generator(dev: str | device) -> int | None:
    """Seed ``dev``'s own generator from the CPU generator; returns the seed (None for a device that
    uses the CPU generator itself, ``cpu`` and ``strict``, so that their runs are not changed)."""
    if device(dev).type != "cuda":
        return None
    set_device_rng_seed(int(_rng_numpy.integers(0, 2**63 - 1)))
    return _device_seed


def device_rng_seed() -> int | None:
    """The seed last given to the GPU generator by :func:`reseed_device_generator` (None if never)."""
    return _device_seed


def set_device_rng_seed(seed: int | None) -> None:
    """Restore the GPU generator to the start of the stream of ``seed`` (a checkpoint's value)."""
    global _device_seed
    _device_seed = None if seed is None else int(seed)
    if _device_seed is not None and cuda_is_available():
        _cupy().random.seed(_device_seed)


# --------------------------------------------------------------------------------------------------
# The strict stand-in for CuPy
# --------------------------------------------------------------------------------------------------
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
        return to_numpy(a)

    def __repr__(self) -> str:
        return f"<strict stand-in for {self._path}>"


strict = _StrictNamespace(np, "numpy")
"""The strict stand-in array module: ``strict.zeros(3)`` returns a ``StrictArray``."""
