"""Pruning with ``torch.nn.utils.prune``'s signatures, built on ``masks``.

Magnitude pruning (Han et al. 2015): weights near zero matter least, so set the ``amount`` of them
with the smallest ``|w|`` to zero and fine-tune the rest ("prune, retrain, repeat").

* ``amount``: a float in ``[0, 1]`` is the fraction, ``round(amount * n)`` entries (PyTorch's
  rounding); an int is a count. On a parameter that is already pruned it applies to the entries
  still alive (as PyTorch's iterative pruning does), and the new mask is and-ed with the old one.
* ``l1_unstructured`` / ``random_unstructured``: single entries; ``ln_structured(..., n, dim)``:
  whole slices along ``dim`` ranked by their L``n`` norm (``dim=0``: output filters);
  ``global_unstructured`` ranks the entries of several parameters together (it also accepts a
  model: every Conv/Linear weight), so layers with many small weights lose more.
* ``remove(module, name)`` folds the mask in; ``is_pruned(module)`` tells whether any is left.

Ties in ``|w|`` are broken by position (a stable sort), so exactly ``k`` entries are pruned.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..nn import Conv2d, Linear, Module
from . import masks
from .checks import check_finite_weights

__all__ = [
    "L1Unstructured",
    "RandomUnstructured",
    "l1_unstructured",
    "random_unstructured",
    "ln_structured",
    "global_unstructured",
    "remove",
    "is_pruned",
    "prunable_parameters",
    "iterative_prune",
    "schedule_targets",
    "sparsity",
]


def _count(amount: float | int, n: int, fn: str) -> int:
    """How many of ``n`` entries ``amount`` means (fraction -> ``round(amount * n)``, int -> itself)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise TypeError(f"{fn}: amount must be a float in [0, 1] or an int count, got {amount!r}")
    if isinstance(amount, float):
        if not 0.0 <= amount <= 1.0:
            raise ValueError(f"{fn}: amount={amount} as a fraction must lie in [0, 1]; pass an int for a count")
        return round(amount * n)
    if not 0 <= amount <= n:
        raise ValueError(f"{fn}: amount={amount} entries, but only {n} can be pruned")
    return amount


def _alive(module: Module, name: str) -> Any:
    """Bool array of the entries not pruned yet (all True for an unmasked parameter)."""
    param = module._parameters[name]
    xp = get_array_module(param._array)
    if masks.is_masked(module, name):
        return masks.get_mask(module, name)._array
    return xp.ones(param.shape, dtype=bool)


def _smallest_mask(scores: Any, alive: Any, k: int) -> Any:
    """Mask keeping everything except the ``k`` alive entries with the smallest ``scores``."""
    # BEGIN SOLUTION 7.1
    xp = get_array_module(scores)
    flat_alive = alive.reshape(-1)
    big = xp.asarray(np.inf, dtype=scores.dtype)
    ranked = xp.argsort(xp.where(flat_alive, scores.reshape(-1), big), kind="stable")
    keep = flat_alive.copy()
    keep[ranked[:k]] = False
    return keep.reshape(alive.shape)
    # END SOLUTION


class L1Unstructured:
    """Importance ``|w|``: the smallest magnitudes go first."""

    @staticmethod
    def scores(module: Module, name: str) -> Any:
        param = module._parameters[name]
        return get_array_module(param._array).abs(param._array)


class RandomUnstructured:
    """Importance drawn uniformly at random (the seeded CPU generator): a baseline for magnitude."""

    @staticmethod
    def scores(module: Module, name: str) -> Any:
        param = module._parameters[name]
        draw = backend.random_state("cpu").random(param.shape).astype(np.dtype(param.dtype))
        return backend.to_device(draw, backend.device_of(param._array))


def _prune_with(method: Any, module: Module, name: str, amount: float | int, fn: str) -> Module:
    masks._check_param(module, name, fn)
    alive = _alive(module, name)
    k = _count(amount, int(alive.sum()), fn)
    return masks.apply_mask(module, name, _smallest_mask(method.scores(module, name), alive, k))


def l1_unstructured(module: Module, name: str, amount: float | int, importance_scores: Any = None) -> Module:
    """Prune the ``amount`` alive entries of ``module.<name>`` with the smallest ``|w|``."""
    if importance_scores is None:
        return _prune_with(L1Unstructured, module, name, amount, "l1_unstructured")
    return _prune_with(_Given(importance_scores), module, name, amount, "l1_unstructured")


def random_unstructured(module: Module, name: str, amount: float | int) -> Module:
    """Prune ``amount`` alive entries of ``module.<name>`` chosen at random."""
    return _prune_with(RandomUnstructured, module, name, amount, "random_unstructured")


class _Given:
    def __init__(self, scores: Any) -> None:
        self._scores = getattr(scores, "_array", scores)

    def scores(self, module: Module, name: str) -> Any:
        return get_array_module(self._scores).abs(self._scores)


def ln_structured(module: Module, name: str, amount: float | int, n: int | float | str, dim: int,
                  importance_scores: Any = None) -> Module:
    """Prune whole slices along ``dim`` (``dim=0`` of a conv weight: output filters).

    Each slice's importance is its L``n`` norm over all other axes (``n`` an int, ``float('inf')``,
    ``float('-inf')`` or ``'fro'`` = 2); the ``amount`` slices with the smallest norm become zero.
    ``n=0`` is PyTorch's "L0 norm" (``torch.norm(t, p=0)``): the count of non-zero entries. A NaN
    ``n`` raises ``ValueError``.
    """
    param = masks._check_param(module, name, "ln_structured")
    if not isinstance(dim, int) or not -param.ndim <= dim < param.ndim:
        raise ValueError(f"ln_structured: dim={dim!r} out of range for a {param.ndim}-d parameter")
    if n == "fro":
        n = 2
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        raise TypeError(f"ln_structured: n must be a number, float('inf') or 'fro', got {n!r}")
    if isinstance(n, float) and math.isnan(n):
        raise ValueError("ln_structured: n=nan is not a norm order; give an int such as 1 or 2, float('inf') or 'fro'")
    xp = get_array_module(param._array)
    dim = dim % param.ndim
    w = param._array if importance_scores is None else getattr(importance_scores, "_array", importance_scores)
    moved = xp.moveaxis(xp.abs(w), dim, 0).reshape(param.shape[dim], -1)
    if n == math.inf:
        norms = moved.max(axis=1)
    elif n == -math.inf:
        norms = moved.min(axis=1)
    elif n == 0:  # torch.norm(p=0): the number of non-zero entries
        norms = (moved != 0).sum(axis=1).astype(moved.dtype)
    else:
        with np.errstate(divide="ignore"):  # negative orders: a zero entry makes the slice's "norm" 0
            norms = (moved ** n).sum(1) ** (1 / n)
    alive_slices = xp.moveaxis(_alive(module, name), dim, 0).reshape(param.shape[dim], -1).any(axis=1)
    k = _count(amount, int(alive_slices.sum()), "ln_structured")
    keep = _smallest_mask(norms, alive_slices, k)
    shape = [1] * param.ndim
    shape[dim] = param.shape[dim]
    return masks.apply_mask(module, name, xp.broadcast_to(keep.reshape(shape), param.shape))


def prunable_parameters(model: Module, name: str = "weight") -> list[tuple[Module, str]]:
    """``(module, "weight")`` for every Conv2d and Linear of ``model``, in definition order."""
    return [(m, name) for m in model.modules() if isinstance(m, (Conv2d, Linear))]


def _as_pairs(parameters: Any, fn: str) -> list[tuple[Module, str]]:
    if isinstance(parameters, Module):
        return prunable_parameters(parameters)
    pairs = list(parameters)
    for p in pairs:
        if not (isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], Module) and isinstance(p[1], str)):
            raise TypeError(
                f"{fn}: parameters must be a model or (module, name) pairs such as [(model.fc, 'weight')], "
                f"got an item {type(p).__name__}; a bare model.parameters() has no module names, pass the model"
            )
    return pairs


def global_unstructured(parameters: Iterable[tuple[Module, str]] | Module,
                        pruning_method: Any = L1Unstructured, importance_scores: dict | None = None,
                        amount: float | int = 0.0) -> None:
    """Rank the alive entries of all ``parameters`` together and prune the ``amount`` least important.

    ``parameters``: ``[(module, "weight"), ...]`` or a model (all its Conv2d / Linear weights).
    ``importance_scores``: optional ``{(module, name): scores}``; otherwise ``pruning_method``'s
    (``L1Unstructured``: ``|w|``, ``RandomUnstructured``).
    """
    pairs = _as_pairs(parameters, "global_unstructured")
    if not pairs:
        raise ValueError("global_unstructured: no parameters to prune")
    for module, name in pairs:
        masks._check_param(module, name, "global_unstructured")
    xp = get_array_module(pairs[0][0]._parameters[pairs[0][1]]._array)
    scores, alive = [], []
    for module, name in pairs:
        given = (importance_scores or {}).get((module, name))
        s = pruning_method.scores(module, name) if given is None else _Given(given).scores(module, name)
        scores.append(s.reshape(-1).astype(np.float64))
        alive.append(_alive(module, name).reshape(-1))
    all_alive = xp.concatenate(alive)
    k = _count(amount, int(all_alive.sum()), "global_unstructured")
    keep = _smallest_mask(xp.concatenate(scores), all_alive, k)
    start = 0
    for (module, name), a in zip(pairs, alive):
        shape = module._parameters[name].shape
        masks.apply_mask(module, name, keep[start:start + a.size].reshape(shape))
        start += a.size


def remove(module: Module, name: str) -> Module:
    """Make the pruning permanent: the zeros stay in ``module.<name>``, the mask and hooks go."""
    return masks.remove_mask(module, name)


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any sub-module carries a mask."""
    return any(masks.is_masked(m) for m in module.modules())


def sparsity(model: Module) -> float:
    """Fraction of exactly-zero entries over all Conv2d / Linear weights of ``model``."""
    pairs = prunable_parameters(model)
    zeros = sum(int((m._parameters[n]._array == 0).sum()) for m, n in pairs)
    return zeros / max(1, sum(m._parameters[n].numel() for m, n in pairs))


def schedule_targets(final_sparsity: float, steps: int, schedule: str = "linear") -> list[float]:
    """Sparsity to reach after each of ``steps`` prune-retrain rounds.

    ``"linear"``: ``s_r = s_f * r / n`` (equal increments).
    ``"cubic"`` (Zhu & Gupta 2017, "To prune, or not to prune"): ``s_r = s_f * (1 - (1 - r / n)^3)``:
    big cuts while the network has many redundant weights, small ones near the end, so the last
    round's fine-tuning has little to recover. With ``s_f = 0.9, n = 4``: 0.52, 0.79, 0.89, 0.90.
    """
    if schedule == "linear":
        return [final_sparsity * r / steps for r in range(1, steps + 1)]
    if schedule == "cubic":
        return [final_sparsity * (1.0 - (1.0 - r / steps) ** 3) for r in range(1, steps + 1)]
    raise ValueError(f"iterative_prune: schedule={schedule!r} must be 'linear' or 'cubic'")


def _dead(pairs: list[tuple[Module, str]]) -> int:
    return sum(m._parameters[n].numel() - int(_alive(m, n).sum()) for m, n in pairs)


def _prune_layerwise(pairs: list[tuple[Module, str]], target: float) -> None:
    """Every layer of ``pairs`` to ``target`` sparsity by its own magnitudes."""
    for module, name in pairs:
        total = module._parameters[name].numel()
        l1_unstructured(module, name, max(0, round(target * total) - _dead([(module, name)])))


def _prune_round(model: Module, target: float, layerwise: bool, conv_target: float | None) -> None:
    """Raise the Conv/Linear sparsity of ``model`` to ``target`` (see ``iterative_prune``)."""
    pairs = prunable_parameters(model)
    if layerwise:
        return _prune_layerwise(pairs, target)
    ranked = pairs
    if conv_target is not None:  # convolutions by their own fraction; Linear layers pay the rest
        convs = [(m, n) for m, n in pairs if isinstance(m, Conv2d)]
        _prune_layerwise(convs, conv_target)
        ranked = [(m, n) for m, n in pairs if not isinstance(m, Conv2d)]
    total = sum(m._parameters[n].numel() for m, n in pairs)
    global_unstructured(ranked, amount=max(0, round(target * total) - _dead(pairs)))


def _check_conv_budget(model: Module, final_sparsity: float, conv_sparsity: float) -> None:
    """Before any pruning: can the Linear layers take the zeros the convolutions leave over?"""
    pairs = prunable_parameters(model)
    conv_zeros = sum(round(conv_sparsity * m._parameters[n].numel()) for m, n in pairs if isinstance(m, Conv2d))
    linear = sum(m._parameters[n].numel() for m, n in pairs if not isinstance(m, Conv2d))
    needed = round(final_sparsity * sum(m._parameters[n].numel() for m, n in pairs)) - conv_zeros
    if needed > linear:
        raise ValueError(
            f"iterative_prune: final_sparsity={final_sparsity} with conv_sparsity={conv_sparsity} needs {needed} "
            f"zeros in the Linear layers, which have only {linear} weights; raise conv_sparsity"
        )


def iterative_prune(model: Module, final_sparsity: float, steps: int,
                    fine_tune: Callable[[Module, int], Any], layerwise: bool = False,
                    schedule: str = "linear", conv_sparsity: float | None = None) -> list[float]:
    """Prune-retrain schedule: ``steps`` rounds reaching ``final_sparsity`` of the Conv/Linear weights.

    Round ``r`` (1-based) raises the pruned fraction of all weights to ``schedule_targets(...)[r-1]``
    (the ``amount`` of each round is taken of the survivors) by global magnitude, then calls
    ``fine_tune(model, r)``. ``layerwise=True``: every layer by the same fraction instead.
    ``conv_sparsity``: every Conv2d is pruned by its own magnitudes to this fraction (reached on
    the same schedule) and the global ranking runs over the Linear layers only, which then take the
    rest of the zeros: convolutions have few, heavily reused weights and are the more sensitive
    layers (Han et al. 2015 keep 35-84% of AlexNet's convolution weights, 9-25% of its FC weights).
    Returns the sparsity after each round.
    """
    if not 0.0 <= final_sparsity < 1.0:
        raise ValueError(f"iterative_prune: final_sparsity={final_sparsity} must lie in [0, 1)")
    if schedule not in ("linear", "cubic"):
        raise ValueError(f"iterative_prune: schedule={schedule!r} must be 'linear' or 'cubic'")
    check_finite_weights(model, "iterative_prune")  # NaN compares false: every NaN weight would be pruned
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"iterative_prune: steps must be a positive int, got {steps!r}")
    if conv_sparsity is not None:
        if not 0.0 <= conv_sparsity < 1.0:
            raise ValueError(f"iterative_prune: conv_sparsity={conv_sparsity} must lie in [0, 1) or be None")
        if layerwise:
            raise ValueError("iterative_prune: layerwise=True already gives every layer the same fraction; "
                             "drop conv_sparsity or layerwise")
        _check_conv_budget(model, final_sparsity, conv_sparsity)
    targets = schedule_targets(final_sparsity, steps, schedule)
    history = []
    for target in targets:
        conv_target = None if conv_sparsity is None else conv_sparsity * (target / final_sparsity if final_sparsity else 1.0)
        _prune_round(model, target, layerwise, conv_target)
        fine_tune(model, len(history) + 1)
        history.append(sparsity(model))
    return history
