"""Small helpers shared by the op families."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def unbroadcast(grad: Any, shape: Sequence[int]) -> Any:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size 1, so each copy
    received its own share of the gradient; the input's gradient is the sum of those shares.
    """
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    # BEGIN SOLUTION 1.4
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad
    # END SOLUTION


def normalize_dims(dim: int | Sequence[int] | None, ndim: int, name: str = "dim") -> tuple[int, ...] | None:
    """Turn ``dim`` (int, sequence or None) into sorted non-negative axes, checking the range."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
        if not lo <= d <= hi:
            raise IndexError(
                f"{name}={d} is out of range for a tensor with {ndim} dimensions "
                f"(expected a value in [{lo}, {hi}])"
            )
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))
