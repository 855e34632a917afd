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

Beside this file: ``grad_mode.py`` holds the switch that turns recording off and on (``no_grad``,
``enable_grad``), and ``inplace.py`` PyTorch's in-place rules (``x += 1``, ``x.mul_(2)``,
``x[0] = 5``): every tensor has a version counter, shared with its views, that each in-place change
bumps; a node remembers the versions of the tensors it saved and ``backward`` refuses to use a saved
tensor that was changed since. Their names are importable from here too.

One deliberate difference from PyTorch: ``forward`` and ``backward`` receive and return backend
arrays (``numpy.ndarray`` / ``cupy.ndarray``), not Tensors. Ops are therefore plain array code,
and the graph never sees the arithmetic inside an op. (So ``create_graph=True``, gradients of
gradients, is not supported.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import backend, grad_mode
from .autograd_hooks import forward_observers as _forward_observers
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .inplace import (
    _check_saved_versions,
    _check_views_current,
    _note_saved_versions,
    _share_version,
    apply_inplace,
    check_inplace,
)
from .inplace import write_inplace as write_inplace

if TYPE_CHECKING:
    from .inplace import _SavedVersion
    from .tensors import Tensor

__all__ = [
    "Function", "Context", "Node", "backward", "topological_order", "zero_grads",
    "no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled",  # grad_mode.py
    "apply_inplace", "check_inplace",  # inplace.py
]


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
        enabled = grad_mode._grad_enabled
        ctx.needs_input_grad = tuple(enabled and t is not None and t.requires_grad for t in tensors)
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
        for observer in _forward_observers:  # test-only (autograd_hooks.py); empty in use
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
            arrays.append(a._array)
            tensors.append(a)
        else:
            arrays.append(a)
            tensors.append(None)
    return tensors, arrays


def _connect(cls: type[Function], ctx: Context, tensors: list, results: list) -> None:
    """Make a Node the ``grad_fn`` of the outputs and note the versions of what forward saved."""
    non_diff = getattr(ctx, "non_differentiable", set())
    meta = [(r._array.shape, r._array.dtype, backend.get_array_module(r._array)) for r in results]
    node = Node(cls, ctx, tensors, meta)
    for i, r in enumerate(results):
        if i not in non_diff:
            r.grad_fn = node
            r._output_index = i
            r.requires_grad = True
    _note_saved_versions(ctx, tensors, results)


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
            grad = result._array if isinstance(result, Tensor) else result
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
    xp = backend.get_array_module(tensor._array)
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but this "
                f"tensor has shape {tuple(tensor.shape)}. Pass gradient= (dL/dtensor, same shape), "
                "or reduce first, e.g. y.sum().backward()."
            )
        return xp.ones(tensor.shape, dtype=tensor._array.dtype)
    grad = gradient._array if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=tensor._array.dtype)
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



def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Forget the gradients accumulated in ``params`` (``Module.zero_grad`` and ``Optimizer.zero_grad``):
    ``.grad = None``, or, with ``set_to_none=False``, zeros written into the existing arrays."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad._array[...] = 0


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
