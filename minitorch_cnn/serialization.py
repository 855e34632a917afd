"""``mt.save(obj, f)`` / ``mt.load(f)``: state dicts and checkpoints, as ``torch.save`` / ``torch.load``.

torch's argument order and names, without pickle: neither format can run code when loaded.

* **Any file name works** (``model.pt``, ``ckpt.pth``, ``weights``, ``w.npz``): ``load`` recognises
  the format from the file's first bytes, not its name; ``save`` writes ``.safetensors`` for that
  suffix and the ``.npz`` container for every other name. File objects (``io.BytesIO``, an ``open(f,
  "rb")``) work too, as in torch.
* ``.safetensors`` (Hugging Face's format: a JSON header of names, dtypes and shapes, then the raw
  little-endian bytes; read and written here by the ``safetensors`` package's NumPy API) holds one
  flat ``{name: tensor}`` mapping -- a model's ``state_dict()``. This is the format
  ``tools/convert_torchvision_weights.py`` writes from torchvision's checkpoints, keys unchanged.
* the ``.npz`` container (a zip of ``.npy`` arrays) holds any checkpoint tree
  (``checkpoint.save_checkpoint``: nested dicts with str or int keys, lists, tuples, numbers,
  strings, ``None``; so ``{"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}``
  round-trips); a state dict's arrays keep their key names (``np.load(f)["fc.weight"]`` works). A
  flat state dict ``{name: Tensor}`` is written as a plain ``.npz`` of exactly its keys (``np.load``
  users see those names and nothing else); a nested tree adds one member, ``"__tree__"``, the JSON
  description ``mt.load`` rebuilds it from. A plain ``.npz`` written by ``np.savez`` loads as
  ``{name: Tensor}``. A single Tensor or list may be saved too (``mt.save(t, f)``).

Refused, each with a message saying what to do instead: a whole ``nn.Module`` or optimizer (torch
pickles the object; save ``model.state_dict()``), ``weights_only=False`` and ``pickle_module=``
(nothing is ever unpickled), PyTorch's own ``.pt`` files (zip of pickles, or a legacy pickle).

Loading a file made for another model into ``model.load_state_dict(mt.load(f))`` fails with one
message listing the missing, unexpected and mis-shaped keys. Writes are atomic. Loading checks the
file before decoding it and caps what it may allocate (``max_bytes=``; see ``safe_load``).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from .checkpoint import TREE_KEY, check_save_path, read_tree, save_checkpoint, write_npz
from .data.fileio import atomic_write_bytes
from .safe_load import CorruptFileError, LoadError, NpzArchive, check_file, read_safetensors

__all__ = ["save", "load"]

_OBJECT_KEY = "__object__"
"""``mt.save(tensor_or_list, f)`` stores the checkpoint tree ``{_OBJECT_KEY: obj}``; ``load`` unwraps it."""
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_PICKLE_PROTOCOLS = range(2, 6)  # b"\x80" + protocol byte starts every pickle torch writes (legacy .pt)


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


def _refuse_objects(obj: Any) -> None:
    """A whole Module / optimizer / scheduler: torch pickles it; say why not and what to save instead."""
    from .nn import Module

    if isinstance(obj, Module):
        name = type(obj).__name__
        raise TypeError(
            f"save: cannot save a whole {name} module. torch.save(model, f) pickles the object (its class "
            "and code references), and minitorch_cnn never pickles: loading a pickle can run any code. "
            f"Save its weights instead -- mt.save(model.state_dict(), f) -- and to load, build the model "
            f"again (model = {name}(...)) and call model.load_state_dict(mt.load(f))")
    if not isinstance(obj, Mapping) and callable(getattr(obj, "state_dict", None)):
        name = type(obj).__name__
        raise TypeError(
            f"save: cannot save a whole {name} object: torch would pickle it, and minitorch_cnn never pickles "
            "(loading a pickle can run any code). Save obj.state_dict() instead (it may sit in a checkpoint "
            "dict, e.g. {'epoch': 3, 'model': model.state_dict(), 'optimizer': opt.state_dict()}) and restore "
            "it with obj.load_state_dict(mt.load(f)[...])")


def _write(obj: Any, path: Path, fn: str) -> Path:
    """Write ``obj`` to ``path``: safetensors for that suffix, the ``.npz`` container for any other."""
    from .checkpoint import _is_array
    from .tensors import Tensor

    if path.suffix.lower() == ".safetensors":
        payload = _safetensors_numpy(fn).save(_flat_arrays(obj, fn), metadata={"format": "minitorch_cnn"})
        atomic_write_bytes(path, payload)
        return path
    if isinstance(obj, Mapping):
        if _is_flat_state_dict(obj):
            return write_npz(path, _flat_arrays(obj, fn))
        return save_checkpoint(path, dict(obj))
    if isinstance(obj, (Tensor, list, tuple)) or _is_array(obj):
        return save_checkpoint(path, {_OBJECT_KEY: obj})
    raise TypeError(f"{fn}: expected a state dict, a checkpoint dict, a Tensor or a list, got {type(obj).__name__}")


def save(obj: Any, f: str | os.PathLike | Any) -> Path | None:
    """Write ``obj`` to ``f`` (a path of any name, or a binary file object), as ``torch.save``.

    ``obj``: a state dict, a checkpoint dict (nested dicts / lists / tuples of Tensors, arrays,
    numbers, strings, ``None``; int or str keys), a Tensor or a list. A path ending in
    ``.safetensors`` gets a safetensors file (a flat ``{name: tensor}`` state dict only); any other
    name (``.pt``, ``.pth``, ``.npz``, none) and a file object get the ``.npz`` container. In it, a
    flat ``{name: Tensor}`` mapping is stored as exactly its keys -- ``np.load(f).files`` lists them
    and nothing else; any other object is a checkpoint, whose one extra member ``"__tree__"``
    describes the nesting (``checkpoint.save_checkpoint``). Returns the path (None for a file
    object). A directory or ``""`` as ``f`` is refused before anything is written; so is a whole
    ``nn.Module`` or optimizer (save its ``state_dict()``).
    """
    if not isinstance(f, (str, os.PathLike)):
        if not callable(getattr(f, "write", None)):
            raise TypeError(f"save: f must be a path (str or os.PathLike) or a binary file object with .write(), "
                            f"got {type(f).__name__}")
        _refuse_objects(obj)
        with tempfile.TemporaryDirectory(prefix="minitorch-save-") as tmp:
            path = _write(obj, Path(tmp) / "obj", "save")
            with open(path, "rb") as src:
                shutil.copyfileobj(src, f)
        return None
    path = check_save_path(f, "save")
    _refuse_objects(obj)
    return _write(obj, path, "save")


def _target_device(map_location: Any) -> backend.device | None:
    """The device ``map_location`` asks for (None: leave the Tensors on the CPU), or a clear error."""
    if map_location is None:
        return None
    if isinstance(map_location, Mapping):
        # torch maps each storage's saved location; every array in these files was saved from host memory
        target = map_location.get("cpu", None)
        return None if target is None else _target_device(target)
    if callable(map_location):
        raise TypeError("load: map_location as a function is not supported (torch calls it on each unpickled "
                        "storage, and nothing is unpickled here); pass a device: 'cpu', 'cuda' or mt.device(...)")
    text = map_location.type if isinstance(map_location, backend.device) else str(map_location)
    name, _, index = text.partition(":")
    try:
        dev = backend.device(name)
    except ValueError:
        raise ValueError(f"load: map_location={map_location!r} is not a device minitorch_cnn computes on; pass "
                         "'cpu', 'cuda' (CuPy) or 'strict' (the test stand-in)") from None
    if index and (not index.isdigit() or int(index) != 0):
        raise ValueError(f"load: map_location={map_location!r}: minitorch_cnn addresses one GPU, 'cuda' (the "
                         "same as 'cuda:0': CuPy's current device); pass 'cuda' or 'cpu'")
    if dev.type == "cuda" and not backend.cuda_is_available():
        raise RuntimeError(f"load: map_location={map_location!r} asks for the GPU, but it is not available: "
                           f"{backend.cuda_unavailable_reason()} Load onto the CPU instead (map_location='cpu' or "
                           "no map_location)")
    return dev


def _check_load_options(pickle_module: Any, weights_only: Any, mmap: Any, extra: dict) -> None:
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be None or True, got {weights_only!r}")
    if weights_only is False:
        raise ValueError("load: weights_only=False asks torch to unpickle arbitrary objects, which minitorch_cnn "
                         "never does (loading a pickle can run any code). Files written by mt.save hold only "
                         "tensors, numbers, strings, lists and dicts: drop weights_only (or pass True)")
    if pickle_module is not None:
        raise ValueError("load: pickle_module is not supported: minitorch_cnn never unpickles; drop it")
    if mmap is not None and not isinstance(mmap, bool):
        raise TypeError(f"load: mmap must be None, True or False, got {mmap!r}")
    if extra:
        raise TypeError(f"load: unexpected keyword arguments {sorted(extra)} (torch passes these to pickle; "
                        "nothing is unpickled here)")


def _sniff(head: bytes, size: int) -> str | None:
    """The format the first bytes of a file show: "npz" (a zip), "safetensors", "pickle", or None."""
    if head.startswith(_ZIP_SIGNATURES):
        return "npz"
    if len(head) >= 9 and head[8:9] == b"{" and 2 <= struct.unpack("<Q", head[:8])[0] <= size - 8:
        return "safetensors"  # first: a header of 640 bytes starts b"\x80\x02", as a pickle does
    if len(head) >= 2 and head[0] == 0x80 and head[1] in _PICKLE_PROTOCOLS:
        return "pickle"
    return None


def _refuse_torch_file(path: Path, fmt: str) -> None:
    how = ("convert it where PyTorch is installed: python tools/convert_torchvision_weights.py MODEL --checkpoint "
           "FILE --out w.safetensors, or safetensors.torch.save_file(torch.load(FILE, weights_only=True), "
           "'w.safetensors') for any state dict; then mt.load('w.safetensors')")
    if fmt == "pickle":
        raise CorruptFileError(f"load: {str(path)!r} is a pickle (PyTorch's legacy torch.save format, or "
                               "pickle.dump): minitorch_cnn never unpickles, since loading a pickle can run any "
                               f"code; {how}", path)
    try:
        with zipfile.ZipFile(path) as zf:
            pickled = [n for n in zf.namelist() if n.endswith(".pkl")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # NpzArchive explains what is wrong with it
    if pickled:
        raise CorruptFileError(f"load: {str(path)!r} is a PyTorch file (torch.save's zip of pickles: "
                               f"{pickled[0]!r}); minitorch_cnn never unpickles, since loading a pickle can run "
                               f"any code; {how}", path)


def _load_path(path: Path, dev: backend.device | None, max_bytes: int | None) -> Any:
    from .tensors import Tensor

    size = check_file(path, "load")
    with open(path, "rb") as fh:
        head = fh.read(16)
    fmt = _sniff(head, size) or ("safetensors" if path.suffix.lower() == ".safetensors" else "npz")
    if fmt == "safetensors":
        arrays = read_safetensors(path, "load", max_bytes=max_bytes)
    else:
        _refuse_torch_file(path, fmt)
        with NpzArchive(path, "load", max_bytes=max_bytes) as npz:
            if TREE_KEY in npz.members:
                tree = read_tree(npz, device=dev)
                return tree[_OBJECT_KEY] if list(tree) == [_OBJECT_KEY] else tree
            npz.check_budget(sum(m.nbytes for m in npz.members.values()))
            arrays = {name: npz.read(name) for name in npz.members}
    out = {k: Tensor._from_array(v) for k, v in arrays.items()}
    return out if dev is None else {k: t.to(dev) for k, t in out.items()}


def load(f: str | os.PathLike | Any, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, max_bytes: int | None = None,
         **pickle_load_args: Any) -> Any:
    """Read what :func:`save` wrote: ``{name: Tensor}``, the checkpoint tree, or the saved Tensor / list.

    ``f``: a path of any name or a binary file object (read from its current position). The format
    is recognised from the content: a zip is the ``.npz`` container (a plain ``np.savez`` file loads
    as ``{name: Tensor}``), a safetensors header is safetensors; PyTorch's own pickled ``.pt``
    files are refused with how to convert them.

    ``map_location``: where the Tensors go -- ``None`` or ``"cpu"`` (the CPU), ``"cuda"`` /
    ``"cuda:0"`` / ``mt.device("cuda")`` (the GPU, through CuPy: a clear error when CuPy or a GPU is
    missing; ``"cuda:1"`` is refused, one GPU is addressed), or torch's dict form
    (``{"cuda:0": "cpu"}``: every array here was saved from host memory, so only a ``"cpu"`` key
    moves anything). ``weights_only``: ``None`` or ``True`` (what loading always is); ``False`` is
    refused, as is ``pickle_module``: nothing is ever unpickled. ``mmap`` is accepted; the file is
    read, not memory-mapped.
    ``max_bytes``: the most the file may decode to; default ``max(256 MiB, 100 x the file size)``,
    so a small file can never make this allocate gigabytes (a deflate bomb, a tree naming one big
    member many times). Pass a larger int for a trusted file the cap refuses.

    Every file is checked before its data is decoded (:mod:`~minitorch_cnn.safe_load`): errors are
    ``ValueError`` subclasses naming the file and what is wrong -- ``CorruptFileError`` (empty,
    truncated, random bytes, another format, lying headers, a PyTorch pickle), ``PickledMemberError``
    (an object array: never loaded), ``SizeLimitError`` (over the cap), ``TreeLimitError``; a
    missing file is ``FileNotFoundError``.
    """
    _check_load_options(pickle_module, weights_only, mmap, pickle_load_args)
    dev = _target_device(map_location)
    if isinstance(f, (str, os.PathLike)):
        return _load_path(Path(f), dev, max_bytes)
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"load: f must be a path (str or os.PathLike) or a binary file object with .read(), got "
                        f"{type(f).__name__}")
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"load: the file object gave {type(data).__name__}, not bytes; open the file in binary "
                        "mode ('rb')")
    label = f"<{type(f).__name__}>"
    with tempfile.TemporaryDirectory(prefix="minitorch-load-") as tmp:
        path = Path(tmp) / "file"
        path.write_bytes(data)
        try:
            return _load_path(path, dev, max_bytes)
        except LoadError as exc:  # name the caller's file object, not the temporary copy
            raise type(exc)(str(exc).replace(repr(str(path)), label), None) from None
