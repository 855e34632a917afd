"""ReLU over the thread pool, in cache-sized pieces.

The textbook ``ReLUFunction`` (``ops/elementwise.py``) is ``max(a, 0)`` forward and ``g * (out > 0)``
backward: each a single NumPy expression on one core, the backward with a full-size boolean
temporary. Here each thread takes its share of the batch in pieces of about 1 MiB
(``threads.parallel_chunks``), so the mask of a piece is made and used while the piece is in cache.
Taken only for arrays big enough to share out (``threads.MIN_PARALLEL_BYTES``); reached through
``fast.relu_forward`` / ``fast.relu_backward`` (``fast/__init__.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import threads
from .threads import MIN_PARALLEL_BYTES, parallel_chunks

__all__ = ["relu_pays", "relu_forward_array", "relu_backward_array"]


def relu_pays(a: Any) -> bool:
    """A NumPy array of at least ``MIN_PARALLEL_BYTES`` with a batch axis, and a pool to share it with."""
    return isinstance(a, np.ndarray) and a.ndim >= 2 and a.nbytes >= MIN_PARALLEL_BYTES and threads.pool_size() >= 2


def relu_forward_array(a: Any) -> Any:
    """``max(a, 0)``, one piece of the batch per task."""
    out = np.empty_like(a)
    parallel_chunks(np, a.shape[0], a.nbytes, lambda s: np.maximum(a[s], 0, out=out[s]))
    return out


def relu_backward_array(g: Any, out: Any) -> Any:
    """``g * (out > 0)``: the mask of each piece made in cache and used at once."""
    gx = np.empty_like(g)
    parallel_chunks(np, g.shape[0], g.nbytes, lambda s: np.multiply(g[s], out[s] > 0, out=gx[s]))
    return gx
