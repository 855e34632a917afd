"""The figures explain themselves: titles, colour scales, ticks and labels a student can read.

A PNG cannot be asserted pixel by pixel; the Figure objects the helpers return can. These tests
read back what each figure says (titles, colour-bar labels and limits, ticks).
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.viz import REGULARISED, max_filter_response, occlusion_sensitivity, plotting

pytest.importorskip("matplotlib")


def _texts(fig) -> list[str]:
    """Every title, suptitle and axis label of a figure."""
    out = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    return [t for t in out if t]


def _images(fig) -> list:
    return [im for ax in fig.axes for im in ax.get_images()]


def test_prediction_title_and_skip_notice_say_what_and_why():
    t = plotting.prediction_title("Grad-CAM", "tee", 0.9712, "ell")
    assert t == "Grad-CAM for the predicted class 'tee' (p = 0.97); true class 'ell'"
    assert "for class 'tee'" in plotting.prediction_title("Saliency", "tee", 0.1, predicted=False)
    notice = plotting.skip_notice("curves.png")
    assert notice.startswith("curves.png skipped: matplotlib is not installed") and "pip install matplotlib" in notice
    assert "\n" not in notice  # one line


def test_filters_use_a_diverging_scale_centred_at_zero_with_a_colour_bar(tmp_path):
    w = np.random.default_rng(0).standard_normal((6, 1, 3, 3))
    fig = plotting.plot_filters(w, tmp_path / "f.png", title="Filters of layer features.0")
    images = _images(fig)
    assert len(images) == 6
    lo, hi = images[0].get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(w).max())  # sign visible, one scale for all
    assert {im.get_clim() for im in images} == {(lo, hi)}
    assert images[0].get_cmap().name == plotting.DIVERGING
    assert any("weight" in t for t in _texts(fig))  # the colour bar's label
    assert "Filters of layer features.0 (6x1x3x3)" in _texts(fig)[0]
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    many = plotting.plot_filters(np.ones((2, 5, 3, 3)))
    assert "input channel 0 of 5" in _texts(many)[0]


def test_feature_maps_share_one_scale_and_show_the_input():
    signed = np.random.default_rng(1).standard_normal((1, 4, 6, 6))
    fig = plotting.plot_feature_maps(signed, title="layer 0", image=np.zeros((1, 6, 6)))
    images = _images(fig)
    assert len(images) == 5 and fig.axes[0].get_title() == "input"
    assert images[1].get_cmap().name == plotting.DIVERGING and images[1].get_clim()[0] == -images[1].get_clim()[1]
    relu = plotting.plot_feature_maps(np.abs(signed))
    assert _images(relu)[0].get_cmap().name == "viridis"
    assert "all 4 channels, 6x6 each" in _texts(relu)[0]


def test_curves_have_integer_epoch_ticks_a_title_and_labelled_axes():
    row = {"train_loss": 1.0, "test_loss": 0.9, "train_acc": 0.5, "test_acc": 0.6}
    for n in (1, 3, 30):
        history = [dict(row, epoch=e) for e in range(1, n + 1)]
        fig = plotting.plot_curves(history, title="CNN on builtin")
        for ax in fig.axes:
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), (n, ticks)
            assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
            labels = [t.get_text() for t in ax.get_legend().get_texts()]
            assert any("running average, dropout on" in t for t in labels)
        assert fig._suptitle.get_text() == "CNN on builtin"


def test_occlusion_is_drawn_over_the_input_and_names_the_class():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 8 * 8, 3))
    x = mt.randn(1, 1, 8, 8)
    res = occlusion_sensitivity(model, x, patch_sizes=[2, 4])
    fig = plotting.plot_occlusion(res, image=x.numpy()[0], class_name="tee")
    titles = _texts(fig)
    assert fig.axes[0].get_title() == "input"
    assert len(fig.axes[1].get_images()) == 2  # the input, and the drop map over it
    assert "p('tee') =" in titles[0] and any("drop in p(class)" in t for t in titles)


def test_max_response_is_labelled_and_regularised_ascent_is_smoother():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU())
    plain = max_filter_response(model, "2", channel=3, steps=40, input_shape=(1, 20, 20))
    nice = max_filter_response(model, "2", channel=3, input_shape=(1, 20, 20), **REGULARISED)

    def roughness(img):
        return (np.abs(np.diff(img, axis=-1)).sum() + np.abs(np.diff(img, axis=-2)).sum()) / np.ptp(img)

    assert roughness(nice.image) < 0.8 * roughness(plain.image)
    assert nice.history[-1] > nice.history[0]
    fig = plotting.plot_max_response(nice, "features.11", 3, settings=REGULARISED)
    assert "layer features.11, channel 3" in _texts(fig)[0] and "jitter" in _texts(fig)[0]
    assert fig.get_size_inches()[1] >= 3.5  # big enough to see 28x28 pixels
    with pytest.raises(ValueError, match="decay"):
        max_filter_response(model, "2", channel=0, decay=1.5)
