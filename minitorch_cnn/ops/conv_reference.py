"""Convolution written straight from the formula, with Python loops: for reading, and as the
oracle that the fast im2col path (``conv.py``) is tested against.

    y[n, o, i, j] = b[o] + sum_{c, m, k} w[o, c, m, k] * x[n, c, i*s + m*d - p, j*s + k*d - p]

(terms whose input index falls into the padding count as zero). Works for any number of spatial
axes; ``stride``, ``dilation`` are tuples and ``pads`` holds ``(before, after)`` per axis. These
functions take and return NumPy arrays and are slow on purpose: use tiny shapes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["conv_nd_reference", "conv_transpose_nd_reference", "correlate2d_reference"]


def correlate2d_reference(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The unit's first formula: ``y[i, j] = sum_{m, n} K[m, n] * x[i + m, j + n]`` (valid, 2-d)."""
    # BEGIN SOLUTION 2.1
    H, W = x.shape
    kh, kw = k.shape
    y = np.zeros((H - kh + 1, W - kw + 1), dtype=np.result_type(x, k))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            for m in range(kh):
                for n in range(kw):
                    y[i, j] += k[m, n] * x[i + m, j + n]
    return y
    # END SOLUTION


def conv_nd_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                      stride: Sequence[int] = (1, 1), pads: Sequence[tuple[int, int]] = ((0, 0), (0, 0)),
                      dilation: Sequence[int] = (1, 1), groups: int = 1) -> np.ndarray:
    """``x (N, C_in, *in)``, ``w (C_out, C_in/groups, *k)`` -> ``(N, C_out, *out)`` by loops."""
    N, C = x.shape[:2]
    O, Cg = w.shape[:2]
    kernel = w.shape[2:]
    Og = O // groups
    # BEGIN SOLUTION 2.3
    out = [
        (size + lo + hi - d * (k - 1) - 1) // s + 1
        for size, k, s, d, (lo, hi) in zip(x.shape[2:], kernel, stride, dilation, pads)
    ]
    y = np.zeros((N, O, *out), dtype=np.result_type(x, w))
    for n in range(N):
        for o in range(O):
            g = o // Og  # the group this output channel belongs to sees input channels g*Cg ...
            for pos in itertools.product(*(range(v) for v in out)):
                acc = 0.0 if b is None else b[o]
                for c in range(Cg):
                    for m in itertools.product(*(range(k) for k in kernel)):
                        src = [i * s + mi * d - lo for i, mi, s, d, (lo, _) in zip(pos, m, stride, dilation, pads)]
                        if all(0 <= v < size for v, size in zip(src, x.shape[2:])):
                            acc += w[(o, c, *m)] * x[(n, g * Cg + c, *src)]
                y[(n, o, *pos)] = acc
    return y
    # END SOLUTION


def conv_transpose_nd_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                                stride: Sequence[int] = (1, 1), padding: Sequence[int] = (0, 0),
                                output_padding: Sequence[int] = (0, 0), dilation: Sequence[int] = (1, 1),
                                groups: int = 1) -> np.ndarray:
    """Transposed convolution as a scatter: every input pixel adds ``pixel * kernel`` to the output.

    ``z[n, g*Cg_out + co, i*s + m*d - p] += x[n, ci, i] * w[ci, co, m]`` for ``ci`` in group ``g``;
    ``x (N, C_in, *in)``, ``w (C_in, C_out/groups, *k)`` -> ``(N, C_out, *out)`` with
    ``out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1``.
    """
    N, C = x.shape[:2]
    _, Cog = w.shape[:2]
    kernel = w.shape[2:]
    Cg = C // groups
    out = [
        (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        for size, k, s, p, op, d in zip(x.shape[2:], kernel, stride, padding, output_padding, dilation)
    ]
    # BEGIN SOLUTION 2.6
    z = np.zeros((N, Cog * groups, *out), dtype=np.result_type(x, w))
    for n in range(N):
        for ci in range(C):
            g = ci // Cg
            for pos in itertools.product(*(range(v) for v in x.shape[2:])):
                for co in range(Cog):
                    for m in itertools.product(*(range(k) for k in kernel)):
                        dst = [i * s + mi * d - p for i, mi, s, d, p in zip(pos, m, stride, dilation, padding)]
                        if all(0 <= v < size for v, size in zip(dst, out)):
                            z[(n, g * Cog + co, *dst)] += x[(n, ci, *pos)] * w[(ci, co, *m)]
    if b is not None:
        z += b.reshape((1, -1) + (1,) * len(kernel))
    return z
    # END SOLUTION
