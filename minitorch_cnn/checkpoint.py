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
checkpoint intact. Every array is written with ``allow_pickle=False``, so an object array (which
only pickle could store) is refused at save time with its key, not discovered at load time.

Loading checks, in order, and names the file in every error: that it exists, that it is a zip
archive (what ``.npz`` is; random bytes never reach NumPy's loader, whose advice for them is to
enable pickle), that it has the ``__tree__`` entry, that its format version is this one, and that
no member holds pickled objects. Members are read one at a time straight into the rebuilt tree,
so a large checkpoint is in memory once, not twice. :func:`state_dict_mismatch` says which keys
and shapes differ when a checkpoint of another model is loaded.
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

__all__ = ["save_checkpoint", "load_checkpoint", "flatten_tree", "unflatten_tree", "state_dict_mismatch",
           "FORMAT"]

_TREE_KEY = "__tree__"
FORMAT = "minitorch_cnn.checkpoint/1"
_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"


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
            arr = np.array(backend.to_numpy(data), order="C")  # ascontiguousarray would make 0-d 1-d
            if arr.dtype.hasobject:
                raise TypeError(f"save_checkpoint: the array at {path!r} has dtype object, which only pickle could "
                                "store; convert it to a numeric or string dtype (or to lists of numbers)")
            arrays[path] = arr
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
            arr = arrays[desc["__array__"]]  # NpzFile reads the member now: a fresh, writeable array
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
    """Write ``tree`` (a dict) to ``path`` (``.npz``) atomically, without pickle; returns the path."""
    if not isinstance(tree, dict):
        raise TypeError(f"save_checkpoint: tree must be a dict, got {type(tree).__name__}")
    desc, arrays = flatten_tree(tree)
    if _TREE_KEY in arrays:
        raise ValueError(f"save_checkpoint: the key {_TREE_KEY!r} is reserved")
    header = json.dumps({"format": FORMAT, "tree": desc})
    path = Path(path)
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in {**arrays, _TREE_KEY: np.array(header)}.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
    return path


def _check_signature(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC):
        return
    if head.startswith(_NPY_MAGIC):
        raise ValueError(f"load_checkpoint: {str(path)!r} is a single .npy array, not a checkpoint (.npz)")
    what = "is empty" if not head else f"does not start with a zip signature (first bytes {head[:4].hex()})"
    raise ValueError(f"load_checkpoint: {str(path)!r} is not a checkpoint: it {what}; a checkpoint is a .npz "
                     "(zip) file written by save_checkpoint")


def _header_of(path: Path, npz: Any) -> dict:
    if _TREE_KEY not in npz.files:
        raise ValueError(f"load_checkpoint: {str(path)!r} is an .npz file but not a minitorch_cnn checkpoint "
                         f"(no {_TREE_KEY!r} entry; members: {', '.join(npz.files[:5]) or 'none'})")
    header = json.loads(str(npz[_TREE_KEY][()]))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else None
        raise ValueError(f"load_checkpoint: {str(path)!r} has format {got!r}, but this version of minitorch_cnn "
                         f"reads {FORMAT!r}; use the version that wrote it")
    return header


class _Members:
    """The npz's members, read one at a time when the tree asks for them (never all at once)."""

    def __init__(self, path: Path, npz: Any) -> None:
        self.path, self.npz = path, npz

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self.npz[key]
        except KeyError:
            raise ValueError(f"load_checkpoint: {str(self.path)!r} lacks the member {key!r} its tree lists; "
                             "the file was changed after it was written") from None
        except ValueError as exc:  # NumPy: "Object arrays cannot be loaded when allow_pickle=False"
            raise ValueError(f"load_checkpoint: member {key!r} of {str(self.path)!r} holds pickled objects, "
                             "which are never loaded (they could run code)") from exc


def load_checkpoint(path: str | os.PathLike, device: Any = None) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles anything)."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"load_checkpoint: {str(path)!r} {what}")
    _check_signature(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            header = _header_of(path, npz)
            return unflatten_tree(header["tree"], _Members(path, npz), device)
    except (OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"load_checkpoint: {str(path)!r} is corrupt or truncated ({exc})") from None


def state_dict_mismatch(expected: dict, got: dict, limit: int = 6) -> str:
    """How ``got`` (a checkpoint's state dict) differs from ``expected`` (the model's), or ``""``.

    Lists missing and unexpected keys and shape mismatches, at most ``limit`` of each.
    """
    def shape(v: Any) -> tuple:
        return tuple(getattr(v, "shape", ()))

    def some(keys: list) -> str:
        return ", ".join(keys[:limit]) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")

    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [f"{k} {shape(got[k])} vs {shape(v)}" for k, v in expected.items() if k in got and shape(got[k]) != shape(v)]
    parts = [f"missing keys {some(missing)}" if missing else "",
             f"unexpected keys {some(unexpected)}" if unexpected else "",
             f"shapes differ (checkpoint vs model): {some(shapes)}" if shapes else ""]
    return "; ".join(p for p in parts if p)
