"""In-place ops and the version counters that keep them safe, following PyTorch's rules.

Every tensor has a version counter, shared with its views, that each in-place change
(``x += 1``, ``x.mul_(2)``, ``x[0] = 5``) bumps. A node remembers the versions of the tensors its
``forward`` saved, and ``backward`` refuses to use a saved tensor that was changed since
(``_check_saved_versions``). An in-place op is computed out of place and written back into the
tensor's memory (``apply_inplace``); when the graph records it, the tensor's ``grad_fn`` becomes
the new node.

``Function.apply`` (``autograd.py``) calls the three hooks at the top: ``_check_views_current``
before ``forward``, ``_share_version`` for ops whose output may be a view of their input, and
``_note_saved_versions`` when it records a node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import backend, grad_mode

if TYPE_CHECKING:
    from .autograd import Context, Function, Node
    from .tensors import Tensor

__all__ = ["apply_inplace", "check_inplace", "write_inplace"]


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


# --------------------------------------------------------------------------------------------------
# What Function.apply and backward ask: is a view current, does an output share memory, what was saved
# --------------------------------------------------------------------------------------------------
def _note_saved_versions(ctx: Context, tensors: list, results: list) -> None:
    """Note the versions of the inputs and outputs that ``forward`` saved (by array identity)."""
    owners = {id(t._array): (t, f"input {i}") for i, t in enumerate(tensors) if t is not None}
    owners.update({id(r._array): (r, f"output {k}") for k, r in enumerate(results)})
    for a in ctx.saved_tensors:
        owner = owners.get(id(a))
        if owner is not None:
            t, where = owner
            ctx._saved_versions.append(_SavedVersion(t._version_counter, where, t.shape, t.dtype))


def _share_version(base: Tensor, view: Tensor) -> None:
    """Give ``view`` the counter of ``base`` when their arrays overlap (a view, not a copy)."""
    xp = backend.get_array_module(base._array)
    if xp.may_share_memory(view._array, base._array):
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

    if not grad_mode._grad_enabled:
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
    write_inplace(target, result._array, op)
    if record:
        _rewire(target, result)
    return target


def write_inplace(target: Tensor, array: Any, op: str, key: Any = Ellipsis) -> None:
    """``target._array[key] = array`` and bump the version (the one place in-place writes happen)."""
    flags = getattr(target._array, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        raise RuntimeError(
            f"{op}: this tensor of shape {target.shape} is a broadcast view (expand / broadcast_to) whose "
            "elements share memory, so it cannot be written in place; clone() it first"
        )
    target._array[key] = array
    target._version_counter.bump()


def _snapshot(t: Tensor) -> Tensor:
    """A copy of ``t``'s current values standing where ``t`` stands in the graph (its old self)."""
    from .tensors import Tensor

    s = Tensor._from_array(t._array.copy())
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
