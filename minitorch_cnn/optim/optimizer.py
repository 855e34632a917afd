"""``Optimizer``: the base class that holds parameter groups and per-parameter state.

An optimizer updates parameters from their ``.grad`` after ``loss.backward()``::

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

``param_groups`` is a list of dicts, each with its own ``"params"`` and hyper-parameters (``"lr"``,
...), so that e.g. a pretrained backbone can train slower than a new head::

    optim.SGD([{"params": model.features.parameters(), "lr": 1e-3},
               {"params": model.classifier.parameters()}], lr=1e-2)

``state[p]`` holds per-parameter buffers (momentum, Adam's moments). Updates are plain array
arithmetic on the parameters' backend arrays, ``p._array`` (no graph is recorded).

**Checkpoints.** ``state_dict()`` returns::

    {"state": {index: {"step": int, "exp_avg": numpy.ndarray, ...}},
     "param_groups": [{"lr": float, "betas": (float, float), ..., "params": [index, ...]}]}

with parameters replaced by their position (over all groups, in order), every buffer copied to a
host NumPy array, and hyper-parameters as Python scalars/tuples. ``load_state_dict`` accepts that,
Tensors instead of arrays, and 0-d / 1-d arrays instead of scalars / tuples (what a round trip
through a flat ``.npz`` file gives back), and moves buffers to each parameter's device and dtype.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad, zero_grads
from ..nn._checks import check_number
from ..tensors import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyper-parameter without a default (SGD's ``lr`` in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

# state entries that are scalars (everything else is an array shaped like the parameter)
_SCALAR_STATE_KEYS = frozenset({"step"})


def _host_scalar(v: Any) -> Any:
    """0-d array / numpy scalar -> Python scalar; 1-d array -> tuple; others unchanged."""
    if isinstance(v, Tensor):
        v = backend.to_numpy(v._array)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return v.item()
        if v.ndim == 1:
            return tuple(x.item() for x in v)
    return v


class Optimizer:
    """Base class: subclasses set ``defaults`` and implement ``step``."""

    # name -> (low, high, low_open, high_open) for each numeric hyper-parameter: checked for the
    # defaults and for every parameter group's own values when the group is added (construction),
    # before any update; non-finite values (``lr=inf``) are refused too
    _ranges: dict[str, tuple[float, float, bool, bool]] = {}

    def __init__(self, params: Iterable[Any], defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                "a single Tensor; pass [t] or model.parameters()"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list (did the model register any Parameter?)")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with ``"params"`` and optional hyper-parameters overriding the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, not a set")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (it was computed from others; detach it)")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        self._check_hyper(group)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter twice")
        self.param_groups.append(group)

    def _check_hyper(self, group: dict) -> None:
        owner = type(self).__name__
        for name, (low, high, low_open, high_open) in self._ranges.items():
            if name in group and group[name] is not required:
                hint = "Invalid learning rate; try a small positive value such as 1e-3" if name == "lr" else ""
                check_number(owner, name, group[name], low, high, low_open, high_open, hint=hint)
        for flag in ("maximize", "nesterov", "amsgrad", "centered"):
            if flag in group and not isinstance(group[flag], bool):
                raise TypeError(f"{owner}: {flag} must be True or False, got {group[flag]!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward (they accumulate otherwise)."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient. ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad

            with enable_grad():
                loss = closure()
        self._check_grads()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _check_grads(self) -> None:
        """Every ``.grad`` must be a Tensor of its parameter's shape, dtype and device.

        Checked for all groups before any update, so a bad gradient (e.g. one assigned by hand from
        another parameter) raises with nothing changed, instead of broadcasting into a silently
        wrong update or failing half-way with NumPy's message. O(1) per parameter, no element work.
        """
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                grad = p.grad
                if grad is None:
                    continue
                if not isinstance(grad, Tensor):
                    raise TypeError(
                        f"{self._where(gi, pi, p)}: .grad must be a Tensor, got {type(grad).__name__}; assign "
                        f"a Tensor of shape {tuple(p.shape)} (e.g. mt.tensor(array)) or None"
                    )
                g, x = grad._array, p._array
                if g.shape != x.shape:
                    raise RuntimeError(
                        f"{self._where(gi, pi, p)}: its .grad has shape {tuple(g.shape)}, expected the "
                        f"parameter's shape {tuple(x.shape)}; a gradient must match its parameter (was .grad "
                        "assigned by hand, or from another parameter?). No parameter was updated"
                    )
                if g.dtype != x.dtype:
                    raise RuntimeError(
                        f"{self._where(gi, pi, p)}: its .grad has dtype {g.dtype}, expected the parameter's "
                        f"dtype {x.dtype}; convert it with .to(mt.{x.dtype}). No parameter was updated"
                    )
                if type(g) is not type(x) and backend.device_of(g) != backend.device_of(x):
                    raise RuntimeError(
                        f"{self._where(gi, pi, p)}: its .grad is on device {backend.device_of(g)}, the "
                        f"parameter on {backend.device_of(x)}; move it with .to(p.device). No parameter "
                        "was updated"
                    )

    def _where(self, gi: int, pi: int, p: Tensor) -> str:
        """``SGD.step: parameter 1 of param group 0 (shape (3, 4), float32)``."""
        return (f"{type(self).__name__}.step: parameter {pi} of param group {gi} (shape {tuple(p.shape)}, "
                f"{p.dtype})")

    def _update_group(self, group: dict) -> None:
        raise NotImplementedError

    @staticmethod
    def _grads(group: dict) -> Iterator[tuple[Any, Any, Any]]:
        """``(parameter, its data, its gradient)`` for each parameter of ``group`` that has a gradient.

        With ``maximize`` the gradient is negated, so every update rule can descend.
        """
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad._array
            p._version_counter.bump()  # the update changes p in place, as PyTorch's step does
            yield p, p._array, (-g if group.get("maximize", False) else g)

    # ------------------------------------------------------------------------------------------
    # Checkpoints
    # ------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Parameters replaced by indices, buffers as host NumPy arrays (see the module docstring)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {
                        k: (backend.to_numpy(v).copy() if hasattr(v, "shape") and k not in _SCALAR_STATE_KEYS else v)
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and buffers saved by ``state_dict`` (also after an ``.npz`` round trip)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        id_map: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_ids = [int(j) for j in np.asarray(_host_list(saved["params"])).reshape(-1)]
            if len(saved_ids) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict's group {i} has {len(saved_ids)} parameters, this optimizer's group has "
                    f"{len(group['params'])}; it belongs to a different model"
                )
            for j, p in zip(saved_ids, group["params"]):
                id_map[j] = p
        new_state: defaultdict = defaultdict(dict)
        for key, values in state_dict["state"].items():
            j = int(key)
            if j not in id_map:
                raise ValueError(f"loaded optimizer state refers to parameter index {j}, which does not exist")
            p = id_map[j]
            entry = {}
            for k, v in values.items():
                if k in _SCALAR_STATE_KEYS or not hasattr(v, "shape") and not isinstance(v, Tensor):
                    entry[k] = _host_scalar(v)
                    continue
                arr = v._array if isinstance(v, Tensor) else v
                if tuple(arr.shape) != tuple(p.shape):
                    raise ValueError(
                        f"loaded optimizer state {k!r} of parameter {j} has shape {tuple(arr.shape)}, the "
                        f"parameter has shape {tuple(p.shape)}"
                    )
                arr = backend.to_device(backend.to_numpy(arr).astype(p.dtype, copy=True), p.device)
                entry[k] = arr
            new_state[p] = entry
        self.state = new_state
        for group, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = _host_scalar(v)


def _host_list(v: Any) -> Any:
    if isinstance(v, Tensor):
        return backend.to_numpy(v._array)
    if hasattr(v, "shape") and not isinstance(v, np.ndarray):
        return backend.to_numpy(v)
    return v
