"""Receptive fields: the unit's numbers, the arithmetic's corner cases, and autograd's inverse image."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F
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


# --------------------------------------------------------------------------------------------------
# Every padding mode and kernel parity, random stacks: the arithmetic against autograd's inverse image
# --------------------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def layer_stacks(draw: st.DrawFn) -> tuple[list, int]:
    """A Sequential of convs (int / 'valid' / 'same' / 'full' padding, odd and even kernels, stride,
    dilation), asymmetric zero padding and average pooling (ceil_mode too), and an input size."""
    layers, c = [], 1
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "conv", "pad", "avg"]))
        if kind == "pad":
            layers.append(nn.ZeroPad2d(tuple(draw(st.integers(0, 2)) for _ in range(4))))
        elif kind == "avg":
            k = draw(st.integers(1, 3))
            layers.append(nn.AvgPool2d(k, stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, k // 2)),
                                       ceil_mode=draw(st.booleans())))
        else:
            k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
            padding = draw(st.sampled_from(["same", "full", "valid", 0, 1, 2]))
            stride = 1 if padding == "same" else draw(st.integers(1, 2))
            layers.append(nn.Conv2d(c, 2, k, stride=stride, padding=padding, dilation=draw(st.integers(1, 2))))
            c = 2
    return layers, draw(st.integers(12, 20))


def _check_units(model: nn.Module, size: tuple, rf, layer: str, n_units: int = 4, exact: bool = True) -> None:
    """Where the analytic field lies inside the image, the inverse image equals it exactly.
    Clipped at the border it can only be a subset, even empty: the arithmetic gives a padded
    intermediate unit the field it would have had, though it holds a constant zero, and a dilated
    kernel's holes may sit at the border."""
    row = rf[layer]
    h, w = row["map_size"]
    units = {(0, 0), (h - 1, w - 1), (h // 2, w // 2), (h // 3, (2 * w) // 3)}
    for unit in sorted(units)[:n_units]:
        analytic = receptive_field_for_unit(rf, layer, unit)
        inside = all(
            row["start"][i] + unit[i] * row["jump"][i] - row["rf"][i] / 2 >= 0
            and row["start"][i] + unit[i] * row["jump"][i] + row["rf"][i] / 2 <= size[1 + i]
            for i in range(2)
        )
        try:
            empirical = inverse_image(model, size, layer, unit)
        except RuntimeError:  # a border unit fed only by zero padding of some layer: allowed when clipped
            assert not inside, unit
            continue
        if inside and exact:
            assert empirical == analytic, (unit, empirical, analytic)
        else:
            assert all(a0 <= e0 and e1 <= a1 for (e0, e1), (a0, a1) in zip(empirical, analytic)), (unit, empirical,
                                                                                                   analytic)


@settings(max_examples=25, deadline=None)
@given(layer_stacks())
def test_random_stacks_match_the_inverse_image(case):
    layers, n = case
    mt.manual_seed(0)
    model = nn.Sequential(*layers)
    size = (1, n, n)
    try:
        with mt.no_grad():
            model(mt.zeros(1, *size))
    except ValueError:
        return  # the stack does not fit this image (a kernel larger than its padded input)
    rf = receptive_field(model, size)
    _check_units(model, size, rf, str(len(layers) - 1))


@pytest.mark.parametrize("padding, kernel", [("same", 2), ("same", 4), ("same", (2, 3)), ("full", 2), ("full", 3)])
def test_same_with_even_kernels_and_full_padding(padding, kernel):
    mt.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 3, kernel, padding=padding), nn.Conv2d(3, 3, 3, padding=padding, dilation=2))
    rf = receptive_field(model, (1, 16, 16))
    if padding == "same":
        assert rf["1"]["map_size"] == [16, 16]
    _check_units(model, (1, 16, 16), rf, "1")


# --------------------------------------------------------------------------------------------------
# Branches and concatenations: Inception, DenseNet, ShuffleNet v2, functional pooling in forward
# --------------------------------------------------------------------------------------------------
class Inception(nn.Module):
    """Four branches of different fields, concatenated; one pools with F.avg_pool2d in forward
    (as torchvision's Inception v3 does), then a functional stride-2 pool shrinks the map."""

    def __init__(self) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(1, 2, 1)
        self.b3 = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Conv2d(2, 2, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Conv2d(2, 2, 5, padding=2))
        self.bp = nn.Conv2d(1, 2, 1)
        self.head = nn.Conv2d(8, 2, 3)

    def forward(self, x):
        pooled = F.avg_pool2d(x, 3, stride=1, padding=1)
        y = mt.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(pooled)], dim=1)
        # average pooling keeps every tap's gradient (a max pool would pass it to the arg-max only)
        return self.head(F.avg_pool2d(y, 3, stride=2))


class Dense(nn.Module):
    """DenseNet: each layer sees the concatenation of every earlier map."""

    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Conv2d(1, 2, 3, padding=1)
        self.l2 = nn.Conv2d(3, 2, 3, padding=1)
        self.trans = nn.AvgPool2d(2)

    def forward(self, x):
        x = mt.cat([x, self.l1(x)], dim=1)
        x = mt.cat([x, self.l2(x)], dim=1)
        return self.trans(x)


class ShuffleV2(nn.Module):
    """ShuffleNet v2 unit: split the channels, one half through 1x1-dw3x3-1x1, concat, shuffle."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2), nn.Conv2d(2, 2, 3, padding=1, groups=2),
                                    nn.Conv2d(2, 2, 1))
        self.head = nn.Conv2d(4, 2, 3, stride=2)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1)
        y = mt.cat([a, self.branch(b)], dim=1)
        n, c, h, w = y.shape
        y = y.reshape(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)  # channel shuffle
        return self.head(y)


@pytest.mark.parametrize("model_cls, layer, expected_rf", [(Inception, "head", 11), (Dense, "trans", 6),
                                                           (ShuffleV2, "head", 7)])
def test_branching_models_match_the_inverse_image(model_cls, layer, expected_rf):
    mt.manual_seed(5)
    model = model_cls()
    rf = receptive_field(model, (1, 17, 17))
    assert rf[layer]["rf"] == [expected_rf, expected_rf]
    _check_units(model, (1, 17, 17), rf, layer)


def test_residual_blocks_of_the_zoo_blocks():
    from minitorch_cnn.models.blocks import BasicBlock, InceptionModule

    mt.manual_seed(6)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), BasicBlock(4, 8, stride=2), InceptionModule(8, 2, 2, 2, 2, 2, 2))
    rf = receptive_field(model, (1, 16, 16))
    # a block is looked up by its output: the union of the residual add, then of the four branches
    assert rf["1"]["rf"] == [9, 9] and rf["1"]["jump"] == [2, 2]
    assert rf["2"]["rf"] == [17, 17] and rf["2"]["map_size"] == [8, 8]  # the 5x5 branch: 9 + 4*2
    # ReLUs and max pools pass gradient to part of the field only: the inverse image is a subset
    _check_units(model, (1, 16, 16), rf, "2", exact=False)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "zeros"])
def test_conv_padding_modes_have_the_zero_padding_geometry(mode):
    """The padding modes copy different pixels into the border but pad by the same amounts, so the
    arithmetic is the same; interior units match the inverse image exactly."""
    mt.manual_seed(7)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode=mode), nn.Conv2d(2, 2, 4, padding="same"))
    rf = receptive_field(model, (1, 12, 12))
    assert rf["1"]["map_size"] == [12, 12] and rf["1"]["rf"] == [6, 6]
    assert rf["0"]["start"] == [0.5, 0.5] and rf["1"]["start"] == [1.0, 1.0]  # even kernel: extra row after
    for unit in [(4, 5), (6, 6)]:
        assert inverse_image(model, (1, 12, 12), "1", unit) == receptive_field_for_unit(rf, "1", unit)


# --------------------------------------------------------------------------------------------------
# Declared geometry of reshape-like ops: pixel shuffle exact, undeclared rearrangements refused
# --------------------------------------------------------------------------------------------------
def _espcn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.PixelShuffle(2), nn.ReLU(), nn.PixelUnshuffle(2),
                         nn.Conv2d(8, 8, 3, stride=2, padding=1))


def test_pixel_shuffle_outputs_read_one_input_pixel_each():
    rf = receptive_field(nn.Sequential(nn.PixelShuffle(2)), (4, 6, 6))
    assert rf["0"]["map_size"] == [12, 12] and rf["0"]["rf"] == [1, 1] and rf["0"]["block"] == [2, 2]
    assert "1 per 2 units" in rf.to_markdown()
    for unit in [(0, 0), (1, 1), (5, 2), (11, 10)]:  # output (h, w) reads exactly input (h // 2, w // 2)
        assert receptive_field_for_unit(rf, "0", unit) == [(unit[0] // 2, unit[0] // 2 + 1),
                                                           (unit[1] // 2, unit[1] // 2 + 1)]
    un = receptive_field(nn.Sequential(nn.PixelUnshuffle(3)), (1, 9, 9))  # per position: an r x r window
    assert receptive_field_for_unit(un, "0", (1, 2)) == [(3, 6), (6, 9)]


@pytest.mark.parametrize("layer,unit", [("1", (0, 0)), ("1", (3, 4)), ("2", (7, 6)), ("3", (2, 1)), ("4", (1, 2))])
def test_pixel_shuffle_model_matches_the_inverse_image(layer, unit):
    mt.manual_seed(0)
    model = _espcn()
    rf = receptive_field(model, (3, 8, 8))
    assert inverse_image(model, (3, 8, 8), layer, unit) == receptive_field_for_unit(rf, layer, unit)
    # unshuffle after shuffle gives back the convolution's fields, one unit per field again
    assert rf["3"]["rf"] == rf["0"]["rf"] and rf["3"]["jump"] == rf["0"]["jump"] and rf["3"]["block"] == [1, 1]


class _HandShuffle(nn.Module):
    """Pixel shuffle written with reshape + permute: nothing declares where the pixels went."""

    def __init__(self, then_conv: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1) if then_conv else nn.Identity()

    def forward(self, x):
        n, c, h, w = x.shape
        y = x.reshape(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // 4, h * 2, w * 2)
        return self.conv(y)


@pytest.mark.parametrize("then_conv", [False, True])
def test_an_undeclared_rearrangement_raises_instead_of_guessing(then_conv):
    with pytest.raises(ValueError, match=r"PermuteBackward rearranges the spatial layout.*declare") as err:
        receptive_field(_HandShuffle(then_conv), (8, 4, 4))
    assert "F.pixel_shuffle" in str(err.value)


def test_transposes_and_flips_of_the_map_raise_but_channel_moves_do_not():
    class Op(nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return self.f(x)

    with pytest.raises(ValueError, match="PermuteBackward"):
        receptive_field(Op(lambda x: x.transpose(2, 3)), (1, 6, 6))  # square: same sizes, rows and columns swapped
    with pytest.raises(ValueError, match="FlipBackward"):
        receptive_field(Op(lambda x: x.flip(3)), (1, 6, 6))
    shuffle = receptive_field(Op(lambda x: x.flip(1).reshape(1, 2, 2, 6, 6).transpose(1, 2).reshape(1, 4, 6, 6)),
                              (4, 6, 6))
    assert shuffle.rows[-1]["rf"] == [1, 1]


def test_flatten_head_reductions_and_normalisation_stay_global():
    head = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    assert receptive_field(head, (1, 8, 8))["2"]["global"]
    for norm in (nn.GroupNorm(2, 4), nn.GroupNorm(2, 4, affine=False), nn.LayerNorm([4, 6, 6])):
        rf = receptive_field(nn.Sequential(nn.Conv2d(1, 4, 3), norm, nn.ReLU()), (1, 8, 8))
        assert rf["1"]["global"] and rf["1"]["rf"] == [8, 8], type(norm).__name__


def test_branches_with_and_without_blocks_take_the_envelope():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.PixelShuffle(2)
            self.near = nn.Upsample(scale_factor=2)
            self.out = nn.ReLU()

        def forward(self, x):
            return self.out(self.up(x) + self.near(x[:, :1]))

    rf = receptive_field(Skip(), (4, 4, 4))
    assert rf["up"]["block"] == [2, 2] and rf["up"]["rf"] == [1, 1]
    # nearest up-sampling is declared as a transposed window: the envelope of the blocks, which the
    # add's union then takes for both branches
    assert rf["near"]["rf"] == [1.5, 1.5] and rf["near"]["block"] == [1, 1]
    assert (rf["out"]["rf"], rf["out"]["jump"], rf["out"]["block"]) == ([1.5, 1.5], [0.5, 0.5], [1, 1])
