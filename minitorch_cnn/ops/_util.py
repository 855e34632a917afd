"""Small helpers shared by the op families."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from ._checks import is_int


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
    try:
        dims = tuple(operator.index(d) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {dim!r}") from None
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


def check_size(op: str, shape: Sequence[Any], name: str = "size") -> tuple[int, ...]:
    """The one check of a shape argument: non-negative integers (also NumPy integers), as a tuple of ints."""
    if any(not is_int(n) or n < 0 for n in shape):
        raise ValueError(f"{op}: {name} must be non-negative integers, got {tuple(shape)}")
    return tuple(int(n) for n in shape)
