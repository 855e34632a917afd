"""Tasks of chapter 04 (training). Run one task: ``pytest -m task4_2``.

Optimizer updates are compared with the formulas of their docstrings written out here step by
step, in float64, with gradients set by hand (no forward pass needed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.data import DataLoader, TensorDataset
from minitorch_cnn.optim import SGD, Adam
from minitorch_cnn.optim.lr_scheduler import StepLR
from minitorch_cnn.train import train_one_epoch

GRADS = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]


def _param(values: list[float]) -> nn.Parameter:
    return nn.Parameter(mt.tensor(np.array(values, dtype=np.float64)))


def _run(opt_cls: type, grads: list[np.ndarray], **kwargs: float) -> list[np.ndarray]:
    p = _param([1.0, 1.0])
    opt = opt_cls([p], **kwargs)
    history = []
    for g in grads:
        p.grad = mt.tensor(g)
        opt.step()
        history.append(p.detach().numpy().copy())
    return history


@pytest.mark.task4_1
def test_sgd_momentum_steps() -> None:
    got = _run(SGD, GRADS, lr=0.1, momentum=0.9, dampening=0.1)
    p, buf, want = np.array([1.0, 1.0]), None, []
    for g in GRADS:
        buf = g.copy() if buf is None else 0.9 * buf + 0.9 * g  # (1 - dampening) = 0.9
        p = p - 0.1 * buf
        want.append(p)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.task4_1
def test_sgd_nesterov_step() -> None:
    got = _run(SGD, GRADS[:2], lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.1)
    p = np.array([1.0, 1.0])
    g1 = GRADS[0] + 0.1 * p
    buf = g1
    p = p - 0.1 * (g1 + 0.5 * buf)
    g2 = GRADS[1] + 0.1 * p
    buf = 0.5 * buf + g2
    p = p - 0.1 * (g2 + 0.5 * buf)
    np.testing.assert_allclose(got[-1], p, rtol=1e-12)


@pytest.mark.task4_2
def test_adam_steps() -> None:
    got = _run(Adam, GRADS, lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    p, m, v, want = np.array([1.0, 1.0]), 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.99 * v + 0.01 * g * g
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.99**t)
        p = p - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
        want.append(p)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert abs(got[0][0] - 0.99) < 1e-6, "Adam's first step is about lr in size, whatever the gradient's scale"


@pytest.mark.task4_3
def test_clip_grad_norm() -> None:
    a, b = _param([0.0, 0.0]), _param([0.0, 0.0])
    a.grad, b.grad = mt.tensor(np.array([3.0, 0.0])), mt.tensor(np.array([0.0, 4.0]))
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert float(total.item()) == pytest.approx(5.0), "the norm before clipping is returned"
    np.testing.assert_allclose(np.concatenate([a.grad.numpy(), b.grad.numpy()]), np.array([3, 0, 0, 4]) / (5 + 1e-6))
    a.grad = mt.tensor(np.array([0.3, -0.4]))
    assert float(nn.utils.clip_grad_norm_([a], max_norm=1.0).item()) == pytest.approx(0.5)
    np.testing.assert_allclose(a.grad.numpy(), [0.3, -0.4])  # a norm below max_norm is left alone
    a.grad = mt.tensor(np.array([0.3, -2.0]))
    assert float(nn.utils.clip_grad_norm_([a], max_norm=10.0, norm_type=math.inf).item()) == pytest.approx(2.0)


@pytest.mark.task4_4
def test_xavier_uniform_bound() -> None:
    w = mt.empty(64, 32, 3, 3)
    nn.init.xavier_uniform_(w)  # fan_in 32*3*3 = 288, fan_out 64*3*3 = 576
    bound = math.sqrt(6.0 / (288 + 576))
    values = np.abs(w.detach().numpy())
    assert values.max() <= bound * (1 + 1e-6) and values.max() > 0.99 * bound
    nn.init.xavier_uniform_(w, gain=2.0)
    assert np.abs(w.detach().numpy()).max() > 1.98 * bound, "gain scales the bound"


@pytest.mark.task4_5
def test_step_lr() -> None:
    opt = SGD([_param([0.0])], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(5):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


@pytest.mark.task4_6
def test_train_one_epoch_takes_one_sgd_step_per_batch() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    model = nn.Linear(3, 3)
    W, b = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    stats = train_one_epoch(model, loader, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.5))
    for batch in (slice(0, 4), slice(4, 8)):  # the same two steps by hand: d(mean CE)/d logits = (p - onehot) / n
        logits = x[batch] @ W.T + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(4), y[batch]] -= 1
        p /= 4
        W, b = W - 0.5 * p.T @ x[batch], b - 0.5 * p.sum(axis=0)
    np.testing.assert_allclose(model.weight.detach().numpy(), W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.bias.detach().numpy(), b, rtol=1e-5, atol=1e-6)
    assert stats.seen == 8
