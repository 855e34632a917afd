"""Run a model once and record which module produced which tensor: the basis of every viz tool.

``trace(model, x)`` registers a forward pre-hook and a forward hook on every module, runs the
forward pass with graph recording on, and removes the hooks again (always, even on error). Each
module call becomes a :class:`ModuleCall` that knows its qualified name (``features.0``), its input
and output tensors, and when it started and ended.

From that record the other tools derive what they need:

* which calls feed which (``Trace.sources``): walk the autograd graph backwards from a call's input
  tensors until reaching a tensor produced by another chosen call (or the model input). Functional
  code between layers (``x + skip``, ``mt.cat``, ``F.relu``) is walked through, so residual and
  Inception-style models come out as the graph they are;
* which autograd nodes were created inside which module (``Trace.node_owner``): the nodes reachable
  backwards from a call's outputs without crossing its inputs. The deepest such call wins, so a
  ResNet's nodes group block by block.

The input is wrapped as a fresh leaf with ``requires_grad=True`` so that a graph exists even when
the parameters are frozen, and so that the graph's first layer can be recognised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..autograd import Node, enable_grad, topological_order
from ..tensors import Tensor

__all__ = ["ModuleCall", "Trace", "trace", "flatten_tensors", "tensor_key", "walk_nodes", "topo_nodes",
           "CONTAINER_TYPES"]

# Modules that only sequence their children; torchsummary leaves them out of its table.
CONTAINER_TYPES = ("Sequential", "ModuleList", "ModuleDict")


def flatten_tensors(obj: Any) -> list[Tensor]:
    """The Tensors inside ``obj`` (a Tensor, or nested tuples / lists / dicts of them), in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in flatten_tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in flatten_tensors(o)]
    return []


def tensor_key(t: Tensor) -> tuple:
    """Identity of the value a tensor holds in the graph: ``(node id, output index)`` or the leaf."""
    if t.grad_fn is None:
        return ("leaf", id(t))
    return (id(t.grad_fn), t._output_index)


@dataclass(eq=False)
class ModuleCall:
    """One call of one module during the traced forward pass."""

    name: str  # qualified name from named_modules(); "" for the model itself
    module: Any
    call: int  # 1 for the module's first call, 2 for its second (a shared layer), ...
    start: int  # event counter when the call began (pre-hook)
    end: int = -1  # event counter when it returned (hook)
    inputs: list[Tensor] = field(default_factory=list)
    outputs: list[Tensor] = field(default_factory=list)
    children: list[ModuleCall] = field(default_factory=list)
    parent: ModuleCall | None = None

    @property
    def type(self) -> str:
        return type(self.module).__name__

    @property
    def depth(self) -> int:
        """0 for the model, 1 for its children, ... (dots in the qualified name + 1)."""
        return 0 if self.name == "" else self.name.count(".") + 1

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def label(self) -> str:
        """The name, with ``#2``, ``#3`` appended for repeated calls of a shared module."""
        base = self.name or "(model)"
        return base if self.call == 1 else f"{base}#{self.call}"

    def __repr__(self) -> str:
        return f"<ModuleCall {self.label} ({self.type})>"


class Trace:
    """The record of one traced forward pass; see the module docstring."""

    def __init__(self, model: Any, inputs: list[Tensor], output: Any, calls: list[ModuleCall]) -> None:
        self.model = model
        self.inputs = inputs
        self.output = output
        self.calls = calls  # in start order, parents before their children

    @property
    def outputs(self) -> list[Tensor]:
        return flatten_tensors(self.output)

    @property
    def root(self) -> ModuleCall:
        return self.calls[0]

    def leaf_calls(self) -> list[ModuleCall]:
        """Calls of modules without child calls, in the order they finished."""
        return sorted((c for c in self.calls if c.is_leaf), key=lambda c: c.end)

    def calls_at_depth(self, depth: int | None) -> list[ModuleCall]:
        """The calls that make up the model when collapsed to ``depth`` (None: all the way down).

        A call is kept when it is a leaf no deeper than ``depth``, or sits exactly at ``depth``
        (then it stands for everything inside it). Ordered by when they finished.
        """
        if depth is None:
            return self.leaf_calls()
        if depth < 0:
            raise ValueError(f"depth must be >= 0 or None, got {depth}")
        keep = [c for c in self.calls if c.depth == depth or (c.is_leaf and c.depth < depth)]
        return sorted(keep, key=lambda c: c.end)

    # ----------------------------------------------------------------------------------------------
    def sources(self, calls: list[ModuleCall]) -> dict[int, list]:
        """For each call (by id), the calls among ``calls`` (or ``"input"``) that feed its inputs.

        Walks the autograd graph backwards from each input tensor through functional code until
        it meets a tensor that one of ``calls`` returned before this call started. A module that
        returns its input unchanged (``Identity``) is handled by that "before" rule.
        """
        produced = self._produced(calls)
        return {id(c): self._find(c.inputs, produced, c.start) for c in calls}

    def output_sources(self, calls: list[ModuleCall]) -> list:
        """The calls among ``calls`` (or ``"input"``) whose results the model returns."""
        return self._find(self.outputs, self._produced(calls), float("inf"))

    @staticmethod
    def _produced(calls: list[ModuleCall]) -> dict[tuple, list[ModuleCall]]:
        produced: dict[tuple, list[ModuleCall]] = {}
        for c in calls:
            for t in c.outputs:
                produced.setdefault(tensor_key(t), []).append(c)
        return produced

    def _find(self, tensors: list[Tensor], produced: dict, before: float) -> list:
        input_keys = {tensor_key(t): i for i, t in enumerate(self.inputs)}
        found: list = []
        seen: set = set()
        stack = list(reversed(tensors))
        while stack:
            t = stack.pop()
            key = tensor_key(t)
            if key in seen:
                continue
            seen.add(key)
            earlier = [p for p in produced.get(key, []) if p.end < before]
            if earlier:
                src = max(earlier, key=lambda p: p.end)
                if src not in found:
                    found.append(src)
                continue
            if key in input_keys:
                tag = "input" if len(self.inputs) == 1 else f"input{input_keys[key]}"
                if tag not in found:
                    found.append(tag)
                continue
            if t.grad_fn is not None:
                stack.extend(u for u in reversed(t.grad_fn.inputs) if isinstance(u, Tensor))
        return found

    def node_owner(self, depth: int | None = None) -> dict[int, ModuleCall]:
        """Map ``id(node)`` -> the deepest call (no deeper than ``depth``) that created the node."""
        owner: dict[int, ModuleCall] = {}
        for c in sorted(self.calls, key=lambda c: c.depth):  # deeper calls overwrite shallower
            if c.depth == 0 or (depth is not None and c.depth > depth):
                continue
            stop = {tensor_key(t) for t in c.inputs}
            for node in walk_nodes(c.outputs, stop=stop):
                owner[id(node)] = c
        return owner

    def param_owner(self) -> dict[int, ModuleCall]:
        """Map ``id(parameter)`` -> the first leaf-most call whose module owns it directly."""
        owner: dict[int, ModuleCall] = {}
        for c in sorted(self.calls, key=lambda c: (c.depth, c.start)):
            for p in _direct_tensors(c.module):
                owner[id(p)] = c
        return owner


def _direct_tensors(module: Any) -> Iterator[Tensor]:
    for _, p in module.named_parameters(recurse=False):
        yield p
    for _, b in module.named_buffers(recurse=False):
        if b is not None:
            yield b


def walk_nodes(tensors: Iterable[Tensor], stop: set | None = None) -> list[Node]:
    """Every autograd node reachable backwards from ``tensors``, not crossing keys in ``stop``.

    Iterative (no recursion limit on deep graphs); each node once, in discovery order.
    """
    stop = stop or set()
    nodes: list[Node] = []
    seen: set[int] = set()
    stack = [t for t in tensors if isinstance(t, Tensor)]
    while stack:
        t = stack.pop()
        if tensor_key(t) in stop or t.grad_fn is None or id(t.grad_fn) in seen:
            continue
        node = t.grad_fn
        seen.add(id(node))
        nodes.append(node)
        stack.extend(u for u in reversed(node.inputs) if isinstance(u, Tensor))
    return nodes


def topo_nodes(tensors: Iterable[Tensor]) -> list[Node]:
    """The nodes behind ``tensors`` in forward order: every node after the nodes that feed it."""
    return topological_order([t.grad_fn for t in tensors if isinstance(t, Tensor) and t.grad_fn is not None])


def trace(model: Any, *inputs: Any, **kwargs: Any) -> Trace:
    """Run ``model(*inputs, **kwargs)`` once with hooks on every module and return the record.

    ``inputs`` are Tensors (e.g. shape (N, C, H, W)); each is replaced by a detached copy that
    requires grad, so the graph reaches the input even if the model's parameters are frozen. The
    forward pass runs with graph recording enabled whatever the caller's ``no_grad`` state; the
    model's train/eval mode is left as it is. Hooks are removed before returning.
    """
    if not hasattr(model, "named_modules"):
        raise TypeError(f"trace: model must be an nn.Module, got {type(model).__name__}")
    leaves = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"trace: input {i} must be a Tensor, got {type(x).__name__}; wrap arrays with mt.tensor(...)"
            )
        leaf = x.detach()
        leaves.append(leaf.requires_grad_(True) if leaf.dtype.kind == "f" else leaf)  # ids, masks: no grad

    calls: list[ModuleCall] = []
    stack: list[ModuleCall] = []
    counts: dict[int, int] = {}
    counter = [0]
    handles = []

    def make_hooks(name: str):
        def pre_hook(module: Any, args: tuple) -> None:
            counts[id(module)] = counts.get(id(module), 0) + 1
            call = ModuleCall(name, module, counts[id(module)], counter[0], inputs=flatten_tensors(args))
            counter[0] += 1
            if stack:
                call.parent = stack[-1]
                stack[-1].children.append(call)
            stack.append(call)
            calls.append(call)

        def hook(module: Any, args: tuple, output: Any) -> None:
            call = stack.pop()
            call.end = counter[0]
            counter[0] += 1
            call.outputs = flatten_tensors(output)

        return pre_hook, hook

    try:
        for name, module in model.named_modules():
            pre, post = make_hooks(name)
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        with enable_grad():
            output = model(*leaves, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return Trace(model, leaves, output, calls)
