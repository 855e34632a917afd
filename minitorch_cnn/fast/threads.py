"""A small thread pool that puts every core to work on the non-GEMM part of a CNN step.

NumPy's GEMM (``@``) already runs on all cores (BLAS has its own threads), but every other NumPy
operation -- element-wise arithmetic, reductions, copies such as padding or pooling -- runs on one
core. Those operations *release the GIL* while they loop over a large array, so two Python threads
that each work on their own half of the batch really do run at the same time::

    parallel_for(xp, n, nbytes, work)   # work(slice(0, n/2)) and work(slice(n/2, n)) in parallel

The pool is deliberately small and predictable:

* **Size**: ``MINITORCH_CNN_THREADS`` when set (``1`` turns the pool off), else the BLAS thread count
  (``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``), else the number of cores
  this process may use. Matching BLAS means the step never asks for more threads than the cores
  that BLAS was already given.
* **Off for small arrays** (below ``MIN_PARALLEL_BYTES``): handing a task to a thread costs tens of
  microseconds, more than a small operation takes.
* **NumPy only**: CuPy arrays (a GPU already runs everything in parallel) and the strict test
  stand-in run ``work(slice(0, n))`` in the calling thread, so those code paths are unchanged.

``work`` must write only to its own slice of the outputs (no two tasks share an element) and
return whatever partial result the caller combines (e.g. per-chunk sums).

**Many small GEMMs** (the shifted-slice convolution multiplies thousands of cache-sized blocks)
are a special case: BLAS would wake and synchronise its own threads for every small call, which
on a loaded machine costs more than the product. ``parallel_gemm_blocks`` instead limits BLAS to
one thread (threadpoolctl, when installed) and hands half of the blocks to each pool thread, so
each core multiplies its own blocks from its own cache.

**The other 2-D GEMMs of a step go through ``parallel_matmul`` too** (Linear layers, the im2col and
col2im convolution paths with ``groups=1``, 2-D ``matmul``; grouped convolutions, batched
``matmul`` and pooling's ``tensordot`` still call BLAS directly), for a reason that is easy to
miss: after a multi-threaded call, OpenBLAS's worker threads *spin* (busy-wait for the next call,
about 2^28 cycles, a tenth of a second) instead of sleeping. The next pool work -- a convolution's
blocks, BatchNorm's halves -- then shares a core with a spinning BLAS thread and runs at half
speed. Measured on a 2-core AMD EPYC: one training step of the unit's CNN took 286 ms with the
Linear layers and the first convolution calling multi-threaded BLAS, 201 ms with OpenBLAS's spin
cut to nothing (``OPENBLAS_THREAD_TIMEOUT=4``), and 186 ms with ``parallel_matmul``, which gets
the effect without depending on an environment variable read when NumPy loads: BLAS stays at one
thread for all of our products, and the pool supplies the parallelism.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..backend import get_array_module

__all__ = ["MIN_PARALLEL_BYTES", "CHUNK_BYTES", "pool_size", "set_pool_size", "batch_slices", "parallel_for", "parallel_chunks",
           "parallel_gemm_blocks", "parallel_matmul", "MIN_PARALLEL_FLOPS", "image_blocks"]

MIN_PARALLEL_BYTES = 1 << 20
"""Arrays smaller than this (1 MiB) are processed in the calling thread."""

CHUNK_BYTES = 1 << 20
"""``parallel_chunks`` hands out pieces of about this size (1 MiB), small enough that the
several passes a kernel makes over one piece find it in the core's L2 cache."""

MIN_PARALLEL_FLOPS = 10_000_000
"""``parallel_matmul`` splits products of at least this many FLOPs (``2*M*N*K``; about 0.1 ms)."""

_BLAS_ONE_THREAD_MNK = 4 * 65536
_POOL_PREFIX = "minitorch-cnn"
_executor: ThreadPoolExecutor | None = None
_executor_size = 0


_size_override: int | None = None  # set by mt.set_num_threads (runtime.py); None: the environment decides


def set_pool_size(n: int | None) -> None:
    """Make the pool ``n`` threads wide (1 = off), ahead of the environment; ``None`` gives it back to the
    environment. ``mt.set_num_threads`` calls this."""
    global _size_override
    _size_override = None if n is None else int(n)


def pool_size() -> int:
    """How many threads share the work (1 = no pool): ``set_pool_size``'s value, else read from the
    environment on every call."""
    if _size_override is not None:
        return _size_override
    for var in ("MINITORCH_CNN_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) >= 1:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def batch_slices(n: int, parts: int) -> list[slice]:
    """``range(n)`` cut into ``min(parts, n)`` contiguous slices of (nearly) equal length."""
    parts = max(1, min(parts, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def image_blocks(n: int, rows: int, cols: int, per_block: int) -> list[tuple[int, int, int, int]]:
    """``(n0, n1, i0, i1)``: images ``n0..n1-1``, rows ``i0..i1-1`` of each, about ``per_block``
    positions (``rows x cols`` per image) in a block -- several whole images when one fits, else row
    bands of one image. The blocks a GEMM kernel shares out over the pool (the shifted-slice
    convolution's positions, Winograd's tiles)."""
    per_image = rows * cols
    if per_image == 0:
        return []
    if per_image <= per_block:
        k = per_block // per_image
        return [(n0, min(n0 + k, n), 0, rows) for n0 in range(0, n, k)]
    band = max(1, per_block // cols)
    return [(i, i + 1, r0, min(r0 + band, rows)) for i in range(n) for r0 in range(0, rows, band)]


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor, _executor_size
    if _executor is None or _executor_size < workers:
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_POOL_PREFIX)
        _executor_size = workers
    return _executor


def parallel_for(xp: Any, n: int, nbytes: int, work: Callable[[slice], Any]) -> list:
    """Run ``work`` on slices of ``range(n)`` (the batch axis), in parallel when it pays off.

    ``nbytes`` is the size of the largest array the work touches; below ``MIN_PARALLEL_BYTES``, for
    non-NumPy arrays, or with a pool size of 1, this is just ``[work(slice(0, n))]``. Returns the
    results in slice order. The calling thread does the first slice itself.
    """
    threads = pool_size()
    if xp is not np or threads < 2 or n < 2 or nbytes < MIN_PARALLEL_BYTES or _in_pool():
        return [work(slice(0, n))]
    slices = batch_slices(n, threads)
    futures = [_pool(threads - 1).submit(work, s) for s in slices[1:]]
    first = work(slices[0])
    return [first] + [f.result() for f in futures]


def _in_pool() -> bool:
    """True in one of the pool's own threads: work it starts runs there (no nested hand-off to a
    pool whose threads may all be busy waiting for it)."""
    return threading.current_thread().name.startswith(_POOL_PREFIX)


def parallel_chunks(xp: Any, n: int, nbytes: int, work: Callable[[slice], Any]) -> list:
    """Like ``parallel_for``, but each thread walks its share of the batch in pieces of about
    ``CHUNK_BYTES``, calling ``work`` once per piece; returns every piece's result, in order.

    A kernel that makes several passes (BatchNorm: centre, square-sum, scale, shift) then reads
    each piece from main memory once and finds it in cache for the later passes.
    """
    per_item = max(1, nbytes // max(n, 1))
    step = max(1, CHUNK_BYTES // per_item)

    def walk(s: slice) -> list:
        return [work(slice(i, min(i + step, s.stop))) for i in range(s.start, s.stop, step)]

    if xp is not np:  # CuPy / strict: one piece, the calling thread
        return [work(slice(0, n))]
    return [r for part in parallel_for(xp, n, nbytes, walk) for r in part]


_blas_controller: Any = None
_blas_lock = threading.Lock()
_blas_depth = 0  # how many callers are inside _blas_single_threaded right now
_blas_limiter: Any = None


@contextlib.contextmanager
def _blas_single_threaded() -> Iterator[bool]:
    """Limit BLAS to one thread inside the block; yields False (and limits nothing) where
    threadpoolctl is not installed.

    The limit is process-wide, so nested or overlapping callers (two user threads) share one: the
    first to enter applies it, the last to leave restores BLAS's own thread count.
    """
    global _blas_controller, _blas_depth, _blas_limiter
    try:
        import threadpoolctl
    except ImportError:
        yield False
        return
    with _blas_lock:
        if _blas_depth == 0:
            if _blas_controller is None:
                _blas_controller = threadpoolctl.ThreadpoolController()
            _blas_limiter = _blas_controller.limit(limits=1, user_api="blas")
        _blas_depth += 1
    try:
        yield True
    finally:
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def parallel_gemm_blocks(xp: Any, count: int, nbytes: int, work: Callable[[slice], Any]) -> list:
    """Run ``work(range of block indices)`` for ``count`` blocks whose GEMMs are small: split over
    the pool with BLAS limited to one thread, or all in the calling thread (BLAS keeping its own
    threads) when the pool is off, the array small, or threadpoolctl missing."""
    threads = pool_size()
    if xp is not np or threads < 2 or count < 2 or nbytes < MIN_PARALLEL_BYTES:
        return [work(slice(0, count))]
    with _blas_single_threaded() as limited:
        if not limited:
            return [work(slice(0, count))]
        return parallel_for(xp, count, nbytes, work)


def parallel_matmul(a: Any, b: Any) -> Any:
    """``a (M, K) @ b (K, N)`` for 2-D arrays with BLAS at one thread, cut into one band per pool thread.

    The band is chosen from the shape: rows of ``a`` (``M >= N``), columns of ``b``, or -- when the
    inner dimension is by far the largest, as in a first convolution's weight gradient
    ``(32, N*P) @ (N*P, 9)`` -- slices of ``K`` whose partial products are summed. Products below
    ``MIN_PARALLEL_FLOPS`` run in the calling thread, still with one BLAS thread (so BLAS's workers
    never wake up and spin, see the module docstring). CuPy / strict arrays, a pool size of 1 or a
    missing threadpoolctl: plain ``a @ b``.
    """
    xp = get_array_module(a, b)
    m, k = a.shape
    n = b.shape[1]
    # OpenBLAS runs products with M*N*K below 4 * 65536 on one thread anyway (GEMM_MULTITHREAD_THRESHOLD)
    if xp is not np or m * n * k < _BLAS_ONE_THREAD_MNK or pool_size() < 2 or _in_pool():
        return a @ b
    with _blas_single_threaded() as limited:
        if not limited or 2 * m * n * k < MIN_PARALLEL_FLOPS:
            return a @ b
        # the FLOP count above decided to split: nbytes=MIN_PARALLEL_BYTES only tells parallel_for so
        if k > 4 * max(m, n):
            parts = parallel_for(xp, k, MIN_PARALLEL_BYTES, lambda s: a[:, s] @ b[s])
            return sum(parts[1:], parts[0])
        out = np.empty((m, n), dtype=np.result_type(a, b))
        if m >= n:
            parallel_for(xp, m, MIN_PARALLEL_BYTES, lambda s: np.matmul(a[s], b, out=out[s]))
        else:
            parallel_for(xp, n, MIN_PARALLEL_BYTES, lambda s: np.matmul(a, b[:, s], out=out[:, s]))
        return out
