"""``mt.accelerator``: ``torch.accelerator``'s device-agnostic questions. The only accelerator
minitorch_cnn computes on is a CUDA GPU through CuPy (``mt.cuda``), so::

    device = mt.accelerator.current_accelerator() or mt.device("cpu")   # idiomatic torch code works
"""

from __future__ import annotations

from . import backend

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    """True when a GPU is usable (CuPy imports and sees one)."""
    return backend.cuda_is_available()


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """``mt.device("cuda")`` when a GPU is usable, else ``None`` (the CPU is no accelerator), as torch.

    ``check_available`` is torch's argument; the answer is the same either way, since a device is
    returned only when it is usable.
    """
    return backend.device("cuda") if is_available() else None


def device_count() -> int:
    """How many accelerators minitorch_cnn can compute on: 1 or 0."""
    return 1 if is_available() else 0
