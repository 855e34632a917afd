"""``DataLoader``: PyTorch's signature, argument checks and worker processes.

An epoch: the batch sampler yields lists of indices (``BatchSampler(sampler, batch_size,
drop_last)``, the sampler being ``RandomSampler`` when ``shuffle`` else ``SequentialSampler``);
each list becomes a batch ``collate_fn([dataset[i] for i in indices])`` (``default_collate``).
Fast path: when the data set has ``get_batch(indices)`` (``minitorch_cnn.data``'s data sets) and
neither ``sampler``, ``batch_sampler`` nor ``collate_fn`` is given, a batch is one
``get_batch`` call (one fancy-indexing expression and one batch transform) instead of a
per-sample loop; its arrays become Tensors (``default_convert``), in a list as
``default_collate`` gives.

``num_workers > 0`` starts that many worker processes (``fork`` where the platform has it, else
the default start method; ``multiprocessing_context`` chooses). Each has an index queue; the main
process keeps ``prefetch_factor`` batches per worker in flight, hands out batch ``k`` to worker
``k % num_workers`` and yields batches in order. Worker ``i`` seeds Python's ``random``, NumPy's
legacy global generator and the framework's global generator (``backend.random_state``, which
random transforms use) with ``base_seed + i``, ``base_seed`` drawn once per iterator from
``generator`` (or the global generator); then it calls ``worker_init_fn(i)``;
``get_worker_info()`` describes it. An exception in a worker is raised again in the main process
("Caught ValueError in DataLoader worker process 1. Original Traceback ..."), with the original
type where it can be rebuilt from a message, else ``RuntimeError``. Workers stop when the epoch is
exhausted (unless ``persistent_workers``), when the iterator is garbage collected, on any
exception in the main process while it waits (Ctrl-C included: workers ignore SIGINT and are
joined, then terminated if needed), and by themselves within a second when the main process dies.

Differences from PyTorch: ``generator`` is a ``numpy.random.Generator`` or an int seed (there is
no ``mt.Generator``); ``pin_memory`` is accepted and does nothing (batches are host NumPy arrays;
there is no page-locked memory to copy from); no ``IterableDataset``, ``pin_memory_device`` or
``in_order``; samplers' random numbers differ from torch's; workers run one BLAS/pool thread each;
a worker exception ends the iteration (the workers are shut down).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ...ops._checks import is_int
from ._collate import default_collate, default_convert
from ._generator import as_generator, draw_seed
from ._worker import ExceptionWrapper, unbox, worker_loop
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
_POLL_S = 1.0
_JOIN_S = 5.0


class _Fetcher:
    """Indices -> batch, in the main process or a worker (picklable for ``spawn``)."""

    def __init__(self, auto_collation: bool, use_get_batch: bool, collate_fn: Callable) -> None:
        self.auto_collation = auto_collation
        self.use_get_batch = use_get_batch
        self.collate_fn = collate_fn

    def __call__(self, dataset: Any, indices: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(dataset[indices])
        if self.use_get_batch:
            return default_convert(dataset.get_batch(np.asarray(indices, dtype=np.int64)))
        return self.collate_fn([dataset[i] for i in indices])


class DataLoader:
    """Batches of ``dataset`` as Tensors, optionally built by worker processes (PyTorch's API).

    Args (PyTorch's): ``batch_size`` (``None``: no batching, items converted one by one),
    ``shuffle``, ``sampler``, ``batch_sampler``, ``num_workers``, ``collate_fn``, ``pin_memory``
    (a no-op), ``drop_last``, ``timeout`` (seconds to wait for a worker's batch, 0 = forever),
    ``worker_init_fn``, ``multiprocessing_context``, ``generator`` (``numpy.random.Generator``
    or int seed), ``prefetch_factor`` (batches in flight per worker, default 2 with workers),
    ``persistent_workers`` (keep the workers between epochs).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}")
        if not is_int(num_workers):
            raise TypeError(f"num_workers option should be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        given_sampler, given_batch_sampler = sampler is not None, batch_sampler is not None
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        self._generator = as_generator(generator, "DataLoader")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=self._generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = bool(pin_memory)  # accepted; nothing to pin on a NumPy host
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = bool(persistent_workers)
        auto = batch_sampler is not None
        self.collate_fn = collate_fn if collate_fn is not None else (default_collate if auto else default_convert)
        use_get_batch = (
            auto and hasattr(dataset, "get_batch") and collate_fn is None
            and not given_sampler and not given_batch_sampler
        )
        self._fetcher = _Fetcher(auto, use_get_batch, self.collate_fn)
        self._iterator: _MultiProcessIter | None = None
        self.__initialized = True

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__dict__.get("_DataLoader__initialized") and attr in _FROZEN:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _index_sampler(self) -> Iterable:
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self) -> int:
        return len(self._index_sampler)  # type: ignore[arg-type]

    def _context(self) -> Any:
        ctx = self.multiprocessing_context
        if ctx is None:
            return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        return multiprocessing.get_context(ctx) if isinstance(ctx, str) else ctx

    def __iter__(self) -> Iterator:
        base_seed = draw_seed(self._generator)  # drawn in both modes, so they shuffle alike
        if self.num_workers == 0:
            return self._single_process(iter(self._index_sampler))
        if self.persistent_workers:
            if self._iterator is None or self._iterator.closed:
                self._iterator = _MultiProcessIter(self, base_seed)
            else:
                self._iterator.reset(iter(self._index_sampler))
            return self._iterator
        return _MultiProcessIter(self, base_seed)

    def _single_process(self, indices_iter: Iterator) -> Iterator:
        for indices in indices_iter:
            yield self._fetcher(self.dataset, indices)

    def __del__(self) -> None:
        it = self.__dict__.get("_iterator")
        if it is not None:
            it.shutdown()

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}(n={len(self.dataset)}), batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, num_workers={self.num_workers})"
        )


class _MultiProcessIter:
    """The iterator of a loader with workers (see the module docstring). Holds no reference to the
    loader, so dropping the iterator (or the loader of persistent workers) shuts the workers down."""

    def __init__(self, loader: DataLoader, base_seed: int) -> None:
        ctx = loader._context()
        self.num_workers = loader.num_workers
        self.prefetch = max(1, loader.prefetch_factor or 0) * self.num_workers
        self.timeout = loader.timeout
        self.persistent = loader.persistent_workers
        self.closed = False
        self._result_queue = ctx.Queue()
        self._done = ctx.Event()
        self._index_queues, self._workers = [], []
        try:
            for wid in range(self.num_workers):
                iq = ctx.Queue()
                iq.cancel_join_thread()
                w = ctx.Process(
                    target=worker_loop,
                    args=(loader.dataset, loader._fetcher, iq, self._result_queue, self._done,
                          loader.worker_init_fn, base_seed + wid, wid, self.num_workers, os.getpid()),
                    daemon=True,
                )
                w.start()
                self._index_queues.append(iq)
                self._workers.append(w)
        except BaseException:
            self.shutdown()
            raise
        self._epoch = -1
        self.reset(iter(loader._index_sampler))

    @property
    def worker_pids(self) -> list[int]:
        return [w.pid for w in self._workers]

    def reset(self, sampler_iter: Iterator) -> None:
        """Start an epoch: results of an earlier, abandoned epoch are recognised and dropped."""
        self._epoch += 1
        self._sampler_iter = sampler_iter
        self._sent = self._received = 0
        self._buffer: dict[int, Any] = {}
        for _ in range(self.prefetch):
            self._put_next_indices()

    def _put_next_indices(self) -> None:
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[self._sent % self.num_workers].put((self._epoch, self._sent, indices))
        self._sent += 1

    def __iter__(self) -> _MultiProcessIter:
        return self

    def __next__(self) -> Any:
        try:
            return self._next()
        except StopIteration:
            raise
        except BaseException:
            self.shutdown()
            raise

    def _next(self) -> Any:
        if self.closed:
            raise StopIteration
        while True:
            if self._received == self._sent:  # every batch handed out: the epoch is over
                if not self.persistent:
                    self.shutdown()
                raise StopIteration
            if self._received in self._buffer:
                data = self._buffer.pop(self._received)
                self._received += 1
                self._put_next_indices()
                if isinstance(data, ExceptionWrapper):
                    data.reraise()
                return unbox(data)
            epoch, number, data = self._get()
            if epoch == self._epoch:
                self._buffer[number] = data

    def _get(self) -> tuple:
        start = time.monotonic()
        while True:
            wait = _POLL_S if not self.timeout else min(_POLL_S, max(self.timeout - (time.monotonic() - start), 0.01))
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            if self.timeout and time.monotonic() - start >= self.timeout:
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")
            dead = [str(w.pid) for w in self._workers if not w.is_alive()]
            if dead:
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly")

    def shutdown(self) -> None:
        """Stop and join the workers (terminating any that do not stop); safe to call twice."""
        if self.__dict__.get("closed", True):
            return
        self.closed = True
        self._done.set()
        for q in self._index_queues:
            try:
                q.put(None)
            except Exception:
                pass
        deadline = time.monotonic() + _JOIN_S
        for w in self._workers:
            w.join(timeout=max(deadline - time.monotonic(), 0.0))
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for q in (*self._index_queues, self._result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        self.shutdown()
