"""``export(model, path)`` / ``load(path, model)``: a compressed ``.npz`` that really is small.

Each Conv2d / Linear weight is stored in the cheapest of these forms (the weight the layer
*computes with*, so a binarized or weight-shared layer is stored by its binary or shared values):

* ``int8``: the integer codes of an ``int8`` layer (int8), its per-channel scales and input
  scale / zero point;
* ``binary``: BinaryConnect / BWN / XNOR: one sign bit per weight (``np.packbits``) and one
  float32 ``alpha`` per output channel;
* ``codebook``: at most 256 distinct non-zero values (k-means, powers of two): the values once,
  and one index per weight (4 bits, two per byte, when there are at most 16 values; else 8);
* ``float``: float32 values.

When at most half of the entries are non-zero (pruning, pre-defined sparsity) only the non-zero
entries are stored, plus their positions as gaps from the previous one (delta indices, LEB128
varint bytes: one byte for gaps below 128). Biases, BatchNorm parameters and statistics are
stored as float32. The arrays go into ``np.savez_compressed`` (deflate, the role Huffman coding
plays in Deep Compression) with a JSON description under ``"__compress__"``; the file is written
atomically and read back through ``safe_load`` (no pickle; sizes, headers and the description
checked before any array is decoded; ``max_bytes=`` for a trusted file over the default cap).

``load(path, model)`` writes the decoded values into ``model`` (a fresh instance of the same
architecture), replaces int8 layers by ``Int8Conv2d`` / ``Int8Linear``, turns XNOR layers back
into ``XNORConv2d`` and re-applies the masks of sparse layers; its outputs equal the exported
model's.
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..data.fileio import atomic_write_bytes
from ..nn import Conv2d, Linear, Module
from ..safe_load import CorruptFileError, NpzArchive, parse_json
from ..tensors import Tensor
from . import encoding, layers, masks
from .binarize import BinaryConnect, BinaryWeight, XNORConv2d
from .int8 import Int8Conv2d, Int8Linear, _Int8Layer

__all__ = ["export", "load", "read_extra", "is_export_file", "encode_weight", "decode_weight", "FORMAT"]

FORMAT = "minitorch_cnn.compress/1"
_META_KEY = "__compress__"


def _positions_and_values(w: np.ndarray) -> tuple[dict, np.ndarray, bool]:
    """Sparse (positions as varint gaps) when at most half is non-zero; returns (arrays, values, sparse)."""
    flat = w.reshape(-1)
    nz = np.flatnonzero(flat)
    if nz.size * 2 <= flat.size:
        return {"gaps": encoding.varint_encode(encoding.delta_indices(nz))}, flat[nz], True
    return {}, flat, False


def _scatter(shape: tuple, arrays: dict, values: np.ndarray, sparse: bool, dtype: Any) -> np.ndarray:
    n = int(np.prod(shape))
    if not sparse:
        return values.astype(dtype).reshape(shape)
    out = np.zeros(n, dtype=dtype)
    out[encoding.undelta_indices(encoding.varint_decode(arrays["gaps"]))] = values
    return out.reshape(shape)


def _binary_alpha(layer: Module) -> np.ndarray | None:
    t = layer._modules.get("weight_transform")
    if isinstance(t, (BinaryConnect, BinaryWeight)):
        w = backend.to_numpy(layers.used_weight(layer)._array)
        return np.abs(w).reshape(w.shape[0], -1).max(axis=1).astype(np.float32)  # |alpha * sign| = alpha
    return None


def encode_weight(layer: Module) -> tuple[dict, dict]:
    """``(meta, arrays)`` describing the weight ``layer`` computes with, in the cheapest form above."""
    if isinstance(layer, _Int8Layer):
        codes = backend.to_numpy(layer.weight_codes._array)
        arrays, values, sparse = _positions_and_values(codes)
        arrays.update(codes=values.astype(np.int8), weight_scale=backend.to_numpy(layer.weight_scale._array),
                      input_scale=backend.to_numpy(layer.input_scale._array),
                      input_zero_point=backend.to_numpy(layer.input_zero_point._array))
        return {"kind": "int8", "shape": list(codes.shape), "sparse": sparse}, arrays
    with no_grad():
        w = backend.to_numpy(layers.used_weight(layer)._array).astype(np.float32)
    alpha = _binary_alpha(layer)
    meta = {"shape": list(w.shape), "xnor": isinstance(layer, XNORConv2d)}
    if alpha is not None:
        return {**meta, "kind": "binary"}, {"signs": np.packbits(w.reshape(-1) >= 0), "alpha": alpha}
    arrays, values, sparse = _positions_and_values(w)
    uniq, codes = np.unique(values, return_inverse=True)
    if uniq.size <= 256:
        packed = encoding.pack_nibbles(codes) if uniq.size <= 16 else codes.astype(np.uint8)
        arrays.update(codebook=uniq.astype(np.float32), codes=packed)
        return {**meta, "kind": "codebook", "sparse": sparse, "count": int(values.size)}, arrays
    arrays["values"] = values.astype(np.float32)
    return {**meta, "kind": "float", "sparse": sparse}, arrays


def decode_weight(meta: dict, arrays: dict) -> np.ndarray:
    """The float32 weight (int8: the int8 codes) an ``encode_weight`` record describes."""
    shape = tuple(meta["shape"])
    kind = meta["kind"]
    if kind == "int8":
        return _scatter(shape, arrays, arrays["codes"], meta["sparse"], np.int8)
    if kind == "binary":
        n = int(np.prod(shape))
        signs = np.unpackbits(arrays["signs"])[:n].astype(np.float32) * 2 - 1
        return (signs.reshape(shape[0], -1) * arrays["alpha"][:, None]).reshape(shape)
    if kind == "codebook":
        n = meta["count"]
        codes = encoding.unpack_nibbles(arrays["codes"], n) if arrays["codebook"].size <= 16 else arrays["codes"]
        return _scatter(shape, arrays, arrays["codebook"][codes.astype(np.int64)], meta["sparse"], np.float32)
    if kind == "float":
        return _scatter(shape, arrays, arrays["values"], meta["sparse"], np.float32)
    raise ValueError(f"decode_weight: unknown kind {kind!r} in the file; written by a newer version?")


def _weight_layers(model: Module) -> list[tuple[str, Module]]:
    return [(p, m) for p, m in model.named_modules() if isinstance(m, (Conv2d, Linear, _Int8Layer))]


def _other_state(model: Module, weight_paths: set[str]) -> dict[str, np.ndarray]:
    """Every parameter / buffer that is not a stored weight and not transform bookkeeping."""
    out = {}
    for key, value in model.state_dict().items():
        path, _, leaf = key.rpartition(".")
        if "weight_transform" in key or "input_transform" in key:
            continue
        if path in weight_paths and (leaf == "weight" or leaf in {"weight_codes", "weight_scale", "input_scale",
                                                                  "input_zero_point"}):
            continue
        out[key] = backend.to_numpy(value._array)
    return out


def export(model: Module, path: str | os.PathLike, extra: dict | None = None) -> int:
    """Write ``model`` compressed to ``path`` (atomically); returns the file size in bytes.

    ``extra``: JSON-able information stored with it (e.g. the input normalisation), read back by
    ``read_extra(path)``.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"export: path must end in .npz, got {str(path)!r}")
    meta: dict[str, Any] = {"format": FORMAT, "layers": {}, "state": [], "extra": extra or {}}
    arrays: dict[str, np.ndarray] = {}
    weight_layers = _weight_layers(model)
    for p, layer in weight_layers:
        record, parts = encode_weight(layer)
        meta["layers"][p] = record
        arrays.update({f"{p}/{k}": v for k, v in parts.items()})
    for key, value in _other_state(model, {p for p, _ in weight_layers}).items():
        meta["state"].append(key)
        arrays[f"state/{key}"] = value
    arrays[_META_KEY] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
    return path.stat().st_size


def _read(path: Path, max_bytes: int | None = None, fn: str = "compress.load") -> tuple[dict, dict]:
    """(description, {name: array}) of an export file, every size checked before anything is decoded."""
    if not path.exists():
        raise FileNotFoundError(f"{fn}: {str(path)!r} does not exist; write it with compress.export(model, path)")
    with NpzArchive(path, fn, max_bytes=max_bytes) as npz:
        member = npz.members.get(_META_KEY)
        if member is None:
            raise CorruptFileError(f"{fn}: {str(path)!r} is not a compress.export file (no {_META_KEY!r} entry); "
                                   "load a training checkpoint with load_checkpoint", path)
        if member.dtype.kind != "U" or member.shape != ():
            raise CorruptFileError(f"{fn}: {str(path)!r} has a {_META_KEY!r} member of dtype {member.dtype} and "
                                   f"shape {member.shape}, not one string: re-export it or pass another file", path)
        npz.check_budget(sum(m.nbytes for m in npz.members.values()))
        meta = parse_json(str(npz.read(_META_KEY)[()]), path, fn, "description")
        _check_meta(meta, path, fn)
        return meta, {k: npz.read(k) for k in npz.members if k != _META_KEY}


def _check_meta(meta: Any, path: Path, fn: str) -> None:
    """The description's fields, checked before they size any array (a lying ``count`` or ``shape``)."""
    def bad(what: str) -> CorruptFileError:
        return CorruptFileError(f"{fn}: {str(path)!r} has {what} in its {_META_KEY!r} description; the file was "
                                "altered or written by another version: re-export it or pass another file", path)

    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise bad(f"format {got!r} (this version reads {FORMAT!r})")
    if not isinstance(meta.get("layers"), dict) or not isinstance(meta.get("state"), list) \
            or not all(isinstance(k, str) for k in meta["state"]) or not isinstance(meta.get("extra", {}), dict):
        raise bad("no 'layers' dict, 'state' list of names or 'extra' dict")
    for p, record in meta["layers"].items():
        shape = record.get("shape") if isinstance(record, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            raise bad(f"layer {p!r} with shape {shape!r}")
        if record.get("kind") not in ("int8", "binary", "codebook", "float"):
            raise bad(f"layer {p!r} of kind {record.get('kind')!r}")
        count = record.get("count", 0)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= math.prod(shape):
            raise bad(f"layer {p!r} with count {count!r} (at most its {math.prod(shape)} weights)")


def read_extra(path: str | os.PathLike, *, max_bytes: int | None = None) -> dict:
    """The ``extra`` dict given to ``export``."""
    return _read(Path(path), max_bytes, "compress.read_extra")[0].get("extra", {})


def is_export_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ``.npz`` written by ``export`` (not, e.g., a training checkpoint).

    Reads only the zip directory and headers; a file that is no readable ``.npz`` raises
    ``safe_load.CorruptFileError`` naming it.
    """
    with NpzArchive(path, "compress.is_export_file") as npz:
        return _META_KEY in npz.members


def _install_int8(model: Module, p: str, layer: Module, record: dict, parts: dict, state: dict) -> None:
    codes = decode_weight(record, parts)
    args = (codes, parts["weight_scale"], parts["input_scale"], parts["input_zero_point"], state.pop(p + ".bias", None))
    if isinstance(layer, Conv2d):
        new: Module = Int8Conv2d(*args, stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                                 groups=layer.groups)
    else:
        new = Int8Linear(*args)
    parent, _, name = p.rpartition(".")
    model.get_submodule(parent)._modules[name] = new


def _check_fits(meta: dict, modules: dict, model: Module) -> None:
    """Every stored layer exists in ``model`` with the stored shape: checked before anything is written."""
    for p, record in meta["layers"].items():
        layer = modules.get(p)
        if not isinstance(layer, (Conv2d, Linear)):
            raise ValueError(f"load: the file has a layer {p!r} that {type(model).__name__} lacks; pass the same "
                             "architecture that was exported")
        if tuple(record["shape"]) != tuple(layer.weight.shape):
            raise ValueError(f"load: {p}.weight has shape {tuple(record['shape'])} in the file, "
                             f"{tuple(layer.weight.shape)} in the model; pass the same architecture that was exported")


def load(path: str | os.PathLike, model: Module, *, max_bytes: int | None = None) -> Module:
    """Fill ``model`` (a fresh float instance of the exported architecture) from ``path``; returns it.

    The file is checked before anything is decoded (``safe_load``: corrupt, pickled or oversized
    files raise a ``ValueError`` subclass naming it); ``max_bytes`` raises the cap on what its
    arrays may decode to (default ``max(256 MiB, 100 x the file size)``) for a trusted file.
    """
    meta, arrays = _read(Path(path), max_bytes)
    state = {k: arrays[f"state/{k}"] for k in meta["state"]}
    modules = dict(model.named_modules())
    _check_fits(meta, modules, model)
    for p, record in meta["layers"].items():
        layer = modules[p]
        parts = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(p + "/")}
        if record["kind"] == "int8":
            _install_int8(model, p, layer, record, parts, state)
            continue
        w = decode_weight(record, parts)
        with no_grad():
            layer.weight._array[...] = backend.to_device(w, backend.device_of(layer.weight._array))
        if record.get("sparse"):
            masks.apply_mask(layer, "weight", layer.weight._array != 0)
        if record.get("xnor"):
            layers.attach(layer)
            layer.__class__ = XNORConv2d
    result = model.load_state_dict({k: Tensor._from_array(v) for k, v in state.items()}, strict=False)
    stored = set(meta["layers"])
    missing = [k for k in result.missing_keys if k.rpartition(".")[0] not in stored]
    if result.unexpected_keys or missing:
        raise ValueError(f"load: the file does not fit {type(model).__name__}: unexpected {result.unexpected_keys}, "
                         f"missing {missing}; pass the same architecture that was exported")
    return model
