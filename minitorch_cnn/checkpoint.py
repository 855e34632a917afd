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

Loading (through :mod:`~minitorch_cnn.safe_load`) checks, before decoding any array, and names the
file in every error: that it exists; that it is a zip archive of ``.npy`` members (random bytes,
empty or truncated files never reach NumPy's loader, whose advice for them is to enable pickle);
that no member holds pickled objects; that every member's declared size fits the file; that it has
the ``__tree__`` entry in this format version; that the tree nests at most 64 deep and has at most
a million values; and that the arrays the tree names -- each time it names them -- decode to at
most ``max(256 MiB, 100 x the file size)`` unless ``max_bytes=`` says more. A training checkpoint's
fields are then checked by :func:`validate_checkpoint_config` (``epoch`` -5 would train epochs
-4..2). Members are read one at a time straight into the rebuilt tree, so a large checkpoint is in
memory once, not twice. :func:`state_dict_mismatch` says which keys and shapes differ when a
checkpoint of another model is loaded. ``save_checkpoint`` refuses a directory or ``""`` as its
path before writing anything.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from .data.fileio import atomic_open
from .safe_load import CorruptFileError, LoadError, NpzArchive, parse_json

__all__ = ["save_checkpoint", "load_checkpoint", "flatten_tree", "unflatten_tree", "state_dict_mismatch",
           "validate_checkpoint_config", "is_training_checkpoint", "CheckpointConfigError", "check_save_path",
           "write_npz", "read_tree", "FORMAT", "TREE_KEY"]

TREE_KEY = "__tree__"
"""The one member holding the JSON description of the tree (the only member that is not a saved array)."""
FORMAT = "minitorch_cnn.checkpoint/1"


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
            data = node.detach()._array if is_tensor else node
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


def check_save_path(path: str | os.PathLike, fn: str = "save_checkpoint") -> Path:
    """``path`` as a ``Path`` if a file can be written there; raised before anything is written.

    Refuses ``""`` (which ``Path`` would silently turn into ``"."``), a path ending in a separator
    and an existing directory: each would fail only after the whole temporary file was written.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{fn}: path must be a str or os.PathLike, got {type(path).__name__}")
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise ValueError(f"{fn}: the path is empty ({text!r}); give a file name such as 'runs/x/last.npz'")
    if text.endswith(("/", os.sep)):
        raise IsADirectoryError(f"{fn}: {text!r} ends in a separator, so it names a directory; give a file inside "
                                f"it, such as {os.path.join(text, 'last.npz')!r}")
    p = Path(text)
    if p.is_dir():
        raise IsADirectoryError(f"{fn}: {text!r} is a directory; give a file inside it, such as "
                                f"{str(p / 'last.npz')!r}")
    return p


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``{name: array}`` as an uncompressed ``.npz`` (member ``name + ".npy"``) atomically, no pickle."""
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
    return path


def save_checkpoint(path: str | os.PathLike, tree: dict) -> Path:
    """Write ``tree`` (a dict) to ``path`` (``.npz``) atomically, without pickle; returns the path.

    A directory or ``""`` as ``path`` is refused before anything is written.
    """
    path = check_save_path(path)
    if not isinstance(tree, dict):
        raise TypeError(f"save_checkpoint: tree must be a dict, got {type(tree).__name__}")
    desc, arrays = flatten_tree(tree)
    if TREE_KEY in arrays:
        raise ValueError(f"save_checkpoint: the key {TREE_KEY!r} is reserved")
    header = json.dumps({"format": FORMAT, "tree": desc})
    return write_npz(path, {**arrays, TREE_KEY: np.array(header)})


def _check_tree(node: Any, npz: NpzArchive, path: Path, fn: str) -> dict[str, int]:
    """Check every entry of a (depth-limited) tree description; ``{member: times referenced}``."""
    refs: dict[str, int] = {}
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        if not isinstance(node, dict):
            continue
        ok = False
        if "__array__" in node:
            key = node["__array__"]
            ok = isinstance(key, str) and isinstance(node.get("tensor", False), bool)
            if ok and key not in npz.members:
                raise CorruptFileError(f"{fn}: {str(path)!r} lacks the member {key!r} its tree lists; the file was "
                                       "changed after it was written: re-save it or pass another file", path)
            if ok:
                refs[key] = refs.get(key, 0) + 1
        elif "__dict__" in node:
            items = node["__dict__"]
            ok = isinstance(items, list) and all(
                isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], (str, int)) for kv in items)
            if ok:
                stack.extend(kv[1] for kv in items)
        elif "__list__" in node:
            ok = isinstance(node["__list__"], list) and isinstance(node.get("tuple", False), bool)
            if ok:
                stack.extend(node["__list__"])
        elif "__float__" in node:
            ok = node["__float__"] in ("inf", "-inf", "nan")
        if not ok:
            raise CorruptFileError(f"{fn}: {str(path)!r} has an unknown entry {json.dumps(node)[:100]} in its tree "
                                   "description; the file was changed after it was written or is newer: pass "
                                   "another file", path)
    return refs


def read_tree(npz: NpzArchive, device: Any = None) -> dict:
    """Rebuild the checkpoint tree of an opened ``.npz`` (see :func:`load_checkpoint` for the checks)."""
    path, fn = npz.path, npz.fn
    if TREE_KEY not in npz.members:
        names = ", ".join(list(npz.members)[:5]) or "none"
        raise CorruptFileError(f"{fn}: {str(path)!r} is an .npz file but not a minitorch_cnn checkpoint (no "
                               f"{TREE_KEY!r} entry; members: {names}); load it with mt.load", path)
    member = npz.members[TREE_KEY]
    if member.dtype.kind != "U" or member.shape != ():
        raise CorruptFileError(f"{fn}: {str(path)!r} has a {TREE_KEY!r} member of dtype {member.dtype} and shape "
                               f"{member.shape}, not one string: the file is damaged, pass another file", path)
    npz.check_budget(member.nbytes, " (its tree description alone)")
    header = parse_json(str(npz.read(TREE_KEY)[()]), path, fn, "tree description")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else None
        raise CorruptFileError(f"{fn}: {str(path)!r} has format {got!r}, but this version of minitorch_cnn "
                               f"reads {FORMAT!r}; use the version that wrote it", path)
    refs = _check_tree(header.get("tree"), npz, path, fn)
    total = member.nbytes + sum(npz.members[k].nbytes * n for k, n in refs.items())
    repeated = max(refs.values(), default=0)
    npz.check_budget(total, f" (its tree names one member {repeated} times)" if repeated > 1 else "")
    cache: dict[str, np.ndarray] = {}

    class _Members:
        def __getitem__(self, key: str) -> np.ndarray:  # each member read once, a fresh array per reference
            if key not in cache:
                cache[key] = npz.read(key)
                return cache[key]
            return cache[key].copy()

    tree = unflatten_tree(header["tree"], _Members(), device)
    if not isinstance(tree, dict):
        raise CorruptFileError(f"{fn}: {str(path)!r} holds a {type(tree).__name__}, not a checkpoint dict", path)
    if is_training_checkpoint(tree):
        try:
            validate_checkpoint_config(tree)
        except ValueError as exc:
            raise CheckpointConfigError(f"{fn}: {str(path)!r}: {exc}", path) from None
    return tree


def load_checkpoint(path: str | os.PathLike, device: Any = None, *, max_bytes: int | None = None) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles anything).

    ``max_bytes``: the most the arrays may decode to; default ``max(256 MiB, 100 x the file size)``
    (``safe_load.default_max_bytes``). Pass a larger int for a trusted file the cap refuses. A
    training checkpoint (a tree with ``"epoch"`` and ``"config"``) is also checked by
    :func:`validate_checkpoint_config`. Errors are ``ValueError`` subclasses naming the file:
    ``CorruptFileError``, ``PickledMemberError``, ``SizeLimitError``, ``TreeLimitError``,
    ``CheckpointConfigError``; a missing file is ``FileNotFoundError``.
    """
    with NpzArchive(path, "load_checkpoint", max_bytes=max_bytes) as npz:
        return read_tree(npz, device)


# --------------------------------------------------------------------------------------------------
# What a training checkpoint's user reads: checked before any training
# --------------------------------------------------------------------------------------------------
class CheckpointConfigError(LoadError):
    """A training checkpoint's field has a value training cannot use (``epoch`` -5, ``batch_size`` "x")."""


def is_training_checkpoint(tree: Any) -> bool:
    """Whether ``tree`` looks like ``python -m minitorch_cnn.train``'s checkpoint (``epoch`` and ``config``)."""
    return isinstance(tree, dict) and "epoch" in tree and "config" in tree


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, (float, np.floating))) and math.isfinite(float(v))


def validate_checkpoint_config(ckpt: dict, *, max_epochs: int = 10_000, max_batch_size: int = 4096) -> None:
    """Raise ``ValueError`` naming the field and its value if a training checkpoint holds one training
    cannot use; fields that are absent are not checked (``train`` says which it needs).

    Checked: ``epoch`` (int, 0..max_epochs), ``loader.batches_done`` (int >= 0), ``best_accuracy``
    (number), ``history`` / ``resume_log`` (lists), ``normalize`` (two numbers, std > 0),
    ``running`` (train's ``RunningStats`` fields: numbers, ints >= 0 for counts), and in ``config``:
    ``epochs``, ``batch_size``, ``eval_batch_size`` (positive ints within train's limits), ``seed``
    (int in [0, 2**32)), ``limit`` (None or int >= 2), ``lr`` (> 0), ``weight_decay`` (>= 0),
    ``momentum`` ([0, 1)), ``label_smoothing`` ([0, 1]), the names (str) and flags (bool).
    ``max_epochs`` / ``max_batch_size``: train passes its ``MAX_EPOCHS`` / ``MAX_BATCH_SIZE``.
    """
    def bad(field: str, value: Any, want: str) -> ValueError:
        return ValueError(f"checkpoint field {field!r} is {value!r:.60}; it must be {want}. The file was altered or "
                          "not written by minitorch_cnn.train: pass another checkpoint")

    def int_in(field: str, value: Any, lo: int, hi: int | None, what: str) -> None:
        if not _is_int(value) or value < lo or (hi is not None and value > hi):
            raise bad(field, value, f"an int {'in [' + f'{lo}, {hi:_}]' if hi is not None else f'>= {lo}'} ({what})")

    def number_in(field: str, value: Any, ok: Any, want: str) -> None:
        if not _is_number(value) or not ok(float(value)):
            raise bad(field, value, want)

    if not isinstance(ckpt, dict):
        raise ValueError(f"a checkpoint is a dict, got {type(ckpt).__name__}")
    if "epoch" in ckpt:
        int_in("epoch", ckpt["epoch"], 0, max_epochs, "the epochs done")
    loader = ckpt.get("loader")
    if "loader" in ckpt:
        if not isinstance(loader, dict):
            raise bad("loader", loader, "a dict with 'generator' and 'batches_done'")
        if "batches_done" in loader:
            int_in("loader.batches_done", loader["batches_done"], 0, None, "batches of the current epoch done")
    if "best_accuracy" in ckpt:
        number_in("best_accuracy", ckpt["best_accuracy"], lambda v: -1 <= v <= 1, "a number in [-1, 1]")
    for field in ("history", "resume_log"):
        if field in ckpt and not isinstance(ckpt[field], list):
            raise bad(field, ckpt[field], "a list")
    if ckpt.get("normalize") is not None:
        norm = ckpt["normalize"]
        if not (isinstance(norm, (list, tuple)) and len(norm) == 2 and all(map(_is_number, norm)) and norm[1] > 0):
            raise bad("normalize", norm, "[mean, std], two finite numbers with std > 0")
    if "running" in ckpt:
        running = ckpt["running"]
        fields = {"loss_sum", "correct", "seen", "time", "skipped", "last_loss"}
        if not isinstance(running, dict) or not set(running) <= fields:
            raise bad("running", running, f"a dict of {', '.join(sorted(fields))}")
        for key, value in running.items():
            if key in ("correct", "seen", "skipped"):
                int_in(f"running.{key}", value, 0, None, "a count")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise bad(f"running.{key}", value, "a number")
    if "config" not in ckpt:
        return
    cfg = ckpt["config"]
    if not isinstance(cfg, dict):
        raise bad("config", cfg, "a dict of train's flags")
    sizes = {"epochs": max_epochs, "batch_size": max_batch_size, "eval_batch_size": max_batch_size}
    for field, hi in sizes.items():
        if field in cfg:
            int_in(f"config.{field}", cfg[field], 1, hi, "a size")
    if "seed" in cfg:
        int_in("config.seed", cfg["seed"], 0, 2**32 - 1, "the random seed")
    if cfg.get("limit") is not None:
        int_in("config.limit", cfg["limit"], 2, None, "images to train on")
    ranges = {"lr": (lambda v: v > 0, "a finite number > 0"), "weight_decay": (lambda v: v >= 0, "a number >= 0"),
              "momentum": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
              "label_smoothing": (lambda v: 0 <= v <= 1, "a number in [0, 1]")}
    for field, (ok, want) in ranges.items():
        if field in cfg:
            number_in(f"config.{field}", cfg[field], ok, want)
    for field in ("model", "dataset", "optimizer", "scheduler", "device"):
        if field in cfg and not isinstance(cfg[field], str):
            raise bad(f"config.{field}", cfg[field], "a name (str)")
    for field in ("augment", "skip_nonfinite", "eval_only", "progress"):
        if field in cfg and not isinstance(cfg[field], bool):
            raise bad(f"config.{field}", cfg[field], "true or false")


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
