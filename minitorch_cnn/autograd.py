"""Reverse-mode automatic differentiation: ``Function``, its ``Context``, and ``backward``.

The whole idea on one screen:

* Every differentiable op is a ``Function`` with two static methods. ``forward(ctx, *inputs)``
  computes the output from plain backend arrays and may stash what the backward pass needs with
  ``ctx.save_for_backward(...)``. ``backward(ctx, grad_output)`` turns dL/d(output) into
  dL/d(input), one gradient per positional input (``None`` for inputs that are not tensors).
* ``MyOp.apply(a, b)`` runs ``forward`` on the tensors' arrays and, when a gradient is needed,
  records a ``Node`` (the output's ``grad_fn``) that links back to the inputs. Running the model
  builds this graph as it goes ("define by run").
* ``loss.backward()`` walks the graph from the loss in reverse topological order, calling each
  node's ``backward`` once all gradients flowing into it have been summed (chain rule), and adds
  the results into ``.grad`` of the leaf tensors.

In-place ops (``x += 1``, ``x.mul_(2)``, ``x[0] = 5``) follow PyTorch's rules (see
``apply_inplace``): every tensor has a version counter, shared with its views, that each in-place
change bumps; a node remembers the versions of the tensors it saved and ``backward`` refuses to
use a saved tensor that was changed since.

One deliberate difference from PyTorch: ``forward`` and ``backward`` receive and return backend
arrays (``numpy.ndarray`` / ``cupy.ndarray``), not Tensors. Ops are therefore plain array code,
and the graph never sees the arithmetic inside an op. (So ``create_graph=True``, gradients of
gradients, is not supported.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import backend

if TYPE_CHECKING:
    from .tensors import Tensor

__all__ = [
    "Function",
    "Context",
    "Node",
    "no_grad",
    "enable_grad",
    "inference_mode",
    "set_grad_enabled",
    "is_grad_enabled",
    "backward",
    "topological_order",
    "apply_inplace",
    "check_inplace",
    "zero_grads",
]

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):  # noqa: N801 - torch's name
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _grad_enabled

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self.prev


class _AlsoBareDecorator:
    """Lets ``@no_grad`` (no parentheses) decorate a function, as in PyTorch, besides ``@no_grad()``."""

    def __new__(cls, *args: Any) -> Any:
        self = super().__new__(cls)
        if len(args) == 1 and callable(args[0]) and not isinstance(args[0], bool):
            self.__init__()
            return self(args[0])  # ContextDecorator.__call__: the wrapped function
        return self


class no_grad(_AlsoBareDecorator, set_grad_enabled):  # noqa: N801
    """``with no_grad():`` ops record no graph and save nothing for backward (evaluation, optimizer updates)."""

    def __init__(self, func: Any = None) -> None:
        super().__init__(False)


class enable_grad(_AlsoBareDecorator, set_grad_enabled):  # noqa: N801
    """``with enable_grad():`` re-enables recording inside a ``no_grad`` block."""

    def __init__(self, func: Any = None) -> None:
        super().__init__(True)


class inference_mode(_AlsoBareDecorator, set_grad_enabled):  # noqa: N801
    """``with inference_mode():`` as ``no_grad`` (PyTorch's faster variant; here the two are the same).

    ``inference_mode(False)`` leaves recording as it is, as PyTorch's does.
    """

    def __init__(self, mode: bool = True) -> None:
        super().__init__(False)
        self.enabled = bool(mode) if isinstance(mode, bool) else True

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        if self.enabled:
            _grad_enabled = False


class _VersionCounter:
    """How many times a tensor's memory was changed in place. Views of one array share one counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class _SavedVersion:
    """A tensor saved for backward: its counter, the version it had, and words to name it in errors."""

    __slots__ = ("counter", "version", "where", "shape", "dtype")

    def __init__(self, counter: _VersionCounter, where: str, shape: tuple, dtype: Any) -> None:
        self.counter, self.version, self.where, self.shape, self.dtype = counter, counter.value, where, shape, dtype


class Context:
    """What ``forward`` leaves for ``backward``: saved arrays plus any attribute you set on it.

    ``needs_input_grad[i]`` says whether input ``i`` will receive a gradient: it is False for
    every input under ``no_grad`` and for inputs that do not require grad. ``needs_backward``
    (any of them) tells a ``forward`` whether keeping anything for backward is worth it; when it
    is False, ``save_for_backward`` stores nothing.
    """

    def __init__(self) -> None:
        self.saved_tensors: tuple = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self._freed = False
        self._saving = True  # Function.apply turns it off when no backward can run
        self._saved_versions: list[_SavedVersion] = []

    @property
    def needs_backward(self) -> bool:
        """True when ``backward`` may run: grad mode is on and some input requires grad."""
        return any(self.needs_input_grad)

    def save_for_backward(self, *arrays: Any) -> None:
        if self._saving:
            self.saved_tensors = arrays

    def mark_non_differentiable(self, *indices: int) -> None:
        """Mark outputs (by position) that carry no gradient, e.g. the indices of ``max``."""
        self.non_differentiable = set(indices)


class Node:
    """One recorded op in the graph: the ``grad_fn`` of the tensors it produced.

    ``inputs`` holds, per positional input of ``forward``, the input Tensor or ``None``.
    ``next_functions`` mirrors PyTorch's: ``(grad_fn, output_index)`` of each input, or the
    leaf tensor itself for inputs that are leaves needing a gradient.
    """

    __slots__ = ("function", "ctx", "inputs", "out_meta", "hooks", "retained", "__weakref__")

    def __init__(self, function: type[Function], ctx: Context, inputs: list, out_meta: list) -> None:
        self.function = function
        self.ctx = ctx
        self.inputs = inputs
        self.out_meta = out_meta  # [(shape, dtype, array module)] per output
        self.hooks: dict[int, list[Callable]] = {}
        self.retained: dict[int, Any] = {}

    def name(self) -> str:
        return f"{self.function.__name__.removesuffix('Function')}Backward"

    @property
    def next_functions(self) -> tuple:
        out = []
        for t in self.inputs:
            if t is None or not t.requires_grad:
                out.append((None, 0))
            elif t.grad_fn is None:
                out.append((t, 0))
            else:
                out.append((t.grad_fn, t._output_index))
        return tuple(out)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


# Called as observer(function_class, ctx) after every forward (used by testing.saved_by_forward).
_forward_observers: list[Callable[[type, Context], None]] = []


class Function:
    """Base class of every differentiable op. Subclass it and write two static methods.

    Example, the derivative of ``y = x**3`` being ``3 x**2``::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad_out):
                (x,) = ctx.saved_tensors
                return grad_out * 3 * x ** 2

        y = Cube.apply(t)
    """

    # True for ops whose output may be a view of input 0 (reshape, permute, basic indexing):
    # such an output shares the input's version counter, as PyTorch's views do.
    shares_input_memory = False

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .tensors import Tensor

        tensors, arrays = _split_inputs(cls.__name__, args)
        ctx = Context()
        ctx.needs_input_grad = tuple(_grad_enabled and t is not None and t.requires_grad for t in tensors)
        record = any(ctx.needs_input_grad)
        ctx._saving = record
        if record:
            _check_views_current(cls.__name__, tensors)
        raw = cls.forward(ctx, *arrays, **kwargs)
        multiple = isinstance(raw, tuple)
        outs = raw if multiple else (raw,)
        results = [Tensor._from_array(o) for o in outs]
        if cls.shares_input_memory and tensors and tensors[0] is not None:
            _share_version(tensors[0], results[0])
        if record:
            _connect(cls, ctx, tensors, results)
        for observer in _forward_observers:
            observer(cls, ctx)
        return tuple(results) if multiple else results[0]


def _split_inputs(op: str, args: Sequence[Any]) -> tuple[list, list]:
    """Per positional argument: the Tensor (or None) and the array (or the value) handed to forward."""
    from .tensors import Tensor

    tensors, arrays = [], []
    first_device = None
    for a in args:
        if isinstance(a, Tensor):
            if first_device is None:
                first_device = a.device
            elif a.device != first_device:
                raise TypeError(
                    f"{op}: inputs are on different devices, {first_device} and "
                    f"{a.device}; move them to one device with .to(device)"
                )
            arrays.append(a.data)
            tensors.append(a)
        else:
            arrays.append(a)
            tensors.append(None)
    return tensors, arrays


def _connect(cls: type[Function], ctx: Context, tensors: list, results: list) -> None:
    """Make a Node the ``grad_fn`` of the outputs and note the versions of what forward saved."""
    non_diff = getattr(ctx, "non_differentiable", set())
    meta = [(r.data.shape, r.data.dtype, backend.get_array_module(r.data)) for r in results]
    node = Node(cls, ctx, tensors, meta)
    for i, r in enumerate(results):
        if i not in non_diff:
            r.grad_fn = node
            r._output_index = i
            r.requires_grad = True
    owners = {id(t.data): (t, f"input {i}") for i, t in enumerate(tensors) if t is not None}
    owners.update({id(r.data): (r, f"output {k}") for k, r in enumerate(results)})
    for a in ctx.saved_tensors:
        owner = owners.get(id(a))
        if owner is not None:
            t, where = owner
            ctx._saved_versions.append(_SavedVersion(t._version_counter, where, t.shape, t.dtype))


def _share_version(base: Tensor, view: Tensor) -> None:
    """Give ``view`` the counter of ``base`` when their arrays overlap (a view, not a copy)."""
    xp = backend.get_array_module(base.data)
    if xp.may_share_memory(view.data, base.data):
        view._version_counter = base._version_counter
        view._view_base = base._view_base if base._view_base is not None else base
        view._view_version = base._version_counter.value


def _check_views_current(op: str, tensors: list) -> None:
    """Refuse a graph view whose memory was changed in place after it was taken: its grad_fn is stale."""
    for t in tensors:
        if t is not None and t.grad_fn is not None and t._view_base is not None and (
            t._version_counter.value != t._view_version
        ):
            raise RuntimeError(
                f"{op}: an input of shape {t.shape} is a view (indexing, reshape, permute, ...) whose "
                "memory was modified by an in-place operation after the view was taken, so its "
                "graph no longer describes its values; take the view again after the in-place change"
            )


# --------------------------------------------------------------------------------------------------
# In-place ops: compute out of place, write the result into the tensor's memory, rewire the graph
# --------------------------------------------------------------------------------------------------
_LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


def check_inplace(target: Tensor, op: str, args: Sequence[Any] = ()) -> bool:
    """PyTorch's rules for changing ``target`` in place; returns whether the change is recorded.

    * a leaf that requires grad may change only under ``no_grad`` (optimizer steps, init);
    * when the graph records (grad mode on and ``target`` or an argument requires grad) the
      change becomes a node of the graph, except on a view, which would need its base rewired.
    """
    from .tensors import Tensor

    if not _grad_enabled:
        return False
    if target.requires_grad and target.grad_fn is None:
        raise RuntimeError(
            f"{_LEAF_MESSAGE} ({op} on a leaf of shape {target.shape}: do the update under "
            "`with minitorch_cnn.no_grad():` as an optimizer does, or work on a copy, y = x.clone())"
        )
    record = target.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args)
    if record and target._view_base is not None:
        raise RuntimeError(
            f"{op}: in-place change of a view (indexing, reshape, permute, ...) of shape {target.shape} "
            "that would have to be recorded in the graph; minitorch_cnn records in-place ops only on "
            "tensors that own their memory. Use the out-of-place op (y = v + w), x[index] = value on "
            "the base tensor, or clone() the view first"
        )
    return record


def apply_inplace(function: type[Function], target: Tensor, *args: Any, op: str, **kwargs: Any) -> Tensor:
    """``target <- function(target, *args)`` in place, as PyTorch's ``op_`` methods.

    The result is computed out of place (with a copy of ``target``'s old values standing in for
    it in the graph), checked to have ``target``'s shape and dtype, written into ``target``'s
    memory (so views see it), and ``target``'s version is bumped. When recorded, ``target``'s
    ``grad_fn`` becomes the new node.
    """
    record = check_inplace(target, op, args)
    source = _snapshot(target) if record else target
    result = function.apply(source, *args, **kwargs)
    if result.shape != target.shape or result.dtype != target.dtype:
        raise RuntimeError(
            f"{op}: the result has shape {result.shape} and dtype {result.dtype} but the tensor changed "
            f"in place has shape {target.shape} and dtype {target.dtype}; an in-place op cannot change "
            "either. Use the out-of-place op instead (y = x + other)"
        )
    write_inplace(target, result.data, op)
    if record:
        _rewire(target, result)
    return target


def write_inplace(target: Tensor, array: Any, op: str, key: Any = Ellipsis) -> None:
    """``target.data[key] = array`` and bump the version (the one place in-place writes happen)."""
    flags = getattr(target.data, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        raise RuntimeError(
            f"{op}: this tensor of shape {target.shape} is a broadcast view (expand / broadcast_to) whose "
            "elements share memory, so it cannot be written in place; clone() it first"
        )
    target.data[key] = array
    target._version_counter.bump()


def _snapshot(t: Tensor) -> Tensor:
    """A copy of ``t``'s current values standing where ``t`` stands in the graph (its old self)."""
    from .tensors import Tensor

    s = Tensor._from_array(t.data.copy())
    s.grad_fn, s._output_index, s.requires_grad = t.grad_fn, t._output_index, t.requires_grad
    return s


def _rewire(target: Tensor, result: Tensor) -> None:
    """Make ``target`` the output of ``result``'s node (it now holds that node's output values)."""
    node = result.grad_fn
    for saved in node.ctx._saved_versions:  # a saved output is now target's memory
        if saved.counter is result._version_counter:
            saved.counter, saved.version = target._version_counter, target._version_counter.value
    if target._retains_grad and target.grad_fn is not None:
        target.grad_fn.retained.pop(target._output_index, None)
        node.retained[result._output_index] = target
    target.grad_fn, target._output_index, target.requires_grad = node, result._output_index, True


# --------------------------------------------------------------------------------------------------
# The backward pass: seed the output's gradient, run each node once, accumulate into its inputs
# --------------------------------------------------------------------------------------------------
def topological_order(roots: Sequence[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, each after every node that feeds it (forward order, iterative DFS)."""
    # BEGIN SOLUTION 1.5
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack: list[tuple[Node, Iterator]] = [(root, iter(root.inputs))]
        while stack:
            node, children = stack[-1]
            for t in children:
                child = None if t is None else t.grad_fn
                if child is not None and id(child) not in visited:
                    visited.add(id(child))
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order
    # END SOLUTION


def _topological_order(root: Node) -> list[Node]:
    """The nodes behind ``root`` in the order ``backward`` visits them: root first."""
    return topological_order([root])[::-1]


def _run_hooks(hooks: list[Callable], grad: Any) -> Any:
    from .tensors import Tensor

    for hook in hooks:
        result = hook(Tensor._from_array(grad))
        if result is not None:
            grad = result.data if isinstance(result, Tensor) else result
    return grad


def backward(tensor: Tensor, gradient: Any = None, retain_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires a gradient.

    ``gradient`` is dL/d(tensor); it may be omitted only for a single-element tensor (then 1).
    """
    grad = _seed(tensor, gradient)
    if tensor.grad_fn is None:  # a leaf: d(tensor)/d(tensor) = 1
        tensor._accumulate(grad)
        return
    root = tensor.grad_fn
    pending: dict[int, list] = {id(root): [None] * len(root.out_meta)}
    pending[id(root)][tensor._output_index] = grad
    with no_grad():
        for node in _topological_order(root):
            out_grads = pending.pop(id(node), None)
            if out_grads is not None:  # else no gradient reaches this node
                in_grads = _run_node(node, out_grads, retain_graph)
                _accumulate(node, in_grads, pending)


def _seed(tensor: Tensor, gradient: Any) -> Any:
    """dL/d(tensor) to start from: ``gradient``, or 1 for a single-element tensor."""
    from .tensors import Tensor

    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn. Create the inputs "
            "with requires_grad=True (or call .requires_grad_()) before computing it."
        )
    xp = backend.get_array_module(tensor.data)
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but this "
                f"tensor has shape {tuple(tensor.shape)}. Pass gradient= (dL/dtensor, same shape), "
                "or reduce first, e.g. y.sum().backward()."
            )
        return xp.ones(tensor.shape, dtype=tensor.data.dtype)
    grad = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=tensor.data.dtype)
    if tuple(grad.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"backward: gradient has shape {tuple(grad.shape)} but the tensor has shape "
            f"{tuple(tensor.shape)}; they must match"
        )
    return grad


def _run_node(node: Node, out_grads: list, retain_graph: bool) -> tuple:
    """dL/d(inputs) of one node from dL/d(outputs) (missing ones are zero), after its hooks."""
    if node.ctx._freed:
        raise RuntimeError(
            f"backward: trying to backward through the graph a second time ({node.name()}), "
            "but its saved values were freed by the first backward. Pass retain_graph=True "
            "to the first backward() call if you need to call it twice."
        )
    _check_saved_versions(node)
    for i, (shape, dtype, mod) in enumerate(node.out_meta):
        if out_grads[i] is None:
            out_grads[i] = mod.zeros(shape, dtype=dtype)
        if i in node.hooks:
            out_grads[i] = _run_hooks(node.hooks[i], out_grads[i])
        if i in node.retained:
            node.retained[i]._accumulate(out_grads[i])
    in_grads = node.function.backward(node.ctx, *out_grads)
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    if len(in_grads) != len(node.inputs):
        raise RuntimeError(
            f"{node.function.__name__}.backward returned {len(in_grads)} gradients but "
            f"forward took {len(node.inputs)} positional inputs; return one per input "
            "(None for non-tensor inputs)"
        )
    if not retain_graph:
        node.ctx.saved_tensors = ()
        node.ctx._freed = True
    return in_grads


def _check_saved_versions(node: Node) -> None:
    """PyTorch's error when a tensor that ``node`` saved was changed in place afterwards."""
    for saved in node.ctx._saved_versions:
        if saved.counter.value != saved.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{saved.dtype} tensor {list(saved.shape)}], which is {saved.where} of "
                f"{node.name()}, is at version {saved.counter.value}; expected version {saved.version} "
                "instead. Hint: the in-place change came after the op saved the tensor for backward; "
                "make it before, or change a copy (x = x.clone()) or use the out-of-place op (x = x + 1)."
            )


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Forget the gradients accumulated in ``params`` (``Module.zero_grad`` and ``Optimizer.zero_grad``):
    ``.grad = None``, or, with ``set_to_none=False``, zeros written into the existing arrays."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.data[...] = 0


def _accumulate(node: Node, in_grads: tuple, pending: dict[int, list]) -> None:
    """Add each input's gradient into its leaf ``.grad``, or into the pending sums of its producer."""
    for t, g in zip(node.inputs, in_grads):
        if t is None or g is None or not t.requires_grad:
            continue
        if tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(
                f"{node.function.__name__}.backward returned a gradient of shape "
                f"{tuple(g.shape)} for an input of shape {tuple(t.shape)}"
            )
        if t.grad_fn is None:
            t._accumulate(g)
        else:
            slot = pending.setdefault(id(t.grad_fn), [None] * len(t.grad_fn.out_meta))
            k = t._output_index
            slot[k] = g if slot[k] is None else slot[k] + g
