"""Pooling written straight from the definitions with Python loops: for reading, and as the test
oracle of the fast paths in ``pool.py``. NumPy arrays in and out; slow on purpose (tiny shapes).

Every function walks the output positions and, for each, the window of input positions
``i*s + m*d - p`` (``m = 0 .. k-1``), skipping those that fall into the padding.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "pool_out_size_reference",
    "max_pool_nd_reference",
    "avg_pool_nd_reference",
    "adaptive_avg_pool2d_reference",
    "adaptive_max_pool2d_reference",
    "max_unpool2d_reference",
]


def pool_out_size_reference(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output size, including the ceil-mode rule that a window must start inside the
    input or its left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _window(pos: Sequence[int], m: Sequence[int], s: Sequence[int], d: Sequence[int], p: Sequence[int]) -> list:
    return [i * si + mi * di - pi for i, mi, si, di, pi in zip(pos, m, s, d, p)]


def max_pool_nd_reference(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
                          dilation: Sequence[int], ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y, indices)``: each window's maximum and its flat index in the channel plane.

    Scans the window in row-major order and replaces the running maximum only on a *strictly*
    larger value (or a NaN), so ties keep the first maximum.
    """
    lead = x.shape[: x.ndim - len(kernel)]
    sizes = x.shape[x.ndim - len(kernel):]
    out = [pool_out_size_reference(n, k, s, p, d, ceil_mode)
           for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation)]
    # BEGIN SOLUTION 3.1
    y = np.zeros((*lead, *out), dtype=x.dtype)
    idx = np.zeros((*lead, *out), dtype=np.int64)
    for plane in itertools.product(*(range(v) for v in lead)):
        for pos in itertools.product(*(range(v) for v in out)):
            best, best_i = -math.inf, -1
            for m in itertools.product(*(range(k) for k in kernel)):
                src = _window(pos, m, stride, dilation, padding)
                if not all(0 <= v < n for v, n in zip(src, sizes)):
                    continue  # padding never wins
                v = x[(*plane, *src)]
                if v > best or math.isnan(v) or best_i < 0:
                    best, best_i = v, int(np.ravel_multi_index(src, sizes))
                    if math.isnan(v):
                        break
            y[(*plane, *pos)] = best
            idx[(*plane, *pos)] = best_i
    return y, idx
    # END SOLUTION


def avg_pool_nd_reference(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
                          ceil_mode: bool = False, count_include_pad: bool = True,
                          divisor_override: int | None = None) -> np.ndarray:
    """Each window's sum divided by ``Q`` (see ``pool.py`` for the three choices of ``Q``)."""
    lead = x.shape[: x.ndim - len(kernel)]
    sizes = x.shape[x.ndim - len(kernel):]
    ones = [1] * len(kernel)
    out = [pool_out_size_reference(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(sizes, kernel, stride, padding)]
    # BEGIN SOLUTION 3.2
    y = np.zeros((*lead, *out), dtype=x.dtype)
    for plane in itertools.product(*(range(v) for v in lead)):
        for pos in itertools.product(*(range(v) for v in out)):
            total, real, padded = 0.0, 0, 0
            for m in itertools.product(*(range(k) for k in kernel)):
                src = _window(pos, m, stride, ones, padding)
                if all(-p <= v < n + p for v, n, p in zip(src, sizes, padding)):
                    padded += 1  # inside the padded input (ceil-mode overhang is not)
                if all(0 <= v < n for v, n in zip(src, sizes)):
                    real += 1
                    total += x[(*plane, *src)]
            q = divisor_override if divisor_override is not None else (padded if count_include_pad else real)
            y[(*plane, *pos)] = total / q
    return y
    # END SOLUTION


def _bins(n: int, o: int) -> list[tuple[int, int]]:
    return [(math.floor(i * n / o), math.ceil((i + 1) * n / o)) for i in range(o)]


def adaptive_avg_pool2d_reference(x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Mean over bin ``[floor(i*H/oh), ceil((i+1)*H/oh)) x [floor(j*W/ow), ceil((j+1)*W/ow))``."""
    H, W = x.shape[-2:]
    oh, ow = output_size
    y = np.zeros((*x.shape[:-2], oh, ow), dtype=x.dtype)
    for i, (h0, h1) in enumerate(_bins(H, oh)):
        for j, (w0, w1) in enumerate(_bins(W, ow)):
            y[..., i, j] = x[..., h0:h1, w0:w1].sum(axis=(-2, -1)) / ((h1 - h0) * (w1 - w0))
    return y


def adaptive_max_pool2d_reference(x: np.ndarray, output_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Max over each adaptive bin and its flat index ``h*W + w`` (first maximum on ties)."""
    H, W = x.shape[-2:]
    oh, ow = output_size
    lead = x.shape[:-2]
    y = np.zeros((*lead, oh, ow), dtype=x.dtype)
    idx = np.zeros((*lead, oh, ow), dtype=np.int64)
    for plane in itertools.product(*(range(v) for v in lead)):
        for i, (h0, h1) in enumerate(_bins(H, oh)):
            for j, (w0, w1) in enumerate(_bins(W, ow)):
                best, best_i = -math.inf, -1
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        v = x[(*plane, h, w)]
                        if v > best or best_i < 0:
                            best, best_i = v, h * W + w
                y[(*plane, i, j)] = best
                idx[(*plane, i, j)] = best_i
    return y, idx


def max_unpool2d_reference(x: np.ndarray, indices: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``out.flat[plane][indices[..., i, j]] = x[..., i, j]``, zeros elsewhere."""
    lead = x.shape[:-2]
    out = np.zeros((*lead, out_hw[0] * out_hw[1]), dtype=x.dtype)
    for plane in itertools.product(*(range(v) for v in lead)):
        for i in range(x.shape[-2]):
            for j in range(x.shape[-1]):
                out[(*plane, indices[(*plane, i, j)])] = x[(*plane, i, j)]
    return out.reshape(*lead, *out_hw)
