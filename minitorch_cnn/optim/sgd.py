"""Stochastic gradient descent with momentum (PyTorch's formulation)."""

from __future__ import annotations

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
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
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
