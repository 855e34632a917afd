"""``TensorDataset``, ``ConcatDataset`` and ``random_split`` as in ``torch.utils.data.dataset``.

``Dataset`` and ``Subset`` are ``minitorch_cnn.data``'s classes (they already follow PyTorch; their
optional ``get_batch(indices)`` is the loader's one-call fast path).
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...data import dataset as _base
from ...data.dataset import Dataset, Subset
from ...tensors import Tensor
from ._generator import as_generator, global_generator

__all__ = ["TensorDataset", "ConcatDataset", "random_split"]


class TensorDataset(_base.TensorDataset):
    """``ds[i] = (t0[i], t1[i], ...)`` as Tensors (PyTorch's items), over equal-length Tensors/arrays.

    ``.tensors`` holds Tensors (an array argument is wrapped without a copy); the items and
    ``get_batch`` read host NumPy copies made once, so items are CPU Tensors.
    """

    def __init__(self, *tensors: Any) -> None:
        super().__init__(*tensors)  # checks the lengths; self.tensors = host arrays
        self._arrays = self.tensors
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor._from_array(a) for t, a in zip(tensors, self._arrays))

    def __getitem__(self, index: Any) -> tuple:
        return tuple(Tensor._from_array(np.asarray(a[index])) for a in self._arrays)

    def get_batch(self, indices: Any) -> tuple:
        idx = _base._check_indices(indices, len(self), "TensorDataset")
        return tuple(a[idx] for a in self._arrays)


class ConcatDataset(Dataset):
    """The items of several data sets one after the other; ``cumulative_sizes`` as PyTorch's."""

    @staticmethod
    def cumsum(sequence: Iterable) -> list[int]:
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = self.cumsum(self.datasets)
        if all(hasattr(d, "get_batch") for d in self.datasets):
            self.get_batch = self._get_batch

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, idx: int) -> tuple[int, int]:
        idx = int(idx)
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} out of range for {len(self)} items")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        return d, idx if d == 0 else idx - self.cumulative_sizes[d - 1]

    def __getitem__(self, idx: int) -> Any:
        d, i = self._locate(idx)
        return self.datasets[d][i]

    def _get_batch(self, indices: Any) -> tuple:
        idx = _base._check_indices(indices, len(self), "ConcatDataset") % max(len(self), 1)
        which = np.searchsorted(np.asarray(self.cumulative_sizes), idx, side="right")
        starts = np.asarray([0, *self.cumulative_sizes[:-1]])
        parts, positions = [], []
        for d in np.unique(which):
            pos = np.flatnonzero(which == d)
            parts.append(self.datasets[d].get_batch(idx[pos] - starts[d]))
            positions.append(pos)
        inverse = np.argsort(np.concatenate(positions), kind="stable")
        return tuple(np.concatenate([_base._as_host_array(p[f]) for p in parts])[inverse] for f in range(len(parts[0])))


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths``: counts summing to ``len(dataset)``, or fractions summing to 1 (PyTorch 2.x): each
    split gets ``floor(n * fraction)`` items, and the remaining items go one each to splits 0, 1, 2,
    ... round-robin. ``generator``: a ``numpy.random.Generator`` or an int seed (default: the global
    generator, which ``mt.manual_seed`` seeds). The order is one permutation of ``range(n)``, cut in
    the order of ``lengths``.
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths: list[int] = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(int(math.floor(n * frac)))
        remainder = n - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2)
    if any(isinstance(x, bool) or not float(x).is_integer() or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be counts >= 0 or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    gen = as_generator(generator, "random_split") or global_generator()
    indices = gen.permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, indices[offset : offset + int(length)]))
        offset += int(length)
    return out
