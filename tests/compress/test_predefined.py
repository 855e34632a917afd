"""Pre-defined sparsity: the patterns, their densities, and that they hold through training."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim
from minitorch_cnn.compress import predefined
from minitorch_cnn.models import FashionCNN


def test_kernel_patterns_keep_4_of_9_taps_and_cycle() -> None:
    m = predefined.kernel_pattern_mask((9, 2, 3, 3), 4 / 9)
    assert np.all(m.reshape(9, 2, 9).sum(-1) == 4)
    assert m.reshape(-1, 9).any(axis=0).all()  # every tap used by some kernel
    np.testing.assert_array_equal(m[1, 0], m[0, 1])  # pattern (o + c) mod 9
    assert not np.array_equal(m[0, 0], m[1, 0])
    dense = predefined.kernel_pattern_mask((4, 4, 3, 3), 4 / 9, dense_every=5)
    assert dense.reshape(16, 9).all(axis=1).tolist() == [i % 5 == 0 for i in range(16)]


def test_fc_pattern_has_equal_fan_in_and_fan_out() -> None:
    m = predefined.fc_pattern_mask(20, 50, 0.1)
    assert np.all(m.sum(1) == 5) and np.all(m.sum(0) == 2)


def test_unit_cnn_first_and_last_dense_rest_sparse_through_training(device: str) -> None:
    model = predefined.predefined_sparse(FashionCNN(image_size=8), 4 / 9, 0.1).to(device)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert predefined.density(convs[0]) == 1.0 and predefined.density(model.classifier[5]) == 1.0
    assert all(abs(predefined.density(c) - 4 / 9) < 1e-9 for c in convs[1:])
    assert abs(predefined.density(model.classifier[1]) - 26 / 256) < 1e-9  # round(0.1 * 256) = 26 inputs each
    zero_before = [(c.weight.detach().numpy() == 0).copy() for c in convs[1:]]
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    x, y = mt.randn(4, 1, 8, 8, device=device), mt.tensor(np.arange(4), device=device)
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for c, z in zip(convs[1:], zero_before):
        np.testing.assert_array_equal(c.weight.detach().numpy() == 0, z)


def test_bad_density_is_named() -> None:
    with pytest.raises(ValueError, match=r"density must be a number in \(0, 1\]"):
        predefined.predefined_sparse_(nn.Linear(3, 3), 1.5)
