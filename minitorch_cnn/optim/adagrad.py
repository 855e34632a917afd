"""Adagrad (Duchi et al., 2011), PyTorch's formulation and defaults."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Scale each coordinate's step by the root of the sum of all its squared gradients. Per step t (from 1)::

        g <- g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s <- s + g^2                                   ("sum", starts at initial_accumulator_value)
        p <- p - clr * g / (sqrt(s) + eps)

    Defaults as PyTorch: ``lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10``.
    As in PyTorch, the state (``step`` 0, ``sum``) exists from construction.
    """

    _ranges = {"lr": (0.0, math.inf, False, False), "lr_decay": (0.0, math.inf, False, False),
               "weight_decay": (0.0, math.inf, False, False),
               "initial_accumulator_value": (0.0, math.inf, False, False), "eps": (0.0, math.inf, False, False)}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Any, group: dict) -> dict:
        state = self.state[p]
        if not state:
            xp = get_array_module(p._array)
            state["step"] = 0
            state["sum"] = xp.full_like(p._array, group["initial_accumulator_value"])
        return state

    def _update_group(self, group: dict) -> None:
        lr, lr_decay, wd, eps = group["lr"], group["lr_decay"], group["weight_decay"], group["eps"]
        for p, x, g in self._grads(group):
            xp = get_array_module(x)
            state = self._init_state(p, group)
            state["step"] += 1
            if wd != 0:
                g = g + wd * x
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            s = state["sum"]
            s += g * g
            x -= clr * (g / (xp.sqrt(s) + eps))
