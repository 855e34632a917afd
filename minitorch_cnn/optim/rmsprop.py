"""RMSprop (PyTorch's formulation: ``eps`` is added outside the square root)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Divide the gradient by a running RMS of recent gradients. Per step::

        g <- g + weight_decay * p
        v <- alpha * v + (1 - alpha) * g^2                       ("square_avg")
        centered:  a <- alpha * a + (1 - alpha) * g;  s = sqrt(v - a^2) + eps
        otherwise: s = sqrt(v) + eps
        momentum > 0:  b <- momentum * b + g / s;  p <- p - lr * b
        otherwise:     p <- p - lr * g / s
    """

    _ranges = {"lr": (0.0, math.inf, False, False), "alpha": (0.0, 1.0, False, False),
               "eps": (0.0, math.inf, False, False), "weight_decay": (0.0, math.inf, False, False),
               "momentum": (0.0, math.inf, False, False)}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p, x, g in self._grads(group):
            xp = get_array_module(x)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = xp.zeros_like(x)
                if momentum > 0:
                    state["momentum_buffer"] = xp.zeros_like(x)
                if centered:
                    state["grad_avg"] = xp.zeros_like(x)
            state["step"] += 1
            if wd != 0:
                g = g + wd * x
            v = state["square_avg"]
            v *= alpha
            v += (1 - alpha) * (g * g)
            if centered:
                a = state.setdefault("grad_avg", xp.zeros_like(x))
                a *= alpha
                a += (1 - alpha) * g
                avg = xp.sqrt(v - a * a)
            else:
                avg = xp.sqrt(v)
            avg += eps
            if momentum > 0:
                buf = state.setdefault("momentum_buffer", xp.zeros_like(x))
                buf *= momentum
                buf += g / avg
                x -= lr * buf
            else:
                x -= lr * (g / avg)
