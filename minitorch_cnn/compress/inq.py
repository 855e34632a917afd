"""Incremental network quantization to powers of two (INQ, Zhou et al. 2017).

Every weight becomes 0 or ``+-2**n`` for ``n`` in ``n2..n1``: a multiply becomes a bit shift.
With ``bits`` bits (one value reserved for 0) and ``s = max |w|`` of the layer::

    n1 = floor(log2(4 s / 3)),     n2 = n1 + 1 - 2**(bits - 1) / 2
    |w| -> beta = 2**floor(log2(4 |w| / 3)) clipped to [2**n2, 2**n1];  0 if |w| < 2**n2 / 2

(``beta`` is the power of two nearest to ``|w|`` in the paper's sense: ``3 beta / 4 <= |w| < 3 beta / 2``.)

Not all at once: ``inq_step(layer, fraction)`` quantizes and *freezes* the largest-magnitude
weights until ``fraction`` of them are done; the rest keep training (their gradient is the only
one that flows) and absorb the error. The usual schedule is 50%, 75%, 87.5%, 100%.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import get_array_module
from ..creation import where
from ..nn import Conv2d, Linear, Module
from ..tensors import Tensor
from . import layers
from .checks import check_finite_weights

__all__ = ["check_bits", "check_fractions", "power_of_two_levels", "quantize_power_of_two", "INQWeights", "inq_step", "inq_schedule"]


def check_bits(bits: Any, fn: str) -> None:
    """``bits`` is an int >= 2: one value is 0, the other ``2**bits - 1`` are ``+-2**n`` (``bits=1``
    would leave only 0)."""
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 2:
        raise ValueError(f"{fn}: bits={bits!r} must be an int >= 2 (one code is 0, the rest are +-2**n; "
                         "with bits=1 every weight would be 0); the paper uses 5")


def check_fractions(fractions: Any, fn: str = "inq_schedule") -> tuple[float, ...]:
    """``fractions`` is a non-empty sequence of numbers strictly increasing in (0, 1]."""
    try:
        values = tuple(fractions)
    except TypeError:
        raise TypeError(f"{fn}: fractions must be a sequence of numbers such as (0.5, 0.75, 0.875, 1.0), "
                        f"got {fractions!r}") from None
    if not values:
        raise ValueError(f"{fn}: fractions is empty; give e.g. (0.5, 0.75, 0.875, 1.0)")
    for i, f in enumerate(values):
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 < f <= 1.0:
            raise ValueError(f"{fn}: fractions[{i}]={f!r} must be a number in (0, 1]")
        if i and not f > values[i - 1]:
            raise ValueError(f"{fn}: fractions must increase strictly (each step freezes more weights), "
                             f"but fractions[{i}]={f!r} follows {values[i - 1]!r}")
    return values


def power_of_two_levels(max_abs: float, bits: int) -> tuple[int, int]:
    """``(n1, n2)``: the largest and smallest exponent for a layer with ``max |w| = max_abs``."""
    check_bits(bits, "power_of_two_levels")
    if not max_abs > 0 or not math.isfinite(max_abs):
        raise ValueError(f"power_of_two_levels: max_abs must be positive and finite, got {max_abs!r}")
    n1 = math.floor(math.log2(4 * max_abs / 3))
    return n1, n1 + 1 - 2 ** (bits - 1) // 2


def quantize_power_of_two(w: Any, n1: int, n2: int) -> Any:
    """Every entry of ``w`` to ``0`` or ``sign(w) * 2**n``, ``n2 <= n <= n1`` (rule in the docstring)."""
    xp = get_array_module(w)
    mag = xp.abs(w).astype(xp.float64)
    exp = xp.floor(xp.log2(xp.maximum(mag, 1e-300) * 4 / 3))
    beta = xp.exp2(xp.clip(exp, n2, n1))
    q = xp.where(mag < 2.0 ** n2 / 2, 0.0, beta) * xp.sign(w)
    return q.astype(w.dtype)


class INQWeights(Module):
    """Weight transform ``where(frozen, quantized, w)``: frozen entries get no gradient."""

    def __init__(self, weight: Any, bits: int) -> None:
        super().__init__()
        xp = get_array_module(weight)
        self.bits = bits
        self.n1, self.n2 = power_of_two_levels(float(xp.abs(weight).max()), bits)
        self.register_buffer("frozen", Tensor._from_array(xp.zeros(weight.shape, dtype=bool)))
        self.register_buffer("quantized", Tensor._from_array(quantize_power_of_two(weight, self.n1, self.n2)))

    def forward(self, weight: Tensor) -> Tensor:
        return where(self.frozen, Tensor._from_array(self.quantized._array), weight)

    def extra_repr(self) -> str:
        return f"bits={self.bits}, exponents={self.n2}..{self.n1}"


def inq_step(layer: Module, fraction: float, bits: int = 5) -> Module:
    """Freeze the largest-magnitude weights of ``layer`` at powers of two until ``fraction`` are frozen."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 1.0:
        raise ValueError(f"inq_step: fraction must lie in (0, 1], got {fraction!r}")
    check_bits(bits, "inq_step")
    if not isinstance(layer, layers._Transformed):
        layers.attach(layer, weight=INQWeights(layer.weight._array, bits))
    t: INQWeights = layer.weight_transform
    w = layer.weight._array
    xp = get_array_module(w)
    t.quantized._array = quantize_power_of_two(w, t.n1, t.n2)  # the free weights moved since the last step
    target = round(fraction * w.size)
    order = xp.argsort(-xp.where(t.frozen._array, xp.inf, xp.abs(w)).reshape(-1), kind="stable")
    frozen = t.frozen._array.reshape(-1).copy()
    frozen[order[:target]] = True
    t.frozen._array = frozen.reshape(w.shape)
    return layer


def inq_schedule(model: Module, fractions: tuple[float, ...] = (0.5, 0.75, 0.875, 1.0), bits: int = 5,
                 fine_tune: Any = None) -> Module:
    """Run the INQ schedule on every Conv2d / Linear: freeze ``fractions[r]``, then ``fine_tune(model, r)``.

    ``fractions`` must increase strictly in (0, 1] and ``bits`` be an int >= 2; both are checked
    (and every weight checked finite) before any layer changes.
    """
    fractions = check_fractions(fractions)
    check_bits(bits, "inq_schedule")
    check_finite_weights(model, "inq_schedule")
    targets = [m for m in model.modules() if isinstance(m, (Conv2d, Linear))]
    for r, fraction in enumerate(fractions):
        for m in targets:
            inq_step(m, fraction, bits)
        if fine_tune is not None:
            fine_tune(model, r)
    return model
