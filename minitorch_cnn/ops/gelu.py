"""GELU, the Gaussian error linear unit (Hendrycks & Gimpel 2016): ``gelu(x) = x * Phi(x)``.

``Phi`` is the standard normal CDF, ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``; ``approximate='tanh'``
uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` instead, as PyTorch does.

NumPy has no ``erf``, so ``erf`` is computed here, element-wise and vectorised, in float64:
the Maclaurin series for ``|x| <= 2.5`` (60 terms, within ~5e-15) and the continued fraction of
``erfc`` beyond (``erfc(z) = e^{-z^2} / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))``,
60 levels). Each loop runs over *terms*, never over elements.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._checks import check_choice, check_tensor

if TYPE_CHECKING:
    from ..tensors import Tensor

__all__ = ["erf_array", "GELUFunction", "gelu"]

_TERMS = 60
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def erf_array(x: Any) -> Any:
    """``erf`` of every element of ``x`` (float64 result); see the module docstring."""
    xp = get_array_module(x)
    z = xp.abs(x.astype(xp.float64))
    small = xp.minimum(z, 2.5)  # series: 2/sqrt(pi) sum_n (-1)^n z^(2n+1) / (n! (2n+1))
    term = small.copy()
    total = small.copy()
    z2 = small * small
    for n in range(1, _TERMS):
        term = term * (-z2) / n
        total = total + term / (2 * n + 1)
    series = total * (2.0 / math.sqrt(math.pi))
    big = xp.maximum(z, 2.5)  # continued fraction of erfc, evaluated from the innermost level out
    t = big.copy()
    for k in range(_TERMS, 0, -1):
        t = big + (k / 2.0) / t
    tail = 1.0 - xp.exp(-big * big) / (math.sqrt(math.pi) * t)
    return xp.sign(x).astype(xp.float64) * xp.where(z <= 2.5, series, tail)


def _gelu_parts(x: Any, approximate: str) -> tuple[Any, Any]:
    """``(gelu(x), d gelu / dx)`` in float64."""
    xp = get_array_module(x)
    x64 = x.astype(xp.float64)
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (x64 + 0.044715 * x64**3)
        th = xp.tanh(u)
        y = 0.5 * x64 * (1.0 + th)
        dy = 0.5 * (1.0 + th) + 0.5 * x64 * (1.0 - th * th) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x64**2)
        return y, dy
    cdf = 0.5 * (1.0 + erf_array(x64 / math.sqrt(2.0)))
    pdf = xp.exp(-0.5 * x64 * x64) / math.sqrt(2.0 * math.pi)
    return x64 * cdf, cdf + x64 * pdf


class GELUFunction(Function):
    """``y = x Phi(x)``; ``dy/dx = Phi(x) + x phi(x)`` (``phi`` the normal density). With
    ``approximate='tanh'``, ``y = x (1 + tanh u) / 2`` with ``u = sqrt(2/pi)(x + 0.044715 x^3)`` and
    ``dy/dx = (1 + tanh u)/2 + x (1 - tanh^2 u) sqrt(2/pi)(1 + 0.134145 x^2) / 2``."""

    @staticmethod
    def forward(ctx: Context, x: Any, approximate: str = "none") -> Any:
        y, dy = _gelu_parts(x, approximate)
        ctx.save_for_backward(dy.astype(x.dtype) if ctx.needs_input_grad[0] else None)
        return y.astype(x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        (dy,) = ctx.saved_tensors
        return g * dy


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (``Phi`` the normal CDF); ``approximate='tanh'`` for the tanh formula."""
    check_tensor(input, "input", "gelu")
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    if input.dtype.kind != "f":
        raise TypeError(f"gelu: needs a floating-point input, got {input.dtype}; call .float() first")
    return GELUFunction.apply(input, approximate=approximate)
