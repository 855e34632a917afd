"""Feature maps, filters, max response, saliency, Grad-CAM and occlusion on models whose answer is known."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.viz import (
    GradCAM,
    feature_maps,
    filters,
    gradcam,
    max_filter_response,
    occlusion_sensitivity,
    overlay,
    saliency,
    upsample_bilinear,
)
from minitorch_cnn.viz.occlusion import patch_positions

S = 16  # image side; the model only looks at the top-left S/2 x S/2 quadrant


class QuadrantMask(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        m = np.zeros((1, 1, S, S), dtype=np.float32)
        m[..., : S // 2, : S // 2] = 1
        self.register_buffer("mask", mt.tensor(m))

    def forward(self, x):
        return x * self.mask


def quadrant_model() -> nn.Module:
    """mask -> 1x1 conv (positive weights, no bias) -> ReLU -> global average -> Linear(4, 2).

    Class 0 has positive weights and class 1 negative ones, so on a positive image class 0 wins and
    its evidence lies exactly in the top-left quadrant.
    """
    model = nn.Sequential(QuadrantMask(), nn.Conv2d(1, 4, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2))
    with mt.no_grad():
        model[1].weight.copy_(mt.tensor(np.linspace(0.5, 1.0, 4, dtype=np.float32).reshape(4, 1, 1, 1)))
        model[1].bias.zero_()
        model[5].weight.copy_(mt.tensor(np.array([[1, 2, 3, 4], [-1, -2, -3, -4]], dtype=np.float32)))
        model[5].bias.zero_()
    return model


def image(n: int = 1) -> mt.Tensor:
    return mt.tensor(np.random.default_rng(0).uniform(0.5, 1.0, (n, 1, S, S)).astype(np.float32))


QUAD = np.zeros((S, S), dtype=bool)
QUAD[: S // 2, : S // 2] = True


def untouched(model: nn.Module) -> None:
    assert model.training and all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())


def test_saliency_lights_the_quadrant_only():
    model = quadrant_model()
    sal = saliency(model, image(2))
    assert sal.shape == (2, S, S)
    assert (sal[:, QUAD] > 0).all() and (sal[:, ~QUAD] == 0).all()
    untouched(model)


def test_gradcam_lights_the_quadrant_only_and_cleans_up():
    model = quadrant_model()
    x = image(2)
    with GradCAM(model, "2") as cam:
        heat = cam(x)  # target None: the predicted class, 0 here
        assert cam.targets.tolist() == [0, 0]
        assert not model.training
    assert heat.shape == (2, S, S) and np.isclose(heat.max(), 1.0)
    assert (heat[:, QUAD] > 0).all() and (heat[:, ~QUAD] == 0).all()
    untouched(model)
    np.testing.assert_allclose(gradcam(model, model[2], x, target=0), heat)


def test_gradcam_flat_map_warns_and_hooks_go_even_on_error():
    model = quadrant_model()
    with pytest.warns(RuntimeWarning, match="zero everywhere"):
        heat = gradcam(model, "2", image(), target=1)  # class 1 has only negative evidence
    assert np.array_equal(heat, np.zeros((1, S, S)))
    with pytest.raises(ValueError, match="out of range"), GradCAM(model, "2") as cam:
        cam(image(), target=7)
    untouched(model)
    with pytest.raises(RuntimeError, match="context manager"):
        GradCAM(model, "2")(image())


def test_bilinear_upsampling_matches_pytorch_align_corners_false():
    up = upsample_bilinear(np.array([[[1.0, 2.0], [3.0, 4.0]]]), (4, 4))
    expected = [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]]
    np.testing.assert_allclose(up[0], expected)
    rgb = overlay(np.ones((1, 4, 4)), up[0] / 4)
    assert rgb.shape == (4, 4, 3) and 0 <= rgb.min() and rgb.max() <= 1


def test_occlusion_lights_the_quadrant_only_and_covers_every_position():
    model = quadrant_model()
    res = occlusion_sensitivity(model, image(), patch_sizes=[4, 6], stride=4, batch_size=5)
    r4 = res[4]
    assert r4.rows == r4.cols == [0, 4, 8, 12] and r4.probs.shape == (1, 4, 4)
    drop = r4.baseline[0] - r4.probs[0]
    assert (drop[:2, :2] > 0).all() and np.allclose(np.delete(drop.ravel(), [0, 1, 4, 5]), 0, atol=1e-7)
    assert (r4.heatmap[0][QUAD] > 0).all() and np.allclose(r4.heatmap[0][~QUAD], 0, atol=1e-7)
    assert res[6].rows == [0, 4, 8, 10]  # the last position is added so the border is covered
    assert patch_positions(10, 3, 3) == [0, 3, 6, 7] and patch_positions(5, 5, 2) == [0]
    # batched and one-at-a-time give the same numbers; "mean" fill works
    one = occlusion_sensitivity(model, image(), patch_sizes=[4], stride=4, batch_size=1)[4]
    np.testing.assert_allclose(one.probs, r4.probs, rtol=1e-6)
    assert occlusion_sensitivity(model, image(), patch_sizes=[8], fill="mean")[8].probs.shape == (1, 3, 3)
    with pytest.raises(ValueError, match="patch size"):
        occlusion_sensitivity(model, image(), patch_sizes=[17])
    untouched(model)


def test_feature_maps_and_filters():
    model = quadrant_model()
    maps = feature_maps(model, "2", image())
    assert maps.shape == (1, 4, S, S) and (maps[0][:, ~QUAD] == 0).all()
    np.testing.assert_allclose(maps[0, 3][QUAD], image().numpy()[0, 0][QUAD], rtol=1e-6)  # weight 1.0
    w = filters(model[1], normalize=False)
    assert w.shape == (4, 1, 1, 1) and np.isclose(w[3, 0, 0, 0], 1.0)
    assert np.all(filters(model[1]) == 0.5)  # one number per filter: no contrast, shown mid-grey
    conv = nn.Conv2d(3, 5, 3)
    f = filters(conv)
    assert f.shape == (5, 3, 3, 3) and np.allclose(f.min(axis=(1, 2, 3)), 0) and np.allclose(f.max(axis=(1, 2, 3)), 1)
    with pytest.raises(ValueError, match="4-d weight"):
        filters(nn.Linear(2, 2))
    untouched(model)


def test_max_filter_response_increases_monotonically():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU())
    r = max_filter_response(model, "2", channel=3, steps=25, lr=0.2, input_shape=(1, 12, 12))
    h = np.array(r.history)
    assert len(h) == 26 and r.image.shape == (1, 12, 12)
    assert np.all(np.diff(h) > 0), h
    assert h[-1] > h[0] + 0.05
    # with the regularisers it still climbs overall
    reg = max_filter_response(model, "2", channel=3, steps=25, lr=0.05, input_shape=(1, 12, 12), jitter=1, blur=0.5)
    assert reg.history[-1] > reg.history[0]
    untouched(model)


def test_visualizations_run_on_the_strict_backend():
    model = quadrant_model().to("strict")
    x = mt.tensor(image().numpy(), device="strict")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (saliency(model, x)[0][~QUAD] == 0).all()
        assert (gradcam(model, "2", x)[0][~QUAD] == 0).all()
        assert occlusion_sensitivity(model, x, patch_sizes=[8], stride=8)[8].probs.shape == (1, 2, 2)
        assert feature_maps(model, "1", x).shape == (1, 4, S, S)
        assert len(max_filter_response(model, "1", 0, steps=2, input_shape=(1, S, S), blur=0.5, blur_every=1).history) == 3


def test_plotting_helpers_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from minitorch_cnn.viz import plotting

    model = quadrant_model()
    x = image()
    plotting.plot_feature_maps(feature_maps(model, "2", x), tmp_path / "maps.png")
    plotting.plot_filters(filters(nn.Conv2d(3, 4, 3)), tmp_path / "filters.png")
    plotting.plot_heatmap(x.numpy()[0], gradcam(model, "2", x)[0], tmp_path / "cam.png")
    plotting.plot_occlusion(occlusion_sensitivity(model, x, patch_sizes=[4, 8]), path=tmp_path / "occ.png")
    for name in ("maps", "filters", "cam", "occ"):
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
