"""Checkpoints: a nested dict of Tensors, arrays and plain values in one ``.npz`` file, no pickle.

A training checkpoint is a tree such as::

    {"model": model.state_dict(),            # {"features.0.weight": Tensor, ...}
     "optim": optimizer.state_dict(),        # {"state": {3: {"exp_avg": Tensor, "step": 5}}, "param_groups": [...]}
     "scheduler": ..., "epoch": 4, "rng": backend.get_rng_state(), "config": {...}}

``save_checkpoint`` flattens it: every array leaf becomes one array in the ``.npz`` named by its path,
``"model/features.0.weight"`` or ``"optim/state/3/exp_avg"``; everything else (numbers, strings,
lists, dicts and their key types, which leaves were Tensors) goes into a JSON description of the
tree stored as a 0-d unicode array under ``"__tree__"``. ``load_checkpoint`` reads it with
``allow_pickle=False`` -- a checkpoint can never execute code, unlike a pickle -- and rebuilds the
same tree, Tensors as Tensors, int dict keys as ints.

Writes are atomic (temporary file + ``os.replace``): Ctrl-C during a save leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from .data.fileio import atomic_open

__all__ = ["save_checkpoint", "load_checkpoint", "flatten_tree", "unflatten_tree"]

_TREE_KEY = "__tree__"
_FORMAT = "minitorch_cnn.checkpoint/1"


def _is_tensor(x: Any) -> bool:
    from .tensors import Tensor

    return isinstance(x, Tensor)


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, backend.StrictArray)) or type(x).__module__.startswith("cupy")


def flatten_tree(tree: Any, prefix: str = "") -> tuple[Any, dict[str, np.ndarray]]:
    """Split ``tree`` into (JSON-able description, {path: array}).

    Arrays are referenced from the description as ``{"__array__": path, "tensor": bool}``; dicts as
    ``{"__dict__": [[key, value], ...]}`` so that int keys (optimizer state) survive JSON.
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(node: Any, path: str) -> Any:
        if _is_tensor(node) or _is_array(node):
            is_tensor = _is_tensor(node)
            data = node.detach().data if is_tensor else node
            if path in arrays:
                raise ValueError(f"save_checkpoint: two entries flatten to the same key {path!r}")
            arrays[path] = np.array(backend.to_numpy(data), order="C")  # ascontiguousarray would make 0-d 1-d
            return {"__array__": path, "tensor": is_tensor}
        if isinstance(node, dict):
            items = []
            for k, v in node.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"save_checkpoint: dict key {k!r} at {path or '<root>'!r} must be str or int")
                if isinstance(k, str) and "/" in k:
                    raise ValueError(f"save_checkpoint: dict key {k!r} at {path or '<root>'!r} contains '/'")
                items.append([k, walk(v, f"{path}/{k}" if path else str(k))])
            return {"__dict__": items}
        if isinstance(node, (list, tuple)):
            return {"__list__": [walk(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(node)],
                    "tuple": isinstance(node, tuple)}
        if isinstance(node, np.generic):
            return node.item()
        if node is None or isinstance(node, (bool, int, float, str)):
            if isinstance(node, float) and not np.isfinite(node):
                return {"__float__": repr(node)}  # JSON has no inf/nan
            return node
        raise TypeError(
            f"save_checkpoint: cannot store {type(node).__name__} at {path or '<root>'!r}; use Tensors, "
            "arrays, numbers, strings, None, lists and dicts"
        )

    return walk(tree, prefix), arrays


def unflatten_tree(desc: Any, arrays: Any, device: Any = None) -> Any:
    """Inverse of :func:`flatten_tree`; Tensor leaves are created on ``device`` (default CPU)."""
    from .tensors import Tensor

    if isinstance(desc, dict):
        if "__array__" in desc:
            arr = np.array(arrays[desc["__array__"]])  # a private, writeable copy
            if not desc.get("tensor"):
                return arr
            t = Tensor._from_array(arr)
            return t if device is None else t.to(device)
        if "__dict__" in desc:
            return {k: unflatten_tree(v, arrays, device) for k, v in desc["__dict__"]}
        if "__list__" in desc:
            items = [unflatten_tree(v, arrays, device) for v in desc["__list__"]]
            return tuple(items) if desc.get("tuple") else items
        if "__float__" in desc:
            return float(desc["__float__"])
        raise ValueError(f"load_checkpoint: unknown entry {desc!r:.100} in the tree description")
    return desc


def save_checkpoint(path: str | os.PathLike, tree: dict) -> Path:
    """Write ``tree`` (a dict) to ``path`` (``.npz``) atomically; returns the path."""
    if not isinstance(tree, dict):
        raise TypeError(f"save_checkpoint: tree must be a dict, got {type(tree).__name__}")
    desc, arrays = flatten_tree(tree)
    if _TREE_KEY in arrays:
        raise ValueError(f"save_checkpoint: the key {_TREE_KEY!r} is reserved")
    header = json.dumps({"format": _FORMAT, "tree": desc})
    path = Path(path)
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays, **{_TREE_KEY: np.array(header)})
    return path


def load_checkpoint(path: str | os.PathLike, device: Any = None) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles anything)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _TREE_KEY not in npz.files:
                raise ValueError(
                    f"load_checkpoint: {str(path)!r} is an .npz file but not a minitorch_cnn checkpoint "
                    f"(no {_TREE_KEY!r} entry)"
                )
            header = json.loads(str(npz[_TREE_KEY][()]))
            if header.get("format") != _FORMAT:
                raise ValueError(f"load_checkpoint: {str(path)!r} has unknown format {header.get('format')!r}")
            arrays = {k: npz[k] for k in npz.files if k != _TREE_KEY}
    except (OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"load_checkpoint: {str(path)!r} is corrupt or truncated ({exc})") from None
    return unflatten_tree(header["tree"], arrays, device)
