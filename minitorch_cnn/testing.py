"""Checking gradients: ``gradcheck`` by finite differences, and hypothesis strategies for tests.

The idea of a gradient check: for a scalar function L(x), the central difference

    (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)  =  dL/dx_i + O(eps^2)

needs only the forward pass, so it is an independent witness of what ``backward`` computes.
For a tensor-valued ``f`` we check L = sum(f(x) * v) with a fixed random ``v``: its gradient is
the vector-Jacobian product v^T J that backward computes from ``gradient=v``. Run in float64,
where eps = 1e-6 makes both the truncation error (eps^2) and rounding error (1e-16 / eps) tiny.

Two modes:

* ``mode="full"`` perturbs every input element (2 forward passes each): exact, for small inputs.
* ``mode="directional"`` (chainer's ``check_backward``) perturbs all elements at once along one
  random direction d and compares (L(x + eps d) - L(x - eps d)) / (2 eps) with <grad, d>:
  2 forward passes in total, for large inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import autograd, autograd_hooks, backend
from .autograd import no_grad
from .tensors import Tensor

__all__ = ["gradcheck", "GradcheckError", "GradcheckReport", "numerical_grad", "saved_by_forward", "saved_nbytes"]


class GradcheckError(AssertionError):
    """Raised when analytic and numerical gradients disagree; ``.report`` says where and by how much."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass
class GradcheckReport:
    ok: bool
    input_index: int
    element: tuple
    analytic: float
    numerical: float
    abs_error: float
    mode: str

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        where = f"input {self.input_index}, element {self.element}" if self.mode == "full" else "along a random direction"
        return (
            f"gradcheck {verdict} ({self.mode} mode). Worst disagreement at {where}: "
            f"analytic {self.analytic:.10g} vs numerical {self.numerical:.10g} (|diff| = {self.abs_error:.3g})"
        )


def _as_float64_inputs(inputs: Sequence[Any]) -> list[Any]:
    out = list(inputs)
    for i, t in enumerate(out):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {t.dtype}; finite differences need float64 inputs "
                "(create them with dtype=minitorch_cnn.float64 or call .double())"
            )
    return out


def _scalarize(fn: Callable, inputs: list, probes: dict) -> Callable[[], float]:
    """L = sum_k sum(out_k * v_k) over the float outputs of ``fn``, with fixed random v_k."""

    def loss() -> Any:
        out = fn(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total = None
        for k, o in enumerate(outs):
            if not isinstance(o, Tensor) or o.dtype.kind != "f":
                continue
            if k not in probes:
                rng = np.random.default_rng(1234 + k)
                probes[k] = Tensor._from_array(backend.to_device(rng.standard_normal(o.shape), o.device))
            term = (o * probes[k]).sum()
            total = term if total is None else total + term
        if total is None:
            raise TypeError("gradcheck: fn returned no floating-point Tensor")
        return total

    return loss


def numerical_grad(loss: Callable[[], Any], t: Tensor, eps: float) -> np.ndarray:
    """dL/dt by central differences, one element at a time (on the host, as float64)."""
    grad = np.zeros(t.shape, dtype=np.float64)
    host = backend.to_numpy(t._array).copy()
    flat = host.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        with no_grad():
            flat[i] = orig + eps
            t._array = backend.to_device(host.copy(), t.device)
            plus = float(loss().item())
            flat[i] = orig - eps
            t._array = backend.to_device(host.copy(), t.device)
            minus = float(loss().item())
        flat[i] = orig
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    t._array = backend.to_device(host, t.device)
    return grad


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    mode: str = "full",
    seed: int = 0,
) -> bool:
    """Compare ``backward`` with finite differences for every input that requires grad.

    Args:
        fn: a function of ``inputs`` returning a Tensor (or a tuple of Tensors).
        inputs: its arguments; the float64 Tensors with ``requires_grad=True`` are checked.
        eps: finite-difference step.
        atol, rtol: pass when |analytic - numerical| <= atol + rtol * |numerical| everywhere.
        raise_exception: raise ``GradcheckError`` on failure (else return False).
        mode: ``"full"`` (every element) or ``"directional"`` (one random direction, for large inputs).

    Returns:
        True when the gradients agree.
    """
    if mode not in ("full", "directional"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'directional', got {mode!r}")
    inputs = _as_float64_inputs(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass Tensors created with requires_grad=True")
    probes: dict = {}
    loss = _scalarize(fn, inputs, probes)
    analytic = _analytic_grads(loss, inputs, checked)
    if mode == "full":
        worst = _full_check(loss, inputs, checked, analytic, eps, atol, rtol)
    else:
        worst = _directional_check(loss, inputs, checked, analytic, eps, atol, rtol, seed)
    if not worst.ok and raise_exception:
        raise GradcheckError(worst)
    return worst.ok


def _analytic_grads(loss: Callable[[], Tensor], inputs: list, checked: list[int]) -> dict[int, np.ndarray]:
    """One backward pass; each checked input's gradient on the host. ``.grad`` is left as it was."""
    saved_grads = {i: inputs[i].grad for i in checked}
    for i in checked:
        inputs[i].grad = None
    try:
        loss().backward()
        return {i: (backend.to_numpy(inputs[i].grad._array).copy() if inputs[i].grad is not None
                    else np.zeros(inputs[i].shape)) for i in checked}
    finally:
        for i in checked:
            inputs[i].grad = saved_grads[i]


def _full_check(loss: Callable[[], Tensor], inputs: list, checked: list[int], analytic: dict, eps: float,
                atol: float, rtol: float) -> GradcheckReport:
    """Every element's central difference against the analytic gradient; the worst element reported."""
    worst = GradcheckReport(True, -1, (), 0.0, 0.0, 0.0, "full")
    worst_excess = -np.inf
    for i in checked:
        num = numerical_grad(loss, inputs[i], eps)
        err = np.abs(analytic[i] - num) - (atol + rtol * np.abs(num))
        if err.size and err.max() > worst_excess:
            k = np.unravel_index(int(err.argmax()), err.shape)
            worst_excess = float(err.max())
            worst = GradcheckReport(
                worst_excess <= 0, i, tuple(int(v) for v in k), float(analytic[i][k]), float(num[k]),
                float(abs(analytic[i][k] - num[k])), "full",
            )
    return worst


def _directional_check(loss: Callable[[], Tensor], inputs: list, checked: list[int], analytic: dict, eps: float,
                       atol: float, rtol: float, seed: int) -> GradcheckReport:
    """d loss / d t along one random direction v: (L(x + eps v) - L(x - eps v)) / 2 eps vs <grad, v>."""
    rng = np.random.default_rng(seed)
    directions = {i: rng.standard_normal(inputs[i].shape) for i in checked}
    hosts = {i: backend.to_numpy(inputs[i]._array).copy() for i in checked}

    def shifted(sign: float) -> float:
        for i in checked:
            inputs[i]._array = backend.to_device(hosts[i] + sign * eps * directions[i], inputs[i].device)
        with no_grad():
            return float(loss().item())

    num = (shifted(+1) - shifted(-1)) / (2 * eps)
    for i in checked:
        inputs[i]._array = backend.to_device(hosts[i], inputs[i].device)
    ana = float(sum((analytic[i] * directions[i]).sum() for i in checked))
    err = abs(ana - num)
    return GradcheckReport(err <= atol + rtol * abs(num), -1, (), ana, num, err, "directional")


# --------------------------------------------------------------------------------------------------
# What a forward keeps for backward (to test that evaluation under no_grad keeps nothing)
# --------------------------------------------------------------------------------------------------
_ENGINE_FIELDS = frozenset({"saved_tensors", "needs_input_grad", "_freed", "_saving", "_saved_versions"})


def _arrays_in(value: Any) -> Iterator[Any]:
    if hasattr(value, "nbytes") and hasattr(value, "shape"):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays_in(v)


def saved_nbytes(ctx: autograd.Context) -> int:
    """Bytes of the arrays ``ctx`` holds: ``saved_tensors`` and array attributes set by forward
    (arg-max indices, im2col columns, masks). Inputs saved by reference count too."""
    values = [ctx.saved_tensors] + [v for k, v in vars(ctx).items() if k not in _ENGINE_FIELDS]
    return sum(int(a.nbytes) for v in values for a in _arrays_in(v))


@dataclass
class SavedRecord:
    op: str
    nbytes: int


@contextlib.contextmanager
def saved_by_forward() -> Iterator[list[SavedRecord]]:
    """``with saved_by_forward() as saved: f(x)``: one ``SavedRecord(op, nbytes)`` per op run inside.

    Under ``no_grad`` (or when no input requires grad) every ``nbytes`` should be 0.
    """
    records: list[SavedRecord] = []

    def observe(function: type, ctx: autograd.Context) -> None:
        records.append(SavedRecord(function.__name__, saved_nbytes(ctx)))

    with autograd_hooks.observing_forwards(observe):
        yield records


# --------------------------------------------------------------------------------------------------
# Hypothesis strategies (imported lazily: hypothesis is a test-time dependency only)
# --------------------------------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4) -> Any:
    """Array shapes, including size-1 and (with min_side=0) empty dimensions."""
    from hypothesis.extra import numpy as hnp

    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, max_side: int = 4) -> Any:
    """Tuples of shapes that broadcast together (size-1 and missing leading dims included)."""
    from hypothesis.extra import numpy as hnp

    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


def arrays(shape: Any, dtype: Any = np.float64, low: float = -3.0, high: float = 3.0, non_contiguous: bool = True) -> Any:
    """NumPy arrays of ``shape`` (a shape or a strategy) with finite values in [low, high].

    With ``non_contiguous`` the array may be drawn as a transposed or strided view of a larger
    one, so ops are also exercised on memory layouts other than C order.
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape_st = shape if hasattr(shape, "example") else st.just(tuple(shape))
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)

    @st.composite
    def draw(draw_: Any) -> np.ndarray:
        s = draw_(shape_st)
        layout = draw_(st.sampled_from(["c", "transposed", "strided"])) if non_contiguous and len(s) else "c"
        if layout == "transposed":
            base = draw_(hnp.arrays(np.float64, tuple(reversed(s)), elements=elements))
            arr = base.T
        elif layout == "strided":
            big = (s[0] * 2,) + tuple(s[1:])
            base = draw_(hnp.arrays(np.float64, big, elements=elements))
            arr = base[::2]
        else:
            arr = draw_(hnp.arrays(np.float64, s, elements=elements))
        return arr.astype(dtype, copy=False)

    return draw()


def tensors(shape: Any, dtype: Any = np.float64, requires_grad: bool = True, device: str = "cpu", **kw: Any) -> Any:
    """Tensors built from :func:`arrays` (float64 and requiring grad by default, for gradcheck)."""
    return arrays(shape, dtype, **kw).map(
        lambda a: _tensor_from(a, device, requires_grad)
    )


def _tensor_from(a: np.ndarray, device: str, requires_grad: bool) -> Tensor:
    t = Tensor._from_array(backend.to_device(a, device))
    if requires_grad and a.dtype.kind == "f":
        t.requires_grad_(True)
    return t
