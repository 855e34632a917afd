"""shrink: dead filters really go, and the smaller dense model computes the same function."""

from __future__ import annotations

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.compress import masks, prune_filters, shrink
from minitorch_cnn.models import FashionCNN


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_shrink_of_the_unit_cnn_gives_identical_outputs(device: str) -> None:
    model = FashionCNN(image_size=8).to(device)
    x = mt.randn(6, 1, 8, 8, device=device)
    model.train()
    model(x)  # some BatchNorm statistics that are not the initial 0 / 1
    prune_filters(model, 0.25)
    model.eval()
    expected = model(x).detach().numpy()
    small = shrink(model)
    assert [m.out_channels for m in small.modules() if isinstance(m, nn.Conv2d)] == [24, 24, 48, 48]
    assert small.classifier[1].in_features == 48 * 2 * 2
    assert _params(small) < _params(model) and not masks.masked_parameters(small)
    np.testing.assert_allclose(small(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert masks.masked_parameters(model)  # the original is untouched


def test_shrink_leaves_live_channels_alone() -> None:
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    small = shrink(net)
    assert small[0].out_channels == 4 and small[2].in_channels == 4
