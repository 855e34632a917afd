"""Receptive fields: which input pixels can influence one unit of a feature map.

Every layer is described, per spatial dimension, by four numbers (after Dang Ha The Hien's
"A guide to receptive field arithmetic"):

* ``n``     -- the feature-map size;
* ``jump``  -- the distance, in input pixels, between two neighbouring units;
* ``rf``    -- the receptive-field size, in input pixels;
* ``start`` -- the centre of the first unit's receptive field, in input coordinates where pixel
  ``i`` spans ``[i, i + 1)`` (so the input's own units have centres 0.5, 1.5, ...).

For a convolution or pooling layer with kernel ``k``, stride ``s``, padding ``(before, after)``,
dilation ``d``, the effective kernel is ``k_eff = d (k - 1) + 1`` and::

    n_out     = floor((n_in + before + after - k_eff) / s) + 1
    jump_out  = jump_in * s
    rf_out    = rf_in + (k_eff - 1) * jump_in
    start_out = start_in + ((k_eff - 1) / 2 - before) * jump_in

Dilation enters all three through ``k_eff``; forgetting it in ``start`` (as a well-known public
tool does) shifts every receptive field of a dilated layer. Unit ``i`` then covers
``[start + i*jump - rf/2, start + i*jump + rf/2)``, clipped to the image.

Only ``before`` moves the centre, so ``'same'`` with an even kernel (the extra row goes after),
``'full'`` and ceil-mode pooling (its extra window is padding after) need no special case.

Where the numbers come from: every spatial op *declares* its resolved geometry on the autograd
node it creates (``ops/geometry.py``): conv and transposed conv, max/avg pooling, padding (a
window of size 1 whose ``before`` shifts the grid), adaptive pooling (a window when the bins are
equal, else "global"), interpolation. One traced forward pass on a 1-image batch gives the graph;
the arithmetic runs node by node in forward order. Nodes that keep the last two axes (BatchNorm,
activations, Dropout, adds, channel concatenation, ``chunk``, channel shuffles) pass the numbers
through; a node whose output has no two spatial axes (Flatten, Linear on the flattened map: the
classifier head), a reduction, or a declared ``Global`` (global pooling, layer / group norm) sees
the whole input: from there on ``rf`` is the image size. So functional code inside ``forward``
(``F.max_pool2d``, ``x + skip``) counts exactly like layers, and the tool knows no layer class by name.

An undeclared node that *moves* pixels (a reshape / permute / flip / slice of the H and W axes
that keeps two spatial axes, e.g. a pixel shuffle written by hand) is an error, not a guess: the
state is marked lost and ``receptive_field`` raises, naming the op and the fix (declare its
geometry), as soon as a window, a reported layer or the output needs it.

``Blocks(r)`` (``pixel_shuffle``): output ``o`` reads input ``o // r``, so every field is shared,
unchanged, by a block of ``r`` units: the state carries ``block`` (units per field; unit ``i`` has
the field of coarse unit ``i // block``, centred at ``start + (i // block) * jump``) and the table
shows the jump as "1 per 2 units". A window whose stride is a multiple of the block (e.g.
``pixel_unshuffle`` after ``pixel_shuffle``) is exact again with blocks of 1; any other window,
and a branch merged with unblocked ones, uses the blocks' affine envelope (one unit per field,
``rf + (r-1)/r * jump``: the answer a transposed window of kernel = stride = ``r`` gives, a slight
over-approximation).

A node fed by several branches (residual add, Inception or DenseNet concatenation) gets the union
of their receptive fields -- the smallest interval holding every branch's field (so ``rf`` is the
max over branches when they are centred alike, and larger when a branch is shifted). All branches
must agree on ``jump`` and map size, which an add or a channel concatenation forces anyway.

Not modelled: reflect / replicate / circular padding copy border pixels from *inside* the image,
so near the border a unit can depend on pixels the arithmetic places outside its field (the
interior is exact). A window after a block of units (a stride-1 convolution after a pixel shuffle)
gets the envelope above, up to one input unit wider than the exact field.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops.geometry import Global, Window, declared
from ..ops.pixel_shuffle import Blocks
from ..ops.reduce import (
    MaxMinDimFunction,
    MaxMinFunction,
    MeanFunction,
    Norm2Function,
    ProdFunction,
    SumFunction,
    VarFunction,
)
from ..ops.shape import ExpandFunction, FlipFunction, PermuteFunction
from ._util import eval_mode, frozen, get_layer, model_device
from .trace import Trace, tensor_key, topo_nodes, trace

__all__ = [
    "RFParams",
    "ReceptiveField",
    "receptive_field",
    "receptive_field_for_unit",
    "inverse_image",
    "conv_rf",
    "transposed_conv_rf",
]

Pair = tuple


@dataclass(frozen=True)
class RFParams:
    """Receptive-field arithmetic state of one feature map, one value per spatial dim (h, w)."""

    n: Pair  # map size
    jump: Pair
    rf: Pair
    start: Pair
    is_global: bool = False  # sees the whole input (after global pooling / flatten / linear)
    block: Pair = (1, 1)  # units per field: unit i has the field of "coarse unit" i // block
    lost: str = ""  # the undeclared op that rearranged the pixels: no field is known from here on


def _sides(padding: Sequence[Any]) -> list[tuple[int, int]]:
    """Per axis an int (the same on both sides) or ``(before, after)``."""
    return [(v, v) if isinstance(v, (int, float)) else (v[0], v[1]) for v in padding]


def conv_rf(p: RFParams, kernel: Pair, stride: Pair, padding: Sequence[Any],
            dilation: Pair = (1, 1)) -> RFParams:
    """One window step of the arithmetic (see the module docstring). ``padding`` holds per axis an
    int or ``(before, after)``, so even-kernel ``'same'``, ``'full'`` and ceil-mode extensions are
    all just numbers."""
    pads = _sides(padding)
    n, jump, rf, start = [], [], [], []
    for i in range(2):
        lo, hi = pads[i]
        k_eff = dilation[i] * (kernel[i] - 1) + 1
        span = p.n[i] + lo + hi - k_eff
        if span < 0:
            raise ValueError(
                f"receptive_field: kernel {tuple(kernel)} (effective {k_eff} with dilation {tuple(dilation)}) "
                f"does not fit the {p.n} map with padding {tuple(pads)}; use a larger input_size"
            )
        n.append(span // stride[i] + 1)
        # BEGIN SOLUTION 5.1
        jump.append(p.jump[i] * stride[i])
        rf.append(p.rf[i] + (k_eff - 1) * p.jump[i])
        start.append(p.start[i] + ((k_eff - 1) / 2 - lo) * p.jump[i])
        # END SOLUTION
    return RFParams(tuple(n), tuple(jump), tuple(rf), tuple(start), p.is_global)


def transposed_conv_rf(p: RFParams, kernel: Pair, stride: Pair, padding: Sequence[Any],
                       dilation: Pair = (1, 1)) -> RFParams:
    """A transposed window (ConvTranspose2d, integer up-sampling): output ``o`` sums the inputs ``i``
    with ``o = i*s + m*d - before``.

    So the map grows, ``jump`` shrinks by ``s``, and output ``o`` is centred on input position
    ``(o + before - (k_eff - 1)/2) / s``; the field grows by ``(k_eff - 1) / s`` input units. Values
    may be fractional: a transposed convolution's units do not sit on the input grid.
    """
    pads = _sides(padding)
    n, jump, rf, start = [], [], [], []
    for i in range(2):
        lo, hi = pads[i]
        k_eff = dilation[i] * (kernel[i] - 1) + 1
        n.append((p.n[i] - 1) * stride[i] + k_eff - lo - hi)
        jump.append(p.jump[i] / stride[i])
        rf.append(p.rf[i] + (k_eff - 1) / stride[i] * p.jump[i])
        start.append(p.start[i] + (lo - (k_eff - 1) / 2) / stride[i] * p.jump[i])
    return RFParams(tuple(n), tuple(jump), tuple(rf), tuple(start), p.is_global)


def _global(p: RFParams, image: Pair, out: Pair) -> RFParams:
    return RFParams(
        tuple(out),
        tuple(image[i] / out[i] for i in range(2)),
        tuple(image),
        tuple(image[i] / (2 * out[i]) for i in range(2)),
        True,
    )


def _merge(name: str, ps: list[RFParams]) -> RFParams:
    """Union of several branches' fields (see the module docstring)."""
    if len(ps) == 1:
        return ps[0]
    if any(q.is_global for q in ps):
        return next(q for q in ps if q.is_global)
    if any(q.lost for q in ps):
        return next(q for q in ps if q.lost)
    if len({q.block for q in ps}) > 1:
        ps = [_unblock(q) for q in ps]
    first = ps[0]
    if any(q.jump != first.jump or q.n != first.n for q in ps):
        warnings.warn(
            f"receptive_field: the branches feeding {name!r} disagree on map size / jump "
            f"({[(q.n, q.jump) for q in ps]}); using the largest jump",
            stacklevel=3,
        )
    n = first.n
    jump = tuple(max(q.jump[i] for q in ps) for i in range(2))
    lo = [min(q.start[i] - q.rf[i] / 2 for q in ps) for i in range(2)]
    hi = [max(q.start[i] + q.rf[i] / 2 for q in ps) for i in range(2)]
    rf = tuple(_tidy(hi[i] - lo[i]) for i in range(2))
    start = tuple(_tidy((hi[i] + lo[i]) / 2) for i in range(2))
    return RFParams(n, jump, rf, start, False, first.block)


def _tidy(v: float) -> float | int:
    """Show 7.0 as 7, keep 0.5 as 0.5."""
    return int(v) if float(v).is_integer() else v


def _last_two(window: Window) -> tuple[Pair, Pair, tuple, Pair]:
    """The window's kernel, stride, pads, dilation on the last two axes (a 1-axis window, e.g.
    padding of the last axis only, leaves the height alone)."""
    def two(values: tuple, identity: Any) -> tuple:
        values = tuple(values)[-2:]
        return (identity,) * (2 - len(values)) + values

    return (two(window.kernel, 1), two(window.stride, 1), two(window.pads, (0, 0)), two(window.dilation, 1))


def _unblock(p: RFParams) -> RFParams:
    """The same fields with one unit per field: the smallest affine envelope of a blocked map.

    Unit ``i = q*g + t`` of a map with blocks of ``g`` has the field of coarse unit ``q`` (centre
    ``start + q*jump``); the envelope places it at ``start + (i/g - (g-1)/(2g)) * jump`` and widens
    the field by ``(g-1)/g * jump`` so that every unit's true field fits (what a transposed window
    of kernel = stride = ``g`` gives: an over-approximation, exact again only for ``g = 1``).
    """
    if p.block == (1, 1):
        return p
    g = p.block
    return RFParams(p.n, tuple(p.jump[i] / g[i] for i in range(2)),
                    tuple(p.rf[i] + (g[i] - 1) / g[i] * p.jump[i] for i in range(2)),
                    tuple(p.start[i] - (g[i] - 1) / (2 * g[i]) * p.jump[i] for i in range(2)), p.is_global)


def _window_on_blocks(p: RFParams, kernel: Pair, stride: Pair, pads: tuple, dilation: Pair) -> RFParams:
    """A window on a blocked map (e.g. after a pixel shuffle). Output ``o`` reads inputs
    ``o*s - before ... o*s - before + k_eff - 1``, i.e. coarse units ``floor((o*s - before)/g)`` to
    ``floor((o*s - before + k_eff - 1)/g)``; when ``g`` divides ``s`` both are ``o*s/g`` plus a
    constant, so the fields are exact again with one unit per field (``pixel_unshuffle`` after
    ``pixel_shuffle`` gives back the fields it started from). Other axes use the envelope."""
    q = conv_rf(_unblock(p), kernel, stride, pads, dilation)  # the map size, and the envelope
    jump, rf, start = list(q.jump), list(q.rf), list(q.start)
    for i, (lo, _) in enumerate(_sides(pads)):
        g = p.block[i]
        if g > 1 and stride[i] % g == 0:
            a = math.floor(-lo / g)
            b = math.floor((dilation[i] * (kernel[i] - 1) - lo) / g)
            jump[i] = p.jump[i] * stride[i] // g
            rf[i] = p.rf[i] + (b - a) * p.jump[i]
            start[i] = p.start[i] + (a + b) / 2 * p.jump[i]
    return RFParams(q.n, tuple(jump), tuple(rf), tuple(start), p.is_global)


# undeclared ops whose output position (i, j) depends on a whole axis of the input: safely "global"
_REDUCTIONS = (SumFunction, MeanFunction, VarFunction, MaxMinFunction, MaxMinDimFunction, ProdFunction,
               Norm2Function)


def _keeps_layout(node: Any) -> bool:
    """An undeclared op whose output keeps the input's last two sizes keeps every pixel where it was
    (a reshape in C order with the same trailing sizes does), unless it moves or mirrors those axes."""
    fn, ctx = getattr(node, "function", None), getattr(node, "ctx", None)
    if fn is PermuteFunction:
        dims = tuple(ctx.dims)
        return dims[-2:] == (len(dims) - 2, len(dims) - 1)
    if fn is FlipFunction:
        nd = len(node.out_meta[0][0])
        return not {d % nd for d in ctx.dims} & {nd - 2, nd - 1}
    return True


def _undeclared_error(op: str) -> ValueError:
    return ValueError(
        f"receptive_field: {op} rearranges the spatial layout (a reshape / view / permute / flip / slice of "
        "the H and W axes) and declares no geometry, so no receptive field can be computed after it "
        "(guessing 'the whole image' would be wrong). Fix: make the op declare its window on its graph "
        "node, ops.geometry.declare(y, Window(...) | Global(...) | Blocks(...)) (see ARCHITECTURE.md, "
        "'Adding an op'), or use an op that does (e.g. F.pixel_shuffle instead of reshape + permute)"
    )


def node_rf(geometry: Any, p: RFParams, out_shape: Sequence[int], image: Pair, op: str,
            node: Any = None) -> RFParams:
    """Apply one autograd node's declared geometry (``ops.geometry``) to its merged input ``p``.

    Undeclared nodes: an output without two spatial axes (flatten / linear at the end, a mean over
    H and W) or a reduction sees the whole input; one that keeps the input's pixels in place passes
    ``p`` through; any other rearrangement marks the state ``lost``, an error as soon as a window,
    a reported layer or the model's output needs it (a declared ``Global`` after it is fine).
    """
    out_sp = tuple(out_shape[-2:]) if len(out_shape) >= 3 else None
    if p.is_global:
        return RFParams(out_sp or (1, 1), p.jump, p.rf, p.start, True)
    if isinstance(geometry, Global) or out_sp is None:
        return _global(p, image, out_sp or (1, 1))
    if geometry is not None and p.lost:
        raise _undeclared_error(p.lost)
    if isinstance(geometry, Blocks):
        f = tuple(geometry.factor)[-2:]
        f = (1,) * (2 - len(f)) + f
        q = RFParams(tuple(p.n[i] * f[i] for i in range(2)), p.jump, p.rf, p.start, False,
                     tuple(p.block[i] * f[i] for i in range(2)))
    elif isinstance(geometry, Window):
        kernel, stride, pads, dilation = _last_two(geometry)
        if geometry.transposed:
            q = transposed_conv_rf(_unblock(p), kernel, stride, pads, dilation)
        elif p.block != (1, 1):
            q = _window_on_blocks(p, kernel, stride, pads, dilation)
        else:
            q = conv_rf(p, kernel, stride, pads, dilation)
    elif geometry is not None:
        raise ValueError(f"receptive_field: {op} declares a geometry {geometry!r} this tool does not know; "
                         "use Window, Global or Blocks")
    elif out_sp == p.n and _keeps_layout(node):
        return p  # pointwise in space: activations, BatchNorm, adds, channel cat / split / shuffle
    elif node is not None and node.function in _REDUCTIONS:
        return _global(p, image, out_sp)
    elif node is not None and node.function is ExpandFunction and p.n == (1, 1) and not p.lost:
        return RFParams(out_sp, p.jump, p.rf, p.start, False, out_sp)  # one field, broadcast over the map
    else:
        return RFParams(out_sp, p.jump, p.rf, p.start, False, p.block, p.lost or op)
    if q.n != out_sp:
        raise ValueError(
            f"receptive_field: {op} produced a {out_sp} map but its declared window predicts {q.n} "
            f"from the {p.n} input; the op's geometry declaration is wrong"
        )
    return q


def _walk(tr: Trace, image: Pair, tensors: list) -> dict[tuple, RFParams]:
    """Receptive-field state of every tensor that depends on the input, node by node in forward order."""
    state: dict[tuple, RFParams] = {}
    for x in tr.inputs:
        state[tensor_key(x)] = RFParams(tuple(image), (1, 1), (1, 1), (0.5, 0.5))
    for node in topo_nodes(tensors):
        fed = [state[tensor_key(t)] for t in node.inputs if t is not None and tensor_key(t) in state]
        if not fed:
            continue  # computed from parameters or constants only
        op = node.name()
        p_in = _merge(op, fed)
        decl = declared(node)
        for index, (shape, _, _) in enumerate(node.out_meta):
            state[(id(node), index)] = node_rf(decl.geometry if decl else None, p_in, shape, image, op, node)
    return state


def _from_trace(tr: Trace, image: Pair) -> ReceptiveField:
    """Rows for the leaf layers; blocks (``layer1``, an Inception module) can be looked up too."""
    calls = tr.leaf_calls()
    sources = tr.sources(calls)
    blocks = [c for c in tr.calls if not c.is_leaf and c.depth > 0]
    state = _walk(tr, image, [t for c in calls + blocks for t in c.outputs] + tr.outputs)
    for t in [t for c in calls + blocks for t in c.outputs[:1]] + list(tr.outputs):
        if tensor_key(t) in state and state[tensor_key(t)].lost:
            raise _undeclared_error(state[tensor_key(t)].lost)
    rows = [_row("input", "Input", state[tensor_key(tr.inputs[0])], [])]
    for c in calls:
        if c.outputs and tensor_key(c.outputs[0]) in state:  # else: not a function of the image
            srcs = [s if isinstance(s, str) else s.label for s in (sources[id(c)] or ["input"])]
            rows.append(_row(c.label, c.type, state[tensor_key(c.outputs[0])], srcs))
    block_rows = [_row(c.label, c.type, state[tensor_key(c.outputs[0])], [])
                  for c in blocks if c.outputs and tensor_key(c.outputs[0]) in state]
    return ReceptiveField(rows, image, block_rows)


class ReceptiveField:
    """Per-layer receptive-field table of one model on one input size.

    ``rows`` is a list of dicts (name, type, map_size, start, jump, rf, global, sources), one per
    leaf layer in execution order after an ``input`` row; ``rf["features.0"]`` looks a layer up,
    and ``rf["layer2"]`` a block (a module with children, not a row of the table) by its output.
    """

    def __init__(self, rows: list[dict], input_size: Pair, blocks: list[dict] | None = None) -> None:
        self.rows = rows
        self.input_size = tuple(input_size)  # (H, W) of the image
        self._by_name = {r["name"]: r for r in (blocks or []) + rows}

    def __getitem__(self, name: str) -> dict:
        if name not in self._by_name:
            raise KeyError(f"no layer {name!r}; layers are {list(self._by_name)}")
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def _cells(self, r: dict) -> list[str]:
        jump = _fmt(r["jump"])
        if r.get("block", [1, 1]) != [1, 1]:
            jump += f" per {_fmt(r['block'])} units"
        return [r["name"], r["type"], _fmt(r["map_size"]), _fmt(r["start"]), jump, _fmt(r["rf"])]

    _HEAD = ["Layer", "Type", "Map size", "Start", "Jump", "Receptive field"]

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=f"Receptive fields on a {self.input_size[0]}x{self.input_size[1]} input")
        for h in self._HEAD:
            table.add_column(h, justify="left" if h in ("Layer", "Type") else "right")
        for r in self.rows:
            table.add_row(*self._cells(r))
        return table

    def to_markdown(self) -> str:
        lines = ["| " + " | ".join(self._HEAD) + " |", "|" + "---|" * len(self._HEAD)]
        lines += ["| " + " | ".join(self._cells(r)) + " |" for r in self.rows]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"input_size": list(self.input_size), "rows": [dict(r) for r in self.rows]}

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"ReceptiveField({len(self.rows)} rows on {self.input_size})"


def _fmt(v: Any) -> str:
    h, w = v
    return f"{_tidy(h)}" if h == w else f"{_tidy(h)}x{_tidy(w)}"


def receptive_field(model: Any, input_size: Sequence[int], device: Any = None) -> ReceptiveField:
    """Receptive-field table of ``model`` for one input of shape ``input_size`` = (C, H, W).

    Runs one traced forward pass on a batch of one (eval mode, so BatchNorm does not couple the
    positions; the mode is restored) to learn the layer order, the map sizes and how the layers
    connect, then applies the arithmetic of the module docstring layer by layer.
    """
    import minitorch_cnn as mt

    size = tuple(int(s) for s in input_size)
    if len(size) != 3 or min(size) < 1:
        raise ValueError(
            f"receptive_field: input_size must be (C, H, W) without the batch dim, got {tuple(input_size)}"
        )
    dev = device if device is not None else model_device(model)
    x = mt.tensor(np.full((1, *size), 0.5, dtype=np.float32), device=dev)
    with eval_mode(model):
        tr = trace(model, x)
    return _from_trace(tr, size[1:])


def _row(name: str, kind: str, p: RFParams, sources: list[str]) -> dict:
    return {
        "name": name,
        "type": kind,
        "map_size": [int(v) for v in p.n],
        "start": [_tidy(v) for v in p.start],
        "jump": [_tidy(v) for v in p.jump],
        "rf": [_tidy(v) for v in p.rf],
        "global": p.is_global,
        "block": [int(v) for v in p.block],
        "sources": sources,
    }


def receptive_field_for_unit(rf: ReceptiveField, layer: str, unit_position: Sequence[int]) -> list[tuple]:
    """Input region seen by unit ``(i, j)`` of ``layer``: ``[(h0, h1), (w0, w1)]``, half-open.

    The unit's centre is ``start + i*jump``; it sees ``[centre - rf/2, centre + rf/2)``, clipped
    to ``[0, H) x [0, W)`` of the image (the whole image for a global row). For the unit's example, unit (1, 1) after the 7x7 stride-2
    convolution has centre 2.5 and field 7, i.e. ``[-1, 6)``, clipped to ``[(0, 6), (0, 6)]``.
    """
    if not isinstance(rf, ReceptiveField):
        raise TypeError(f"receptive_field_for_unit: rf must come from receptive_field(), got {type(rf).__name__}")
    row = rf[layer]
    pos = tuple(int(v) for v in unit_position)
    if len(pos) != 2:
        raise ValueError(f"unit_position must be (row, col), got {tuple(unit_position)}")
    out = []
    for i in range(2):
        if not 0 <= pos[i] < row["map_size"][i]:
            raise ValueError(
                f"unit_position {pos} is outside the {tuple(row['map_size'])} map of layer {layer!r}"
            )
        if row["global"]:
            out.append((0, int(rf.input_size[i])))
            continue
        centre = row["start"][i] + pos[i] // row.get("block", [1, 1])[i] * row["jump"][i]
        lo = max(0, math.floor(centre - row["rf"][i] / 2 + 1e-9))
        hi = min(rf.input_size[i], math.ceil(centre + row["rf"][i] / 2 - 1e-9))
        out.append((int(lo), int(hi)))
    return out


def inverse_image(model: Any, input_size: Sequence[int], layer: str, unit_position: Sequence[int],
                  seed: int = 0) -> list[tuple]:
    """Empirical receptive field: the bounding box of the non-zero ``d unit / d input``.

    Backpropagates the sum over channels of unit ``(i, j)`` of ``layer`` to a random input (eval
    mode: in training mode BatchNorm's batch statistics would make every pixel matter) and returns
    ``[(h0, h1), (w0, w1)]`` half-open, comparable with :func:`receptive_field_for_unit`. It can
    only be smaller than the analytic answer (a max-pool passes gradient to its arg-max only, a dead
    ReLU to nothing, and a dilated kernel has holes, so near the border the pixels in reach can all
    sit inside a hole); summing over many channels of a random network makes it equal in practice.
    """
    import minitorch_cnn as mt

    from ..backend import to_numpy

    size = tuple(int(s) for s in input_size)
    name, module = get_layer(model, layer)
    rng = np.random.default_rng(seed)
    x = mt.tensor(rng.standard_normal((1, *size)).astype(np.float32), device=model_device(model),
                  requires_grad=True)
    captured = []
    handle = module.register_forward_hook(lambda m, i, o: captured.append(o))
    i, j = (int(v) for v in unit_position)
    try:
        with eval_mode(model), frozen(model), mt.enable_grad():
            model(x)
            out = captured[0]
            if out.ndim != 4 or not (0 <= i < out.shape[2] and 0 <= j < out.shape[3]):
                raise ValueError(f"inverse_image: unit {(i, j)} is outside {name!r}'s output {tuple(out.shape)}")
            out[:, :, i, j].sum().backward()
    finally:
        handle.remove()
    g = np.abs(to_numpy(x.grad._array)).sum(axis=(0, 1))
    rows = np.nonzero(g.sum(axis=1))[0]
    cols = np.nonzero(g.sum(axis=0))[0]
    if rows.size == 0:
        raise RuntimeError(f"inverse_image: the gradient of unit {(i, j)} of {layer!r} is zero everywhere")
    return [(int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)]
