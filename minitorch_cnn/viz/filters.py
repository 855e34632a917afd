"""The learned filters of a convolution layer, ready to be looked at.

A first-layer filter lives in pixel space, so it can be shown as a small image: a (C_in, kh, kw)
kernel with C_in = 3 is an RGB patch, with C_in = 1 a grey one. Deeper filters have many input
channels; showing them one channel at a time is the usual compromise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import to_numpy
from ._util import get_layer

__all__ = ["filters"]


def filters(conv_layer: Any, normalize: bool = True, model: Any = None) -> np.ndarray:
    """Weights of ``conv_layer`` as a NumPy array (C_out, C_in/groups, kh, kw).

    ``conv_layer``: the module, or its name together with ``model=``. ``normalize=True`` scales
    each filter to [0, 1] on its own (min-max; a constant filter becomes 0.5), as image viewers
    want; ``False`` returns the raw weights.
    """
    if isinstance(conv_layer, str):
        if model is None:
            raise ValueError("filters: a layer name needs model= to look it up")
        _, conv_layer = get_layer(model, conv_layer)
    w = getattr(conv_layer, "weight", None)
    if w is None or w.ndim != 4:
        shape = None if w is None else tuple(w.shape)
        raise ValueError(
            f"filters: expected a Conv2d-like layer with a 4-d weight (C_out, C_in, kh, kw); "
            f"{type(conv_layer).__name__} has weight shape {shape}"
        )
    k = to_numpy(w._array).astype(np.float64)
    if not normalize:
        return k.copy()
    lo = k.min(axis=(1, 2, 3), keepdims=True)
    hi = k.max(axis=(1, 2, 3), keepdims=True)
    span = hi - lo
    # a constant filter has no contrast to show: put it in the middle instead of dividing by 0
    return np.where(span > 0, (k - lo) / np.where(span > 0, span, 1.0), 0.5)
