"""``mt.save(obj, f)`` / ``mt.load(f)``: state dicts (and checkpoints) in ``.npz`` or ``.safetensors``.

torch's argument order and names, without pickle: neither format can run code when loaded.

* ``.safetensors`` (Hugging Face's format: a JSON header of names, dtypes and shapes, then the raw
  little-endian bytes; read and written here by the ``safetensors`` package's NumPy API) holds one
  flat ``{name: tensor}`` mapping -- a model's ``state_dict()``. This is the format
  ``tools/convert_torchvision_weights.py`` writes from torchvision's checkpoints, keys unchanged.
* ``.npz`` holds any checkpoint tree (``checkpoint.save_checkpoint``: nested dicts, lists, numbers,
  strings); a state dict's arrays keep their key names (``np.load(f)["fc.weight"]`` works). A plain
  ``.npz`` written by ``np.savez`` loads as ``{name: Tensor}``.

Loading a file made for another model into ``model.load_state_dict(mt.load(f))`` fails with one
message listing the missing, unexpected and mis-shaped keys. Writes are atomic.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from .checkpoint import load_checkpoint, save_checkpoint
from .data.fileio import atomic_write_bytes

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
        data = value.detach().data if isinstance(value, Tensor) else value
        if not hasattr(data, "shape"):
            raise TypeError(f"{fn}: {key!r} is a {type(value).__name__}; a .safetensors file holds only tensors "
                            "(save other values in an .npz checkpoint)")
        out[key] = np.array(backend.to_numpy(data), order="C")  # ascontiguousarray would make 0-d 1-d
    return out


def save(obj: Any, f: str | os.PathLike) -> Path:
    """Write ``obj`` to ``f``: a state dict as ``.safetensors``, or any checkpoint dict as ``.npz``.

    The suffix of ``f`` picks the format. Returns the path.
    """
    fmt = _format(f, "save")
    path = Path(f)
    if fmt == ".npz":
        if not isinstance(obj, Mapping):
            raise TypeError(f"save: expected a state dict or checkpoint dict, got {type(obj).__name__}")
        return save_checkpoint(path, dict(obj))
    payload = _safetensors_numpy("save").save(_flat_arrays(obj, "save"), metadata={"format": "minitorch_cnn"})
    atomic_write_bytes(path, payload)
    return path


def _load_plain_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: np.array(npz[k]) for k in npz.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"load: {str(path)!r} is not a readable .npz file ({exc})") from None


def load(f: str | os.PathLike, map_location: Any = None) -> dict:
    """Read what :func:`save` wrote: ``{name: Tensor}`` (or the checkpoint tree), on ``map_location``.

    ``map_location``: a device (``"cpu"``, ``"cuda"``) for the Tensors; default CPU.
    """
    from .tensors import Tensor

    fmt = _format(f, "load")
    path = Path(f)
    if not path.is_file():
        raise FileNotFoundError(f"load: {str(path)!r} does not exist")
    if fmt == ".safetensors":
        try:
            arrays = _safetensors_numpy("load").load_file(str(path))
        except Exception as exc:  # the package raises its own error types for corrupt headers
            raise ValueError(f"load: {str(path)!r} is not a readable .safetensors file ({exc})") from None
    else:
        with np.load(path, allow_pickle=False) as npz:
            is_checkpoint = "__tree__" in npz.files
        if is_checkpoint:
            return load_checkpoint(path, device=map_location)
        arrays = _load_plain_npz(path)
    out = {k: Tensor._from_array(np.array(v)) for k, v in arrays.items()}
    return out if map_location is None else {k: t.to(map_location) for k, t in out.items()}
