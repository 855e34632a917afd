"""Tasks of chapter 05 (seeing inside the network). Run one task: ``pytest -m task5_1``.

The models here are tiny and hand-weighted, so every expected map can be written down exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.viz.gradcam import GradCAM, upsample_bilinear
from minitorch_cnn.viz.occlusion import occlusion_sensitivity, patch_positions
from minitorch_cnn.viz.receptive_field import RFParams, conv_rf
from minitorch_cnn.viz.saliency import saliency


@pytest.mark.task5_1
def test_conv_rf_arithmetic() -> None:
    image = RFParams(n=(28, 28), jump=(1, 1), rf=(1, 1), start=(0.5, 0.5))
    conv = conv_rf(image, kernel=(3, 3), stride=(1, 1), padding=(1, 1))
    assert (conv.n, conv.jump, conv.rf, conv.start) == ((28, 28), (1, 1), (3, 3), (0.5, 0.5))
    pool = conv_rf(conv, kernel=(2, 2), stride=(2, 2), padding=(0, 0))
    assert (pool.n, pool.jump, pool.rf, pool.start) == ((14, 14), (2, 2), (4, 4), (1.0, 1.0))
    dil = conv_rf(pool, kernel=(3, 3), stride=(1, 1), padding=(2, 2), dilation=(2, 2))  # k_eff = 5
    assert (dil.n, dil.jump, dil.rf, dil.start) == ((14, 14), (2, 2), (12, 12), (1.0, 1.0))
    strided = conv_rf(image, kernel=(3, 5), stride=(2, 3), padding=(0, 0))
    assert (strided.n, strided.jump, strided.rf, strided.start) == ((13, 8), (2, 3), (3, 5), (1.5, 2.5))


def _cam_model() -> nn.Sequential:
    """conv 1x1 making channels (x, -x) -> global average -> logits (mean x, 2 mean(-x))."""
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2, bias=False))
    model[0].weight._array[...] = np.array([1.0, -1.0], dtype=np.float32).reshape(2, 1, 1, 1)
    model[0].bias._array[...] = 0.0
    model[3].weight._array[...] = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    return model


@pytest.mark.task5_2
def test_gradcam_weights_and_map() -> None:
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    x[0, 0, 0, 0], x[0, 0, 2, 3] = -2.0, -1.0  # negative pixels: evidence for class 1
    x[0, 0, 3, 0] = 3.0
    with GradCAM(_cam_model(), "0") as cam:
        heat = cam(mt.tensor(x), target=1)
        # alpha = mean of d logit_1 / dA over the 4x4 positions: (0, 2/16)
        np.testing.assert_allclose(cam.gradients.mean(axis=(2, 3)), [[0.0, 2 / 16]], rtol=1e-6)
    want = np.maximum(-x[0, 0], 0) / 2.0  # ReLU(sum_k alpha_k A_k), scaled to a peak of 1
    np.testing.assert_allclose(heat[0], want, atol=1e-6)


@pytest.mark.task5_3
def test_patch_positions() -> None:
    assert patch_positions(10, 4, 3) == [0, 3, 6]
    assert patch_positions(10, 4, 4) == [0, 4, 6], "the last patch that fits is always included"
    assert patch_positions(5, 5, 2) == [0]


@pytest.mark.task5_3
def test_occlusion_map_average() -> None:
    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4))
    x = mt.randn(1, 1, 8, 8)
    res = occlusion_sensitivity(model, x, target=2, patch_sizes=(4,), stride=2)[4]
    drop = res.baseline[0] - res.probs[0]  # (rows, cols): the probability lost per patch position
    want = np.zeros((8, 8))
    count = np.zeros((8, 8))
    for a, r in enumerate(res.rows):
        for b, c in enumerate(res.cols):
            want[r : r + 4, c : c + 4] += drop[a, b]
            count[r : r + 4, c : c + 4] += 1
    np.testing.assert_allclose(res.heatmap[0], want / count, rtol=1e-6)


@pytest.mark.task5_4
def test_saliency_linear_model() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 3))
    w = np.random.default_rng(0).standard_normal((3, 18)).astype(np.float32)
    model[1].weight._array[...] = w
    sal = saliency(model, mt.randn(2, 2, 3, 3), target=1)
    want = np.abs(w[1].reshape(2, 3, 3)).max(axis=0)  # d score_1 / d x = W[1], whatever x is
    np.testing.assert_allclose(sal, np.stack([want, want]), rtol=1e-6)


@pytest.mark.task5_5
def test_upsample_bilinear() -> None:
    maps = np.array([[[0.0, 4.0], [8.0, 12.0]]])
    # align_corners=False: output o samples (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped)
    weights = np.array([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]])
    np.testing.assert_allclose(upsample_bilinear(maps, (4, 4))[0], weights @ maps[0] @ weights.T)
    np.testing.assert_allclose(upsample_bilinear(maps, (2, 2)), maps)  # same size: unchanged
    assert upsample_bilinear(np.ones((3, 2, 5)), (7, 3)).shape == (3, 7, 3)
