"""``Module`` and ``Parameter``: the building blocks every layer and model is made of.

A ``Module`` is an object with three kinds of registered state, found automatically when you assign
an attribute in ``__init__`` (``self.fc = Linear(4, 2)``, ``self.weight = Parameter(...)``):

* **parameters** (``Parameter``, a Tensor that is a leaf with ``requires_grad=True``): what the
  optimizer trains;
* **buffers** (``register_buffer``): state that is not trained but belongs to the model, e.g.
  BatchNorm's running mean; saved in ``state_dict`` unless registered ``persistent=False``;
* **sub-modules**: other Modules, which makes a model a tree. Names join with dots, so the weight of
  the first layer of ``model.features`` is ``"features.0.weight"``.

Calling a module, ``y = m(x)``, runs forward pre-hooks, then ``forward``, then forward hooks; full
backward hooks see the gradients flowing out of and into the module during ``backward()``.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import backend
from ..autograd import Context, Function, is_grad_enabled, no_grad, zero_grads
from ..tensors import Tensor, parse_to_args

__all__ = ["Module", "Parameter", "RemovableHandle"]


# --------------------------------------------------------------------------------------------------
# Parameter
# --------------------------------------------------------------------------------------------------
class Parameter(Tensor):
    """A Tensor that a Module registers as trainable: a leaf with ``requires_grad=True`` by default.

    ``Parameter(data)`` shares ``data``'s array (no copy), as ``torch.nn.Parameter`` does.
    ``data`` may be a Tensor or an array; ``Parameter()`` is an empty float32 parameter.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._array
        elif hasattr(data, "shape") and hasattr(data, "dtype"):
            arr = data
        else:
            raise TypeError(
                f"Parameter: data must be a Tensor or a backend array, got {type(data).__name__}; "
                "wrap Python values first, e.g. Parameter(mt.tensor(values))"
            )
        self._init_array(arr)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (self._array, self.requires_grad))

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        xp = backend.get_array_module(self._array)
        result = Parameter(xp.array(self._array, copy=True), self.requires_grad)
        memo[id(self)] = result
        return result


# --------------------------------------------------------------------------------------------------
# Hook handles
# --------------------------------------------------------------------------------------------------
class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook (also a context manager)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict: dict) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class _HookedDict(OrderedDict):
    """An OrderedDict that can be weak-referenced (handles hold a weak reference to it)."""


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: ``(missing_keys, unexpected_keys)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


# --------------------------------------------------------------------------------------------------
# Full backward hooks: an identity op wrapped around a module's inputs and outputs
# --------------------------------------------------------------------------------------------------
class BackwardHookFunction(Function):
    """Identity on any number of tensors whose ``backward`` calls ``callback(grads)``.

    Putting it on a module's outputs catches ``grad_output`` (all of it at once, in one node); on the
    module's inputs it catches ``grad_input`` once the whole module has been differentiated.
    ``callback`` may return replacement gradients.
    """

    @staticmethod
    def forward(ctx: Context, *arrays: Any, callback: Callable) -> tuple:
        ctx.callback = callback
        return tuple(arrays)

    @staticmethod
    def backward(ctx: Context, *grads: Any) -> tuple:
        new = ctx.callback(grads)
        return tuple(grads if new is None else new)


class _BackwardHookState:
    """Collects a module call's ``grad_output`` then ``grad_input`` and calls the user's hooks."""

    def __init__(self, module: Module, hooks: list[Callable]) -> None:
        self.module = module
        self.hooks = hooks
        self.n_inputs = 0
        self.input_positions: list[int] = []
        self.grad_outputs: tuple | None = None
        self.output_positions: list[int] = []
        self.n_outputs = 0

    # --- wiring (forward time) ------------------------------------------------------------------
    def wrap_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        self.input_positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        if not self.input_positions:
            return args
        wrapped = BackwardHookFunction.apply(
            *(args[i] for i in self.input_positions), callback=self._on_grad_input
        )
        args = list(args)
        for i, w in zip(self.input_positions, wrapped):
            args[i] = w
        return tuple(args)

    def wrap_outputs(self, out: Any) -> Any:
        single = isinstance(out, Tensor)
        outs = (out,) if single else out
        if not isinstance(outs, tuple):
            return out  # e.g. a dict: PyTorch also only supports tensors and tuples here
        self.n_outputs = len(outs)
        self.output_positions = [
            i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad
        ]
        if not self.output_positions:
            return out
        wrapped = BackwardHookFunction.apply(
            *(outs[i] for i in self.output_positions), callback=self._on_grad_output
        )
        new = list(outs)
        for i, w in zip(self.output_positions, wrapped):
            new[i] = w
        return new[0] if single else tuple(new)

    # --- firing (backward time) -------------------------------------------------------------------
    def _on_grad_output(self, grads: tuple) -> None:
        full: list = [None] * self.n_outputs
        for i, g in zip(self.output_positions, grads):
            full[i] = Tensor._from_array(g)
        self.grad_outputs = tuple(full)
        if not self.input_positions:
            # nothing upstream needs a gradient, so grad_input is all None: fire now (as PyTorch does)
            self._call_hooks((None,) * self.n_inputs)
        return None

    def _on_grad_input(self, grads: tuple) -> tuple | None:
        full: list = [None] * self.n_inputs
        for i, g in zip(self.input_positions, grads):
            full[i] = Tensor._from_array(g)
        new = self._call_hooks(tuple(full))
        if new is None:
            return None
        out = []
        for i, g in zip(self.input_positions, grads):
            r = new[i]
            out.append(g if r is None else (r._array if isinstance(r, Tensor) else r))
        return tuple(out)

    def _call_hooks(self, grad_input: tuple) -> tuple | None:
        grad_output = self.grad_outputs if self.grad_outputs is not None else (None,) * self.n_outputs
        changed = None
        for hook in self.hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook {getattr(hook, '__name__', hook)!r} returned {len(result)} "
                        f"gradients but the module has {len(grad_input)} inputs"
                    )
                grad_input = changed = result
        return changed


# --------------------------------------------------------------------------------------------------
# Module
# --------------------------------------------------------------------------------------------------
def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * num_spaces + line for line in lines)


_NUMERIC_KINDS = "biuf"  # bool, signed/unsigned int, float: what a parameter or buffer can be copied from


def _describe(value: Any) -> str:
    """``a str ('abc')``, ``a list of 3 items``, ``None``: what a bad state_dict value is, briefly."""
    if value is None:
        return "None"
    kind = type(value).__name__
    kind = ("an " if kind[:1].lower() in "aeiou" else "a ") + kind
    if isinstance(value, (str, bytes)):
        text = repr(value)
        return f"{kind} ({text[:40] + '...' if len(text) > 40 else text})"
    if isinstance(value, (list, tuple, dict, set)):
        return f"{kind} of {len(value)} items"
    return kind


def _state_value_problem(value: Any, target: Any) -> str | None:
    """Why ``value`` cannot be copied into ``target`` (a parameter or buffer), or None if it can.

    Accepted: a Tensor, an array (NumPy, CuPy, a NumPy scalar) of a numeric dtype and ``target``'s
    shape, or a Python number for a 0-d target. Everything is checked here, before anything is copied.
    """
    expected = f"a Tensor or array of shape {tuple(target.shape)} ({target.dtype})"
    arr = value._array if isinstance(value, Tensor) else value
    if isinstance(arr, (bool, int, float)):
        shape, kind = (), "f"
    elif hasattr(arr, "shape") and hasattr(arr, "dtype"):
        shape, kind = tuple(arr.shape), getattr(arr.dtype, "kind", "O")
    else:
        return f"expected {expected}, got {_describe(value)}"
    if shape != tuple(target.shape):
        return None  # the caller words the size mismatch (PyTorch's message)
    if kind not in _NUMERIC_KINDS:
        return f"expected {expected}, got an array of dtype {arr.dtype}"
    return None


def _to_backend_array(value: Any, like: Any, key: str) -> Any:
    """A state_dict value (Tensor, NumPy or backend array, scalar) as an array on ``like``'s device."""
    arr = value._array if isinstance(value, Tensor) else value
    if not hasattr(arr, "shape"):
        try:
            arr = np.asarray(arr)
        except Exception as exc:
            raise TypeError(
                f"load_state_dict: value for {key!r} is a {type(value).__name__}, expected a Tensor or array"
            ) from exc
    dev = backend.device_of(like)
    arr = backend.to_device(arr, dev)
    if arr.dtype != like.dtype:
        arr = arr.astype(like.dtype)
    return arr


def _copy_pending(pending: list) -> None:
    """Copy checked ``(target, array)`` pairs into their parameters/buffers, in place."""
    with no_grad():
        for target, arr in pending:
            target._array[...] = arr


class Module:
    """Base class of every layer and model. Subclass it, create layers in ``__init__``, write ``forward``.

    Example::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = _HookedDict()
        d["_forward_pre_hooks"] = _HookedDict()
        d["_backward_hooks"] = _HookedDict()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------------------------------
    # Calling
    # ------------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]):
            return self.forward(*args, **kwargs)  # the fast path: no hooks at all
        for hook in list(d["_forward_pre_hooks"].values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        state = None
        if d["_backward_hooks"] and is_grad_enabled():
            state = _BackwardHookState(self, list(d["_backward_hooks"].values()))
            args = state.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(d["_forward_hooks"].values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        if state is not None:
            out = state.wrap_outputs(out)
        return out

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs_tuple)`` runs before ``forward``; may return replacement inputs."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs_tuple, output)`` runs after ``forward``; may return a replacement output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the module's input gradients are known.

        ``grad_output`` holds dL/d(output) per output tensor, ``grad_input`` dL/d(input) per positional
        input (``None`` for inputs that are not tensors or need no gradient). Returning a tuple replaces
        ``grad_input``. Grad-CAM uses this to read the gradient arriving at a convolution's output.
        """
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------------------------------
    # Registration through attribute assignment
    # ------------------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, params)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, modules)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _remove_from(self, name: str, keep: dict) -> None:
        d = self.__dict__
        for store in (d["_parameters"], d["_buffers"], d["_modules"]):
            if store is not keep:
                store.pop(name, None)
        d.pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d[store]:
                del d[store][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        extra = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(object.__dir__(self)) | set(extra))

    def _check_name(self, kind: str, name: Any) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')
        if hasattr(type(self), name) and not (
            name in self._parameters or name in self._buffers or name in self._modules
        ):
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``, a declared-but-absent parameter such as ``bias=False``)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                "explicitly; compute it in forward() instead, or wrap a detached copy"
            )
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register non-trained state, e.g. running statistics. ``persistent=False`` keeps it out of
        ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None)")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name("module", name)
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` (``"features.0"``); ``""`` is the module itself."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}` (path {target!r})")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}` (path {target!r})")
        return mod._parameters[name]

    # ------------------------------------------------------------------------------------------
    # Iteration over the tree
    # ------------------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True) -> Iterator:
        """``(dotted_name, module)`` for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True) -> Iterator:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[store].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator:
        """``(dotted_name, Parameter)``, e.g. ``("features.0.weight", ...)``; shared parameters once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------------------------------
    # Modes, gradients, devices
    # ------------------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns ``self``."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity and BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter, e.g. to fine-tune only the classifier."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (they accumulate over ``backward`` calls otherwise)."""
        zero_grads(self.parameters(), set_to_none)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on ``self``: e.g. custom init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply_arrays(self, fn: Callable[[Any], Any]) -> Module:
        """Replace every parameter's, gradient's and buffer's array by ``fn(array)``, in place."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p._array = fn(p._array)
                if p.grad is not None:
                    p.grad._array = fn(p.grad._array)
            for b in m._buffers.values():
                if b is not None:
                    b._array = fn(b._array)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move (``to("cuda")``) and/or cast (``to(mt.float64)``) parameters and buffers in place.

        Only floating-point arrays are cast, so integer buffers (``num_batches_tracked``) keep their type.
        """
        dev, dtype = parse_to_args(args, kwargs)
        if dtype is not None:
            if dtype.kind != "f":
                raise TypeError(f"to(): nn.Module.to only accepts floating point dtypes, got {dtype}")

        def convert(arr: Any) -> Any:
            if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
                arr = arr.astype(dtype)
            if dev is not None:
                arr = backend.to_device(arr, dev)
            return arr

        return self._apply_arrays(convert)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64 (what gradcheck needs)."""
        return self.to(np.float64)

    # ------------------------------------------------------------------------------------------
    # state_dict
    # ------------------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, as detached Tensors sharing memory.

        Save with ``np.savez(path, **{k: v.numpy() for k, v in sd.items()})``; ``load_state_dict``
        accepts the NumPy arrays back.
        """
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(
        self, state_dict: dict, prefix: str, missing: list, errors: list, pending: list | None = None
    ) -> None:
        """Check this module's entries of ``state_dict``; append ``(target, array)`` pairs to ``pending``.

        ``load_state_dict`` copies the pairs only once every entry of every module has passed, so a
        failing load changes nothing. Without ``pending`` the entries that pass are copied at once.
        """
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local = {**{k: v for k, v in self._parameters.items()}, **persistent}
        copies: list = [] if pending is None else pending
        for name, target in local.items():
            if target is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            problem = _state_value_problem(value, target)
            if problem is not None:
                errors.append(f"While copying the parameter named {key!r}: {problem}.")
                continue
            shape = tuple(getattr(value, "shape", ()))
            if shape != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {shape} from checkpoint, "
                    f"the shape in current model is {tuple(target.shape)}."
                )
                continue
            try:
                arr = _to_backend_array(value, target._array, key)
            except (TypeError, ValueError) as exc:
                errors.append(f"While copying the parameter named {key!r}: {exc}")
                continue
            copies.append((target, arr))
        if pending is None:
            _copy_pending(copies)

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers (in place).

        Values may be Tensors or arrays (e.g. read back from a ``.npz``). Mis-shaped or non-array entries
        always raise; with ``strict=True`` missing and unexpected keys raise too, all listed in one message.
        Atomic: every entry is checked before anything is copied, so a load that raises leaves the module
        unchanged. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing: list[str] = []
        errors: list[str] = []
        pending: list = []
        expected: set[str] = set()
        for prefix_name, module in self.named_modules():
            prefix = prefix_name + "." if prefix_name else ""
            module._load_from_state_dict(state_dict, prefix, missing, errors, pending)
            for name, p in module._parameters.items():
                if p is not None:
                    expected.add(prefix + name)
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers_set:
                    expected.add(prefix + name)
        unexpected = [k for k in state_dict.keys() if k not in expected]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(errors))
            )
        _copy_pending(pending)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------------------------
    # Printing
    # ------------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One-line description of the layer's settings, shown inside ``repr`` (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __getstate__(self) -> dict:
        return self.__dict__.copy()
