"""Gradient utilities: ``clip_grad_norm_``, ``clip_grad_value_``, ``parameters_to_vector``, ``vector_to_parameters``;
``skip_init`` builds a module without running its initialisers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import backend
from ..autograd import no_grad
from ..tensors import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "skip_init"]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale the gradients in place so that their joint norm is at most ``max_norm``.

    The total norm is that of all gradients concatenated into one vector
    (``norm_type=inf``: the largest absolute entry). If it exceeds ``max_norm``, every gradient is
    multiplied by ``max_norm / (total_norm + 1e-6)``. Returns the total norm *before* clipping, as a
    0-d Tensor: a useful number to log when training diverges.
    """
    params = _as_list(parameters)
    grads = [p.grad._array for p in params if p.grad is not None]
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._from_array(backend.get_array_module().zeros((), dtype="float32"))
    xp = backend.get_array_module(grads[0])
    # BEGIN SOLUTION 4.3
    if math.isinf(norm_type):
        norms = [xp.abs(g).max() for g in grads]
        total = xp.stack([n.astype(grads[0].dtype) for n in norms]).max()
    else:
        norms = [(xp.abs(g) ** norm_type).sum() if norm_type != 2.0 else (g * g).sum() for g in grads]
        total = xp.stack([n.astype(grads[0].dtype) for n in norms]).sum() ** (1.0 / norm_type)
    # END SOLUTION
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    # BEGIN SOLUTION 4.3
    clip_coef = max_norm / (total + 1e-6)
    # multiply unconditionally by min(coef, 1): no host sync needed on a GPU
    clip_coef = xp.minimum(clip_coef, 1.0)
    # END SOLUTION
    with no_grad():
        for p in params:
            if p.grad is not None:
                p.grad._array *= clip_coef.astype(p.grad._array.dtype)
    return Tensor._from_array(xp.asarray(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp = backend.get_array_module(p.grad._array)
            xp.clip(p.grad._array, -clip_value, clip_value, out=p.grad._array)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (a copy, no graph)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    xp = backend.get_array_module(params[0]._array)
    return Tensor._from_array(xp.concatenate([p._array.reshape(-1) for p in params]))


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of the 1-D ``vec`` back into ``parameters`` (inverse of ``parameters_to_vector``)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vector has {vec.numel()} elements, the parameters {total}")
    offset = 0
    for p in params:
        n = p.numel()
        p._array[...] = vec._array[offset : offset + n].reshape(p.shape)
        offset += n


@contextmanager
def _initialisers_disabled() -> Iterator[None]:
    """Replace every ``nn.init.*_`` function by one that returns its tensor untouched, for the block."""
    from . import init

    saved = {name: getattr(init, name) for name in init.__all__ if name.endswith("_")}

    def untouched(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return tensor

    try:
        for name in saved:
            setattr(init, name, untouched)
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def skip_init(module_cls: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``module_cls(*args, **kwargs)`` without initialising its parameters (``torch.nn.utils.skip_init``).

    Layers and builders initialise through ``nn.init``; here those calls do nothing, so the
    parameters keep their freshly allocated zeros and the random generator is not advanced. Use it
    to count or inspect a large model (``skip_init(models.vgg16)`` costs an allocation, not 138
    million random draws), or before loading weights that overwrite everything anyway.
    ``module_cls`` may be a class or a builder function. (PyTorch leaves the memory uninitialised;
    we zero it.)
    """
    if not callable(module_cls):
        raise TypeError(f"skip_init: module_cls must be a Module class or builder, got {module_cls!r}")
    with _initialisers_disabled():
        return module_cls(*args, **kwargs)
