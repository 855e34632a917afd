"""Tasks of chapter 06 (common structures). Run one task: ``pytest -m task6_1``."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.models.blocks import BasicBlock, channel_shuffle


def _reference_block(block: BasicBlock, x: mt.Tensor) -> np.ndarray:
    """``relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x))``, written out with functional calls."""
    F = nn.functional
    h = F.relu(block.bn1(F.conv2d(x, block.conv1.weight, None, block.conv1.stride, 1)))
    h = block.bn2(F.conv2d(h, block.conv2.weight, None, 1, 1))
    return F.relu(h + block.shortcut(x)).detach().numpy()


@pytest.mark.task6_1
def test_basic_block_identity_shortcut() -> None:
    mt.manual_seed(0)
    block = BasicBlock(4, 4).eval()
    x = mt.randn(2, 4, 5, 5, requires_grad=True)
    out = block(x)
    assert out.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(out.detach().numpy(), _reference_block(block, x), rtol=1e-5, atol=1e-6)
    # with the residual branch silenced (bn2's gamma = beta = 0) the block is relu(x): the identity path
    with mt.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    y = block(x)
    np.testing.assert_allclose(y.detach().numpy(), np.maximum(x.detach().numpy(), 0), atol=1e-7)
    y.sum().backward()  # ... and the gradient reaches the input through the shortcut unchanged
    np.testing.assert_array_equal(x.grad.numpy(), (x.detach().numpy() > 0).astype(np.float32))


@pytest.mark.task6_1
def test_basic_block_projection_shortcut() -> None:
    mt.manual_seed(1)
    block = BasicBlock(3, 6, stride=2).eval()  # channels and size change: a 1x1 stride-2 projection
    x = mt.randn(2, 3, 8, 8)
    out = block(x)
    assert out.shape == (2, 6, 4, 4)
    np.testing.assert_allclose(out.detach().numpy(), _reference_block(block, x), rtol=1e-5, atol=1e-6)


@pytest.mark.task6_2
def test_channel_shuffle_order() -> None:
    x = mt.tensor(np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1) * np.ones((1, 6, 2, 2), np.float32))
    # 2 groups of 3 channels [0 1 2 | 3 4 5]: the first of each group, then the second, ...
    assert channel_shuffle(x, 2).numpy()[0, :, 0, 0].tolist() == [0, 3, 1, 4, 2, 5]
    assert channel_shuffle(x, 3).numpy()[0, :, 1, 1].tolist() == [0, 2, 4, 1, 3, 5]
    assert channel_shuffle(x, 1).numpy()[0, :, 0, 1].tolist() == [0, 1, 2, 3, 4, 5]  # one group: unchanged
