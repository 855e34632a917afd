"""The thread pool (fast/threads.py): sizing, slicing, and split work equal to unsplit work."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.fast import threads
from minitorch_cnn.nn import functional as F


def test_pool_size_follows_minitorch_then_blas_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MINITORCH_CNN_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert threads.pool_size() == 3
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "1")
    assert threads.pool_size() == 1


def test_batch_slices_cover_the_batch_once() -> None:
    assert threads.batch_slices(5, 2) == [slice(0, 2), slice(2, 5)]
    assert threads.batch_slices(1, 4) == [slice(0, 1)]
    assert threads.batch_slices(0, 2) == [slice(0, 0)]


def test_small_arrays_non_numpy_and_one_thread_run_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")
    seen: list = []
    threads.parallel_for(np, 8, 10, seen.append)  # below MIN_PARALLEL_BYTES
    threads.parallel_for(backend.strict, 8, 1 << 30, seen.append)  # the CuPy stand-in
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "1")
    threads.parallel_for(np, 8, 1 << 30, seen.append)
    assert seen == [slice(0, 8)] * 3
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")
    assert threads.parallel_for(np, 8, 1 << 30, lambda s: (s.start, s.stop)) == [(0, 4), (4, 8)]


def _cnn_block(x: mt.Tensor, g: mt.Tensor, b: mt.Tensor, rm: mt.Tensor, rv: mt.Tensor) -> mt.Tensor:
    y = F.batch_norm(x, rm, rv, g, b, training=True)
    y = F.max_pool2d(y, 2)
    return F.batch_norm(y, rm, rv, g, b, training=False)


@pytest.mark.parametrize("shape", [(5, 3, 6, 6), (3, 2, 7, 5)])
def test_split_work_equals_unsplit_work(monkeypatch: pytest.MonkeyPatch, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=shape), 1)  # ties for the pooling arg-max
    gy = rng.normal(size=(shape[0], shape[1], shape[2] // 2, shape[3] // 2))
    gamma = rng.normal(size=shape[1]) + 2

    def run() -> list:
        xt = mt.tensor(x, requires_grad=True)
        g, b = mt.tensor(gamma, requires_grad=True), mt.zeros(shape[1], requires_grad=True)
        rm, rv = mt.zeros(shape[1], dtype=mt.float64), mt.ones(shape[1], dtype=mt.float64)
        y = _cnn_block(xt, g, b, rm, rv)
        y.backward(mt.tensor(gy))
        return [y.detach().numpy(), xt.grad.numpy(), b.grad.numpy(), rm.numpy(), rv.numpy()]

    monkeypatch.setenv("MINITORCH_CNN_THREADS", "1")
    whole = run()
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")  # two threads, tiny pieces even for small arrays
    monkeypatch.setattr(threads, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(threads, "CHUNK_BYTES", 64)
    split = run()
    for a, b in zip(split, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_shifted_conv_blocks_split_over_threads_equal_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from minitorch_cnn.fast import conv_shifted

    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(3, 8, 6, 5)), rng.normal(size=(4, 8, 3, 3))
    gy = rng.normal(size=(3, 4, 6, 5))
    monkeypatch.setattr(conv_shifted, "BLOCK_COLUMNS", 7)  # many blocks, a short last one

    def run() -> list:
        xt, wt = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1)
        assert mt.fast.took(y.grad_fn.ctx)  # the shifted-slice kernel
        y.backward(mt.tensor(gy))
        return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()]

    monkeypatch.setenv("MINITORCH_CNN_THREADS", "1")
    whole = run()
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")
    monkeypatch.setattr(threads, "MIN_PARALLEL_BYTES", 0)
    split = run()
    for a, b in zip(split, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("m, k, n", [(40, 30, 20), (20, 30, 40), (6, 400, 5), (1, 3, 1)])
def test_parallel_matmul_bands_equal_one_product(monkeypatch: pytest.MonkeyPatch, m: int, k: int, n: int) -> None:
    """Row bands (M >= N), column bands, and inner-dimension slices summed (K > 4 max(M, N))."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(m, k)), rng.normal(size=(k, n))
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")
    monkeypatch.setattr(threads, "MIN_PARALLEL_FLOPS", 0)
    np.testing.assert_allclose(threads.parallel_matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(threads.parallel_matmul(b.T, a.T), (a @ b).T, rtol=1e-12, atol=1e-12)


def test_parallel_matmul_splits_over_the_pool_with_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen: list = []
    original = threads.parallel_for

    def spy(xp, n, nbytes, work):  # noqa: ANN001, ANN202
        def traced(s: slice):  # noqa: ANN202
            info = threadpoolctl.threadpool_info()
            seen.append((threading.current_thread().name, {i["num_threads"] for i in info if i["user_api"] == "blas"}))
            return work(s)
        return original(xp, n, nbytes, traced)

    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")
    monkeypatch.setattr(threads, "parallel_for", spy)
    monkeypatch.setattr(threads, "MIN_PARALLEL_FLOPS", 0)
    if not any(i["user_api"] == "blas" for i in threadpoolctl.threadpool_info()):
        pytest.skip("threadpoolctl finds no BLAS library to limit")
    for a, b in [(np.ones((96, 64)), np.ones((64, 80))),  # row bands
                 (np.ones((80, 64)), np.ones((64, 96))),  # column bands
                 (np.ones((64, 300)), np.ones((300, 64)))]:  # K slices
        seen.clear()
        assert np.array_equal(threads.parallel_matmul(a, b), np.full((a.shape[0], b.shape[1]), float(a.shape[1])))
        assert len(seen) == 2 and len({name for name, _ in seen}) == 2  # two bands, two threads
        assert all(blas == {1} for _, blas in seen)  # BLAS limited to one thread inside the bands


def test_overlapping_blas_limits_apply_once_and_restore_when_the_last_caller_leaves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The BLAS limit is process-wide: two threads entering and leaving out of order (A in, B in,
    A out, B out) must share one limit, applied by A and restored only when B leaves. (A stand-in
    controller records the calls: OpenBLAS's thread count read back from another thread right
    after a change was not reliable on the test machine.)"""
    import threading

    pytest.importorskip("threadpoolctl")
    calls: list = []

    class Limiter:
        def restore_original_limits(self) -> None:
            calls.append(("restore", threading.current_thread().name))

    class Controller:
        def limit(self, limits: int, user_api: str) -> Limiter:
            calls.append(("limit", threading.current_thread().name, limits, user_api))
            return Limiter()

    monkeypatch.setattr(threads, "_blas_controller", Controller())
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    during: list = []

    def thread_a() -> None:
        with threads._blas_single_threaded():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def thread_b() -> None:
        a_in.wait(5)
        with threads._blas_single_threaded():
            b_in.set()
            a_out.wait(5)
            during.append(list(calls))

    workers = [threading.Thread(target=thread_a, name="A"), threading.Thread(target=thread_b, name="B")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert during == [[("limit", "A", 1, "blas")]]  # A's exit did not restore while B was inside
    assert calls == [("limit", "A", 1, "blas"), ("restore", "B")]
    assert threads._blas_depth == 0


def test_parallel_matmul_leaves_cupy_and_strict_arrays_to_their_library() -> None:
    a = backend.to_device(np.ones((3, 4)), "strict")
    out = threads.parallel_matmul(a, a.T)
    assert isinstance(out, backend.StrictArray)
    np.testing.assert_array_equal(backend.to_numpy(out), np.full((3, 3), 4.0))
