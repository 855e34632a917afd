"""Hyper-parameter checks shared by layer constructors, functional calls and optimizers.

A layer checks its arguments when it is *built* (``nn.Conv2d(3, 8, 3, stride=0)`` fails there, not
at the first forward pass, possibly minutes later), before any parameter is allocated. Each error
names the owner (``"BatchNorm2d"``, ``"SGD"``), the argument, the value, the allowed range and a fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..ops._checks import is_int

__all__ = [
    "check_int",
    "check_number",
    "check_eps",
    "check_momentum",
    "check_choice",
    "check_groups_divide",
    "check_normalized_shape",
    "check_bool",
    "check_optional_dim",
]


def check_int(owner: str, name: str, value: Any, minimum: int = 0) -> int:
    """An int (not a bool, not a float) ``>= minimum``."""
    if not is_int(value) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return int(value)


def check_number(owner: str, name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """A finite real number in ``[low, high]`` (``(low, ...`` / ``..., high)`` when open)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) or _is_real_scalar(value)
    v = float(value) if ok else math.nan
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok or not math.isfinite(v) or not inside:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{owner}: {name} must be a finite number in {lo}{low}, {high}{hi}, got {value!r}"
                         + (f"; {hint}" if hint else ""))
    return v


def _is_real_scalar(v: Any) -> bool:
    """NumPy scalars and 0-d arrays of a real dtype count as numbers."""
    return getattr(v, "shape", None) == () and getattr(getattr(v, "dtype", None), "kind", "") in "fiu"


def check_eps(owner: str, eps: Any) -> float:
    return check_number(owner, "eps", eps, 0.0, low_open=True, hint="a small positive number such as 1e-5")


def check_momentum(owner: str, momentum: Any, allow_none: bool = False) -> float | None:
    if momentum is None and allow_none:
        return None
    return check_number(owner, "momentum", momentum, 0.0, 1.0)


def check_choice(owner: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return value


def check_groups_divide(owner: str, num_groups: Any, channels: int, name: str = "num_groups") -> int:
    check_int(owner, name, num_groups, 1)
    if channels % num_groups:
        raise ValueError(f"{owner}: {name}={num_groups} must divide the number of channels {channels}; "
                         f"pick a divisor of {channels}")
    return int(num_groups)


def check_normalized_shape(owner: str, normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape``: an int or a non-empty sequence of positive ints."""
    shape = (normalized_shape,) if is_int(normalized_shape) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{owner}: normalized_shape must be an int or a tuple of ints, got "
                        f"{normalized_shape!r}") from None
    if not shape or not all(is_int(v) and v >= 1 for v in shape):
        raise ValueError(f"{owner}: normalized_shape must hold positive ints, got {normalized_shape!r}")
    return tuple(int(v) for v in shape)


def check_optional_dim(owner: str, dim: Any) -> int | None:
    """A dimension index (any int, negative counts from the end) or None."""
    if dim is not None and not is_int(dim):
        raise TypeError(f"{owner}: dim must be an int or None, got {dim!r}")
    return dim
