"""Receptive fields: the unit's numbers, the arithmetic's corner cases, and autograd's inverse image."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.viz import inverse_image, receptive_field, receptive_field_for_unit


def unit_example() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)
    )


def test_unit_example_rows_exactly():
    rf = receptive_field(unit_example(), (3, 256, 256))
    got = [(r["name"], r["map_size"], r["start"], r["jump"], r["rf"]) for r in rf.rows]
    assert got == [
        ("input", [256, 256], [0.5, 0.5], [1, 1], [1, 1]),
        ("0", [128, 128], [0.5, 0.5], [2, 2], [7, 7]),
        ("1", [128, 128], [0.5, 0.5], [2, 2], [7, 7]),
        ("2", [128, 128], [0.5, 0.5], [2, 2], [7, 7]),
        ("3", [64, 64], [0.5, 0.5], [4, 4], [11, 11]),
    ]
    assert receptive_field_for_unit(rf, "2", (1, 1)) == [(0, 6), (0, 6)]
    # a unit in the middle is not clipped: centre 0.5 + 10*4 = 40.5, field 11 -> [35, 46)
    assert receptive_field_for_unit(rf, "3", (10, 10)) == [(35, 46), (35, 46)]
    assert receptive_field_for_unit(rf, "3", (63, 63)) == [(247, 256), (247, 256)]
    assert "| 3 | MaxPool2d | 64 | 0.5 | 4 | 11 |" in rf.to_markdown()


@pytest.mark.parametrize("layer,unit", [("0", (1, 1)), ("2", (5, 9)), ("3", (0, 0)), ("3", (3, 4)), ("3", (7, 7))])
def test_inverse_image_matches_the_arithmetic(layer, unit):
    mt.manual_seed(0)
    model = unit_example()
    rf = receptive_field(model, (3, 32, 32))
    assert inverse_image(model, (3, 32, 32), layer, unit) == receptive_field_for_unit(rf, layer, unit)


def test_dilation_non_square_kernels_and_stride():
    mt.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 8, (3, 5), stride=(1, 2), padding=(2, 1), dilation=(2, 1)),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, dilation=3, padding=2),
    )
    rf = receptive_field(model, (1, 40, 40))
    r0, r2 = rf["0"], rf["2"]
    # height: k_eff = 2*(3-1)+1 = 5, padding 2 -> start 0.5 + (2 - 2) = 0.5; width: k 5, stride 2, pad 1
    assert r0["map_size"] == [40, 19] and r0["rf"] == [5, 5] and r0["jump"] == [1, 2]
    assert r0["start"] == [0.5, 1.5]
    # second conv: k_eff = 7; h: rf 5 + 6*1 = 11, start 0.5 + (3 - 2)*1; w: rf 5 + 6*2 = 17, start 1.5 + 1*2
    assert r2["rf"] == [11, 17] and r2["start"] == [1.5, 3.5] and r2["map_size"] == [38, 17]
    # interior units (dilated kernels leave holes in the field, so at the border the inverse image can
    # be a strict subset of the analytic box; see inverse_image's docstring)
    for unit in [(10, 7), (20, 5), (35, 14)]:
        assert inverse_image(model, (1, 40, 40), "2", unit) == receptive_field_for_unit(rf, "2", unit)


class Residual(nn.Module):
    """conv(3x3) branch + a 1x1 shortcut, then a shared head: the add must take the union."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.skip = nn.Conv2d(1, 4, 1)
        self.pool = nn.AvgPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        y = self.b(self.a(x).relu()) + self.skip(x)
        return self.gap(self.pool(mt.cat([y, y * 2], dim=1)))


def test_branching_model_takes_the_union_and_global_pooling_sees_everything():
    mt.manual_seed(2)
    model = Residual()
    rf = receptive_field(model, (1, 16, 16))
    assert rf["skip"]["rf"] == [1, 1] and rf["b"]["rf"] == [5, 5]
    assert rf["pool"]["sources"] == ["b", "skip"]
    assert rf["pool"]["rf"] == [6, 6] and rf["pool"]["jump"] == [2, 2] and rf["pool"]["start"] == [1, 1]
    assert rf["gap"]["rf"] == [16, 16] and rf["gap"]["global"]
    assert inverse_image(model, (1, 16, 16), "pool", (3, 3)) == receptive_field_for_unit(rf, "pool", (3, 3))


def test_bad_arguments_are_named():
    rf = receptive_field(unit_example(), (3, 64, 64))
    with pytest.raises(ValueError, match="outside"):
        receptive_field_for_unit(rf, "3", (16, 0))
    with pytest.raises(KeyError, match="no layer"):
        receptive_field_for_unit(rf, "conv9", (0, 0))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        receptive_field(unit_example(), (64, 64))


def test_top_level_reexports():
    assert mt.receptive_field is receptive_field and mt.receptive_field_for_unit is receptive_field_for_unit
    assert np.isclose(receptive_field(unit_example(), (3, 20, 20))["3"]["rf"][0], 11)


def test_padding_layers_ceil_mode_and_avg_pool():
    mt.manual_seed(3)
    model = nn.Sequential(nn.ZeroPad2d((2, 0, 1, 0)), nn.Conv2d(1, 6, 3), nn.MaxPool2d(2, ceil_mode=True),
                          nn.AvgPool2d(3, stride=1, padding=1), nn.Conv2d(6, 6, 2, stride=2))
    rf = receptive_field(model, (1, 15, 15))
    # the pad shifts the first centre up/left by (1, 2) pixels; the maps follow PyTorch's sizes
    assert rf["0"]["start"] == [-0.5, -1.5] and rf["0"]["map_size"] == [16, 17]
    assert rf["2"]["map_size"] == [7, 8]  # ceil mode keeps the last, partial window
    assert rf["4"]["rf"] == [10, 10] and rf["4"]["jump"] == [4, 4]
    for unit in [(0, 0), (1, 2), (2, 3)]:
        assert inverse_image(model, (1, 15, 15), "4", unit) == receptive_field_for_unit(rf, "4", unit)
