"""Grad mode: whether ops record the graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``, ...).

One module-level flag, read by ``Function.apply`` (``autograd.py``) and the in-place rules
(``inplace.py``); the context managers below save it, set it, and restore it on the way out.
Every name here is also importable from ``minitorch_cnn.autograd`` and ``minitorch_cnn``.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled"]

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):  # noqa: N801 - torch's name
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _grad_enabled

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self.prev


class _AlsoBareDecorator:
    """Lets ``@no_grad`` (no parentheses) decorate a function, as in PyTorch, besides ``@no_grad()``."""

    def __new__(cls, *args: Any) -> Any:
        self = super().__new__(cls)
        if len(args) == 1 and callable(args[0]) and not isinstance(args[0], bool):
            self.__init__()
            return self(args[0])  # ContextDecorator.__call__: the wrapped function
        return self


class no_grad(_AlsoBareDecorator, set_grad_enabled):  # noqa: N801
    """``with no_grad():`` ops record no graph and save nothing for backward (evaluation, optimizer updates)."""

    def __init__(self, func: Any = None) -> None:
        super().__init__(False)


class enable_grad(_AlsoBareDecorator, set_grad_enabled):  # noqa: N801
    """``with enable_grad():`` re-enables recording inside a ``no_grad`` block."""

    def __init__(self, func: Any = None) -> None:
        super().__init__(True)


class inference_mode(_AlsoBareDecorator, set_grad_enabled):  # noqa: N801
    """``with inference_mode():`` as ``no_grad`` (PyTorch's faster variant; here the two are the same).

    ``inference_mode(False)`` leaves recording as it is, as PyTorch's does.
    """

    def __init__(self, mode: bool = True) -> None:
        super().__init__(False)
        self.enabled = bool(mode) if isinstance(mode, bool) else True

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        if self.enabled:
            _grad_enabled = False
