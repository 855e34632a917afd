"""ops/losses.py: every loss is one graph node named after PyTorch's layer, with a backward that
matches finite differences (float64), called directly through ``Function.apply``."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops import losses
from minitorch_cnn.testing import gradcheck


def _f64(shape, seed, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return mt.tensor(rng.uniform(low, high, shape), dtype=mt.float64, requires_grad=True)


def test_each_loss_is_one_node_named_like_pytorchs_layer() -> None:
    x, t = _f64((4, 3), 0), _f64((4, 3), 1, 0.05, 0.95)
    y = mt.tensor([0, 1, 2, 0])
    p = mt.tensor(np.full((4, 3), 0.3), dtype=mt.float64, requires_grad=True)
    got = {
        "CrossEntropyLossBackward": F.cross_entropy(x, y),
        "NLLLossBackward": F.nll_loss(x, y),
        "MSELossBackward": F.mse_loss(x, t),
        "L1LossBackward": F.l1_loss(x, t),
        "BCEWithLogitsLossBackward": F.binary_cross_entropy_with_logits(x, t),
        "BCELossBackward": F.binary_cross_entropy(p, t),
    }
    for name, loss in got.items():
        assert loss.grad_fn.name() == name
        assert any(loss.grad_fn.next_functions[0][0] is leaf for leaf in (x, p))  # one node, onto the input


def test_names_are_pytorchs_layer_names_plus_function() -> None:
    from minitorch_cnn import nn

    for name in losses.__all__:
        if name.endswith("Function"):
            assert hasattr(nn, name.removesuffix("Function")), name


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_every_loss(reduction: str) -> None:
    x, t = _f64((3, 4), 2), _f64((3, 4), 3, 0.1, 0.9)
    p = _f64((3, 4), 4, 0.1, 0.9)
    y = mt.tensor([1, 0, 3])
    w = mt.tensor([0.5, 1.0, 2.0, 1.5], dtype=mt.float64)
    ce = losses.CrossEntropyLossFunction.apply
    assert gradcheck(lambda a: ce(a, y, w, reduction=reduction, label_smoothing=0.1), [x])
    assert gradcheck(lambda a, b: ce(a, b.softmax(1), None, reduction=reduction), [x, t])
    assert gradcheck(lambda a: losses.NLLLossFunction.apply(a, y, w, reduction=reduction), [x])
    assert gradcheck(lambda a, b: losses.MSELossFunction.apply(a, b, reduction=reduction), [x, t])
    assert gradcheck(lambda a, b: losses.L1LossFunction.apply(a, b, reduction=reduction), [x, t])
    assert gradcheck(lambda a, b: losses.BCEWithLogitsLossFunction.apply(a, b, None, w * 2, reduction=reduction),
                     [x, t])
    assert gradcheck(lambda a, b: losses.BCELossFunction.apply(a, b, None, reduction=reduction), [p, t])


def test_bad_reduction_is_named() -> None:
    with pytest.raises(ValueError, match="reduction='avg' is not valid"):
        losses.check_reduction("avg", "mse_loss")
