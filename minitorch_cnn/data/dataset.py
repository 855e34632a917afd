"""Data sets: anything with ``len(ds)`` and ``ds[i]``, plus an optional fast path for whole batches.

PyTorch's contract is ``__len__`` and ``__getitem__(i) -> sample``; a ``DataLoader`` then calls
``__getitem__`` once per sample and stacks the results. That per-sample Python loop costs more than
the arithmetic for small images, so a data set here may also implement

    ``get_batch(indices) -> tuple of arrays``   (indices: int64 array of shape (B,))

which builds the whole batch with one fancy-indexing expression (``images[indices]``) and one
call of a (batch-aware) transform. :class:`~minitorch_cnn.data.dataloader.DataLoader` uses it when
present and falls back to ``__getitem__`` + collate otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from .transforms import ToTensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ImageArrayDataset"]


class Dataset:
    """Base class: subclass it and define ``__len__`` and ``__getitem__`` (and maybe ``get_batch``)."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _as_host_array(x: Any) -> np.ndarray:
    data = getattr(x, "_array", x)  # a Tensor's backend array, or the array itself
    return backend.to_numpy(data) if not isinstance(data, np.ndarray) else data


def _check_indices(indices: Any, n: int, who: str) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim != 1:
        raise ValueError(f"{who}.get_batch: indices must be 1-D, got shape {idx.shape}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{who}.get_batch: index out of range for a data set of {n} items")
    return idx


class TensorDataset(Dataset):
    """Samples are slices along the first axis of equal-length arrays/Tensors: ``ds[i] = (x[i], y[i])``.

    ``TensorDataset(images, labels)`` with images (N, C, H, W) and labels (N,). Tensors are copied to
    host NumPy arrays once; batches come back as arrays (the DataLoader wraps them into Tensors).
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array or Tensor")
        self.tensors = tuple(_as_host_array(t) for t in tensors)
        lengths = [a.shape[0] if a.ndim else None for a in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(tuple(a.shape)) for a in self.tensors)
            raise ValueError(
                f"TensorDataset: every array must have the same size along axis 0 (one row per "
                f"sample); got shapes {shapes}"
            )

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple:
        return tuple(a[index] for a in self.tensors)

    def get_batch(self, indices: Any) -> tuple:
        idx = _check_indices(indices, len(self), "TensorDataset")
        return tuple(a[idx] for a in self.tensors)


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (e.g. the first N for a quick run)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if self.indices.ndim != 1 or (self.indices.size and (self.indices.min() < 0 or self.indices.max() >= n)):
            raise ValueError(f"Subset: indices must be a 1-D sequence of ints in [0, {n})")
        if hasattr(dataset, "get_batch"):
            self.get_batch = self._get_batch  # only advertise the fast path the parent has

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def _get_batch(self, indices: Any) -> tuple:
        return self.dataset.get_batch(self.indices[_check_indices(indices, len(self), "Subset")])


class ImageArrayDataset(Dataset):
    """Labelled images held in memory as one uint8 array: the base of MNIST, Fashion-MNIST, built-in.

    Attributes (torchvision's names): ``data`` uint8 (N, H, W), ``targets`` int64 (N,), ``classes``.

    ``ds[i]`` returns ``(image, label)`` with ``image = transform(data[i:i+1])[0]``; ``get_batch(idx)``
    returns ``(transform(data[idx]), targets[idx])``. Transforms are batch transforms (see
    ``transforms.py``); ``transform=None`` means ``ToTensor()``, so images come out float32
    (C, H, W) in [0, 1] (PyTorch would hand back a PIL image, which does not exist here).
    """

    classes: list[str] = []

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        data = np.asarray(data)
        targets = np.asarray(targets)
        if data.ndim not in (3, 4) or targets.ndim != 1 or data.shape[0] != targets.shape[0]:
            raise ValueError(
                f"{type(self).__name__}: expected images (N, H, W) or (N, H, W, C) and labels (N,), got "
                f"shapes {data.shape} and {targets.shape}"
            )
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.transform = transform if transform is not None else ToTensor()
        self.target_transform = target_transform

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple:
        index = int(index)
        image = self.transform(self.data[index : index + 1] if index != -1 else self.data[-1:])[0]
        target = self.targets[index]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices: Any) -> tuple:
        idx = _check_indices(indices, len(self), type(self).__name__)
        targets = self.targets[idx]
        if self.target_transform is not None:
            targets = self.target_transform(targets)
        return self.transform(self.data[idx]), targets

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={len(self)}, image shape={tuple(self.data.shape[1:])}, "
            f"classes={len(self.classes) or 'unnamed'}, transform={self.transform!r})"
        )
