"""Saliency (Simonyan et al. 2014): how much each input pixel moves the class score.

The saliency of pixel (i, j) is ``max_c |d score_target / d x[c, i, j]|``: the gradient of the
target class's *logit* (not its probability, whose gradient also depends on the other classes)
with respect to the input, its magnitude, maximised over colour channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import get_array_module, to_numpy
from ..tensors import Tensor
from ._util import as_input, eval_mode, frozen

__all__ = ["saliency", "resolve_target", "class_score"]


def resolve_target(logits: Tensor, target: int | Sequence[int] | None) -> np.ndarray:
    """One class index per sample: ``None`` = the predicted class, an int = the same for all."""
    n, k = logits.shape[0], logits.shape[-1]
    if target is None:
        return to_numpy(logits._array).reshape(n, k).argmax(axis=1)
    t = np.broadcast_to(np.asarray(target, dtype=np.int64).reshape(-1), (n,)).copy()
    if t.min() < 0 or t.max() >= k:
        raise ValueError(f"target {target!r} is out of range for a model with {k} classes")
    return t


def class_score(logits: Tensor, target: np.ndarray) -> Tensor:
    """``sum_n logits[n, target[n]]`` as a graph-connected scalar (a one-hot mask, then sum)."""
    xp = get_array_module(logits._array)
    onehot = np.zeros(logits.shape, dtype=logits.dtype)
    onehot[np.arange(logits.shape[0]), target] = 1
    return (logits * Tensor._from_array(xp.asarray(onehot))).sum()


def saliency(model: Any, x: Any, target: int | Sequence[int] | None = None) -> np.ndarray:
    """Saliency maps (N, H, W) for input ``x`` (N, C, H, W) and class ``target`` (None: predicted).

    Eval mode, parameters frozen (their ``.grad`` untouched); both restored.
    """
    x = as_input(x, model)
    leaf = x.detach().requires_grad_(True)
    with eval_mode(model), frozen(model):
        logits = model(leaf)
        if logits.ndim != 2:
            raise ValueError(f"saliency: the model must return logits (N, classes), got {tuple(logits.shape)}")
        class_score(logits, resolve_target(logits, target)).backward()
    # BEGIN SOLUTION 5.4
    return np.abs(to_numpy(leaf.grad._array)).max(axis=1)
    # END SOLUTION
