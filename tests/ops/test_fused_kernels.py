"""Fused kernels of ops/linear.py, ops/batch_norm.py, ops/dropout.py and ops/losses.py: one graph node each, agreement with compositions of elementary ops,
and identical results on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.nn import functional as F


def _np(t):
    return backend.to_numpy(t._array)


def _f64(a, device="cpu"):
    return mt.tensor(a, dtype=mt.float64, device=device, requires_grad=True)


def test_fused_kernels_are_single_nodes() -> None:
    x = mt.randn(4, 3, requires_grad=True)
    w = mt.randn(2, 3, requires_grad=True)
    assert F.linear(x, w).grad_fn.name() == "LinearBackward"
    assert F.cross_entropy(x, mt.tensor([0, 1, 2, 0])).grad_fn.name() == "CrossEntropyLossBackward"
    assert F.batch_norm(x, None, None, training=True).grad_fn.name() == "BatchNormBackward"
    assert F.dropout(x, 0.5).grad_fn.name() == "DropoutBackward"
    assert F.cross_entropy(x, mt.tensor([0, 1, 2, 0])).grad_fn.next_functions[0][0] is x


def test_batch_norm_backward_equals_composed_elementary_ops() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3, 2, 2))
    g = rng.standard_normal((4, 3, 2, 2))
    x1, x2 = _f64(a), _f64(a)
    w1 = _f64(rng.uniform(0.5, 2, 3))
    w2 = _f64(_np(w1))
    F.batch_norm(x1, None, None, w1, None, training=True).backward(mt.tensor(g, dtype=mt.float64))
    # the same computation from elementary differentiable ops
    mean = x2.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x2 - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    y = (x2 - mean) / (var + 1e-5).sqrt() * w2.reshape(1, 3, 1, 1)
    y.backward(mt.tensor(g, dtype=mt.float64))
    np.testing.assert_allclose(_np(x1.grad), _np(x2.grad), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_np(w1.grad), _np(w2.grad), rtol=1e-9)


def test_cross_entropy_equals_log_softmax_pick_mean() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    x1, x2 = _f64(a), _f64(a)
    F.cross_entropy(x1, mt.tensor(y)).backward()
    picked = x2.log_softmax(dim=1)[np.arange(5), y]
    (-picked.mean()).backward()
    np.testing.assert_allclose(_np(x1.grad), _np(x2.grad), rtol=1e-10, atol=1e-14)


def test_spatial_cross_entropy_equals_flattened() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 2, 2))
    y = rng.integers(0, 3, (2, 2, 2))
    l4 = F.cross_entropy(_f64(a), mt.tensor(y), reduction="none")
    flat = F.cross_entropy(_f64(a.transpose(0, 2, 3, 1).reshape(-1, 3)), mt.tensor(y.reshape(-1)), reduction="none")
    assert l4.shape == (2, 2, 2)
    np.testing.assert_allclose(_np(l4).reshape(-1), _np(flat), rtol=1e-13)


@pytest.mark.parametrize("name", ["linear", "batch_norm_train", "batch_norm_eval", "cross_entropy", "bce", "dropout"])
def test_backends_agree(name, device) -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 4)).astype(np.float32)
    w = rng.standard_normal((4,)).astype(np.float32)

    def run(dev):
        mt.manual_seed(0)
        x = mt.tensor(a, device=dev, requires_grad=True)
        wt = mt.tensor(w, device=dev, requires_grad=True)
        if name == "linear":
            out = F.linear(x, wt.reshape(1, 4), wt[:1])
        elif name.startswith("batch_norm"):
            rm, rv = mt.zeros(4, device=dev), mt.ones(4, device=dev)
            out = F.batch_norm(x, rm, rv, wt, wt, training=name.endswith("train"))
        elif name == "cross_entropy":
            out = F.cross_entropy(x, mt.tensor([0, 1, 2, 3, -100, 1], device=dev), weight=wt.abs(), label_smoothing=0.1)
        elif name == "bce":
            out = F.binary_cross_entropy_with_logits(x, (x * 0 + 1).detach(), pos_weight=wt.abs().detach())
        else:
            out = F.dropout(x, 0.5)
        (out * out).sum().backward()
        return _np(out), _np(x.grad), _np(wt.grad) if wt.grad is not None else None

    ref = run("cpu")
    got = run(device)
    for r, g in zip(ref, got):
        if r is not None:
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)
