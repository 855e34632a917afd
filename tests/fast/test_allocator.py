"""fast/allocator.tune_malloc: arrays up to 32 MiB come from the heap (their pages are reused), not mmap."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")

# A fresh process allocates one 20 MiB array and reports how many bytes glibc holds in mmap'd
# blocks (mallinfo2().hblkhd): with glibc's defaults (mmap threshold 128 KiB at start) the array
# is an mmap of its own; tuned (threshold 32 MiB) it lives in the heap.
PROBE = r"""
import ctypes
import minitorch_cnn, minitorch_cnn.fast.allocator as a
import numpy as np

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = a.libc()
libc.mallinfo2.restype = Info
before = libc.mallinfo2().hblkhd
x = np.ones(5 << 20, dtype=np.float32)
print(a._tuned, libc.mallinfo2().hblkhd - before >= 20 << 20)
"""


def _has_mallinfo2() -> bool:
    from minitorch_cnn.fast import allocator

    try:
        return hasattr(allocator.libc(), "mallinfo2")
    except OSError:
        return False


def _probe(**env: str) -> str:
    # glibc's own malloc settings from the environment would decide the outcome instead
    clean = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE], env=clean | env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2)")
def test_tuned_import_keeps_a_20_mib_array_in_the_heap():
    assert _probe(MINITORCH_CNN_MALLOC="1") == "True False"


@pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2)")
def test_malloc_0_leaves_glibc_defaults_alone():
    assert _probe(MINITORCH_CNN_MALLOC="0") == "False True"
