"""``mt.cuda``: ``torch.cuda``'s everyday questions, answered truthfully for minitorch_cnn's one GPU.

minitorch_cnn computes on a GPU through CuPy (``pip install minitorch_cnn[cuda12]``), on one device:
CuPy's current device, which it calls ``"cuda"`` (= ``"cuda:0"``). So::

    mt.cuda.is_available()     # True when CuPy imports and sees a GPU (mt.cuda_is_available())
    mt.cuda.device_count()     # the GPUs minitorch_cnn can compute on: 1 or 0 (not every GPU present)
    mt.cuda.current_device()   # 0; RuntimeError (saying why) without a GPU, as torch
    mt.cuda.get_device_name()  # e.g. "NVIDIA H100 80GB HBM3"; RuntimeError without a GPU
    mt.cuda.synchronize()      # wait for the GPU's queued work (timing); RuntimeError without a GPU
    mt.cuda.manual_seed(0)     # seed CuPy's generator; without a GPU a no-op (nothing to seed), as torch
    mt.cuda.manual_seed_all(0) # the same (one GPU)
    mt.cuda.empty_cache()      # give CuPy's cached blocks back to the driver; a no-op without a GPU

``mt.manual_seed`` already seeds the GPU generator too; the seed given here is the one a
checkpoint records (``backend.device_rng_seed``).
"""

from __future__ import annotations

from typing import Any

from . import backend
from .ops._checks import is_int

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize", "manual_seed",
           "manual_seed_all", "empty_cache"]


def is_available() -> bool:
    """True when CuPy imports and at least one GPU is present (``torch.cuda.is_available``)."""
    return backend.cuda_is_available()


def device_count() -> int:
    """How many GPUs minitorch_cnn can compute on: 1 when CUDA is usable (CuPy's current device), else 0."""
    return 1 if is_available() else 0


def _cupy(fn: str) -> Any:
    if not is_available():
        raise RuntimeError(f"mt.cuda.{fn}: no GPU is usable: {backend.cuda_unavailable_reason()} "
                           "Check mt.cuda.is_available() first, or run on the CPU")
    return backend._cupy()


def _check_device(fn: str, device: Any) -> None:
    """``None``, ``0``, ``"cuda"``, ``"cuda:0"`` or ``mt.device("cuda")``: the one GPU addressed."""
    if device is None or (is_int(device) and device == 0):
        return
    text = device.type if isinstance(device, backend.device) else str(device)
    if text in ("cuda", "cuda:0"):
        return
    raise ValueError(f"mt.cuda.{fn}: device {device!r} is not one minitorch_cnn computes on; it addresses one "
                     "GPU, 0 (= 'cuda', CuPy's current device)")


def current_device() -> int:
    """The index of the GPU in use: always 0 (CuPy's current device); RuntimeError without a GPU."""
    _cupy("current_device()")
    return 0


def get_device_name(device: Any = None) -> str:
    """The GPU's name, e.g. ``"NVIDIA H100 80GB HBM3"``; RuntimeError (saying why) without a GPU."""
    _check_device("get_device_name()", device)
    cp = _cupy("get_device_name()")
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device: Any = None) -> None:
    """Wait until the GPU has finished all queued work (time GPU code between two of these)."""
    _check_device("synchronize()", device)
    _cupy("synchronize()").cuda.Device().synchronize()


def _check_seed(fn: str, seed: Any) -> int:
    if not is_int(seed):
        raise TypeError(f"mt.cuda.{fn}: seed must be an int, got {seed!r}")
    return int(seed)


def manual_seed(seed: int) -> None:
    """Seed the GPU's generator (CuPy's), as ``torch.cuda.manual_seed``; without a GPU, a no-op (as torch)."""
    seed = _check_seed("manual_seed()", seed)
    if is_available():
        backend.set_device_rng_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: the one GPU's (:func:`manual_seed`)."""
    manual_seed(_check_seed("manual_seed_all()", seed))


def empty_cache() -> None:
    """Free the blocks CuPy's memory pool keeps cached (``nvidia-smi`` then shows them free)."""
    if is_available():
        cp = backend._cupy()
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()
