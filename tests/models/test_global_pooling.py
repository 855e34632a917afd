"""Global pooling as the unit teaches it: a pooling window the size of the feature map, then squeeze,
is global pooling; and a GAP head needs a fraction of the parameters of flatten + dense."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn.utils import skip_init


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 3), c=st.integers(1, 4), h=st.integers(1, 7), w=st.integers(1, 7))
def test_image_sized_pooling_then_squeeze_is_global_pooling(n, c, h, w) -> None:
    x0 = np.random.default_rng(h * 10 + w).standard_normal((n, c, h, w))
    x = mt.tensor(x0, requires_grad=True)
    avg = nn.AvgPool2d(kernel_size=(h, w))(x).squeeze()
    gap = nn.AdaptiveAvgPool2d(1)(x).squeeze()
    np.testing.assert_allclose(avg.detach().numpy(), gap.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gap.detach().numpy(), x0.mean(axis=(2, 3)).squeeze(), rtol=1e-12)
    mx = nn.MaxPool2d(kernel_size=(h, w))(x).squeeze()
    np.testing.assert_array_equal(mx.detach().numpy(), nn.AdaptiveMaxPool2d(1)(x).squeeze().detach().numpy())
    np.testing.assert_array_equal(mx.detach().numpy(), x0.max(axis=(2, 3)).squeeze())
    # the same gradients: 1/(h*w) everywhere for the average
    avg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(x0.shape, 1 / (h * w)), rtol=1e-12)


def test_squeeze_also_drops_a_batch_of_one_so_models_flatten_instead() -> None:
    x = mt.randn(1, 8, 5, 5)
    assert nn.AvgPool2d(5)(x).squeeze().shape == (8,)
    assert nn.AdaptiveAvgPool2d(1)(x).flatten(1).shape == (1, 8)


def test_gap_head_saves_parameters_against_flatten_plus_dense() -> None:
    model = models.resnet_gap()  # ends on a 128 x 7 x 7 map
    head = sum(int(np.prod(p.shape)) for p in model.fc.parameters())
    dense = nn.Linear(128 * 7 * 7, 10)
    assert head == 128 * 10 + 10 == 1_290
    assert sum(int(np.prod(p.shape)) for p in dense.parameters()) == 62_730
    vgg = skip_init(models.vgg16)
    first_dense = int(np.prod(vgg.classifier[0].weight.shape)) + 4096
    assert first_dense == 102_764_544  # 74% of VGG-16's 138,357,544, all for flattening a 512x7x7 map
    assert 512 * 1000 + 1000 == 513_000  # ResNet's GAP head on 512 channels, for 1000 classes
