"""Ops keep no backward state they will not need (issue 8, item 2): counted, not assumed.

Every ``Context`` an op creates is collected, and the arrays it holds (``saved_tensors`` and any
other attribute) are counted. When no input needs a gradient the CNN ops must hold none: no
im2col or padded copies, no arg-max indices, no normalised activations.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import autograd
from minitorch_cnn.models import build_model
from minitorch_cnn.nn import functional as F


def _arrays_in(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _arrays_in(v)]
    return [value] if hasattr(value, "nbytes") and hasattr(value, "shape") else []


OUR_OPS = ("minitorch_cnn.ops.conv", "minitorch_cnn.ops.pool", "minitorch_cnn.ops.linear",
           "minitorch_cnn.ops.batch_norm", "minitorch_cnn.ops.dropout", "minitorch_cnn.ops.losses")


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every Context created while the test runs by a Function of conv.py, pool.py, linear.py,
    batch_norm.py, dropout.py or losses.py
    (``Function.apply`` creates it; its local ``cls`` names the op)."""
    made: list = []
    original = autograd.Context.__init__

    def init(self: autograd.Context) -> None:
        original(self)
        op = sys._getframe(1).f_locals.get("cls")
        if op is not None and op.__module__ in OUR_OPS:
            made.append(self)

    monkeypatch.setattr(autograd.Context, "__init__", init)
    return made


def saved_bytes(contexts: list) -> int:
    total = 0
    for ctx in contexts:
        for name, value in vars(ctx).items():
            if name != "needs_input_grad":
                total += sum(a.nbytes for a in _arrays_in(value))
    return total


def _cnn_ops(x: mt.Tensor, w: mt.Tensor, g: mt.Tensor, b: mt.Tensor) -> mt.Tensor:
    y = F.conv2d(x, w, b, padding=1)  # C_in = 8: the shifted-slice kernel
    y = F.conv2d(y, w, stride=2, padding=1)  # strided: the im2col kernel
    y = F.batch_norm(y, mt.zeros(8), mt.ones(8), g, b, training=True)
    y = F.batch_norm(y, mt.zeros(8), mt.ones(8), g, b, training=False)
    return F.max_pool2d(F.max_pool2d(y, 2), 2, stride=1)  # the 2x2 fast path, then the general one


def test_no_state_when_no_input_needs_a_gradient(contexts: list) -> None:
    x = mt.randn(4, 8, 12, 12)
    w, g, b = mt.randn(8, 8, 3, 3), mt.ones(8), mt.zeros(8)
    _cnn_ops(x, w, g, b)
    assert len(contexts) >= 6
    assert saved_bytes(contexts) == 0


def test_state_is_kept_when_a_gradient_is_needed(contexts: list) -> None:
    x = mt.randn(4, 8, 12, 12)
    w, g, b = mt.randn(8, 8, 3, 3, requires_grad=True), mt.ones(8), mt.zeros(8)
    y = _cnn_ops(x, w, g, b)
    assert saved_bytes(contexts) > x._array.nbytes  # the inputs the weight gradient needs, at least
    y.sum().backward()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()


def test_conv_keeps_only_what_the_needed_gradients_use(contexts: list) -> None:
    x = mt.randn(2, 8, 6, 6, requires_grad=True)
    w = mt.randn(8, 8, 3, 3)  # frozen weight: no weight gradient, so no copy of the input is kept
    F.conv2d(x, w, padding=1)
    (ctx,) = contexts
    kept = [a for a in _arrays_in(ctx.saved_tensors)]
    assert [tuple(a.shape) for a in kept] == [(8, 8, 3, 3)]  # the weight, for the input gradient


def test_evaluating_the_unit_cnn_saves_nothing_in_its_cnn_ops(contexts: list) -> None:
    model = build_model("cnn")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    model(mt.randn(16, 1, 28, 28))
    assert len(contexts) == 4 + 5 + 2 + 2  # conv, batch norm, pool, linear
    assert saved_bytes(contexts) == 0


@pytest.mark.parametrize("mode", [mt.no_grad, mt.inference_mode])
def test_the_unit_cnn_under_no_grad_saves_nothing_though_its_weights_require_grad(contexts: list, mode: Any) -> None:
    """The evaluation loop's case: trainable weights, but no backward will run."""
    model = build_model("cnn").eval()
    assert all(p.requires_grad for p in model.parameters())
    x = mt.randn(16, 1, 28, 28, requires_grad=True)
    with mode():
        model(x)
    assert len(contexts) == 4 + 5 + 2 + 2
    assert saved_bytes(contexts) == 0
