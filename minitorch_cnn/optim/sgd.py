"""Stochastic gradient descent with momentum (PyTorch's formulation)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p <- p - lr * d`` with, per step (``g`` the gradient)::

        g <- g + weight_decay * p                          (L2 penalty, if weight_decay != 0)
        b <- g                        on the first step     (momentum buffer, if momentum != 0)
        b <- momentum * b + (1 - dampening) * g  afterwards
        d <- g + momentum * b  if nesterov  else  b

    ``maximize=True`` ascends (uses ``-g``). Note PyTorch's convention: the learning rate multiplies
    the buffer, not the gradient inside it, so changing ``lr`` mid-training takes effect at once.
    """

    _ranges = {"lr": (0.0, math.inf, False, False), "momentum": (0.0, math.inf, False, False),
               "dampening": (0.0, 1.0, False, False), "weight_decay": (0.0, math.inf, False, False)}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if nesterov is True and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening=0, got momentum={momentum!r}, "
                             f"dampening={dampening!r}")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov = group["weight_decay"], group["nesterov"]
        for p, x, g in self._grads(group):
            if wd != 0:
                g = g + wd * x
            # BEGIN SOLUTION 4.1
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = g.copy()
                    state["momentum_buffer"] = buf
                else:
                    buf *= momentum
                    buf += (1 - dampening) * g
                g = g + momentum * buf if nesterov else buf
            # END SOLUTION
            x -= lr * g
