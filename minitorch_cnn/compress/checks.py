"""Checks shared by the compression functions and the CLI, run before any work.

``nonfinite_entries(model)`` lists the parameters and buffers that hold NaN or inf values;
``check_finite_weights(model, fn)`` raises a ``ValueError`` naming the first few of them: pruning a
model with NaN weights masks everything (NaN compares false), k-means gives NaN codebooks, and
quantization gives NaN scales, so a broken model is refused rather than "compressed".
"""

from __future__ import annotations

from ..backend import get_array_module
from ..nn import Module

__all__ = ["nonfinite_entries", "check_finite_weights", "describe_nonfinite"]


def nonfinite_entries(model: Module) -> list[tuple[str, int, int]]:
    """``(name, NaN count, inf count)`` for every floating-point parameter or buffer of ``model`` that
    is not all finite, in ``state_dict`` order."""
    out = []
    for name, value in model.state_dict().items():
        data = getattr(value, "_array", value)
        if data is None or getattr(data, "dtype", None) is None or data.dtype.kind not in "fc":
            continue
        xp = get_array_module(data)
        nan = int(xp.isnan(data).sum())
        inf = int(xp.isinf(data).sum())
        if nan or inf:
            out.append((name, nan, inf))
    return out


def describe_nonfinite(entries: list[tuple[str, int, int]], limit: int = 3) -> str:
    """``"features.0.weight has 12 NaN values, fc.bias has 1 inf value"`` (at most ``limit`` named)."""
    parts = []
    for name, nan, inf in entries[:limit]:
        counts = [f"{c} {kind} value{'s' if c != 1 else ''}" for c, kind in ((nan, "NaN"), (inf, "inf")) if c]
        parts.append(f"{name} has {' and '.join(counts)}")
    more = len(entries) - limit
    return ", ".join(parts) + (f" (and {more} more tensor{'s' if more != 1 else ''})" if more > 0 else "")


def check_finite_weights(model: Module, fn: str) -> None:
    """Raise ``ValueError`` (``"<fn>: features.0.weight has 12 NaN values; ..."``) when any parameter
    or buffer of ``model`` holds NaN or inf."""
    entries = nonfinite_entries(model)
    if entries:
        raise ValueError(f"{fn}: {describe_nonfinite(entries)}; the model is broken (diverged training?), "
                         "compress a checkpoint with finite weights")
