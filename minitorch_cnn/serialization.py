"""``mt.save(obj, f)`` / ``mt.load(f)``: state dicts (and checkpoints) in ``.npz`` or ``.safetensors``.

torch's argument order and names, without pickle: neither format can run code when loaded.

* ``.safetensors`` (Hugging Face's format: a JSON header of names, dtypes and shapes, then the raw
  little-endian bytes; read and written here by the ``safetensors`` package's NumPy API) holds one
  flat ``{name: tensor}`` mapping -- a model's ``state_dict()``. This is the format
  ``tools/convert_torchvision_weights.py`` writes from torchvision's checkpoints, keys unchanged.
* ``.npz`` holds any checkpoint tree (``checkpoint.save_checkpoint``: nested dicts, lists, numbers,
  strings); a state dict's arrays keep their key names (``np.load(f)["fc.weight"]`` works). A flat
  state dict ``{name: Tensor}`` is written as a plain ``.npz`` of exactly its keys (``np.load``
  users see those names and nothing else); a nested tree adds one member, ``"__tree__"``, the JSON
  description ``mt.load`` rebuilds it from. A plain ``.npz`` written by ``np.savez`` loads as
  ``{name: Tensor}``.

Loading a file made for another model into ``model.load_state_dict(mt.load(f))`` fails with one
message listing the missing, unexpected and mis-shaped keys. Writes are atomic. Loading checks the
file before decoding it and caps what it may allocate (``max_bytes=``; see ``safe_load``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from .checkpoint import TREE_KEY, check_save_path, read_tree, save_checkpoint, write_npz
from .data.fileio import atomic_write_bytes
from .safe_load import NpzArchive, read_safetensors

__all__ = ["save", "load"]

_SUFFIXES = (".npz", ".safetensors")


def _format(f: str | os.PathLike, fn: str) -> str:
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"{fn}: f must be a path (str or os.PathLike), got {type(f).__name__}")
    suffix = Path(f).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"{fn}: {str(f)!r} must end in .npz or .safetensors (the format is chosen by the suffix)")
    return suffix


def _safetensors_numpy(fn: str) -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(f"{fn}: .safetensors files need the safetensors package: pip install safetensors") from None
    return safetensors.numpy


def _flat_arrays(obj: Any, fn: str) -> dict[str, np.ndarray]:
    """``{name: contiguous NumPy array}`` of a flat mapping of Tensors / arrays, or a clear error."""
    from .tensors import Tensor

    if not isinstance(obj, Mapping):
        raise TypeError(f"{fn}: a .safetensors file holds a state dict ({{name: tensor}}), got {type(obj).__name__}")
    out = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"{fn}: state-dict keys must be str, got {key!r}")
        data = value.detach()._array if isinstance(value, Tensor) else value
        if not hasattr(data, "shape"):
            raise TypeError(f"{fn}: {key!r} is a {type(value).__name__}; a .safetensors file holds only tensors "
                            "(save other values in an .npz checkpoint)")
        out[key] = np.array(backend.to_numpy(data), order="C")  # ascontiguousarray would make 0-d 1-d
    return out


def _is_flat_state_dict(obj: Mapping) -> bool:
    """A ``{str: Tensor}`` mapping whose keys are plain member names: saved with no metadata at all."""
    from .tensors import Tensor

    return all(isinstance(k, str) and k and k != TREE_KEY and isinstance(v, Tensor) for k, v in obj.items())


def save(obj: Any, f: str | os.PathLike) -> Path:
    """Write ``obj`` to ``f``: a state dict as ``.safetensors``, or any checkpoint dict as ``.npz``.

    The suffix of ``f`` picks the format. Returns the path. In an ``.npz``, a flat ``{name: Tensor}``
    mapping (a ``state_dict()``) is stored as exactly its keys -- ``np.load(f).files`` lists them
    and nothing else; any other dict (nested, or with numbers, strings, arrays) is a checkpoint,
    whose one extra member ``"__tree__"`` describes the nesting (``checkpoint.save_checkpoint``).
    A directory or ``""`` as ``f`` is refused before anything is written.
    """
    fmt = _format(f, "save")
    path = check_save_path(f, "save")
    if fmt == ".npz":
        if not isinstance(obj, Mapping):
            raise TypeError(f"save: expected a state dict or checkpoint dict, got {type(obj).__name__}")
        if _is_flat_state_dict(obj):
            return write_npz(path, _flat_arrays(obj, "save"))
        return save_checkpoint(path, dict(obj))
    payload = _safetensors_numpy("save").save(_flat_arrays(obj, "save"), metadata={"format": "minitorch_cnn"})
    atomic_write_bytes(path, payload)
    return path


def load(f: str | os.PathLike, map_location: Any = None, *, max_bytes: int | None = None) -> dict:
    """Read what :func:`save` wrote: ``{name: Tensor}`` (or the checkpoint tree), on ``map_location``.

    ``map_location``: a device (``"cpu"``, ``"cuda"``) for the Tensors; default CPU.
    ``max_bytes``: the most the file may decode to; default ``max(256 MiB, 100 x the file size)``,
    so a small file can never make this allocate gigabytes (a deflate bomb, a tree naming one big
    member many times). Pass a larger int for a trusted file the cap refuses.

    Every file is checked before its data is decoded (:mod:`~minitorch_cnn.safe_load`): errors are
    ``ValueError`` subclasses naming the file and what is wrong -- ``CorruptFileError`` (empty,
    truncated, random bytes, another format, lying headers), ``PickledMemberError`` (an object
    array: never loaded), ``SizeLimitError`` (over the cap), ``TreeLimitError``; a missing file is
    ``FileNotFoundError``. Nothing is ever unpickled.
    """
    from .tensors import Tensor

    fmt = _format(f, "load")
    if fmt == ".safetensors":
        arrays = read_safetensors(f, "load", max_bytes=max_bytes)
    else:
        with NpzArchive(f, "load", max_bytes=max_bytes) as npz:
            if TREE_KEY in npz.members:
                return read_tree(npz, device=map_location)
            npz.check_budget(sum(m.nbytes for m in npz.members.values()))
            arrays = {name: npz.read(name) for name in npz.members}
    out = {k: Tensor._from_array(v) for k, v in arrays.items()}
    return out if map_location is None else {k: t.to(map_location) for k, t in out.items()}
