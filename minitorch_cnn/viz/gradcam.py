"""Grad-CAM (Selvaraju et al. 2017): where in the image a conv layer found evidence for a class.

With ``A`` the layer's feature maps (K, h, w) and ``y`` the class logit::

    alpha_k = mean_{i,j} d y / d A[k, i, j]          (how much channel k matters for the class)
    cam     = ReLU( sum_k alpha_k A[k] )             (h, w), then / max and upsampled to (H, W)

The ReLU keeps the regions that *raise* the score. ``GradCAM`` is a context manager: on entry it
hooks the layer (a forward hook stores ``A``, a tensor hook on ``A`` stores its gradient), on exit
the hooks are removed and the model's mode restored, even if something failed inside::

    with GradCAM(model, "features.6") as cam:
        heat = cam(x)            # (N, H, W) in [0, 1], for the predicted classes
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import to_numpy
from ._util import as_input, eval_mode, frozen, get_layer
from .saliency import class_score, resolve_target

__all__ = ["GradCAM", "gradcam", "upsample_bilinear", "overlay", "colormap"]


def upsample_bilinear(maps: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Resize (N, h, w) to (N, H, W) bilinearly, as ``F.interpolate(..., align_corners=False)``.

    Output pixel ``o`` samples the input at ``(o + 0.5) * in/out - 0.5`` (pixel centres line up),
    clamped to the border.
    """
    maps = np.asarray(maps, dtype=np.float64)
    # BEGIN SOLUTION 5.5
    H, W = (int(s) for s in size)
    out = maps
    for axis, n_out in ((1, H), (2, W)):
        n_in = out.shape[axis]
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam = src - i0
        shape = [1, 1, 1]
        shape[axis] = n_out
        lam = lam.reshape(shape)
        out = np.take(out, i0, axis=axis) * (1 - lam) + np.take(out, i1, axis=axis) * lam
    return out
    # END SOLUTION


def colormap(values: np.ndarray) -> np.ndarray:
    """A jet-like colour map without matplotlib: (..., ) in [0, 1] -> (..., 3) RGB in [0, 1]."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0, 1)[..., None]
    centres = np.array([3.0, 2.0, 1.0])  # red peaks at 3/4, green at 1/2, blue at 1/4
    return np.clip(1.5 - np.abs(4 * v - centres), 0, 1)


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """Blend a heat map over an image: (H, W, 3) RGB in [0, 1].

    ``image``: (C, H, W) with C in {1, 3}, or (H, W); min-max scaled to [0, 1]. ``heatmap``:
    (H, W) in [0, 1] (e.g. one Grad-CAM map).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    if img.shape[:2] != np.shape(heatmap):
        raise ValueError(f"overlay: image is {img.shape[:2]} but the heat map is {np.shape(heatmap)}")
    span = img.max() - img.min()
    img = (img - img.min()) / span if span > 0 else np.zeros_like(img)
    return (1 - alpha) * img + alpha * colormap(heatmap)


class GradCAM:
    """Grad-CAM for ``layer`` of ``model``; use it as a context manager (see the module docstring).

    After a call, ``.activations`` and ``.gradients`` (N, K, h, w), ``.raw`` (N, h, w, before
    normalisation and upsampling) and ``.targets`` hold the intermediate results.
    """

    def __init__(self, model: Any, layer: str | Any) -> None:
        self.model = model
        self.layer_name, self.layer = get_layer(model, layer)
        self._handle = None
        self._contexts: list = []
        self._acts: list = []
        self._grads: list = []

    def __enter__(self) -> GradCAM:
        def forward_hook(module: Any, inputs: tuple, output: Any) -> None:
            out = output[0] if isinstance(output, (tuple, list)) else output
            self._acts.append(out)
            if out.requires_grad:
                out.register_hook(lambda g: self._grads.append(g))

        self._contexts = [eval_mode(self.model), frozen(self.model)]
        for c in self._contexts:
            c.__enter__()
        self._handle = self.layer.register_forward_hook(forward_hook)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        for c in reversed(self._contexts):
            c.__exit__(None, None, None)
        self._contexts = []

    def __call__(self, x: Any, target: int | Sequence[int] | None = None) -> np.ndarray:
        """Heat maps (N, H, W) in [0, 1] for input ``x`` and class ``target`` (None: predicted)."""
        if self._handle is None:
            raise RuntimeError("GradCAM must be used as a context manager: `with GradCAM(model, layer) as cam:`")
        x = as_input(x, self.model)
        leaf = x.detach().requires_grad_(True)  # a graph even though the weights are frozen
        self._acts.clear()
        self._grads.clear()
        logits = self.model(leaf)
        if logits.ndim != 2:
            raise ValueError(f"GradCAM: the model must return logits (N, classes), got {tuple(logits.shape)}")
        if not self._acts:
            raise RuntimeError(f"GradCAM: layer {self.layer_name!r} was not called during the forward pass")
        self.targets = resolve_target(logits, target)
        class_score(logits, self.targets).backward()
        A = to_numpy(self._acts[0]._array).astype(np.float64)
        if A.ndim != 4:
            raise ValueError(f"GradCAM: layer {self.layer_name!r} must output (N, K, h, w) maps, got {A.shape}")
        G = to_numpy(self._grads[0]._array).astype(np.float64) if self._grads else np.zeros_like(A)
        self.activations, self.gradients = A, G
        # BEGIN SOLUTION 5.2
        weights = G.mean(axis=(2, 3))  # alpha_k
        cam = np.maximum((weights[:, :, None, None] * A).sum(axis=1), 0)
        # END SOLUTION
        self.raw = cam
        peak = cam.max(axis=(1, 2))
        flat = peak <= 0
        if flat.any():
            warnings.warn(
                f"GradCAM: the map of sample(s) {np.nonzero(flat)[0].tolist()} is zero everywhere (no "
                f"positive evidence for the class in {self.layer_name!r}); returning zeros for them",
                RuntimeWarning,
                stacklevel=2,
            )
        cam = cam / np.where(flat, 1.0, peak)[:, None, None]
        return upsample_bilinear(cam, x.shape[2:])


def gradcam(model: Any, layer: str | Any, x: Any, target: int | Sequence[int] | None = None) -> np.ndarray:
    """One-shot Grad-CAM: ``with GradCAM(model, layer) as cam: return cam(x, target)``."""
    with GradCAM(model, layer) as cam:
        return cam(x, target)
