"""Draw the autograd graph behind a tensor, or the layer graph of a model, with Graphviz.

``draw_graph(loss)`` walks the graph from ``loss.grad_fn`` back to the leaves and returns a
``graphviz.Digraph`` drawn in the direction the data flowed (inputs at the top, ``rankdir="TB"``):

* op nodes (boxes) are the recorded ``Node`` objects, named as ``Node.name()`` names them:
  ``Conv2dBackward``, ``MulBackward``, ... (the function that will run during ``backward``);
* tensor nodes (rounded) carry shape and dtype. Parameters are blue and labelled with their
  module path (``features.0.weight``) when ``params`` is a Module or a ``{name: tensor}`` dict;
  inputs that need no gradient are grey; the tensor you passed is green;
* ``show_saved=True`` adds what each op keeps for backward (``ctx.saved_tensors`` and arrays on the
  ``ctx``), as dashed edges from the tensor it saved or orange nodes for arrays it made itself;
* ``show_grads=True`` (after ``backward``) adds each tensor's gradient shape and norm;
* ``values=True`` is micrograd's view for small graphs: each tensor node shows its value and its
  gradient (call :func:`retain_all_grads` before ``backward`` to keep intermediate gradients);
* with module information -- ``draw_graph(trace(model, x))`` or ``trace=`` -- nodes are grouped
  into one cluster per module call, nested as the modules are; ``depth=d`` collapses every module
  at depth ``d`` into a single box, so a ResNet reads block by block.

Rendering needs the Graphviz ``dot`` program: ``graph.render(...)`` or :func:`render`, which checks
for it first and says how to install it. ``graph.source`` (the DOT text) always works.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..autograd import Node
from ..backend import to_numpy
from ..tensors import Tensor
from ._util import memory_owner as _owner
from .trace import (
    CONTAINER_TYPES,
    ModuleCall,
    Trace,
    flatten_tensors,
    tensor_key,
    topo_nodes,
    trace,
    walk_nodes,
)

__all__ = ["draw_graph", "render", "forward_graph", "retain_all_grads", "GraphvizNotFoundError"]

FORMATS = ("svg", "png", "pdf")
COLORS = {"param": "lightblue", "input": "lightgrey", "output": "darkolivegreen1", "saved": "orange",
          "module": "lightyellow", "tensor": "white"}


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` executable is missing, so a graph cannot be rendered to an image."""


def _install_hint(fmt: str) -> str:
    return (
        f"cannot render the graph to {fmt}: the Graphviz 'dot' program is not installed (or not on PATH). "
        "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
        "`conda install graphviz`, then retry. Without it you can still save the DOT text: "
        "render(graph, 'graph.dot') or graph.source."
    )


def render(graph: graphviz.Digraph, path: str | Path, format: str | None = None) -> Path:  # noqa: A002
    """Write ``graph`` to ``path`` as SVG / PNG / PDF (from the suffix unless ``format`` is given).

    ``.dot`` / ``.gv`` write the DOT source and need no Graphviz. For images the ``dot`` program is
    looked up first, and a missing one raises :class:`GraphvizNotFoundError` with install
    instructions before anything is written.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    from ..data.fileio import atomic_open, atomic_write_text

    if fmt in ("dot", "gv"):
        atomic_write_text(path, graph.source)
        return path
    if fmt not in FORMATS:
        raise ValueError(f"render: format must be one of {FORMATS + ('dot',)}, got {fmt!r} (from {path.name!r})")
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(_install_hint(fmt))
    if path.suffix.lstrip(".").lower() != fmt:
        path = path.with_name(path.name + "." + fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = graph.pipe(format=fmt)  # rendered in memory: a failing `dot` leaves no half-written file
    with atomic_open(path, "wb") as f:
        f.write(image)
    return path


def retain_all_grads(tensor: Tensor | Sequence[Tensor]) -> int:
    """Call ``retain_grad()`` on every intermediate tensor of the graph; returns how many.

    Do it before ``backward`` to see every gradient in ``draw_graph(..., values=True)``, as in
    micrograd where each value keeps its ``grad``.
    """
    count = 0
    for node in walk_nodes(flatten_tensors(tensor)):
        for t in node.inputs:
            if isinstance(t, Tensor) and t.grad_fn is not None and not t.retains_grad:
                t.retain_grad()
                count += 1
    for t in flatten_tensors(tensor):
        if t.grad_fn is not None and not t.retains_grad:
            t.retain_grad()
            count += 1
    return count


# --------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------
def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _values(arr: Any) -> str:
    a = to_numpy(arr)
    if a.size == 1:
        return f"{a.reshape(()).item():.4f}"
    if a.size <= 6:
        return np.array2string(a.ravel(), precision=3, separator=" ", suppress_small=True)
    return f"mean {a.mean():.3g} std {a.std():.3g}"


def _param_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        names = {id(p): n for n, p in params.named_parameters()}
        names.update({id(b): n for n, b in params.named_buffers() if b is not None})
        return names
    if isinstance(params, dict):
        bad = [k for k, v in params.items() if not isinstance(v, Tensor)]
        if bad:
            raise TypeError(f"draw_graph: params must map names to Tensors; {bad} are not Tensors")
        return {id(v): k for k, v in params.items()}
    raise TypeError(f"draw_graph: params must be None, a Module or a dict name -> Tensor, got {type(params).__name__}")


# --------------------------------------------------------------------------------------------------
# The autograd graph
# --------------------------------------------------------------------------------------------------
class _Builder:
    def __init__(self, roots: list[Tensor], names: dict[int, str], tr: Trace | None, depth: int | None,
                 show_saved: bool, show_grads: bool, values: bool) -> None:
        self.roots = roots
        self.names = names
        self.trace = tr
        self.depth = depth
        self.show_saved = show_saved
        self.show_grads = show_grads
        self.values = values
        self.ids: dict[Any, str] = {}
        self.input_keys = {tensor_key(t) for t in (tr.inputs if tr else [])}

    def vid(self, kind: str, key: Any) -> str:
        if (kind, key) not in self.ids:
            self.ids[(kind, key)] = f"{kind}{len(self.ids)}"
        return self.ids[(kind, key)]

    # -- module grouping ------------------------------------------------------------------------
    def groups(self, nodes: list[Node]) -> tuple[dict[int, ModuleCall], dict[int, ModuleCall]]:
        """Owner call per node (deepest), and the collapsed box per node (depth cut), by id."""
        if self.trace is None:
            return {}, {}
        owner = self.trace.node_owner()
        boxes = {}
        if self.depth is not None:
            for n in nodes:
                c = owner.get(id(n))
                while c is not None and c.depth > self.depth:
                    c = c.parent
                if c is not None and c.depth == self.depth:
                    boxes[id(n)] = c
        return owner, boxes

    def tensor_label(self, t: Tensor, key: tuple, role: str) -> str:
        lines = []
        name = self.names.get(id(t))
        if name:
            lines.append(name)
        elif role == "input":
            lines.append("input")
        elif role == "output":
            lines.append("output")
        lines.append(f"{_shape(t.shape)} {t.dtype}")
        if self.values:
            lines.append(f"data {_values(t._array)}")
            g = t.grad
            lines.append("grad " + (_values(g._array) if g is not None else "-"))
        elif self.show_grads and t.grad is not None:
            g = to_numpy(t.grad._array)
            lines.append(f"grad {_shape(g.shape)} |g|={np.linalg.norm(g.ravel()):.4g}")
        return "\\n".join(lines)

    def build(self, graph: graphviz.Digraph) -> None:
        """Draw the graph: op vertices (or module boxes at the depth cut), tensors, edges, clusters."""
        nodes = topo_nodes(self.roots)
        owner, boxes = self.groups(nodes)
        vertex = {id(n): ("box", id(boxes[id(n)])) if id(n) in boxes else ("op", id(n)) for n in nodes}
        tensors, root_keys = self.collect_tensors(nodes, vertex)
        placement: dict[str, ModuleCall | None] = {}  # vertex id -> cluster call (None: top level)
        self.add_ops_and_boxes(graph, nodes, vertex, owner, boxes, placement)
        self.add_tensors(graph, tensors, root_keys, placement)
        if self.show_saved:
            self.add_saved(graph, nodes, vertex, tensors, placement)
        self.add_clusters(graph, placement)

    def collect_tensors(self, nodes: list[Node], vertex: dict) -> tuple[dict[tuple, list], list[tuple]]:
        """key -> [tensor, producer vertex or None, [consumer vertices]], and the roots' keys."""
        tensors: dict[tuple, list] = {}
        for n in nodes:
            for t in n.inputs:
                if not isinstance(t, Tensor):
                    continue
                prod = vertex[id(t.grad_fn)] if t.grad_fn is not None else None
                entry = tensors.setdefault(tensor_key(t), [t, prod, []])
                if vertex[id(n)] not in entry[2]:
                    entry[2].append(vertex[id(n)])
        root_keys = []
        for t in self.roots:
            key = tensor_key(t)
            root_keys.append(key)
            tensors.setdefault(key, [t, vertex.get(id(t.grad_fn)) if t.grad_fn else None, []])
        return tensors, root_keys

    def add_ops_and_boxes(self, graph: graphviz.Digraph, nodes: list[Node], vertex: dict, owner: dict,
                          boxes: dict, placement: dict) -> None:
        """One vertex per op node, or one 3-D box per module call collapsed at the depth cut."""
        drawn_boxes = set()
        for n in nodes:
            kind, _ = vertex[id(n)]
            if kind == "box":
                box = boxes[id(n)]
                if id(box) not in drawn_boxes:
                    drawn_boxes.add(id(box))
                    self.add_box(graph, box, placement)
                continue
            vid = self.vid("op", id(n))
            label = n.name()
            if self.show_saved and n.ctx._freed:
                label += "\\n(saved values freed by backward)"
            graph.node(vid, label, shape="ellipse" if self.values else "box")
            call = owner.get(id(n))
            placement[vid] = call if call is not None and call.depth > 0 else None

    def add_box(self, graph: graphviz.Digraph, box: ModuleCall, placement: dict) -> None:
        vid = self.vid("box", id(box))
        shapes = ", ".join(_shape(o.shape) for o in box.outputs)
        n_params = sum(int(np.prod(p.shape)) for p in box.module.parameters())
        graph.node(vid, f"{box.label}\\n{box.type}\\n{shapes}\\n{n_params:,} params", shape="box3d", style="filled",
                   fillcolor=COLORS["module"])
        placement[vid] = box.parent if box.parent is not None and box.parent.depth > 0 else None

    def tensor_role(self, t: Tensor, key: tuple, root_keys: list[tuple]) -> str:
        """The colour role of a drawn tensor: output (a root), param (named), input, or tensor."""
        is_root, is_leaf = key in root_keys, t.grad_fn is None
        is_input = key in self.input_keys or (is_leaf and id(t) not in self.names and not is_root)
        return "output" if is_root else ("param" if id(t) in self.names else ("input" if is_input else "tensor"))

    def add_tensors(self, graph: graphviz.Digraph, tensors: dict, root_keys: list[tuple], placement: dict) -> None:
        """A vertex per tensor that crosses a drawn boundary, with producer and consumer edges."""
        param_home = self.trace.param_owner() if self.trace is not None else {}
        for key, (t, prod, consumers) in tensors.items():
            role = self.tensor_role(t, key, root_keys)
            # a tensor made and used inside one collapsed box (or a parameter only it uses) is not drawn
            hidden_inside = (
                key not in root_keys and consumers and all(c[0] == "box" for c in consumers)
                and len(set(consumers)) == 1 and (prod is None or prod == consumers[0])
                and (role == "param" or t.grad_fn is not None)
            )
            if hidden_inside:
                continue
            tid = self.vid("t", key)
            graph.node(tid, self.tensor_label(t, key, role), shape="box", style="rounded,filled",
                       fillcolor=COLORS[role])
            if prod is not None:
                pid = self.vid(*prod)
                graph.edge(pid, tid)
                placement.setdefault(tid, placement.get(pid))
            elif role == "param" and id(t) in param_home:
                c = param_home[id(t)]
                while c is not None and self.depth is not None and c.depth > self.depth:
                    c = c.parent
                placement[tid] = c if c is not None and c.depth > 0 else None
            for cons in consumers:
                if cons != prod:
                    graph.edge(tid, self.vid(*cons))

    def add_saved(self, graph: graphviz.Digraph, nodes: list[Node], vertex: dict, tensors: dict,
                  placement: dict) -> None:
        # a saved array is linked to the drawn tensor holding it: the same array, or the same memory
        # and shape (a reshape that was materialised as a new array object)
        by_array: dict[int, str] = {}
        by_owner: dict[tuple, str] = {}
        for key, (t, _, _) in tensors.items():
            if ("t", key) in self.ids:
                by_array.setdefault(id(t._array), self.ids[("t", key)])
                by_owner.setdefault((id(_owner(t._array)), tuple(t.shape)), self.ids[("t", key)])
        for n in nodes:
            if vertex[id(n)][0] != "op":
                continue
            opid = self.vid("op", id(n))
            items = [(f"saved[{i}]", a) for i, a in enumerate(n.ctx.saved_tensors)]
            items += [
                (f"ctx.{k}", v) for k, v in vars(n.ctx).items()
                if k not in ("saved_tensors", "needs_input_grad") and hasattr(v, "shape") and hasattr(v, "nbytes")
            ]
            for label, a in items:
                if a is None or not hasattr(a, "shape"):
                    continue
                linked = by_array.get(id(a)) or by_owner.get((id(_owner(a)), tuple(a.shape)))
                if linked is not None:
                    graph.edge(linked, opid, style="dashed", label=label, color="darkorange", constraint="false")
                    continue
                sid = self.vid("s", (id(n), label))
                graph.node(sid, f"{label}\\n{_shape(a.shape)} {a.dtype}", shape="box", style="filled",
                           fillcolor=COLORS["saved"], fontsize="10")
                graph.edge(sid, opid, style="dashed", color="darkorange", constraint="false")
                placement[sid] = placement.get(opid)

    def add_clusters(self, graph: graphviz.Digraph, placement: dict) -> None:
        members: dict[int, list[str]] = {}
        calls: dict[int, ModuleCall] = {}
        for vid, call in placement.items():
            if call is None:
                continue
            members.setdefault(id(call), []).append(vid)
            calls[id(call)] = call
        # every ancestor of a populated call needs a cluster too, to nest it
        for call in list(calls.values()):
            c = call.parent
            while c is not None and c.depth > 0:
                calls.setdefault(id(c), c)
                c = c.parent
        children: dict[int | None, list[ModuleCall]] = {}
        for c in calls.values():
            parent = c.parent if c.parent is not None and c.parent.depth > 0 else None
            children.setdefault(None if parent is None else id(parent), []).append(c)

        def emit(target: graphviz.Digraph, c: ModuleCall) -> None:
            with target.subgraph(name=f"cluster_{self.vid('c', id(c))}") as sub:
                sub.attr(label=f"{c.label} ({c.type})", style="rounded,dashed", color="grey40")
                for vid in members.get(id(c), []):
                    sub.node(vid)
                for child in sorted(children.get(id(c), []), key=lambda k: k.start):
                    emit(sub, child)

        for c in sorted(children.get(None, []), key=lambda k: k.start):
            emit(graph, c)


def draw_graph(
    tensor: Tensor | Sequence[Tensor] | Trace,
    params: Any = None,
    show_saved: bool = False,
    show_grads: bool = False,
    depth: int | None = None,
    rankdir: str = "TB",
    values: bool = False,
    trace: Trace | None = None,
) -> graphviz.Digraph:
    """Return a ``graphviz.Digraph`` of the autograd graph that produced ``tensor``.

    ``tensor``: a Tensor (or several), or a :class:`~minitorch_cnn.viz.trace.Trace` from
    ``trace(model, x)`` -- then its output is drawn, its model names the parameters and its module
    calls become clusters. ``params``: a Module or ``{name: Tensor}`` naming the leaves.
    ``depth``: collapse modules at that depth into single boxes (needs module information).
    ``rankdir``: Graphviz direction, "TB" (top to bottom), "LR", "BT" or "RL".
    """
    if isinstance(tensor, Trace):
        trace, tensor = tensor, tensor.output
        params = trace.model if params is None else params
    roots = flatten_tensors(tensor)
    if not roots:
        raise TypeError(f"draw_graph: expected a Tensor, a list of Tensors or a Trace, got {type(tensor).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_graph: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if depth is not None and trace is None:
        raise ValueError(
            "draw_graph: depth= needs to know which module made which node; pass a trace, e.g. "
            "draw_graph(trace(model, x), depth=1) or draw_graph(y, trace=tr, depth=1)"
        )
    if depth is not None and depth < 1:
        raise ValueError(f"draw_graph: depth must be >= 1 (1 = the model's children), got {depth}")
    names = _param_names(params)
    n_nodes = len(walk_nodes(roots))
    if values and n_nodes > 200:
        warnings.warn(f"draw_graph(values=True) on {n_nodes} ops: the picture will be unreadable", stacklevel=2)
    graph = graphviz.Digraph("autograd", graph_attr={"rankdir": rankdir},
                             node_attr={"fontname": "Helvetica", "fontsize": "11"})
    _Builder(roots, names, trace, depth, show_saved, show_grads, values).build(graph)
    return graph


# --------------------------------------------------------------------------------------------------
# The layer graph of a model
# --------------------------------------------------------------------------------------------------
def forward_graph(model: Any, input_size: Sequence[int], depth: int | None = None, rankdir: str = "TB",
                  device: Any = None) -> graphviz.Digraph:
    """Layers as nodes (name, type, output shape), data flow as edges: the summary as a picture.

    Traces one forward pass on a batch of one (eval mode) with input shape ``input_size`` =
    (C, H, W); branches (residual adds, concatenations) appear as the graph they are.
    """
    import minitorch_cnn as mt

    from ._util import eval_mode, model_device

    size = tuple(int(s) for s in input_size)
    x = mt.tensor(np.zeros((1, *size), dtype=np.float32), device=device or model_device(model))
    with eval_mode(model):
        tr = trace(model, x)
    calls = [c for c in tr.calls_at_depth(depth) if not (c.type in CONTAINER_TYPES and c.is_leaf)]
    sources = tr.sources(calls)
    g = graphviz.Digraph("layers", graph_attr={"rankdir": rankdir},
                         node_attr={"fontname": "Helvetica", "fontsize": "11", "shape": "box"})
    g.node("input", f"input\\n{_shape((-1, *size))}", style="filled", fillcolor=COLORS["input"])
    ids = {id(c): f"L{i}" for i, c in enumerate(calls)}
    for c in calls:
        shapes = ", ".join(_shape((-1, *o.shape[1:])) for o in c.outputs)
        g.node(ids[id(c)], f"{c.label}\\n{c.type}\\n{shapes}")
        for s in sources[id(c)]:
            g.edge(s if isinstance(s, str) else ids[id(s)], ids[id(c)])
    g.node("output", "output", style="filled", fillcolor=COLORS["output"])
    for s in tr.output_sources(calls):
        g.edge(s if isinstance(s, str) else ids[id(s)], "output")
    return g
