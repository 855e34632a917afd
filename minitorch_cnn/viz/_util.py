"""Small shared helpers: finding layers, and leaving the model exactly as we found it.

Visualizations poke at a model (eval mode, gradients w.r.t. the input, hooks); the context
managers here undo every such change on exit, even when the body raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["memory_owner", "eval_mode", "frozen", "get_layer", "model_device", "as_input", "preserve_state"]


def memory_owner(a: Any) -> Any:
    """The array that owns ``a``'s memory: follows ``.base`` through views (NumPy and CuPy alike)."""
    a = getattr(a, "_a", a)  # the strict backend's wrapper
    while True:
        base = getattr(a, "base", None)
        if base is None or not hasattr(base, "nbytes"):
            return a
        a = base


def model_device(model: Any) -> Any:
    """The device of the model's first parameter (``"cpu"`` for a model without parameters)."""
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return "cpu"


def get_layer(model: Any, layer: Any) -> tuple[str, Any]:
    """``(qualified name, module)`` for ``layer`` given as a name (``"features.3"``) or a module."""
    names = dict(model.named_modules())
    if isinstance(layer, str):
        if layer not in names:
            listing = ", ".join(repr(n) for n in names if n)
            raise ValueError(f"layer {layer!r} is not in the model; its layers are {listing}")
        return layer, names[layer]
    for name, m in names.items():
        if m is layer:
            return name, m
    raise ValueError(f"layer {type(layer).__name__} is not a submodule of the model; pass one of its modules")


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[Any]:
    """``model.eval()`` inside the block, the previous train/eval flags of every module after."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, flag in flags:
            m.training = flag


@contextlib.contextmanager
def frozen(model: Any) -> Iterator[Any]:
    """Parameters stop requiring grad inside the block, so ``backward`` leaves their ``.grad`` alone."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad = False
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad = flag


@contextlib.contextmanager
def preserve_state(model: Any) -> Iterator[Any]:
    """Restore buffers (BatchNorm running statistics) and the CPU random generator afterwards.

    A training-mode forward pass updates running statistics and draws dropout masks; a summary
    must not change the model or the random stream of the caller's training run.
    """
    from .. import backend

    saved = [(b, b._array.copy()) for b in model.buffers() if b is not None]
    rng = backend.get_rng_state()
    try:
        yield model
    finally:
        for b, arr in saved:
            b._array = arr
        backend.set_rng_state(rng)


def as_input(x: Any, model: Any) -> Any:
    """A float Tensor on the model's device with a batch dim: accepts Tensors and NumPy arrays."""
    import minitorch_cnn as mt

    if isinstance(x, mt.Tensor):
        t = x
    else:
        arr = np.asarray(x)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float32)
        t = mt.tensor(arr, device=model_device(model))
    if t.ndim == 3:
        t = t.reshape((1, *t.shape))
    if t.ndim != 4:
        raise ValueError(f"input must have shape (N, C, H, W) or (C, H, W), got {tuple(t.shape)}")
    return t
