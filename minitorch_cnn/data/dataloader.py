"""DataLoader: turn a data set into shuffled mini-batches of Tensors.

One epoch is::

    order = generator.permutation(len(dataset)) if shuffle else arange(len(dataset))
    for each run of batch_size indices in order (the last one shorter unless drop_last):
        arrays = dataset.get_batch(indices)              # fast path: one fancy-indexing call
              or collate_fn([dataset[i] for i in indices])   # fallback: one call per sample
        yield tuple of Tensors                           # images float32 (B, C, H, W), labels int64 (B,)

Reproducibility. The shuffling generator is a ``numpy.random.Generator`` of the loader's own,
seeded by ``seed`` (or taken from ``generator``); without either, its seed is drawn from the
global generator, so ``mt.manual_seed(s)`` fixes it as ``torch.manual_seed`` does.

Resuming mid-epoch. ``state_dict()`` records the generator state *at the start of the running
epoch* and how many batches were already handed out; after ``load_state_dict`` the next iteration
re-draws the same permutation and skips those batches without loading them, so an interrupted run
continues with exactly the batches it would have seen.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import backend
from .dataset import Dataset

__all__ = ["DataLoader", "default_collate"]


def default_collate(samples: list) -> Any:
    """Stack a list of samples into a batch, keeping the sample's structure (tuple/list/dict).

    ``[(img0, 0), (img1, 3)] -> (array (2, C, H, W), array([0, 3]))``. Python ints become int64,
    Python floats float32.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        return tuple(default_collate(list(field)) for field in zip(*samples))
    arrays = [backend.to_numpy(getattr(s, "_array", s)) if not np.isscalar(s) else s for s in samples]
    if isinstance(first, (bool, np.bool_)):
        return np.asarray(arrays, dtype=np.bool_)
    if isinstance(first, (int, np.integer)):
        return np.asarray(arrays, dtype=np.int64)
    if isinstance(first, float):
        return np.asarray(arrays, dtype=np.float32)
    try:
        return np.stack(arrays)
    except ValueError as exc:
        shapes = sorted({tuple(np.shape(a)) for a in arrays})
        raise ValueError(f"default_collate: cannot stack samples of shapes {shapes}: {exc}") from None


def _to_tensors(batch: Any, device: Any) -> Any:
    from ..tensors import Tensor

    if isinstance(batch, dict):
        return {k: _to_tensors(v, device) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return tuple(_to_tensors(b, device) for b in batch)
    if isinstance(batch, Tensor):
        return batch if device is None else batch.to(device)
    arr = np.ascontiguousarray(backend.to_numpy(batch) if not isinstance(batch, np.ndarray) else batch)
    if arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)  # labels are int64, as PyTorch's class indices
    elif arr.dtype == np.float64:
        arr = arr.astype(np.float32)  # the framework's default float
    t = Tensor._from_array(arr)
    return t if device is None else t.to(device)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors (PyTorch's signature, single process).

    Args:
        dataset: a :class:`Dataset`; one with ``get_batch(indices)`` is batched without a
            per-sample loop.
        batch_size: samples per batch.
        shuffle: draw a new random order every epoch.
        drop_last: drop the final batch when it is smaller than ``batch_size``.
        collate_fn: list of samples -> batch of arrays (default :func:`default_collate`). Giving
            one forces the per-sample path even when the data set has ``get_batch``.
        generator: a ``numpy.random.Generator`` for shuffling (PyTorch: a ``torch.Generator``).
        seed: alternatively, the seed of a fresh generator.
        device: where the Tensors are created (default CPU); ``"cuda"`` copies each batch over.

    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable | None = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
        device: Any = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator= or seed=, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.device = device
        if generator is None:
            if seed is None:
                seed = int(backend.random_state("cpu").integers(0, 2**63 - 1))
            generator = np.random.default_rng(seed)
        self.generator = generator
        self._epoch_start_state: dict | None = None  # generator state when the running epoch began
        self._batches_done = 0
        self._skip = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    # -- resumable state ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"generator": <bit-generator state>, "batches_done": k}`` (JSON-able)."""
        if self._epoch_start_state is not None and self._batches_done < len(self):
            return {"generator": copy.deepcopy(self._epoch_start_state), "batches_done": self._batches_done}
        return {"generator": copy.deepcopy(self.generator.bit_generator.state), "batches_done": 0}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; the next epoch resumes after ``batches_done`` batches."""
        try:
            gen_state, done = state["generator"], int(state["batches_done"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                "DataLoader.load_state_dict: expected a dict with 'generator' and 'batches_done', got "
                f"{state!r:.200}"
            ) from None
        if not 0 <= done <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_done={done} outside [0, {len(self)}]")
        self.generator.bit_generator.state = gen_state
        self._skip = done

    # -- iteration ------------------------------------------------------------------------------
    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        return self.generator.permutation(n) if self.shuffle else np.arange(n)

    def _fetch(self, indices: np.ndarray) -> Any:
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None and self.collate_fn is None:
            batch = get_batch(indices)
        else:
            collate = self.collate_fn or default_collate
            batch = collate([self.dataset[int(i)] for i in indices])
        return _to_tensors(batch, self.device)

    def __iter__(self) -> Iterator:
        self._epoch_start_state = copy.deepcopy(self.generator.bit_generator.state)
        order = self._order()
        skip, self._skip = self._skip, 0
        self._batches_done = skip
        for b in range(skip, len(self)):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            batch = self._fetch(indices)
            self._batches_done = b + 1  # counted before the yield: the consumer now owns batch b
            yield batch
        self._epoch_start_state = None

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}(n={len(self.dataset)}), "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
