"""Adam / AdamW's update in one pass over memory, chunk by chunk, split over the thread pool.

**Why.** The textbook ``Adam._update_group`` (``optim/adam.py``) writes the formula as whole-array
NumPy statements: ``m *= beta1``, ``m += (1 - beta1) * g``, ``v *= beta2``, ... thirteen per
parameter, each a full pass over an array as large as the parameter, six of them allocating a
temporary that large. The unit's CNN has a 512 x 3136 Linear weight (1.6 M floats, 6.4 MB per
array): nothing of it stays in a core's cache between two statements, so each statement fetches
``p``, ``g``, ``m``, ``v`` again from the shared L3 cache or main memory, and pays for fresh pages.

**Fused.** ``adam_update`` runs the *same statements, in the same order, with the same scalars*
(so the rounding is the textbook's, bit for bit: IEEE ``+ - * /`` and ``sqrt`` round correctly
however an array is cut) on one chunk of ``CHUNK_ELEMENTS`` elements at a time, with two scratch
arrays allocated once per thread for the temporaries. The chunk's arrays stay in the core's L2
cache across the thirteen statements, so memory sees each array about once (``g`` read; ``p``,
``m``, ``v`` read and written back) and nothing is allocated. Chunks are independent, so the pool
(``threads.parallel_for``) splits them over the cores. Small parameters (biases, BatchNorm's
weights, the 3x3 kernels), whose moments sit next to each other in the flat buffers, share one piece:
their ``p`` and ``g`` are gathered into scratch (one ``concatenate`` each) and ``p`` scattered back
(``MERGE_SMALL``): about one NumPy call per small parameter instead of thirteen.

**State in one flat buffer.** A group's ``exp_avg`` (and ``exp_avg_sq``, ``max_exp_avg_sq``) live in
one flat array per dtype; ``optimizer.state[p]["exp_avg"]`` is a *view* of ``p``'s slice, shaped like
``p``, so ``state_dict()``, ``load_state_dict()`` and code that reads or writes the state in place
see the same numbers. Each step checks, per parameter, that the state still holds exactly those
views (``is``); ``load_state_dict`` (new arrays), an assignment to ``state[p][...]``, a new
parameter with a gradient or ``amsgrad`` switched on make the check fail, and the buffer is rebuilt
from whatever the state holds then. The parameters themselves are left where they are: re-pointing
``p._array`` into a flat buffer would silently detach every alias of the old array (``p.detach()``,
a NumPy view). Each step reads ``p._array`` afresh, so ``p.data = ...`` is simply followed.

**Measured** (``tools/bench_optim.py``: Adam's step on ``build_model("cnn")``, 1.68 M parameters,
2-core AMD EPYC shared with another job, so expect noise): textbook 3.4-4.3 ms, fused 2.5-3.1 ms,
1.1x-1.7x over runs (AdamW gains most: its decay is one more pass). Not more, because the whole
working set (~27 MB) sits in this machine's 32 MB L3, so the textbook's passes were never paying
main memory's price, and the kernel is bound by NumPy's per-call cost and the cores. Chunks of
16 K / 32 K / 64 K elements: 3.8 / 3.3 / 3.1 ms (the ~13 NumPy calls per chunk cost about a
microsecond each in Python; beyond 64 K the arrays leave L2). Merging small parameters: 3.1 vs
3.3 ms without. The second thread gained nothing measurable there (3.1 ms with one thread; the
other core was busy), but costs nothing either, and the pool's width is the user's setting.

**SGD with momentum** did not pay: fused the same way (``git log``: "SGD with momentum through the
same flat buffers"), its step measured 1.5-2.4 ms against the textbook's 1.7-2.3 ms, 0.86x-1.15x over
runs. Its textbook loop is five statements, three without a temporary, so there was little to save.

Tiny groups (under ``MIN_FUSED_ELEMENTS``) keep the textbook path: their arrays are in cache
anyway, and the course's task checks, which step a few-element parameter, run the student's code.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import threads

__all__ = ["CHUNK_ELEMENTS", "MIN_FUSED_ELEMENTS", "adam_applies", "adam_update"]

CHUNK_ELEMENTS = 65536
"""Elements per chunk (256 KB per float32 array): long enough that the 13 NumPy calls per chunk cost
little next to their work, short enough that the chunk's ``p``, ``g``, ``m``, ``v`` and scratch stay
in a core's L2 cache (1-2 MB on current x86 cores) from the first statement to the last."""

MERGE_SMALL = True
"""Whether runs of small parameters (a bias, a BatchNorm weight) share one piece (see ``_pieces``)."""

MIN_FUSED_ELEMENTS = 1 << 16
"""A group with fewer elements (over the parameters that have a gradient) takes the textbook path."""

_ADAM_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


@dataclass(frozen=True)
class _Rule:
    """What an optimizer keeps per parameter: its ``keys`` (flat buffers, in order) and the keys a
    non-empty state must have."""

    keys: tuple
    required: tuple


@dataclass
class _Slot:
    """One parameter's place in its dtype's flat buffers: the views handed to ``state[p]``."""

    param: Any
    views: tuple  # one view per key, shaped like the parameter
    offset: int  # where they start in the flat buffers


@dataclass
class _Layout:
    """A group's flat buffers (one tuple per dtype, one buffer per key) and each member's slot (by ``id``)."""

    group: dict
    keys: tuple
    buffers: dict
    slots: dict


@dataclass
class _Job:
    """One parameter's step: ``(x, g, *buffers)`` flattened, its offset in the flat buffers, and the
    kernel's per-parameter scalars (Adam: ``lr / (1 - beta1^t)``, ``sqrt(1 - beta2^t)``)."""

    flats: tuple
    offset: int
    scalars: tuple


@dataclass(frozen=True)
class _AdamHyper:
    """An Adam group's hyper-parameters, read once per step."""

    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    decoupled: bool
    maximize: bool
    amsgrad: bool


# optimizer -> {id(group): _Layout}; weak, so a copied or pickled optimizer builds its own
_layouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_scratch = threading.local()


# --------------------------------------------------------------------------------------------------
# The seam
# --------------------------------------------------------------------------------------------------
def _adam_rule(group: dict) -> _Rule:
    return _Rule(_ADAM_KEYS[:3 if group["amsgrad"] else 2], ("step", "exp_avg", "exp_avg_sq"))


def adam_applies(optimizer: Any, group: dict) -> bool:
    """NumPy float parameters, C-contiguous, whose state is empty, ours, or moments shaped like them;
    at least ``MIN_FUSED_ELEMENTS`` elements with a gradient. Anything else: the textbook path."""
    return _applies(optimizer, group, _adam_rule(group))


def adam_update(optimizer: Any, group: dict) -> None:
    """One Adam / AdamW step of ``group`` (what ``Adam._update_group`` does), chunk by chunk over the
    pool. Call only where ``adam_applies`` said yes."""
    beta1, beta2 = group["betas"]
    h = _AdamHyper(group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                   bool(getattr(optimizer, "_decoupled", False)), bool(group["maximize"]), bool(group["amsgrad"]))

    def scalars(state: dict, views: tuple) -> tuple:
        state["step"] += 1
        t = state["step"]
        return h.lr / (1 - h.beta1**t), math.sqrt(1 - h.beta2**t)

    _step(optimizer, group, _adam_rule(group), _adam_chunk, h, scalars)


# --------------------------------------------------------------------------------------------------
# One step of a group: jobs, pieces, the pool
# --------------------------------------------------------------------------------------------------
def _applies(optimizer: Any, group: dict, rule: _Rule) -> bool:
    layout = _layouts.get(optimizer, {}).get(id(group))
    total = 0
    for p in _with_grad(group):
        x, g = p._array, p.grad._array
        if type(x) is not np.ndarray or type(g) is not np.ndarray or x.dtype.kind != "f" or not x.flags.c_contiguous:
            return False
        state = optimizer.state.get(p)
        if state and not _is_ours(layout, p, state, rule) and not _state_fits(state, x, rule):
            return False
        total += x.size
    return total >= MIN_FUSED_ELEMENTS


def _step(optimizer: Any, group: dict, rule: _Rule, kernel: Callable, hyper: Any,
          scalars: Callable[[dict, tuple], tuple]) -> None:
    """Update every parameter of ``group`` that has a gradient: ``kernel(x, g, buffers, hyper,
    *scalars(state, views))`` on each piece, the pieces split over the pool."""
    layout = _current_layout(optimizer, group, rule)
    n_keys = len(rule.keys)
    jobs = []
    for p in _with_grad(group):
        p._version_counter.bump()  # the update changes p in place, as PyTorch's step does
        slot = layout.slots[id(p)]
        flats = tuple(a.reshape(-1) for a in (p._array, p.grad._array, *slot.views[:n_keys]))
        jobs.append(_Job(flats, slot.offset, scalars(optimizer.state[p], slot.views)))
    pieces = _pieces(jobs)

    def work(s: slice) -> None:
        for piece in pieces[s]:
            _update_piece(piece, jobs, layout.buffers, n_keys, kernel, hyper)

    threads.parallel_for(np, len(pieces), sum(job.flats[0].nbytes for job in jobs), work)


def _pieces(jobs: list) -> list:
    """The step cut into pieces of at most ``CHUNK_ELEMENTS``, each a list of ``(job, start, stop)``:
    a large parameter gives one piece per chunk; with ``MERGE_SMALL``, runs of small parameters that
    sit next to each other in the flat buffers (same dtype, same scalars) share one piece."""
    pieces: list = []
    run: list = []
    size = 0  # elements in ``run``
    for k, job in enumerate(jobs):
        n = job.flats[0].size
        if not MERGE_SMALL or n >= CHUNK_ELEMENTS:
            pieces.extend([(k, a, min(a + CHUNK_ELEMENTS, n))] for a in range(0, n, CHUNK_ELEMENTS))
            continue
        if run and not (size + n <= CHUNK_ELEMENTS and _continues(jobs[run[-1][0]], job)):
            pieces.append(run)
            run, size = [], 0
        run.append((k, 0, n))
        size += n
    if run:
        pieces.append(run)
    return pieces


def _continues(last: _Job, job: _Job) -> bool:
    """Whether ``job`` can join the run that ends with ``last``: same dtype and scalars, and its
    buffers follow ``last``'s in the flat buffers."""
    return (job.scalars == last.scalars and job.flats[0].dtype == last.flats[0].dtype
            and job.offset == last.offset + last.flats[0].size)


def _update_piece(piece: list, jobs: list, buffers: dict, n_keys: int, kernel: Callable, hyper: Any) -> None:
    """One piece: a chunk of one parameter in place, or a run of small parameters gathered into
    scratch (their buffers are one slice of the flat buffers already) and scattered back."""
    if len(piece) == 1:
        k, a, b = piece[0]
        x, g, *bufs = (arr[a:b] for arr in jobs[k].flats)
        kernel(x, g, bufs, hyper, *jobs[k].scalars)
        return
    first = jobs[piece[0][0]]
    n = sum(b for _, _, b in piece)
    dtype = first.flats[0].dtype
    xs, gs = _scratch_for(dtype, n, 2, 2)
    np.concatenate([jobs[k].flats[0] for k, _, _ in piece], out=xs)
    np.concatenate([jobs[k].flats[1] for k, _, _ in piece], out=gs)
    kernel(xs, gs, [buf[first.offset:first.offset + n] for buf in buffers[dtype][:n_keys]], hyper, *first.scalars)
    a = 0
    for k, _, b in piece:
        jobs[k].flats[0][...] = xs[a:a + b]
        a += b


# --------------------------------------------------------------------------------------------------
# The kernels: the textbook statements on one chunk
# --------------------------------------------------------------------------------------------------
def _effective_grad(x: np.ndarray, g: np.ndarray, maximize: bool, weight_decay: float, tmp: np.ndarray,
                    gbuf: np.ndarray) -> np.ndarray:
    """``-g`` with ``maximize`` (as ``Optimizer._grads``), then ``g + weight_decay * x`` (L2 penalty)."""
    if maximize:
        g = np.negative(g, out=gbuf)
    if weight_decay != 0:
        np.multiply(x, weight_decay, out=tmp)
        g = np.add(g, tmp, out=gbuf)
    return g


def _adam_chunk(x: np.ndarray, g: np.ndarray, bufs: list, h: _AdamHyper, step_size: float,
                bc2_sqrt: float) -> None:
    """``optim/adam.py``'s statements, in its order and with its scalars, on 1-D chunks (``x`` and the
    moments ``bufs`` updated in place); the temporaries are this thread's cache-sized scratch."""
    tmp, gbuf = _scratch_for(x.dtype, x.size, 0, 2)
    if h.decoupled and h.weight_decay != 0:
        g = _effective_grad(x, g, h.maximize, 0, tmp, gbuf)
        x *= 1 - h.lr * h.weight_decay  # AdamW: shrink the weights directly
    else:
        g = _effective_grad(x, g, h.maximize, h.weight_decay, tmp, gbuf)
    m, v = bufs[0], bufs[1]
    m *= h.beta1
    m += np.multiply(g, 1 - h.beta1, out=tmp)
    v *= h.beta2
    tmp = np.multiply(g, g, out=tmp)
    tmp *= 1 - h.beta2
    v += tmp
    if h.amsgrad:
        np.maximum(bufs[2], v, out=bufs[2])
        denom = np.sqrt(bufs[2], out=tmp)
    else:
        denom = np.sqrt(v, out=tmp)
    denom /= bc2_sqrt
    denom += h.eps
    step = np.divide(m, denom, out=denom)
    step *= step_size
    x -= step


def _scratch_for(dtype: np.dtype, n: int, first: int, count: int) -> list:
    """``count`` of this thread's four scratch chunks of ``dtype`` from ``first``, cut to ``n`` (the
    kernel's temporaries are 0 and 1, a gathered run's ``x`` and ``g`` are 2 and 3). Allocated once
    per thread, dtype and size, so a step allocates nothing."""
    cache = getattr(_scratch, "arrays", None)
    if cache is None:
        cache = _scratch.arrays = {}
    arrays = cache.get(dtype)
    if arrays is None or arrays[0].size < n:
        arrays = cache[dtype] = [np.empty(max(n, CHUNK_ELEMENTS), dtype) for _ in range(4)]
    return [a[:n] for a in arrays[first:first + count]]


# --------------------------------------------------------------------------------------------------
# The flat state buffers
# --------------------------------------------------------------------------------------------------
def _is_ours(layout: _Layout | None, p: Any, state: dict, rule: _Rule) -> bool:
    """Whether ``state`` still holds the views of ``layout``'s slot for ``p`` and ``p`` still fits them."""
    slot = None if layout is None else layout.slots.get(id(p))
    if slot is None or slot.param is not p or layout.keys[:len(rule.keys)] != rule.keys:
        return False
    if any(state.get(key) is not view for key, view in zip(rule.keys, slot.views)):
        return False
    return p._array.shape == slot.views[0].shape and p._array.dtype == slot.views[0].dtype


def _state_fits(state: dict, x: np.ndarray, rule: _Rule) -> bool:
    """A state the flat buffers can take over: the ``rule``'s required entries, and every buffer
    present a NumPy array of ``x``'s shape and dtype."""
    if any(k not in state for k in rule.required):
        return False
    present = [state[k] for k in _ADAM_KEYS if state.get(k) is not None]
    return all(type(a) is np.ndarray and a.shape == x.shape and a.dtype == x.dtype for a in present)


def _current_layout(optimizer: Any, group: dict, rule: _Rule) -> _Layout:
    """The group's layout, rebuilt when any parameter with a gradient is not (or no longer) in it."""
    layouts = _layouts.setdefault(optimizer, {})
    layout = layouts.get(id(group))
    if layout is None or layout.group is not group or not all(
            _is_ours(layout, p, optimizer.state.get(p) or {}, rule) for p in _with_grad(group)):
        layout = layouts[id(group)] = _build_layout(optimizer, group, rule)
    return layout


def _with_grad(group: dict) -> Iterator[Any]:
    return (p for p in group["params"] if p.grad is not None)


def _build_layout(optimizer: Any, group: dict, rule: _Rule) -> _Layout:
    """New flat buffers for the parameters with a gradient or with state, their buffers copied in
    (zeros for a new parameter), and the state pointed at the views."""
    members: dict = {}
    for p in group["params"]:
        state = optimizer.state.get(p)
        if p.grad is not None or (state and _state_fits(state, p._array, rule)):
            members.setdefault(p._array.dtype, []).append(p)
    layout = _Layout(group, rule.keys, {}, {})
    for dtype, params in members.items():
        total = sum(p._array.size for p in params)
        buffers = layout.buffers[dtype] = tuple(np.zeros(total, dtype) for _ in rule.keys)
        offset = 0
        for p in params:
            n, shape = p._array.size, p._array.shape
            views = tuple(b[offset:offset + n].reshape(shape) for b in buffers)
            _adopt(optimizer.state[p], views, rule)
            layout.slots[id(p)] = _Slot(p, views, offset)
            offset += n
    return layout


def _adopt(state: dict, views: tuple, rule: _Rule) -> None:
    """Copy ``state``'s buffers into ``views`` and store the views; a fresh state starts at step 0 with
    zero moments, as the textbook's."""
    if not state:
        state["step"] = 0
    for key, view in zip(rule.keys, views):
        if state.get(key) is not None:
            view[...] = state[key]
        state[key] = view
