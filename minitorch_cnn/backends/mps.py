"""``mt.backends.mps``: Apple-GPU (Metal) questions. minitorch_cnn has no MPS backend: both answers are False."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: minitorch_cnn computes on the CPU (NumPy) or an NVIDIA GPU (CuPy) only."""
    return False


def is_built() -> bool:
    """False: there is no MPS backend to build."""
    return False
