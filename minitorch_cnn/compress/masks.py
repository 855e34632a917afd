"""Masks as a first-class mechanism: a parameter that carries a fixed 0/1 mask.

``apply_mask(module, "weight", mask)`` registers the mask as the buffer ``weight_mask`` and
keeps two promises from then on:

* **forward**: before every call the weight is multiplied by its mask in place, so the layer
  computes with ``w * m`` even if someone wrote new values into the weight;
* **backward**: the weight's gradient is multiplied by the mask (``dL/dw <- m * dL/dw``).

With the gradient of a masked entry exactly 0 and the entry itself exactly 0, no optimizer can
move it: SGD's momentum buffer ``v <- mu*v + g + wd*w`` stays 0, Adam's moments stay 0, AdamW's
decoupled decay ``w <- w - lr*wd*w`` keeps 0 at 0.

Unlike ``torch.nn.utils.prune`` the parameter keeps its name and its key (no ``weight_orig``):
the mask buffer is *non-persistent*, so ``model.state_dict()`` has exactly the keys of the
unmasked model and loads with ``strict=True`` both ways. The masks travel under their own,
documented keys ``"<module path>.<name>_mask"`` through ``mask_state_dict(model)`` /
``load_mask_state_dict(model, masks)`` (``compress.export`` stores them too).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..autograd import no_grad
from ..backend import get_array_module
from ..nn import Module
from ..tensors import Tensor

__all__ = [
    "apply_mask",
    "get_mask",
    "is_masked",
    "remove_mask",
    "masked_parameters",
    "mask_state_dict",
    "load_mask_state_dict",
]


class _MaskState:
    """Enforces one parameter's mask; it is the module's forward pre-hook (kept in ``_masks[name]``).

    It holds no hook handles across calls, only plain references, so ``copy.deepcopy(model)``
    gives a model whose masks work on the copy: a parameter that lost its gradient hook (a copied
    Parameter starts without hooks) gets it back at the next forward.
    """

    def __init__(self, module: Module, name: str) -> None:
        self.module, self.name = module, name
        self.hooked_id: int | None = None
        self.grad_handle: Any = None
        module.register_forward_pre_hook(self)
        self.ensure_grad_hook()

    def __call__(self, module: Module, inputs: tuple) -> None:
        self.ensure_grad_hook()
        apply_mask_in_place(module, self.name)

    def ensure_grad_hook(self) -> None:
        param = self.module._parameters[self.name]
        if self.hooked_id != id(param):
            self.grad_handle = param.register_hook(self.mask_grad)
            self.hooked_id = id(param)

    def mask_grad(self, grad: Tensor) -> Tensor:
        mask = self.module._buffers[self.name + "_mask"]._array
        xp = get_array_module(grad._array)
        return Tensor._from_array(xp.where(mask, grad._array, xp.zeros((), dtype=grad.dtype)))

    def detach(self) -> None:
        hooks = self.module._forward_pre_hooks
        for key in [k for k, v in hooks.items() if v is self]:
            del hooks[key]
        if self.hooked_id == id(self.module._parameters[self.name]):
            self.grad_handle.remove()


def _check_param(module: Any, name: str, fn: str) -> Tensor:
    if not isinstance(module, Module):
        raise TypeError(f"{fn}: module must be an nn.Module, got {type(module).__name__}")
    param = module._parameters.get(name) if isinstance(name, str) else None
    if param is None:
        names = [k for k, v in module._parameters.items() if v is not None]
        raise ValueError(f"{fn}: {type(module).__name__} has no parameter {name!r}; it has {names}")
    return param


def apply_mask_in_place(module: Module, name: str) -> None:
    """``w <- where(mask, w, 0)`` without recording a graph (zeros, never ``-0.0`` or ``nan*0``)."""
    param = module._parameters[name]
    mask = module._buffers[name + "_mask"]._array
    xp = get_array_module(param._array)
    with no_grad():
        param._array[...] = xp.where(mask, param._array, xp.zeros((), dtype=param.dtype))


def apply_mask(module: Module, name: str, mask: Any) -> Module:
    """Fix ``module.<name>`` to ``mask`` (bool / 0-1 array or Tensor of the parameter's shape).

    Applying a second mask combines them (logical and), as repeated PyTorch pruning does.
    Returns ``module``.
    """
    param = _check_param(module, name, "apply_mask")
    arr = mask._array if isinstance(mask, Tensor) else mask
    shape = tuple(getattr(arr, "shape", ()))
    if shape != tuple(param.shape):
        raise ValueError(
            f"apply_mask: mask shape {shape} does not match {type(module).__name__}.{name} shape "
            f"{tuple(param.shape)}; build it with the parameter's shape"
        )
    xp = get_array_module(param._array)
    new = xp.asarray(arr).astype(bool)
    key = name + "_mask"
    if is_masked(module, name):
        module._buffers[key]._array[...] = module._buffers[key]._array & new
    else:
        module.register_buffer(key, Tensor._from_array(new), persistent=False)
        if not hasattr(module, "_masks"):
            object.__setattr__(module, "_masks", {})
        module._masks[name] = _MaskState(module, name)
    apply_mask_in_place(module, name)
    return module


def is_masked(module: Module, name: str | None = None) -> bool:
    """Whether ``module.<name>`` (any parameter of ``module`` when ``name`` is None) carries a mask."""
    masks = getattr(module, "_masks", {})
    return bool(masks) if name is None else name in masks


def get_mask(module: Module, name: str) -> Tensor:
    """The mask buffer of ``module.<name>`` (a bool Tensor); raises if it has none."""
    if not is_masked(module, name):
        raise ValueError(f"get_mask: {type(module).__name__}.{name} has no mask; call apply_mask first")
    return module._buffers[name + "_mask"]


def remove_mask(module: Module, name: str) -> Module:
    """Fold the mask into the parameter (its zeros stay) and drop the mask, buffer and hooks."""
    if not is_masked(module, name):
        raise ValueError(f"remove_mask: {type(module).__name__}.{name} has no mask to remove")
    apply_mask_in_place(module, name)
    module._masks.pop(name).detach()
    del module._buffers[name + "_mask"]
    module._non_persistent_buffers_set.discard(name + "_mask")
    return module


def masked_parameters(model: Module) -> list[tuple[str, Module, str]]:
    """``(module_path, module, param_name)`` for every masked parameter of ``model``."""
    return [(path, m, n) for path, m in model.named_modules() for n in getattr(m, "_masks", {})]


def mask_state_dict(model: Module) -> OrderedDict:
    """Every mask of ``model`` under the key ``"<module path>.<param name>_mask"`` (bool Tensors)."""
    out: OrderedDict = OrderedDict()
    for path, module, name in masked_parameters(model):
        out[(path + "." if path else "") + name + "_mask"] = module._buffers[name + "_mask"]
    return out


def load_mask_state_dict(model: Module, masks: dict) -> Module:
    """Re-apply masks saved by ``mask_state_dict`` (keys ``"<path>.<name>_mask"``) to ``model``."""
    modules = dict(model.named_modules())
    for key, value in masks.items():
        path, _, leaf = key.rpartition(".")
        if not leaf.endswith("_mask") or path not in modules:
            raise KeyError(f"load_mask_state_dict: {key!r} names no module parameter of {type(model).__name__}")
        module = modules[path]
        arr = value._array if isinstance(value, Tensor) else value
        xp = get_array_module(module._parameters[leaf[: -len("_mask")]]._array)
        apply_mask(module, leaf[: -len("_mask")], xp.asarray(arr))
    return model
