"""Instructor-only tests: never copied into a student tree (``minitorch_cnn.assignments make``).

They test the same functions on inputs the student never saw (broadcasting, random shapes, ties,
amsgrad), as pytest tests of the reference. The grade comes from their sandboxed counterparts in
``hidden_probes.py`` (``python -m minitorch_cnn.grade --submission DIR``), whose inputs are drawn
per student; a solution written to pass the visible examples only does not get these points.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minitorch_cnn.autograd import Context
from minitorch_cnn.ops.conv_reference import correlate2d_reference
from minitorch_cnn.ops.elementwise import MulFunction
from minitorch_cnn.ops.pool_reference import max_pool_nd_reference


@pytest.mark.task1_1
def test_hidden_mul_broadcast_grad() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5])
    ctx = Context()
    ctx.needs_input_grad = (True, True)
    np.testing.assert_allclose(MulFunction.forward(ctx, a, b), a * b)
    ga, gb = MulFunction.backward(ctx, np.ones((2, 3)))
    assert ga.shape == (2, 3) and gb.shape == (3,)
    np.testing.assert_allclose(gb, a.sum(axis=0))


@pytest.mark.task2_1
def test_hidden_correlate2d_random() -> None:
    rng = np.random.default_rng(7)
    for h, w, kh, kw in [(5, 7, 2, 3), (4, 4, 4, 4), (6, 3, 1, 2)]:
        x, k = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
        want = np.array([[(x[i:i + kh, j:j + kw] * k).sum() for j in range(w - kw + 1)] for i in range(h - kh + 1)])
        np.testing.assert_allclose(correlate2d_reference(x, k), want, atol=1e-12)


@pytest.mark.task3_1
def test_hidden_max_pool_ties() -> None:
    x = np.ones((1, 1, 2, 4))
    y, idx = max_pool_nd_reference(x, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    np.testing.assert_array_equal(idx[0, 0], [[0, 2]])  # ties keep the first maximum, row-major
    x = np.full((1, 1, 3, 3), -5.0)
    y, _ = max_pool_nd_reference(x, kernel=(2, 2), stride=(2, 2), padding=(1, 1), dilation=(1, 1))
    assert (y == -5.0).all(), "padding is never the maximum, even of negative inputs"


@pytest.mark.task4_2
def test_hidden_adam_amsgrad() -> None:
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.optim import Adam

    p = nn.Parameter(mt.tensor(np.array([1.0])))
    opt = Adam([p], lr=0.1, betas=(0.5, 0.5), amsgrad=True)
    m = v = vmax = 0.0
    want = 1.0
    for t, g in zip(itertools.count(1), [4.0, 0.1, 0.1]):
        p.grad = mt.tensor(np.array([g]))
        opt.step()
        m, v = 0.5 * m + 0.5 * g, 0.5 * v + 0.5 * g * g
        vmax = max(vmax, v)
        want -= 0.1 / (1 - 0.5**t) * m / (np.sqrt(vmax) / np.sqrt(1 - 0.5**t) + 1e-8)
    assert p.detach().numpy()[0] == pytest.approx(want, rel=1e-9)
