"""Adam and AdamW (PyTorch's formulation, including ``amsgrad``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .. import fast
from ..backend import get_array_module
from ..nn._checks import check_number
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adaptive moments. Per parameter, with gradient ``g`` and step count ``t``::

        g <- g + weight_decay * p                      (L2 penalty folded into the gradient)
        m <- beta1 * m + (1 - beta1) * g               (first moment, "exp_avg")
        v <- beta2 * v + (1 - beta2) * g^2             (second moment, "exp_avg_sq")
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The ``1 - beta^t`` factors undo the bias of starting ``m`` and ``v`` at zero. With
    ``amsgrad=True`` the running maximum of ``v`` replaces ``v`` in the denominator.
    """

    _decoupled = False
    _ranges = {"lr": (0.0, math.inf, False, False), "eps": (0.0, math.inf, False, False),
               "weight_decay": (0.0, math.inf, False, False)}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        name = type(self).__name__
        try:
            betas = tuple(betas)
        except TypeError:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}") from None
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
        for i, b in enumerate(betas):
            check_number(name, f"betas[{i}]", b, 0.0, 1.0, high_open=True, hint="typical values are (0.9, 0.999)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        if fast.adam_applies(self, group):  # one pass over memory per chunk (fast/optim.py), same numbers
            return fast.adam_update(self, group)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, amsgrad = group["weight_decay"], group["amsgrad"]
        for p, x, g in self._grads(group):
            xp = get_array_module(x)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = xp.zeros_like(x)
                state["exp_avg_sq"] = xp.zeros_like(x)
                if amsgrad:
                    state["max_exp_avg_sq"] = xp.zeros_like(x)
            state["step"] += 1
            t = state["step"]
            if wd != 0:
                if self._decoupled:
                    x *= 1 - lr * wd  # AdamW: shrink the weights directly
                else:
                    g = g + wd * x
            # BEGIN SOLUTION 4.2
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            bias_correction1 = 1 - beta1**t
            bias_correction2_sqrt = math.sqrt(1 - beta2**t)
            if amsgrad:
                vmax = state.setdefault("max_exp_avg_sq", xp.zeros_like(x))
                xp.maximum(vmax, v, out=vmax)
                denom = xp.sqrt(vmax)
            else:
                denom = xp.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += eps
            x -= (lr / bias_correction1) * (m / denom)
            # END SOLUTION


class AdamW(Adam):
    """Adam with *decoupled* weight decay (Loshchilov & Hutter): ``p <- p * (1 - lr * weight_decay)``
    before the Adam update, instead of adding ``weight_decay * p`` to the gradient. Default
    ``weight_decay=0.01``."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
