"""Matplotlib figures for the viz arrays; each helper returns the Figure and saves a PNG if asked.

matplotlib is optional (``pip install minitorch_cnn[viz]``) and imported only when one of these
functions runs. The figures are built with ``matplotlib.figure.Figure`` directly, not pyplot, so
they work headless (no display, no backend switching) and do not pile up in pyplot's registry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_grid", "plot_feature_maps", "plot_filters", "plot_image", "plot_heatmap", "plot_occlusion"]


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plotting needs matplotlib: `pip install matplotlib` (or `pip install minitorch_cnn[viz]`); "
            "the viz functions themselves return NumPy arrays and work without it"
        ) from exc
    return Figure(figsize=figsize, layout="constrained")


def _save(fig: Any, path: str | Path | None) -> Any:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig


def _as_image(a: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(C, H, W) / (H, W) -> what imshow wants, and a grey colour map for one channel."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    if a.ndim == 3:
        lo, hi = a.min(), a.max()
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        return a, None
    return a, "gray"


def plot_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, cols: int = 8,
              path: str | Path | None = None, cmap: str | None = None, suptitle: str | None = None) -> Any:
    """A grid of small images (each (H, W), (1, H, W) or (3, H, W))."""
    n = len(images)
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig = _figure((1.6 * cols, 1.6 * rows + (0.4 if suptitle else 0)))
    for i, im in enumerate(images):
        ax = fig.add_subplot(rows, cols, i + 1)
        arr, default = _as_image(im)
        ax.imshow(arr, cmap=cmap or default)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return _save(fig, path)


def plot_feature_maps(maps: np.ndarray, path: str | Path | None = None, max_maps: int = 32,
                      title: str | None = None) -> Any:
    """The channels of one sample's feature maps ((C, H, W) or (1, C, H, W)), one panel each."""
    m = np.asarray(maps)
    if m.ndim == 4:
        m = m[0]
    return plot_grid([m[c] for c in range(min(len(m), max_maps))], [str(c) for c in range(min(len(m), max_maps))],
                     path=path, cmap="viridis", suptitle=title)


def plot_filters(weights: np.ndarray, path: str | Path | None = None, max_filters: int = 64,
                 title: str | None = None) -> Any:
    """Conv filters (C_out, C_in, kh, kw): RGB when C_in == 3, else the first input channel."""
    w = np.asarray(weights)
    images = [w[k] if w.shape[1] == 3 else w[k, 0] for k in range(min(len(w), max_filters))]
    return plot_grid(images, [str(k) for k in range(len(images))], path=path, suptitle=title)


def plot_image(image: np.ndarray, path: str | Path | None = None, title: str | None = None) -> Any:
    """One image (C, H, W) or (H, W)."""
    return plot_grid([image], [title] if title else None, cols=1, path=path)


def plot_heatmap(image: np.ndarray, heatmap: np.ndarray, path: str | Path | None = None,
                 title: str | None = None, alpha: float = 0.4) -> Any:
    """Image, heat map, and the two overlaid (Grad-CAM, saliency, occlusion)."""
    from .gradcam import overlay

    fig = _figure((7.5, 2.8))
    arr, cmap = _as_image(image)
    panels = [(arr, cmap, "input"), (np.asarray(heatmap), "jet", "heat map"),
              (overlay(image, np.clip(heatmap, 0, 1), alpha), None, "overlay")]
    for i, (a, cm, t) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        ax.imshow(a, cmap=cm)
        ax.set_title(t, fontsize=9)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_occlusion(results: dict, index: int = 0, path: str | Path | None = None) -> Any:
    """One panel per patch size: the target probability at each patch position."""
    sizes = sorted(results)
    fig = _figure((2.4 * len(sizes), 2.6))
    # one colour scale for all panels, stretched to the values present (small drops stay visible)
    lo = min(float(results[p].probs[index].min()) for p in sizes)
    hi = max(float(results[p].probs[index].max()) for p in sizes)
    hi = hi if hi > lo else lo + 1e-6
    for i, p in enumerate(sizes):
        r = results[p]
        ax = fig.add_subplot(1, len(sizes), i + 1)
        im = ax.imshow(r.probs[index], cmap="viridis", vmin=lo, vmax=hi)
        ax.set_title(f"{p}x{p} (base {r.baseline[index]:.2f})", fontsize=8)
        ax.set_axis_off()
    fig.colorbar(im, ax=fig.axes, shrink=0.8, label="p(target)")
    return _save(fig, path)
