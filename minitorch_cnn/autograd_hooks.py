"""A test-only hook on every ``Function.apply``: observers called as ``observer(function_class, ctx)``
after each ``forward`` (``testing.saved_by_forward`` counts what each op saved for backward).

The list is empty in normal use, so ``Function.apply`` pays one loop over nothing. It is mutated in
place, never rebound: ``autograd`` holds the same list object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["forward_observers", "observing_forwards"]

forward_observers: list[Callable[[type, Any], None]] = []


@contextlib.contextmanager
def observing_forwards(observer: Callable[[type, Any], None]) -> Iterator[None]:
    """``with observing_forwards(f):`` calls ``f(function_class, ctx)`` after every forward inside."""
    forward_observers.append(observer)
    try:
        yield
    finally:
        forward_observers.remove(observer)
