"""Where every output pixel looks: each spatial op declares its geometry once, on its graph node.

A convolution, pooling, padding or resizing op knows exactly which input pixels feed each output
pixel: it has just resolved its kernel, stride, ``(before, after)`` padding and dilation (``'same'``
with an even kernel, ``'full'``, ``ceil_mode`` included) in ``_checks.py``. The public op attaches
that resolved geometry -- and its multiply-accumulate count where it multiplies -- to the autograd
node it creates (``declare``). The inspection tools read it back from the graph (``declared``):

* ``viz.receptive_field`` walks the nodes of one traced forward pass and applies each node's
  geometry, so layers, functional calls inside ``forward`` (``F.max_pool2d``, ``x + skip``,
  ``mt.cat``, ``chunk``) and new layers built from these ops all work without the tool knowing
  any layer class;
* ``viz.summary`` adds up the declared mult-adds of the nodes each layer created.

Geometries (per spatial axis, last axes of the tensor):

* ``Window(kernel, stride, pads, dilation)`` -- output ``i`` reads inputs ``i*s + m*d - before``,
  ``m = 0..k-1``. Padding layers are windows of size 1 with (possibly negative) pads.
  ``transposed=True``: the op is the adjoint of that window (transposed convolution, nearest
  up-sampling by an integer factor), so output ``o`` is fed by the inputs ``i`` with
  ``o = i*s + m*d - before``.
* ``Global(out)`` -- every output sees the whole input (adaptive pooling into unequal bins,
  ``align_corners=True`` resizing): the safe answer when no window describes the op.

Nodes without a declaration keep pixels where they are when their output keeps the input's last
two axes (activations, BatchNorm, adds, channel concatenation and splits, channel shuffles);
otherwise (flatten, linear on a flattened map) the spatial layout is gone and every output sees
everything.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = ["Window", "Global", "Declared", "declare", "declared"]


@dataclass(frozen=True)
class Window:
    """A sliding window per spatial axis (see the module docstring); ``pads`` are ``(before, after)``.

    The checks (``_checks.py``) resolve every spatial op's arguments into one ``Window``; the op's
    ``Function`` and its kernels take it whole, and it is what the op declares on its graph node.
    ``groups`` (convolutions) and ``out`` (the output's spatial size, where the op knows it) do not
    take part in comparisons: two ops with the same kernel, stride, padding and dilation see the
    same pixels.
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    transposed: bool = False
    groups: int = field(default=1, compare=False)
    out: tuple[int, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        n = len(self.kernel)
        if not (len(self.stride) == len(self.pads) == len(self.dilation) == n):
            raise ValueError(f"Window: kernel, stride, pads and dilation need {n} entries each, got {self}")

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        """``d*(k - 1) + 1``: the span of a dilated kernel (the one place this is computed)."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def padding(self) -> tuple[int, ...]:
        """The ``before`` padding per axis (pooling's symmetric ``padding`` argument)."""
        return tuple(lo for lo, _ in self.pads)

    def replace(self, **changes: Any) -> Window:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Global:
    """Every output position sees the whole input; ``out`` is the output's spatial size."""

    out: tuple[int, ...]


Geometry = Union[Window, Global]


@dataclass(frozen=True)
class Declared:
    """What an op declared about its node: the geometry (or None: pointwise) and mult-adds."""

    geometry: Geometry | None
    mult_adds: int = 0


# keyed by the autograd node, dropped with it: nothing is added to the graph's own objects
_DECLARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def declare(result: Any, geometry: Geometry | None = None, mult_adds: int = 0) -> Any:
    """Attach ``geometry`` / ``mult_adds`` to the node behind ``result`` (a Tensor or a tuple of
    them); returns ``result``. Nothing happens when no graph was recorded (``no_grad``)."""
    first = result[0] if isinstance(result, tuple) else result
    node = getattr(first, "grad_fn", None)
    if node is not None:
        _DECLARED[node] = Declared(geometry, int(mult_adds))
    return result


def declared(node: Any) -> Declared | None:
    """The declaration attached to ``node`` by its op, or None."""
    return _DECLARED.get(node) if node is not None else None
