"""Array backends: where a tensor's numbers live and which array library computes on them.

Every kernel in minitorch_cnn starts the same way (chainer's idiom)::

    xp = get_array_module(x)      # numpy for "cpu" arrays, cupy for "cuda" arrays
    y = xp.maximum(x, 0)          # never np.maximum: that would pull GPU data back to the host

Three backends exist:

* ``"cpu"``  -- NumPy arrays.
* ``"cuda"`` -- CuPy arrays (optional: ``pip install minitorch_cnn[cuda12]`` or ``[cuda13]`` and an NVIDIA GPU).
* ``"strict"`` -- a CPU stand-in for CuPy used by the test suite (``strict_backend.py``). Its arrays
  refuse implicit conversion to NumPy (``np.asarray(x)``, ``x.__array__()``, NumPy-only helpers,
  mixing with plain ``np.ndarray``), exactly the operations that crash on a real GPU. Running the op
  tests on it on a machine without a GPU catches every code path that would break under CuPy.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .strict_backend import StrictArray, strict

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

    Tensors are looked through to their backend array (``._array``). Python scalars are ignored. With no array
    argument at all, NumPy is returned. Arrays from two different backends raise ``TypeError``.
    """
    found = None
    found_name = None
    for a in arrays:
        a = getattr(a, "_array", a) if not isinstance(a, (np.ndarray, StrictArray)) else a
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
    if hasattr(array, "_array"):  # a Tensor (``t.data`` is one): its array's device
        return device_of(array._array)
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
