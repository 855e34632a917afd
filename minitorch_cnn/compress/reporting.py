"""``report(model)``: what compression bought, per layer and in total.

Columns, per Conv2d / Linear (and in total, with every other parameter and buffer in float32):

* ``params``: entries of the weight and bias; ``nonzeros``: of the weight the layer computes with;
* ``bits/w``: bits per weight in the ``export`` encoding (indices, codes, codebook and scales
  included); ``bytes``: weight plus bias as ``export`` stores them (before deflate);
* ``mult-adds``: per image, counting only non-zero weights (a skipped zero costs nothing),
  beside the dense count: a Conv2d does ``nonzeros * H_out * W_out``, a Linear ``nonzeros``;
* ``ratio``: float32 bytes / stored bytes.

With ``path`` the model is exported there and the *file size on disk* is reported; with a
``loader`` the test accuracy too (``baseline``: a float model to compare with on the same data).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..creation import zeros
from ..nn import Module
from . import layers, storage
from .int8 import _Int8Layer

__all__ = ["report", "print_report", "accuracy"]


def _output_positions(model: Module, input_size: tuple[int, ...]) -> dict[int, int]:
    """``id(layer) -> H_out * W_out`` (1 for Linear) from one forward pass in eval mode."""
    positions: dict[int, int] = {}
    hooks = [m.register_forward_hook(lambda m, a, out: positions.__setitem__(id(m), int(np.prod(out.shape[2:]))))
             for _, m in storage._weight_layers(model)]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(zeros(*input_size, device=_device(model)))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return positions


def _device(model: Module) -> Any:
    for t in list(model.parameters()) + list(model.buffers()):
        return backend.device_of(t._array)
    return "cpu"


def _used(layer: Module) -> np.ndarray:
    if isinstance(layer, _Int8Layer):
        return backend.to_numpy(layer.weight_codes._array)
    with no_grad():
        return backend.to_numpy(layers.used_weight(layer)._array)


def _layer_row(path: str, layer: Module, positions: int) -> dict:
    w = _used(layer)
    bias = getattr(layer, "bias", None)
    n_bias = 0 if bias is None else int(bias.numel())
    meta, arrays = storage.encode_weight(layer)
    weight_bytes = int(sum(a.nbytes for a in arrays.values()))
    nnz = int(np.count_nonzero(w))
    spatial = positions  # H_out * W_out for a convolution, 1 for a Linear
    return {
        "layer": path, "type": type(layer).__name__, "encoding": meta["kind"] + (" sparse" if meta.get("sparse") else ""),
        "params": int(w.size) + n_bias, "nonzeros": nnz, "bits_per_weight": 8 * weight_bytes / max(1, w.size),
        "bytes": weight_bytes + 4 * n_bias, "float32_bytes": 4 * (int(w.size) + n_bias),
        "mult_adds": nnz * spatial, "dense_mult_adds": int(w.size) * spatial,
    }


def accuracy(model: Module, loader: Iterable) -> float:
    """Fraction of correct arg-max predictions over ``loader``'s ``(inputs, targets)`` (eval mode)."""
    was_training = model.training
    model.eval()
    correct = seen = 0
    with no_grad():
        for x, y in loader:
            pred = backend.to_numpy(model(x)._array.argmax(axis=1))
            correct += int((pred == backend.to_numpy(y._array)).sum())
            seen += len(pred)
    model.train(was_training)
    return correct / max(1, seen)


def report(model: Module, input_size: tuple[int, ...] = (1, 1, 28, 28), loader: Iterable | None = None,
           path: Any = None, baseline: Module | None = None) -> dict:
    """Per-layer and total sizes and costs of ``model`` (see the module docstring), as a dict."""
    positions = _output_positions(model, input_size)
    rows = [_layer_row(p, m, positions.get(id(m), 1)) for p, m in storage._weight_layers(model)]
    stored = {r["layer"] for r in rows}
    other = storage._other_state(model, stored)
    other_bytes = int(sum(4 * v.size for k, v in other.items() if k.rpartition(".")[0] not in stored
                          or not k.endswith(".bias")))
    total = {
        "params": sum(r["params"] for r in rows), "nonzeros": sum(r["nonzeros"] for r in rows),
        "bytes": sum(r["bytes"] for r in rows) + other_bytes,
        "float32_bytes": sum(r["float32_bytes"] for r in rows) + other_bytes,
        "mult_adds": sum(r["mult_adds"] for r in rows), "dense_mult_adds": sum(r["dense_mult_adds"] for r in rows),
        "other_float32_bytes": other_bytes,
    }
    total["ratio"] = total["float32_bytes"] / max(1, total["bytes"])
    for r in rows:
        r["ratio"] = r["float32_bytes"] / max(1, r["bytes"])
    result: dict[str, Any] = {"layers": rows, "total": total}
    if path is not None:
        result["file_bytes"] = storage.export(model, path)
        result["file"] = str(path)
    if loader is not None:
        loader = list(loader) if baseline is not None else loader
        result["accuracy"] = accuracy(model, loader)
        if baseline is not None:
            result["baseline_accuracy"] = accuracy(baseline, loader)
    return result


def print_report(result: dict, console: Any = None, title: str = "Compression report") -> None:
    """The ``report`` dict as a rich table."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=title)
    for col in ("layer", "type", "encoding", "params", "nonzeros", "bits/w", "bytes", "mult-adds", "ratio"):
        table.add_column(col, justify="left" if col in ("layer", "type", "encoding") else "right")
    for r in result["layers"]:
        table.add_row(r["layer"], r["type"], r["encoding"], f"{r['params']:,}", f"{r['nonzeros']:,}",
                      f"{r['bits_per_weight']:.2f}", f"{r['bytes']:,}",
                      f"{r['mult_adds']:,} / {r['dense_mult_adds']:,}", f"{r['ratio']:.1f}x")
    t = result["total"]
    table.add_row("total", "", f"+ {t['other_float32_bytes']:,} B other state", f"{t['params']:,}",
                  f"{t['nonzeros']:,}", "", f"{t['bytes']:,}", f"{t['mult_adds']:,} / {t['dense_mult_adds']:,}",
                  f"{t['ratio']:.1f}x")
    console.print(table)
    if "file_bytes" in result:
        console.print(f"file on disk: {result['file']} = {result['file_bytes']:,} bytes")
    if "accuracy" in result:
        line = f"test accuracy {100 * result['accuracy']:.2f}%"
        if "baseline_accuracy" in result:
            line += f" (float baseline {100 * result['baseline_accuracy']:.2f}%)"
        console.print(line)
