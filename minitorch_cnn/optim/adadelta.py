"""Adadelta (Zeiler, 2012), PyTorch's formulation and defaults."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Steps sized by the ratio of running RMS of past updates to running RMS of gradients. Per step::

        g <- g + weight_decay * p
        v <- rho * v + (1 - rho) * g^2                              ("square_avg")
        d  = sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * d^2                              ("acc_delta")
        p <- p - lr * d

    Defaults as PyTorch: ``lr=1.0, rho=0.9, eps=1e-6, weight_decay=0`` (``lr`` only scales ``d``).
    """

    _ranges = {"lr": (0.0, math.inf, False, False), "rho": (0.0, 1.0, False, False),
               "eps": (0.0, math.inf, False, False), "weight_decay": (0.0, math.inf, False, False)}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for p, x, g in self._grads(group):
            xp = get_array_module(x)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = xp.zeros_like(x)
                state["acc_delta"] = xp.zeros_like(x)
            state["step"] += 1
            if wd != 0:
                g = g + wd * x
            v, u = state["square_avg"], state["acc_delta"]
            v *= rho
            v += (1 - rho) * (g * g)
            d = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * (d * d)
            x -= lr * d
