"""Bad input to the ops, layers and optimizers: each case asserts the exception type and that the
message names the offending argument; empty batches flow through with a 0 batch dim."""

from __future__ import annotations

import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F

# --------------------------------------------------------------------------------------------------
# Empty batches: an output with a 0 batch dim, and a backward that works
# --------------------------------------------------------------------------------------------------
EMPTY_OPS = {
    "conv1d": lambda x: F.conv1d(x.reshape(0, 2, 6), mt.ones(3, 2, 3, device=x.device)),
    "conv2d": lambda x: F.conv2d(x, mt.ones(3, 2, 3, 3, device=x.device), padding=1),
    "conv2d_strided_groups": lambda x: F.conv2d(x, mt.ones(4, 1, 3, 3, device=x.device), stride=2, groups=2),
    "conv_transpose2d": lambda x: F.conv_transpose2d(x, mt.ones(2, 3, 3, 3, device=x.device), stride=2),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, stride=1, padding=1),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, 1),
    "pad_reflect": lambda x: F.pad(x, (1, 1, 2, 2), mode="reflect"),
    "pad_constant": lambda x: F.pad(x, (1, 1)),
}


@pytest.mark.parametrize("name", sorted(EMPTY_OPS))
def test_empty_batch_flows_through(device: str, name: str) -> None:
    x = mt.zeros(0, 2, 6, 6, device=device, requires_grad=True)
    y = EMPTY_OPS[name](x)
    assert y.shape[0] == 0
    y.sum().backward()
    assert x.grad.shape == x.shape
