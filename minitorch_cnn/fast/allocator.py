"""Keep freed array memory in the process instead of handing it back to the OS after every op.

Why this matters: a training step allocates and frees hundreds of arrays of 1-30 MiB (an
activation, its gradient, a convolution's channel-major copy). glibc's ``malloc`` serves requests
above its *mmap threshold* with a fresh ``mmap`` and returns them with ``munmap`` on ``free``. A
fresh mapping has no pages yet: the first write to each 4 KiB page traps into the kernel, which
zeroes the page and maps it (a *page fault*). So every large temporary was paid for twice, once
to compute it and once to fault in its pages -- and page faults of two threads serialise on the
process's memory map lock, which made the thread pool's second thread measurably slower.
Measured on a 2-core AMD EPYC (2026-12-02): conv2d 32->64 at 14x14, batch 128, forward took
28 ms before and 8.6 ms after; a training step of the unit's CNN went from 451-483 to
494-521 images/s.

What ``tune_malloc`` sets (``mallopt``, glibc only; a no-op elsewhere):

* ``M_MMAP_THRESHOLD = 32 MiB`` (glibc's maximum): arrays up to that size come from the heap,
  whose pages stay mapped after ``free`` and are reused by the next array of the step;
* ``M_TRIM_THRESHOLD = 1 GiB``: free memory at the top of the heap is returned to the OS only
  beyond that, so the heap does not shrink and regrow every step;
* ``M_TOP_PAD = 64 MiB``: the heap grows in steps of at least that size.

The cost: after a large step the process keeps its peak heap (resident memory does not fall back
when arrays are freed, it is reused). The package calls ``tune_malloc`` once at import;
``MINITORCH_CNN_MALLOC=0`` in the environment leaves glibc's defaults alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "TOP_PAD", "libc", "tune_malloc"]

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30
TOP_PAD = 64 << 20

# glibc's <malloc.h> parameter numbers
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3

_tuned: bool | None = None


def libc() -> ctypes.CDLL:
    """The C library the process already runs on: its global symbols (``dlopen(NULL)``), found
    without ``ctypes.util.find_library``, which spawns ``ldconfig`` (3 ms added to every import)."""
    return ctypes.CDLL(None)


def tune_malloc() -> bool:
    """Apply the settings above once per process; True when glibc accepted all three.

    False (and nothing changed) off Linux/glibc or under ``MINITORCH_CNN_MALLOC=0``.
    """
    global _tuned
    if _tuned is not None:
        return _tuned
    _tuned = False
    if os.environ.get("MINITORCH_CNN_MALLOC", "1").strip() == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = libc().mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD))
    accepted = [mallopt(param, value) == 1 for param, value in settings]  # try each, even after a refusal
    _tuned = all(accepted)
    return _tuned
