"""Tasks of chapter 07 (reduced complexity). Run one task: ``pytest -m task7_2``."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cnn.autograd import Context
from minitorch_cnn.compress.binarize import SignSTE
from minitorch_cnn.compress.prune import _smallest_mask
from minitorch_cnn.compress.quantize import FakeQuantizeFunction


@pytest.mark.task7_1
def test_smallest_mask_prunes_the_k_smallest_alive() -> None:
    scores = np.array([[3.0, 1.0, 0.5], [2.0, 0.1, 4.0]])
    alive = np.ones((2, 3), dtype=bool)
    np.testing.assert_array_equal(_smallest_mask(scores, alive, 2), [[True, True, False], [True, False, True]])
    alive[0, 0] = False  # already pruned: neither counted nor revived
    np.testing.assert_array_equal(_smallest_mask(scores, alive, 2), [[False, True, False], [True, False, True]])
    assert _smallest_mask(scores, alive, 0).sum() == 5


@pytest.mark.task7_2
def test_fake_quantize_forward_and_straight_through_backward() -> None:
    x = np.array([-1.0, 0.04, 0.26, 3.0], dtype=np.float32)
    ctx = Context()
    y = FakeQuantizeFunction.forward(ctx, x, scale=np.float32(0.1), zero_point=np.int32(0), quant_min=-8, quant_max=7)
    np.testing.assert_allclose(y, [-0.8, 0.0, 0.3, 0.7], rtol=1e-6)  # rint(x / 0.1), clamped to [-8, 7], times 0.1
    g = FakeQuantizeFunction.backward(ctx, np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32))
    np.testing.assert_array_equal(g, [0.0, 2.0, 3.0, 0.0])  # straight through inside the range, 0 where clamped
    ctx = Context()
    y = FakeQuantizeFunction.forward(ctx, x, scale=np.float32(0.5), zero_point=np.int32(2), quant_min=0, quant_max=3)
    np.testing.assert_allclose(y, [-1.0, 0.0, 0.5, 0.5])  # codes clamp(rint(x/0.5) + 2, 0, 3) = 0, 2, 3, 3


@pytest.mark.task7_3
def test_sign_ste() -> None:
    x = np.array([-2.0, -0.5, 0.0, 0.7, 1.5])
    ctx = Context()
    np.testing.assert_array_equal(SignSTE.forward(ctx, x), [-1.0, -1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(SignSTE.backward(ctx, np.full(5, 3.0)), [0.0, 3.0, 3.0, 3.0, 0.0])
