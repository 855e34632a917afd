"""Occlusion sensitivity (Zeiler & Fergus 2014): hide a patch, see how much the answer suffers.

For each patch size ``p`` a grey (``fill``) square is slid over the image with step ``stride``;
for every position the model's probability of the target class is recorded. Where the probability
drops, the model was looking. Positions run ``0, stride, 2*stride, ...`` *and* ``H - p`` (resp.
``W - p``), so the first row and column and the last ones are always covered.

The occluded copies of an image are built all at once with a broadcast mask -- (B, 1, H, W)
comparisons of the pixel grid with each patch's corners -- and fed through the model
``batch_size`` at a time, without recording a graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..backend import get_array_module, to_numpy
from ..tensors import Tensor
from ._util import as_input, eval_mode
from .saliency import resolve_target

__all__ = ["occlusion_sensitivity", "OcclusionResult", "patch_positions"]


@dataclass
class OcclusionResult:
    """One patch size's results for N images.

    ``probs`` (N, n_rows, n_cols): target probability with the patch at ``(rows[i], cols[j])``;
    ``baseline`` (N,): without occlusion; ``heatmap`` (N, H, W): the mean probability drop
    ``baseline - prob`` over all patch positions covering each pixel.
    """

    patch_size: int
    stride: int
    rows: list[int]
    cols: list[int]
    probs: np.ndarray
    baseline: np.ndarray
    heatmap: np.ndarray
    targets: np.ndarray


def patch_positions(size: int, patch: int, stride: int) -> list[int]:
    """Top-left corners along one axis: every ``stride`` from 0, plus the last fitting one."""
    if patch > size:
        raise ValueError(f"occlusion_sensitivity: patch size {patch} is larger than the image side {size}")
    # BEGIN SOLUTION 5.3
    pos = list(range(0, size - patch + 1, stride))
    if pos[-1] != size - patch:
        pos.append(size - patch)
    return pos
    # END SOLUTION


def _probs(model: Any, imgs: Any) -> np.ndarray:
    logits = model(Tensor._from_array(imgs))
    return to_numpy(logits.softmax(dim=1)._array)


def occlusion_sensitivity(
    model: Any,
    x: Any,
    target: int | Sequence[int] | None = None,
    patch_sizes: Sequence[int] = (10, 20, 30, 40, 50, 60, 70, 80, 90),
    stride: int | None = None,
    batch_size: int = 64,
    fill: float | str = 0.0,
) -> dict[int, OcclusionResult]:
    """Occlusion maps of ``x`` (N, C, H, W) for each patch size; keys are the patch sizes.

    ``stride``: None = half the patch (at least 1). ``fill``: the patch value, or ``"mean"`` for
    each image's mean. ``target``: class per image, None = the predicted class.
    """
    if batch_size < 1:
        raise ValueError(f"occlusion_sensitivity: batch_size must be >= 1, got {batch_size}")
    if stride is not None and stride < 1:
        raise ValueError(f"occlusion_sensitivity: stride must be >= 1, got {stride}")
    if not isinstance(fill, (int, float)) and fill != "mean":
        raise ValueError(f"occlusion_sensitivity: fill must be a number or 'mean', got {fill!r}")
    x = as_input(x, model)
    N, C, H, W = x.shape
    for p in patch_sizes:
        if not 1 <= int(p) <= min(H, W):
            raise ValueError(f"occlusion_sensitivity: patch size {p} must be in [1, {min(H, W)}] for a {H}x{W} image")
    data = x._array
    xp = get_array_module(data)
    results: dict[int, OcclusionResult] = {}
    with eval_mode(model), no_grad():
        base = _probs(model, data)
        targets = resolve_target(Tensor._from_array(base), target)
        baseline = base[np.arange(N), targets]
        for p in (int(v) for v in patch_sizes):
            s = stride if stride is not None else max(1, p // 2)
            rows, cols = patch_positions(H, p, s), patch_positions(W, p, s)
            corners = np.array([(r, c) for r in rows for c in cols])
            probs = np.empty((N, len(corners)))
            grid_r = xp.arange(H).reshape(1, 1, H, 1)
            grid_c = xp.arange(W).reshape(1, 1, 1, W)
            for n in range(N):
                img = data[n : n + 1]
                value = float(to_numpy(img.mean())) if fill == "mean" else float(fill)
                for b0 in range(0, len(corners), batch_size):
                    chunk = corners[b0 : b0 + batch_size]
                    r0 = xp.asarray(chunk[:, 0]).reshape(-1, 1, 1, 1)
                    c0 = xp.asarray(chunk[:, 1]).reshape(-1, 1, 1, 1)
                    mask = (grid_r >= r0) & (grid_r < r0 + p) & (grid_c >= c0) & (grid_c < c0 + p)
                    imgs = xp.where(mask, xp.asarray(value, dtype=data.dtype), img)  # (B, C, H, W)
                    probs[n, b0 : b0 + len(chunk)] = _probs(model, imgs)[:, targets[n]]
            # BEGIN SOLUTION 5.3
            drop = baseline[:, None] - probs
            total = np.zeros((N, H, W))
            count = np.zeros((H, W))
            for k, (r, c) in enumerate(corners):
                total[:, r : r + p, c : c + p] += drop[:, k, None, None]
                count[r : r + p, c : c + p] += 1
            # END SOLUTION
            results[p] = OcclusionResult(p, s, rows, cols, probs.reshape(N, len(rows), len(cols)), baseline,
                                         total / count, targets)
    return results
