"""Feature maps: what one layer outputs for one input, caught with a forward hook.

A forward hook ``hook(module, inputs, output)`` runs right after the layer's ``forward``; it is the
clean way to look at an intermediate result without changing the model's code. The hook is removed
again before this function returns, even if the forward pass fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..backend import to_numpy
from ._util import as_input, eval_mode, get_layer

__all__ = ["feature_maps"]


def feature_maps(model: Any, layer: str | Any, x: Any) -> np.ndarray:
    """The output of ``layer`` (a name like ``"features.3"`` or the module) for input ``x``.

    ``x``: (N, C, H, W) or (C, H, W), a Tensor or a NumPy array. Returns a NumPy array, e.g.
    (N, C_out, H_out, W_out) for a conv layer. Runs in eval mode without recording a graph; the
    model's mode is restored afterwards.
    """
    name, module = get_layer(model, layer)
    x = as_input(x, model)
    captured: list = []
    handle = module.register_forward_hook(lambda m, i, o: captured.append(o))
    try:
        with eval_mode(model), no_grad():
            model(x)
    finally:
        handle.remove()
    if not captured:
        raise RuntimeError(f"feature_maps: layer {name!r} was not called during the forward pass")
    out = captured[0]
    if isinstance(out, (tuple, list)):
        out = out[0]
    return to_numpy(out._array).copy()
