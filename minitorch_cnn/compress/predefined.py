"""Pre-defined sparsity: connections fixed at zero *before* training (Dey et al. 2019, Kundu et al. 2020).

Pruning finds the zeros after training; pre-defined sparsity chooses them up front, so training,
storage and inference all see the smaller network from the start. The masks come from ``masks``,
so they hold through every optimizer step.

* **Convolutions, periodic kernel patterns**: every ``k x k`` kernel keeps ``keep = round(density *
  k*k)`` of its taps. Pattern ``p`` keeps taps ``p*keep, p*keep + 1, ... (mod k*k)`` in row-major
  order, and kernel ``(o, c)`` (output filter ``o``, input channel ``c``) uses pattern
  ``(o + c) mod k*k``: the patterns cycle across filters and channels, so every tap of the
  receptive field is seen by some kernel. ``dense_every=n`` leaves every ``n``-th kernel (in the
  order ``o * C_in + c``) dense. As in the papers, the first layer (few weights, raw pixels) and
  1x1 convolutions (no taps to drop) stay dense in ``predefined_sparse``.
* **Fully connected, fixed pattern**: output ``j`` connects to inputs ``(j*d + i) mod in_features``,
  ``i < d = round(density * in_features)``: every output has the same fan-in ``d`` and (when
  ``out * d`` is a multiple of ``in``) every input the same fan-out (a "clash-free" pattern).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module
from ..nn import Conv2d, Linear, Module
from . import masks

__all__ = ["kernel_pattern_mask", "fc_pattern_mask", "predefined_sparse_", "predefined_sparse", "density"]


def _check_density(fn: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
        raise ValueError(f"{fn}: density must be a number in (0, 1], got {value!r}")


def kernel_pattern_mask(shape: tuple[int, ...], density: float, dense_every: int | None = None, xp: Any = None) -> Any:
    """Bool mask ``(C_out, C_in, kH, kW)`` of periodic kernel patterns (see the module docstring)."""
    _check_density("kernel_pattern_mask", density)
    xp = np if xp is None else xp
    o, c, kh, kw = shape
    taps = kh * kw
    keep = max(1, round(density * taps))
    pattern = (xp.arange(o)[:, None] + xp.arange(c)[None, :]) % taps  # (C_out, C_in)
    tap = xp.arange(taps)
    # tap t is kept by pattern p when (t - p*keep) mod taps < keep
    mask = ((tap[None, None, :] - pattern[:, :, None] * keep) % taps) < keep
    if dense_every is not None:
        if not isinstance(dense_every, int) or dense_every < 1:
            raise ValueError(f"kernel_pattern_mask: dense_every must be a positive int, got {dense_every!r}")
        dense = (xp.arange(o * c).reshape(o, c) % dense_every) == 0
        mask = mask | dense[:, :, None]
    return mask.reshape(o, c, kh, kw)


def fc_pattern_mask(out_features: int, in_features: int, density: float, xp: Any = None) -> Any:
    """Bool mask ``(out, in)``: output ``j`` sees inputs ``(j*d + i) mod in``, ``i < d``."""
    _check_density("fc_pattern_mask", density)
    xp = np if xp is None else xp
    d = max(1, round(density * in_features))
    cols = (xp.arange(out_features)[:, None] * d + xp.arange(d)[None, :]) % in_features
    mask = xp.zeros((out_features, in_features), dtype=bool)
    mask[xp.arange(out_features)[:, None], cols] = True
    return mask


def predefined_sparse_(layer: Module, density: float, pattern: str = "periodic", dense_every: int | None = None) -> Module:
    """Fix ``layer``'s weight (Conv2d: kernel patterns; Linear: fixed connections) to ``density``."""
    if pattern != "periodic":
        raise ValueError(f"predefined_sparse_: pattern must be 'periodic', got {pattern!r}")
    xp = get_array_module(layer.weight._array)
    if isinstance(layer, Conv2d):
        mask = kernel_pattern_mask(tuple(layer.weight.shape), density, dense_every, xp)
    elif isinstance(layer, Linear):
        mask = fc_pattern_mask(layer.out_features, layer.in_features, density, xp)
    else:
        raise TypeError(f"predefined_sparse_: layer must be an nn.Conv2d or nn.Linear, got {type(layer).__name__}")
    return masks.apply_mask(layer, "weight", mask)


def predefined_sparse(model: Module, conv_density: float = 4 / 9, linear_density: float = 0.1,
                      dense_every: int | None = None, keep_last_dense: bool = True) -> Module:
    """Pre-define sparsity in every Conv2d (``k > 1``, not the first) and Linear (not the last) of ``model``."""
    convs = [m for m in model.modules() if isinstance(m, Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, Linear)]
    for m in convs[1:]:
        if m.kernel_size != (1, 1):
            predefined_sparse_(m, conv_density, dense_every=dense_every)
    for m in linears[:-1] if keep_last_dense else linears:
        predefined_sparse_(m, linear_density)
    return model


def density(layer: Module) -> float:
    """Fraction of non-zero entries in ``layer.weight``."""
    w = layer.weight._array
    return float((w != 0).sum()) / w.size
