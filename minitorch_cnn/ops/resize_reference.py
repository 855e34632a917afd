"""Slow, obviously-correct loops for ``interpolate``: the oracle the fast path must equal.

One output pixel at a time, straight from PyTorch's sampling rules (see ``resize.py``). 2-d only
(``(N, C, H, W)``); ``mode`` is 'nearest' or 'bilinear'. NumPy in, NumPy out.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["interpolate2d_reference"]


def _source(o: int, n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None) -> float:
    step = scale if scale is not None else n_in / n_out
    if mode == "nearest":
        return float(min(math.floor(o * step), n_in - 1))
    if align_corners:
        return o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return max((o + 0.5) * step - 0.5, 0.0)


def interpolate2d_reference(x: np.ndarray, out: tuple[int, int], mode: str = "nearest",
                            align_corners: bool = False, scales: tuple = (None, None)) -> np.ndarray:
    """Resize ``x (N, C, H, W)`` to ``out = (H_out, W_out)`` pixel by pixel."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, *out), dtype=np.float64)
    for i in range(out[0]):
        sy = _source(i, h, out[0], mode, align_corners, scales[0])
        for j in range(out[1]):
            sx = _source(j, w, out[1], mode, align_corners, scales[1])
            if mode == "nearest":
                y[:, :, i, j] = x[:, :, int(sy), int(sx)]
                continue
            y0, x0 = min(int(math.floor(sy)), h - 1), min(int(math.floor(sx)), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            ly, lx = sy - y0, sx - x0
            y[:, :, i, j] = ((1 - ly) * (1 - lx) * x[:, :, y0, x0] + (1 - ly) * lx * x[:, :, y0, x1]
                             + ly * (1 - lx) * x[:, :, y1, x0] + ly * lx * x[:, :, y1, x1])
    return y
