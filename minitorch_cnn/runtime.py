"""``mt.set_num_threads(n)`` / ``mt.get_num_threads()``: how many CPU threads a step uses.

Two kinds of threads do the work on the CPU (see ``fast/threads.py``): the package's small thread
pool, which splits element-wise work, BatchNorm and the 2-D GEMMs of a step over the batch, and
BLAS's own threads (NumPy's ``@`` outside the pool). ``set_num_threads(n)`` sets both: the pool to
``n`` threads (1 turns it off), ahead of ``MINITORCH_CNN_THREADS`` and the BLAS variables, and BLAS
to ``n`` threads (through threadpoolctl, when installed; without it only the pool changes).
``get_num_threads()`` is the pool's size. ``reset_num_threads()`` (ours) gives both back to what
the environment set.
"""

from __future__ import annotations

from typing import Any

from .fast import threads
from .ops._checks import check_int

__all__ = ["set_num_threads", "get_num_threads", "reset_num_threads"]

_blas_original: Any = None  # the first threadpoolctl limiter: remembers BLAS's thread count before any change


def set_num_threads(n: int) -> None:
    """Use ``n`` CPU threads (``torch.set_num_threads``): the package's thread pool and BLAS."""
    global _blas_original
    n = check_int("set_num_threads", "n", n, 1)
    threads.set_pool_size(n)
    try:
        import threadpoolctl
    except ImportError:
        return
    limiter = threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    if _blas_original is None:
        _blas_original = limiter


def get_num_threads() -> int:
    """How many threads the package's pool uses (``torch.get_num_threads``)."""
    return threads.pool_size()


def reset_num_threads() -> None:
    """Undo :func:`set_num_threads`: the pool's size and BLAS's threads as the environment set them."""
    global _blas_original
    threads.set_pool_size(None)
    if _blas_original is not None:
        _blas_original.restore_original_limits()
        _blas_original = None
