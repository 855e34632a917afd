"""The thread pool (ops/threads.py): sizing, slicing, and split work equal to unsplit work."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops import threads


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
    from minitorch_cnn.ops import conv_shifted

    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(3, 8, 6, 5)), rng.normal(size=(4, 8, 3, 3))
    gy = rng.normal(size=(3, 4, 6, 5))
    monkeypatch.setattr(conv_shifted, "BLOCK_COLUMNS", 7)  # many blocks, a short last one

    def run() -> list:
        xt, wt = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1)
        assert y.grad_fn.ctx.grid is not None  # the shifted-slice kernel
        y.backward(mt.tensor(gy))
        return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()]

    monkeypatch.setenv("MINITORCH_CNN_THREADS", "1")
    whole = run()
    monkeypatch.setenv("MINITORCH_CNN_THREADS", "2")
    monkeypatch.setattr(threads, "MIN_PARALLEL_BYTES", 0)
    split = run()
    for a, b in zip(split, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
