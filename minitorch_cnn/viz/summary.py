"""``summary(model, input_size)``: the layer table of torchsummary / Keras, with measured memory.

How the numbers are obtained:

* Layers, output shapes and the order of the rows come from one traced forward pass
  (:func:`~minitorch_cnn.viz.trace.trace`). Rows are numbered as torchsummary numbers them
  (``Conv2d-1``, ``MaxPool2d-3``, ...): in the order the layers finish, containers
  (``Sequential``) left out.
* Parameter counts: each row counts the parameters its layer owns (all of them, recursively, when
  ``depth`` collapses a block into one row). A parameter already counted by an earlier row -- a
  layer called twice, or tied weights -- is not counted again; the totals count every distinct
  parameter of the model once. BatchNorm's ``running_mean`` and ``running_var`` are counted as
  non-trainable parameters, as Keras does (``count_bn_stats_as_params=False``: as PyTorch does,
  not at all).
* Memory, in MiB (2**20 bytes; torchsummary prints these under the label "MB"). *Activation
  memory* is measured, not estimated: after a forward pass with graph recording on, every array
  the autograd graph keeps for the backward pass (``ctx.saved_tensors`` and arrays stored on the
  ``ctx``) is added up once, views counted as the array they view, parameters and the input left
  out (they have their own lines). With ``batch_size=-1`` the forward pass runs at batch 2 and 3,
  and the per-sample and fixed parts are separated (memory is affine in the batch size), giving
  the exact figure for one sample without a batch-1 forward pass (which BatchNorm1d refuses in
  training mode).
* Mult-adds (multiply-accumulates) are what the ops declare on their graph nodes
  (``ops/geometry.py``): a convolution ``C_out*H_out*W_out * C_in/groups*kh*kw`` per sample (a
  transposed one ``C_in*H_in*W_in * C_out/groups*kh*kw``), a linear layer ``in_features *
  out_features`` per sample and position. Pooling, BatchNorm, activations and adds count 0, as in
  torchvision's published GMACs. A row counts the nodes its layer created, so a convolution
  called functionally inside a block's ``forward`` is counted too.
* ``frozen_params`` (totals): parameters with ``requires_grad=False``, e.g. a frozen feature
  extractor; ``trainable_params`` is what an optimizer would update.

The forward passes leave the model as they found it: running statistics and the random generator
are restored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..ops.geometry import declared
from ._util import memory_owner as _owner
from ._util import model_device, preserve_state
from .trace import CONTAINER_TYPES, ModuleCall, Trace, trace, walk_nodes

__all__ = ["summary", "Summary", "saved_bytes"]

MIB = 2**20
BN_STAT_NAMES = ("running_mean", "running_var")


def _is_array(v: Any) -> bool:
    return hasattr(v, "nbytes") and hasattr(v, "shape") and hasattr(v, "dtype")


def saved_bytes(outputs: Sequence[Any], exclude: Sequence[Any] = ()) -> int:
    """Bytes of the distinct arrays the autograd graph behind ``outputs`` keeps for backward.

    Looks at every node's ``ctx.saved_tensors`` and at array attributes set on its ``ctx`` (for
    example a max-pool's arg-max indices). ``exclude`` lists arrays not to count (parameters,
    the input).
    """
    skip = {id(_owner(a)) for a in exclude}
    seen: dict[int, int] = {}
    for node in walk_nodes(outputs):
        ctx = node.ctx
        values = list(ctx.saved_tensors)
        values += [v for k, v in vars(ctx).items() if k not in ("saved_tensors", "needs_input_grad")]
        for v in values:
            v = getattr(v, "_array", v) if not _is_array(v) else v
            if not _is_array(v):
                continue
            owner = _owner(v)
            if id(owner) in skip:
                continue
            seen[id(owner)] = int(owner.nbytes)
    return sum(seen.values())


def _counted_tensors(module: Any, recurse: bool, bn_stats: bool) -> list[tuple[str, Any, bool]]:
    """``(name, tensor, trainable)`` of what a layer's Param # counts."""
    out = [(n, p, bool(p.requires_grad)) for n, p in module.named_parameters(recurse=recurse)]
    if bn_stats:
        out += [
            (n, b, False)
            for n, b in module.named_buffers(recurse=recurse)
            if b is not None and n.rsplit(".", 1)[-1] in BN_STAT_NAMES
        ]
    return out


def _shape_str(shape: Sequence[Any], style: str) -> str:
    if style == "keras":
        return "(" + ", ".join("None" if s == -1 else str(s) for s in shape) + ")"
    return "[" + ", ".join(str(s) for s in shape) + "]"


class Summary:
    """Result of :func:`summary`: ``rows`` (list of dicts), ``totals`` (dict), and renderers.

    ``print(s)`` / ``str(s)`` gives the plain-text table, ``s.print()`` prints it with rich,
    ``s.to_markdown()``, ``s.to_csv()``, ``s.to_dict()`` export it.
    """

    def __init__(self, rows: list[dict], totals: dict, input_size: list, style: str = "torchsummary",
                 kernel_size: bool = False, mult_adds: bool = False, branching: bool = False,
                 model_name: str = "model") -> None:
        if style not in ("torchsummary", "keras"):
            raise ValueError(f"style must be 'torchsummary' or 'keras', got {style!r}")
        self.rows = rows
        self.totals = totals
        self.input_size = input_size
        self.style = style
        self.kernel_size = kernel_size
        self.mult_adds = mult_adds
        self.branching = branching
        self.model_name = model_name

    # -- table cells ----------------------------------------------------------------------------
    def _columns(self) -> list[str]:
        if self.style == "keras":
            cols = ["Layer (type)", "Output Shape", "Param #"]
        else:
            cols = ["Layer (type)", "Output Shape", "Param #"]
        if self.kernel_size:
            cols.insert(2, "Kernel Size")
        if self.mult_adds:
            cols.append("Mult-Adds")
        if self.style == "keras" and self.branching:
            cols.append("Connected to")
        return cols

    def _cells(self, r: dict) -> list[str]:
        shape = _shape_str(r["output_shape"], self.style)
        if self.style == "keras":
            cells = [f"{r['name']} ({r['type']})", shape, f"{r['params']:,}"]
        else:
            cells = [r["label"], shape, f"{r['params']:,}"]
        if r["shared_params"]:
            cells[2] += f" (+{r['shared_params']:,} shared)"
        if self.kernel_size:
            cells.insert(2, "x".join(str(k) for k in r["kernel_size"]) if r["kernel_size"] else "--")
        if self.mult_adds:
            cells.append(f"{r['mult_adds']:,}")
        if self.style == "keras" and self.branching:
            cells.append(", ".join(r["connected_to"]))
        return cells

    def _footer(self) -> list[str]:
        t = self.totals
        unit = "MiB"
        return [
            f"Total params: {t['total_params']:,}",
            f"Trainable params: {t['trainable_params']:,}",
            f"Non-trainable params: {t['non_trainable_params']:,}",
            *([f"Frozen params (requires_grad=False): {t['frozen_params']:,}"] if t.get("frozen_params") else []),
            f"Total mult-adds: {t['mult_adds']:,}",
            f"Input size ({unit}): {t['input_mib']:.2f}",
            f"Forward/backward pass size ({unit}, saved for backward): {t['activation_mib']:.2f}",
            f"Params size ({unit}): {t['params_mib']:.2f}",
            f"Estimated Total Size ({unit}): {t['total_mib']:.2f}",
            "(1 MiB = 2**20 bytes = 1.048576 MB)",
        ]

    # -- renderers ------------------------------------------------------------------------------
    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"{self.model_name} summary" if self.style == "torchsummary"
                      else f'Model: "{self.model_name}"')
        for c in self._columns():
            table.add_column(c, justify="left" if c in ("Layer (type)", "Connected to") else "right")
        for r in self.rows:
            table.add_row(*self._cells(r))
        return Group(table, Text("\n".join(self._footer())))

    def __str__(self) -> str:
        from rich.console import Console

        buf = io.StringIO()
        Console(file=buf, width=140, color_system=None, force_terminal=False).print(self)
        return buf.getvalue().rstrip() + "\n"

    def __repr__(self) -> str:
        return str(self)

    def print(self) -> None:
        """Print with rich (colours where the terminal has them)."""
        from rich.console import Console

        Console().print(self)

    def to_markdown(self) -> str:
        cols = self._columns()
        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        lines += ["| " + " | ".join(self._cells(r)) + " |" for r in self.rows]
        return "\n".join(lines) + "\n\n" + "\n".join(f"- {f}" for f in self._footer()) + "\n"

    def to_csv(self) -> str:
        fields = ["index", "label", "name", "type", "depth", "output_shape", "params", "trainable",
                  "non_trainable", "shared_params", "kernel_size", "mult_adds", "connected_to"]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            row = {k: r[k] for k in fields}
            for k in ("output_shape", "kernel_size", "connected_to"):
                v = row[k]
                row[k] = "" if v is None else (" ".join(str(s) for s in v) if k == "connected_to" else
                                               "x".join(str(s) for s in v))
            w.writerow(row)
        return buf.getvalue()

    def to_dict(self) -> dict:
        return {"input_size": self.input_size, "rows": [dict(r) for r in self.rows], "totals": dict(self.totals)}


def _row_calls(tr: Trace, depth: int | None) -> list[tuple[ModuleCall, bool]]:
    """``(call, recursive)``: the calls shown as rows and whether their Param # is recursive."""
    # an empty Sequential is a leaf with nothing to show; a collapsed one stands for its contents
    chosen = [c for c in tr.calls_at_depth(depth) if not (c.type in CONTAINER_TYPES and c.is_leaf)]
    rows = [(c, not c.is_leaf) for c in chosen]
    ids = {id(c) for c in chosen}
    # a block above the cut that owns parameters itself (e.g. a learned scale) still needs a row
    for c in tr.calls:
        if id(c) in ids or (depth is not None and c.depth >= depth) or c.is_leaf:
            continue
        if any(True for _ in c.module.named_parameters(recurse=False)):
            rows.append((c, False))
    return sorted(rows, key=lambda rc: rc[0].end)


def _make_inputs(input_size: Any, batch: int, dev: Any, dtypes: Any) -> list:
    import minitorch_cnn as mt

    sizes = [input_size] if isinstance(input_size[0], int) else list(input_size)
    dtypes = dtypes or [np.float32] * len(sizes)
    rng = np.random.default_rng(0)
    out = []
    for size, dt in zip(sizes, dtypes):
        size = tuple(int(s) for s in size)
        if min(size) < 1:
            raise ValueError(f"summary: input_size entries must be positive (no batch dim), got {size}")
        out.append(mt.tensor(rng.standard_normal((batch, *size)).astype(dt), device=dev))
    return out


def _measure(model: Any, input_size: Any, batch: int, dev: Any, dtypes: Any) -> tuple[Trace, int]:
    xs = _make_inputs(input_size, batch, dev, dtypes)
    with preserve_state(model):
        tr = trace(model, *xs)
    exclude = [p._array for p in model.parameters()] + [b._array for b in model.buffers() if b is not None]
    exclude += [x._array for x in tr.inputs]
    return tr, saved_bytes(tr.outputs, exclude)


def _check_args(style: str, input_size: Any, batch_size: int) -> None:
    if style not in ("torchsummary", "keras"):
        raise ValueError(f"summary: style must be 'torchsummary' or 'keras', got {style!r}")
    if not isinstance(input_size, (tuple, list)) or len(input_size) == 0:
        raise ValueError(f"summary: input_size must be a shape like (1, 28, 28), got {input_size!r}")
    if not isinstance(batch_size, int) or batch_size == 0 or batch_size < -1:
        raise ValueError(f"summary: batch_size must be -1 (per sample) or positive, got {batch_size!r}")


def _run(model: Any, input_size: Any, batch_size: int, dev: Any, dtypes: Any) -> tuple[Trace, int, int, int]:
    """``(trace, activation bytes, batch run, batch shown)``. Per sample (``-1``): memory is affine
    in the batch, so batches of 2 and 3 give the fixed part plus one sample without a batch of 1."""
    if batch_size != -1:
        tr, act = _measure(model, input_size, batch_size, dev, dtypes)
        return tr, act, batch_size, batch_size
    tr, mem2 = _measure(model, input_size, 2, dev, dtypes)
    _, mem3 = _measure(model, input_size, 3, dev, dtypes)
    return tr, mem2 - (mem3 - mem2), 2, 1


def _declared_mult_adds(tr: Trace) -> list[tuple[ModuleCall | None, int]]:
    """``(call, mult-adds)`` for every node whose op declared mult-adds; ``call`` is the deepest
    module call that created the node (None: functional code in the model's own ``forward``)."""
    owner = tr.node_owner()
    return [(owner.get(id(node)), declared(node).mult_adds) for node in walk_nodes(tr.outputs)
            if declared(node) is not None and declared(node).mult_adds]


def _count_params(module: Any, recursive: bool, bn_stats: bool, counted: set[int]) -> dict[str, int]:
    """Param #, trainable, non-trainable and already-counted (shared) numbers of one row."""
    n = {"params": 0, "trainable": 0, "non_trainable": 0, "shared_params": 0}
    for _, t, is_trainable in _counted_tensors(module, recursive, bn_stats):
        size = int(np.prod(t.shape))
        if id(t) in counted:
            n["shared_params"] += size
            continue
        counted.add(id(t))
        n["params"] += size
        n["trainable" if is_trainable else "non_trainable"] += size
    return n


def _shown_shape(tensors: list, batch_size: int) -> list:
    shape = list(tensors[0].shape) if tensors else []
    if shape and batch_size == -1:
        shape[0] = -1
    return shape


def _rows(tr: Trace, depth: int | None, batch_size: int, per_batch: Any, bn_stats: bool) -> list[dict]:
    """One dict per row call; ``per_batch(n)`` rescales a count measured on the run batch."""
    row_calls = _row_calls(tr, depth)
    sources = tr.sources([c for c, _ in row_calls])
    macs = _declared_mult_adds(tr)
    counted: set[int] = set()
    rows = []
    for i, (c, recursive) in enumerate(row_calls, start=1):
        ks = getattr(c.module, "kernel_size", None)
        rows.append({
            "index": i, "label": f"{c.type}-{i}", "name": c.label, "type": c.type, "depth": c.depth,
            "input_shape": _shown_shape(c.inputs, batch_size), "output_shape": _shown_shape(c.outputs, batch_size),
            **_count_params(c.module, recursive, bn_stats, counted),
            "kernel_size": None if ks is None else list(ks if isinstance(ks, (tuple, list)) else (ks, ks)),
            "mult_adds": per_batch(sum(m for owner, m in macs if _counts_for(owner, c, recursive))),
            "connected_to": [s if isinstance(s, str) else s.label for s in sources[id(c)]],
        })
    return rows


def _totals(model: Any, tr: Trace, act_bytes: int, per_batch: Any, shown_batch: int, bn_stats: bool) -> dict:
    """Every distinct parameter once; ``frozen_params``: parameters with ``requires_grad=False``
    (transfer learning), apart from BatchNorm's statistics, which are never trainable."""
    unique = {id(t): (t, ok, n) for n, t, ok in _counted_tensors(model, True, bn_stats)}
    size = {k: int(np.prod(t.shape)) for k, (t, _, _) in unique.items()}
    total = sum(size.values())
    trainable = sum(size[k] for k, (_, ok, _) in unique.items() if ok)
    frozen = sum(int(np.prod(p.shape)) for p in {id(p): p for p in model.parameters()}.values()
                 if not p.requires_grad)
    params_bytes = sum(int(t._array.nbytes) for t, _, _ in unique.values())
    input_bytes = sum(per_batch(int(x._array.nbytes)) for x in tr.inputs)
    totals = {
        "total_params": total, "trainable_params": trainable, "non_trainable_params": total - trainable,
        "frozen_params": frozen, "mult_adds": per_batch(sum(m for _, m in _declared_mult_adds(tr))),
        "input_bytes": input_bytes, "activation_bytes": int(act_bytes), "params_bytes": params_bytes,
        "total_bytes": input_bytes + int(act_bytes) + params_bytes, "batch_size": shown_batch,
    }
    for k in ("input", "activation", "params", "total"):
        totals[f"{k}_mib"] = totals[f"{k}_bytes"] / MIB
    return totals


def summary(
    model: Any,
    input_size: Sequence[int] | Sequence[Sequence[int]],
    batch_size: int = -1,
    depth: int | None = None,
    kernel_size: bool = False,
    mult_adds: bool = False,
    style: str = "torchsummary",
    count_bn_stats_as_params: bool = True,
    device: Any = None,
    dtypes: Sequence[Any] | None = None,
    verbose: bool = False,
) -> Summary:
    """Summarize ``model`` on inputs of shape ``input_size`` (without the batch dim), e.g. (1, 28, 28).

    Several inputs: a list of shapes. ``batch_size=-1`` shows the batch as ``-1`` (``None`` in the
    Keras style) and reports memory for one sample; a positive value reports it for that batch.
    ``depth`` collapses modules deeper than it into one row (None: every leaf layer).
    ``kernel_size`` / ``mult_adds`` add those columns. ``verbose=True`` also prints the table.
    """
    _check_args(style, input_size, batch_size)
    dev = device if device is not None else model_device(model)
    tr, act_bytes, run_batch, shown_batch = _run(model, input_size, batch_size, dev, dtypes)

    def per_batch(n: int) -> int:
        return n // run_batch * shown_batch

    rows = _rows(tr, depth, batch_size, per_batch, count_bn_stats_as_params)
    totals = _totals(model, tr, act_bytes, per_batch, shown_batch, count_bn_stats_as_params)
    branching = any(len(s) > 1 for s in tr.sources(tr.leaf_calls()).values())
    sizes = [list(input_size)] if isinstance(input_size[0], int) else [list(s) for s in input_size]
    result = Summary(rows, totals, sizes, style, kernel_size, mult_adds, branching, type(model).__name__)
    if verbose:
        result.print()
    return result


def _counts_for(owner: ModuleCall | None, row: ModuleCall, recursive: bool) -> bool:
    """Does a node created by ``owner`` (None: the model's own forward) count in ``row``? A
    collapsed block counts everything inside it; a block shown only for its own parameters counts
    only the nodes it created itself."""
    if owner is None:
        return row.depth == 0
    return _within(owner, row) if recursive else owner is row


def _within(call: ModuleCall, ancestor: ModuleCall) -> bool:
    c: ModuleCall | None = call
    while c is not None:
        if c is ancestor:
            return True
        c = c.parent
    return False
