"""Tasks of chapter 08 (beyond classification). Run one task: ``pytest -m task8_1``."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.models.beyond import CausalConv1d, dilated_stack_receptive_field, mask_iou


@pytest.mark.task8_1
def test_causal_conv_ignores_the_future() -> None:
    mt.manual_seed(0)
    conv = CausalConv1d(2, 3, kernel_size=3, dilation=2)
    x = mt.randn(1, 2, 12)
    y = conv(x).detach().numpy()
    assert y.shape == (1, 3, 12), "same length in and out"
    changed = x.detach().numpy().copy()
    changed[..., 7:] += 10.0  # change the future from t = 7 on
    y2 = conv(mt.tensor(changed)).detach().numpy()
    np.testing.assert_allclose(y2[..., :7], y[..., :7], rtol=1e-6)  # outputs before t = 7 cannot see it
    assert not np.allclose(y2[..., 7], y[..., 7]), "output t sees input t"
    first = conv.conv(mt.tensor(np.pad(x.detach().numpy(), ((0, 0), (0, 0), (4, 0))))).detach().numpy()
    np.testing.assert_allclose(y, first, rtol=1e-6)  # = a valid conv after d*(k-1) = 4 zeros on the left


@pytest.mark.task8_2
def test_dilated_stack_receptive_field() -> None:
    assert dilated_stack_receptive_field(2, [1, 2, 4, 8]) == 16
    assert dilated_stack_receptive_field(3, [1, 2, 4, 8]) == 31
    assert dilated_stack_receptive_field(3, [1]) == 3
    assert dilated_stack_receptive_field(5, []) == 1


@pytest.mark.task8_3
def test_mask_iou() -> None:
    a = np.zeros((4, 4), dtype=bool)
    b = np.zeros((4, 4), dtype=bool)
    a[:2, :2] = True  # 4 pixels
    b[1:3, 1:3] = True  # 4 pixels, 1 shared
    assert mask_iou(a, b) == pytest.approx(1 / 7)
    assert mask_iou(a, a) == 1.0
    assert mask_iou(a, ~a) == 0.0
    assert mask_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0, "two empty masks agree perfectly"
