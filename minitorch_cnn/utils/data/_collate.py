"""``default_collate`` / ``default_convert``: samples -> batches of Tensors, PyTorch's rules.

=============================  =========================================================
sample field                   batch field
=============================  =========================================================
Tensor (on any device)         Tensor, the fields stacked along a new axis 0
numpy array / numpy scalar     Tensor of the array's dtype, stacked
Python int / bool / float      Tensor int64 / bool / float64 (PyTorch's dtypes)
str / bytes                    the list of them
dict                           dict of collated fields
namedtuple                     the same namedtuple of collated fields
tuple / list                   list of collated fields (PyTorch turns tuples into lists too)
=============================  =========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ... import backend
from ...tensors import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _tensor(array: Any) -> Tensor:
    return Tensor._from_array(array)


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch (see the table in the module docstring)."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise ValueError(f"default_collate: expected a non-empty list of samples, got {batch!r:.100}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        arrays = [t._array for t in batch]
        return _tensor(backend.get_array_module(arrays[0]).stack(arrays))
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if np.asarray(elem).dtype.kind in "SaUO":
            raise TypeError(_ERR.format(np.asarray(elem).dtype))
        try:
            return _tensor(np.ascontiguousarray(np.stack([np.asarray(b) for b in batch])))
        except ValueError:
            shapes = sorted({tuple(np.shape(b)) for b in batch})
            raise ValueError(f"default_collate: cannot stack samples of shapes {shapes}") from None
    if isinstance(elem, bool):
        return _tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Arrays -> Tensors without stacking, recursing into containers (PyTorch's ``default_convert``,
    the collate of ``batch_size=None`` and of ``get_batch`` results). Python numbers stay numbers."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        arr = np.asarray(data)
        return data if arr.dtype.kind in "SaUO" else _tensor(np.ascontiguousarray(arr))
    if isinstance(data, Mapping):
        return {key: default_convert(v) for key, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data
