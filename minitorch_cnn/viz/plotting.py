"""Matplotlib figures for the viz arrays; each helper returns the Figure and saves a PNG if asked.

Every figure is meant to explain itself to a student who sees only the PNG: a title that says what
is shown (layer, channel, predicted class and its probability), labelled colour bars with their
units, and the input image beside or beneath every map computed from it.

matplotlib is a default dependency, imported only when one of these functions runs (an install
without it still gets every viz array; :func:`have_matplotlib` and :func:`skip_notice` let the
callers say so in one line). The figures are built with ``matplotlib.figure.Figure`` directly, not
pyplot, so they work headless (no display, no backend switching) and do not pile up in pyplot's
registry. PNGs are written atomically (a complete file or none).

:func:`show` is how the tutorials put a picture on the page: it saves a figure or a Graphviz graph
to a file if asked, and inside a Jupyter kernel also displays it under the cell (PNG for figures,
SVG for graphs); in a plain script the display is a no-op. IPython is never imported by this module:
``show`` only uses it when it is already loaded, i.e. when the code runs inside IPython.
"""

from __future__ import annotations

import importlib.util
import io
import math
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "have_matplotlib", "skip_notice", "prediction_title",
    "plot_grid", "plot_feature_maps", "plot_filters", "plot_image", "plot_max_response",
    "plot_heatmap", "plot_occlusion", "plot_curves", "show", "in_notebook",
]

DIVERGING = "RdBu_r"  # red = positive, blue = negative, white = 0: for signed values (weights, drops)


def have_matplotlib() -> bool:
    """True when matplotlib can be imported (the figures need it; the arrays do not)."""
    return importlib.util.find_spec("matplotlib") is not None


def skip_notice(what: str) -> str:
    """The one line to print when a figure is skipped: ``"curves.png skipped: ..."``."""
    return (f"{what} skipped: matplotlib is not installed "
            "(`.venv/bin/pip install matplotlib`; the .npy/.csv results are written anyway)")


def prediction_title(method: str, class_name: str, prob: float, true_name: str | None = None,
                     predicted: bool = True) -> str:
    """``"Grad-CAM for the predicted class 'T' (p = 0.97); true class 'T'"``: what a map explains, how sure.

    ``predicted=False`` when the class was chosen by the user (``--target``) rather than the model.
    """
    which = "the predicted class" if predicted else "class"
    title = f"{method} for {which} '{class_name}' (p = {prob:.2f})"
    return title if true_name is None else f"{title}; true class '{true_name}'"


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plotting needs matplotlib: `.venv/bin/pip install matplotlib`; "
            "the viz functions themselves return NumPy arrays and work without it"
        ) from exc
    return Figure(figsize=figsize, layout="constrained")


def _save(fig: Any, path: str | Path | None) -> Any:
    if path is not None:
        from ..data.fileio import atomic_open

        with atomic_open(Path(path), "wb") as f:
            fig.savefig(f, format="png", dpi=100)
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


def _grid(fig: Any, n: int, cols: int) -> list[Any]:
    """``n`` axes in a grid of ``cols`` columns, ticks off."""
    rows = math.ceil(n / cols)
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    for ax in axes:
        ax.set_axis_off()
    return axes


def plot_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, cols: int = 8,
              path: str | Path | None = None, cmap: str | None = None, suptitle: str | None = None,
              vmin: float | None = None, vmax: float | None = None, colorbar: str | None = None) -> Any:
    """A grid of small images (each (H, W), (1, H, W) or (3, H, W)).

    ``vmin``/``vmax`` put every panel on one colour scale (then ``colorbar`` is its label); without
    them each panel is scaled to its own range.
    """
    n = len(images)
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    height = 1.6 * rows + (0.5 if suptitle else 0)
    fig = _figure((1.6 * cols + (0.8 if colorbar else 0), max(height, 2.6) if colorbar else height))  # room for its label
    shown = None
    for i, ax in enumerate(_grid(fig, n, cols)):
        arr, default = _as_image(images[i])
        shown = ax.imshow(arr, cmap=cmap or default, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if colorbar and shown is not None:
        fig.colorbar(shown, ax=fig.axes, shrink=0.8, label=colorbar)
    if suptitle:
        fig.suptitle(suptitle)
    return _save(fig, path)


def plot_feature_maps(maps: np.ndarray, path: str | Path | None = None, max_maps: int = 32,
                      title: str | None = None, image: np.ndarray | None = None) -> Any:
    """The channels of one sample's feature maps ((C, H, W) or (1, C, H, W)), one panel each.

    All panels share one colour scale, so a dim channel *is* a weak one: viridis for maps >= 0
    (after a ReLU), a diverging map centred at 0 for signed ones (a conv's raw output). ``image``
    (the input) is shown first, in grey.
    """
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim == 4:
        m = m[0]
    n = min(len(m), max_maps)
    lo, hi = float(m[:n].min()), float(m[:n].max())
    if lo < 0 < hi:
        cmap, vmin, vmax = DIVERGING, -max(-lo, hi), max(-lo, hi)
    else:
        cmap, vmin, vmax = "viridis", lo, (hi if hi > lo else lo + 1e-6)
    what = f"{n} of {len(m)} channels" if n < len(m) else f"all {len(m)} channels"
    extra = 0 if image is None else 1
    cols = min(8, n + extra)
    rows = math.ceil((n + extra) / cols)
    fig = _figure((1.6 * cols + 0.8, 1.6 * rows + 0.5))
    axes = _grid(fig, n + extra, cols)
    if image is not None:
        arr, grey = _as_image(image)
        axes[0].imshow(arr, cmap=grey)
        axes[0].set_title("input", fontsize=8)
    for c in range(n):
        shown = axes[c + extra].imshow(m[c], cmap=cmap, vmin=vmin, vmax=vmax)
        axes[c + extra].set_title(f"channel {c}", fontsize=8)
    fig.colorbar(shown, ax=axes[extra:], shrink=0.8, label="activation")
    fig.suptitle(f"{title or 'feature maps'}: {what}, {m.shape[1]}x{m.shape[2]} each")
    return _save(fig, path)


def plot_filters(weights: np.ndarray, path: str | Path | None = None, max_filters: int = 64,
                 title: str | None = None) -> Any:
    """Conv filters (C_out, C_in, kh, kw), raw weights (``viz.filters(..., normalize=False)``).

    One input channel (or many: the first is shown) is drawn with a diverging colour map centred at
    0 on one scale for all filters: red weights excite (the filter likes bright pixels there), blue
    ones inhibit. RGB filters (C_in = 3) are shown as colour patches, each scaled to [0, 1].
    """
    w = np.asarray(weights, dtype=np.float64)
    n, c_in = min(len(w), max_filters), w.shape[1]
    shape = "x".join(str(s) for s in w.shape)
    name = title or "filters"
    titles = [f"filter {k}" for k in range(n)]
    if c_in == 3:
        return plot_grid([w[k] for k in range(n)], titles, path=path,
                         suptitle=f"{name} ({shape}), RGB, each filter scaled to [0, 1]")
    m = float(np.abs(w[:n, 0]).max()) or 1e-6
    channel = "" if c_in == 1 else f", input channel 0 of {c_in}"
    return plot_grid([w[k, 0] for k in range(n)], titles, path=path, cmap=DIVERGING, vmin=-m, vmax=m,
                     colorbar="weight (red +, blue -)", suptitle=f"{name} ({shape}{channel})")


def plot_image(image: np.ndarray, path: str | Path | None = None, title: str | None = None) -> Any:
    """One image (C, H, W) or (H, W), at a size you can see."""
    fig = _figure((4.0, 4.3))
    ax = fig.add_subplot(1, 1, 1)
    arr, cmap = _as_image(image)
    ax.imshow(arr, cmap=cmap)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_max_response(result: Any, layer: str, channel: int, path: str | Path | None = None,
                      settings: Mapping[str, Any] | None = None) -> Any:
    """A ``viz.max_filter_response`` result: the image, and the activation climbing step by step.

    ``settings``: the keyword arguments the ascent ran with, printed under the title.
    """
    fig = _figure((8.0, 3.8))
    ax = fig.add_subplot(1, 2, 1)
    arr, cmap = _as_image(result.image)
    ax.imshow(arr, cmap=cmap)
    ax.set_axis_off()
    ax.set_title("the input it responds to most", fontsize=9)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(np.arange(len(result.history)), result.history, "-")
    ax.set(xlabel="gradient-ascent step", ylabel=f"mean activation of channel {channel}")
    ax.grid(alpha=0.3)
    title = f"Max response of layer {layer}, channel {channel}: gradient ascent on the input"
    s = dict(settings or {})
    if s.get("jitter") or s.get("decay") or s.get("blur"):
        title += (f"\nregularised: jitter {s.get('jitter', 0)} px, L2 decay {s.get('decay', 0)}, blur sigma "
                  f"{s.get('blur') or 0} every {s.get('blur_every', 4)} steps")
        ax.set_title("activation (it dips at each blur)", fontsize=9)
    else:
        title += "\nplain ascent, no regularisation"
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_heatmap(image: np.ndarray, heatmap: np.ndarray, path: str | Path | None = None,
                 title: str | None = None, alpha: float = 0.4, label: str = "relative importance") -> Any:
    """Image, heat map (with a colour bar named ``label``), and the two overlaid (Grad-CAM, saliency)."""
    from .gradcam import overlay

    fig = _figure((8.5, 3.0))
    arr, cmap = _as_image(image)
    heat = np.asarray(heatmap, dtype=np.float64)
    panels = [(arr, cmap, "input"), (heat, "jet", "heat map"), (overlay(image, np.clip(heat, 0, 1), alpha), None,
                                                                 "heat map over the input")]
    for i, (a, cm, t) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        shown = ax.imshow(a, cmap=cm, vmin=0 if i == 1 else None, vmax=1 if i == 1 else None)
        ax.set_title(t, fontsize=9)
        ax.set_axis_off()
        if i == 1:
            fig.colorbar(shown, ax=ax, shrink=0.8, label=label)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_occlusion(results: Mapping[int, Any], index: int = 0, path: str | Path | None = None,
                   image: np.ndarray | None = None, class_name: str | None = None) -> Any:
    """The input, then one panel per patch size: the drop of the class probability, over the input.

    Each panel shows ``OcclusionResult.heatmap`` (for every pixel, the mean drop ``p(class) -
    p(class | patch here)`` over the patch positions covering it) on one diverging scale for all
    panels: red = hiding this region hurts the prediction, blue = hiding it helps.
    """
    sizes = sorted(results)
    fig = _figure((2.5 * (len(sizes) + (image is not None)) + 0.8, 3.0))
    drops = [np.asarray(results[p].heatmap[index], dtype=np.float64) for p in sizes]
    m = max(float(np.abs(d).max()) for d in drops) or 1e-6
    cols = len(sizes) + (image is not None)
    base = None if image is None else _as_image(image)
    if base is not None:
        ax = fig.add_subplot(1, cols, 1)
        ax.imshow(base[0], cmap=base[1])
        ax.set_title("input", fontsize=9)
        ax.set_axis_off()
    for i, (p, drop) in enumerate(zip(sizes, drops)):
        ax = fig.add_subplot(1, cols, i + 1 + (image is not None))
        if base is not None:
            ax.imshow(base[0], cmap=base[1])
        shown = ax.imshow(drop, cmap=DIVERGING, vmin=-m, vmax=m, alpha=0.6 if base is not None else 1.0)
        ax.set_title(f"hiding {p}x{p} patches, stride {results[p].stride}", fontsize=8)
        ax.set_axis_off()
    fig.colorbar(shown, ax=fig.axes, shrink=0.8, label="drop in p(class) when hidden")
    r = results[sizes[0]]
    target = class_name if class_name is not None else f"class {int(r.targets[index])}"
    fig.suptitle(f"Occlusion: p('{target}') = {float(r.baseline[index]):.2f} with nothing hidden", fontsize=10)
    return _save(fig, path)


def plot_curves(history: Sequence[Mapping[str, float]], path: str | Path | None = None,
                title: str = "Training curves") -> Any:
    """Loss and accuracy per epoch from a training history (``metrics.csv`` rows).

    Train numbers are running averages over the epoch's batches with dropout on; test numbers are
    measured after the epoch in eval mode. That is why test accuracy can exceed train accuracy.
    """
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig = _figure((9.5, 3.8))
    ep = [int(h["epoch"]) for h in history]
    train_label, test_label = "train (running average, dropout on)", "test (end of epoch, eval mode)"
    for i, (key, ylabel) in enumerate((("loss", "cross-entropy loss"), ("acc", "accuracy"))):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(ep, [h[f"train_{key}"] for h in history], "o-", label=train_label)
        ax.plot(ep, [h[f"test_{key}"] for h in history], "o-", label=test_label)
        ax.set(xlabel="epoch", ylabel=ylabel, title="Loss" if key == "loss" else "Accuracy")
        if len(ep) <= 20:  # every epoch gets its tick (and a lone epoch is not drawn at x = 0.945...)
            ax.set_xticks(ep)
            ax.set_xlim(min(ep) - 0.5, max(ep) + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if key == "acc":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def _display_function() -> Any:
    """IPython's ``display`` when running inside a Jupyter kernel, else None (never imports IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:  # not imported: not inside IPython, and nothing to display on
        return None
    shell = ipython.get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:  # plain script, or a terminal IPython
        return None
    from IPython.display import display

    return display


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code), where :func:`show` displays."""
    return _display_function() is not None


def _is_figure(obj: Any) -> bool:
    return hasattr(obj, "savefig") and hasattr(obj, "get_axes")


def _is_graph(obj: Any) -> bool:
    return hasattr(obj, "pipe") and hasattr(obj, "source")


def _close_pyplot(fig: Any) -> None:
    """Drop a pyplot-made figure from pyplot's registry (the inline backend would draw it twice)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)


def show(obj: Any, path: str | Path | None = None, dpi: int = 100) -> None:
    """Save ``obj`` to ``path`` (if given) and, inside a Jupyter kernel, display it under the cell.

    ``obj`` is one of:

    * a matplotlib ``Figure`` (from these ``plot_*`` helpers or from pyplot): written as PNG, SVG or
      PDF after ``path``'s suffix, atomically; displayed as PNG. A pyplot figure is then closed, so
      the inline backend does not draw it a second time at the end of the cell;
    * a ``graphviz.Digraph`` (``viz.draw_graph``, ``viz.forward_graph``): written with
      :func:`minitorch_cnn.viz.render` (``.svg``/``.png``/``.pdf`` need the Graphviz ``dot`` program,
      ``.dot`` does not); displayed as SVG when ``dot`` is installed, else not at all;
    * the path of an existing ``.png`` or ``.svg`` file (then ``path`` must be None): displayed;
    * None (a figure skipped, e.g. matplotlib missing): nothing happens.

    Returns None, so that ``show(...)`` as a cell's last line does not draw the picture twice.
    """
    if obj is None:
        return
    display = _display_function()
    if isinstance(obj, (str, Path)):
        if path is not None:
            raise TypeError("show(file, path): a file is only displayed; pass a figure or a graph to save it")
        file = Path(obj)
        if file.suffix.lower() not in (".png", ".svg"):
            raise ValueError(f"show: can display .png and .svg files, not {file.name!r}")
        if not file.is_file():
            raise FileNotFoundError(f"show: no such picture: {file}")
        if display is not None:
            from IPython.display import SVG, Image

            display(SVG(filename=str(file)) if file.suffix.lower() == ".svg" else Image(filename=str(file)))
        return
    if _is_figure(obj):
        if path is not None:
            from ..data.fileio import atomic_open

            fmt = Path(path).suffix.lstrip(".").lower() or "png"
            with atomic_open(Path(path), "wb") as f:
                obj.savefig(f, format=fmt, dpi=dpi, bbox_inches="tight")
        if display is not None:
            from IPython.display import Image

            buf = io.BytesIO()
            obj.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
            display(Image(data=buf.getvalue(), format="png"))
        _close_pyplot(obj)
        return
    if _is_graph(obj):
        if path is not None:
            from .graph import render

            render(obj, path)
        if display is not None and shutil.which("dot") is not None:
            from IPython.display import SVG

            display(SVG(data=obj.pipe(format="svg").decode("utf-8")))
        return
    raise TypeError(f"show: expected a matplotlib Figure, a graphviz graph or a .png/.svg path, "
                    f"got {type(obj).__name__}")
