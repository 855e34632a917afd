"""What runs inside a DataLoader worker process, and the messages it exchanges with the main one.

A worker loops: take ``(epoch, batch number, indices)`` from its own index queue, build the batch
(``fetch``), put ``(epoch, batch number, batch)`` on the shared result queue. ``None`` on the index
queue, the ``done`` event, or its parent process vanishing (checked every second) ends it. Tensors
cross the process boundary as their NumPy arrays (``box`` / ``unbox``); an exception travels as an
:class:`ExceptionWrapper` and is raised again in the main process, naming the worker.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import signal
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import backend
from ...tensors import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]

_POLL_S = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """``get_worker_info()`` inside a worker: its ``id``, ``num_workers``, ``seed`` and its copy of
    the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the calling worker process; ``None`` in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in worker ``worker_id``, as its type and formatted traceback."""

    def __init__(self, worker_id: int, where: str) -> None:
        exc_type, exc, _ = sys.exc_info()
        try:
            pickle.dumps(exc_type)
        except Exception:  # e.g. a class defined inside a function: it cannot travel
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.msg = (
            f"Caught {exc_type.__name__} {where} worker process {worker_id}.\nOriginal "
            + "".join(traceback.format_exception(exc_type, exc, exc.__traceback__))
        )

    def reraise(self) -> None:
        try:
            exc = self.exc_type(self.msg)
        except Exception:  # an exception type whose constructor wants other arguments
            exc = RuntimeError(self.msg)
        raise exc


class _Boxed:
    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __reduce__(self) -> tuple:
        return (_Boxed, (self.array,))


def box(batch: Any) -> Any:
    """Tensors -> picklable boxes of their host arrays, recursing into dict/list/tuple."""
    if isinstance(batch, Tensor):
        return _Boxed(backend.to_numpy(batch._array))
    if isinstance(batch, dict):
        return {k: box(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(box(b) for b in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(box(b) for b in batch)
    return batch


def unbox(payload: bytes) -> Any:
    """A worker's pickled, boxed batch -> the batch with Tensors."""
    return _unbox(pickle.loads(payload))


def _unbox(batch: Any) -> Any:
    if isinstance(batch, _Boxed):
        return Tensor._from_array(batch.array)
    if isinstance(batch, dict):
        return {k: _unbox(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_unbox(b) for b in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_unbox(b) for b in batch)
    return batch


def worker_loop(
    dataset: Any,
    fetch: Any,
    index_queue: Any,
    result_queue: Any,
    done_event: Any,
    worker_init_fn: Any,
    seed: int,
    worker_id: int,
    num_workers: int,
    parent_pid: int,
) -> None:
    """The body of worker ``worker_id`` (see the module docstring)."""
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle; it stops us
    os.environ["MINITORCH_CNN_THREADS"] = "1"  # one thread per worker, as PyTorch's workers
    random.seed(seed)
    np.random.seed(seed % 2**32)
    backend.set_rng_state(np.random.default_rng(seed).bit_generator.state)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception:
            init_error = ExceptionWrapper(worker_id, "in DataLoader worker_init_fn of")
    try:
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent_pid:
                    break
                continue
            if task is None:
                break
            if done_event.is_set():
                continue
            epoch, number, indices = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = pickle.dumps(box(fetch(dataset, indices)), protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:  # pickled here, so an unpicklable batch is an error, not a hang
                    data = ExceptionWrapper(worker_id, "in DataLoader")
            result_queue.put((epoch, number, data))
    except KeyboardInterrupt:
        pass
    result_queue.cancel_join_thread()  # never block at exit on a main process that stopped reading
    result_queue.close()
