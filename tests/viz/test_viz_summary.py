"""Model summary: the unit's counts exactly, sharing, branching, measured memory, exports."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from minitorch_cnn.autograd import Function
from minitorch_cnn.models import build_model
from minitorch_cnn.viz import summary


def test_fashion_cnn_counts_keras_style():
    model = build_model("cnn")
    s = summary(model, (1, 28, 28))
    assert (s.totals["total_params"], s.totals["trainable_params"], s.totals["non_trainable_params"]) == (
        1_679_082, 1_677_674, 1_408)
    bn = [r for r in s.rows if r["type"] == "BatchNorm2d"]
    assert [r["params"] for r in bn] == [128, 128, 256, 256]  # gamma, beta + running mean, var
    assert [r["non_trainable"] for r in bn] == [64, 64, 128, 128]
    assert s.rows[0]["output_shape"] == [-1, 32, 28, 28] and s.rows[-1]["output_shape"] == [-1, 10]
    text = str(s)
    for line in ("Total params: 1,679,082", "Trainable params: 1,677,674", "Non-trainable params: 1,408", "MiB"):
        assert line in text
    # PyTorch's count: buffers are not parameters
    t = summary(model, (1, 28, 28), count_bn_stats_as_params=False).totals
    assert (t["total_params"], t["non_trainable_params"]) == (1_677_674, 0)


class DogsVsCats(nn.Module):
    """The unit's VGG-like dogs-vs-cats convolutional base (ReLU applied functionally, as Keras's
    Conv2D(activation="relu") is one layer), 3x150x150 input."""

    def __init__(self) -> None:
        super().__init__()
        chans = [(3, 32), (32, 64), "pool", (64, 128), (128, 128), "pool", (128, 256), (256, 512), "pool",
                 (512, 512), (512, 512)]
        self.layers = nn.ModuleList([nn.MaxPool2d(2) if c == "pool" else nn.Conv2d(*c, 3) for c in chans])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x) if isinstance(layer, nn.MaxPool2d) else F.relu(layer(x))
        return x


def test_dogs_vs_cats_table_numbering_and_counts():
    s = summary(DogsVsCats(), (3, 150, 150), batch_size=1)
    got = [(r["label"], r["params"]) for r in s.rows]
    assert got == [
        ("Conv2d-1", 896), ("Conv2d-2", 18_496), ("MaxPool2d-3", 0), ("Conv2d-4", 73_856),
        ("Conv2d-5", 147_584), ("MaxPool2d-6", 0), ("Conv2d-7", 295_168), ("Conv2d-8", 1_180_160),
        ("MaxPool2d-9", 0), ("Conv2d-10", 2_359_808), ("Conv2d-11", 2_359_808),
    ]
    assert s.rows[-1]["output_shape"] == [1, 512, 11, 11]
    assert s.totals["total_params"] == sum(p for _, p in got)


class Tied(nn.Module):
    """One Linear used twice, plus a second Linear sharing the first one's weight."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.other = nn.Linear(6, 6, bias=False)
        self.other.weight = self.fc.weight

    def forward(self, x):
        return self.other(self.fc(self.fc(x)))


def test_shared_parameters_are_counted_once():
    s = summary(Tied(), (6,))
    assert [(r["name"], r["params"], r["shared_params"]) for r in s.rows] == [
        ("fc", 42, 0), ("fc#2", 0, 42), ("other", 0, 36)]
    assert s.totals["total_params"] == 42
    assert "(+42 shared)" in str(s)


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.left = nn.Conv2d(4, 4, 3, padding=1)
        self.right = nn.Conv2d(4, 2, 1)
        self.head = nn.Conv2d(10, 3, 1)

    def forward(self, x):
        s = self.stem(x)
        y = self.left(s) + s  # residual add
        return self.head(mt.cat([y, self.right(s), s], dim=1))  # concatenation


def test_branching_model_rows_and_connections():
    s = summary(Branchy(), (1, 8, 8), style="keras", mult_adds=True, kernel_size=True)
    conn = {r["name"]: r["connected_to"] for r in s.rows}
    assert conn == {"stem": ["input"], "left": ["stem"], "right": ["stem"], "head": ["left", "stem", "right"]}
    assert s.totals["total_params"] == 40 + 148 + 10 + 33
    by = {r["name"]: r for r in s.rows}
    assert by["left"]["mult_adds"] == 4 * 8 * 8 * 4 * 9 and by["head"]["kernel_size"] == [1, 1]
    md = s.to_markdown()
    assert "| head (Conv2d) | (None, 3, 8, 8) | 1x1 | 33 | 1,920 | left, stem, right |" in md


class SaveKnown(Function):
    """Saves its input twice (one array), a view of it, and a fresh 3x5 float64 array."""

    @staticmethod
    def forward(ctx, x):
        xp = mt.backend.get_array_module(x)
        ctx.save_for_backward(x, x, x.reshape(-1))
        ctx.extra = xp.zeros((3, 5), dtype=xp.float64)
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


class Probe(nn.Module):
    def forward(self, x):
        return SaveKnown.apply(SaveKnown.apply(x))


def test_activation_memory_is_measured_from_the_graph():
    # first op: saves the input (not activation memory: it is the input), a view of it (same memory)
    # and a fresh 3x5 float64 (120 bytes); second op: its input, the (3, 4) float32 output of the
    # first (48 bytes), twice + a view (counted once), and another 120 bytes
    s = summary(Probe(), (4,), batch_size=3)
    assert s.totals["activation_bytes"] == 48 + 2 * 120
    assert s.totals["input_bytes"] == 48 and s.totals["params_bytes"] == 0


def test_per_sample_memory_equals_a_batch_of_one_and_state_is_untouched():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 3))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    rng_before = mt.backend.get_rng_state()
    per_sample = summary(model, (1, 8, 8)).totals
    one = summary(model, (1, 8, 8), batch_size=1).totals
    assert per_sample["activation_bytes"] == one["activation_bytes"] > 0
    four = summary(model, (1, 8, 8), batch_size=4).totals
    assert four["activation_bytes"] > one["activation_bytes"]
    assert four["input_bytes"] == 4 * one["input_bytes"] == 4 * 64 * 4
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k].numpy()) for k in before)
    assert mt.backend.get_rng_state() == rng_before and model.training


def test_exports_and_depth():
    model = build_model("resnet")
    s = summary(model, (1, 28, 28), depth=1)
    assert [r["name"] for r in s.rows] == ["stem", "stages", "pool", "fc"]
    full = summary(model, (1, 28, 28))
    assert s.totals["total_params"] == full.totals["total_params"] == sum(r["params"] for r in full.rows)
    rows = list(csv.DictReader(io.StringIO(s.to_csv())))
    assert rows[0]["label"] == "Sequential-1" and int(rows[-1]["params"]) == 650
    d = s.to_dict()
    assert d["totals"]["total_params"] == s.totals["total_params"] and len(d["rows"]) == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="style"):
        summary(build_model("mlp"), (1, 28, 28), style="fancy")
    with pytest.raises(ValueError, match="batch_size"):
        summary(build_model("mlp"), (1, 28, 28), batch_size=0)
    assert mt.summary is summary


def test_same_numbers_on_the_strict_backend():
    model = build_model("resnet")
    cpu = summary(model, (1, 28, 28)).totals
    strict = summary(model.to("strict"), (1, 28, 28)).totals
    assert strict == cpu
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_mult_adds_known_value_functional_convs_and_frozen_counts():
    # ResNet-18's stem at 224x224: 112*112*64 outputs, each 3*7*7 mult-adds (torchvision: 118.01 M)
    stem = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
    assert summary(stem, (3, 224, 224)).totals["mult_adds"] == 112 * 112 * 64 * 3 * 49 == 118_013_952

    class Functional(nn.Module):
        """A convolution called functionally inside forward, then a frozen linear head."""

        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(mt.randn(4, 1, 3, 3))
            self.up = nn.ConvTranspose2d(4, 2, 2, stride=2)
            self.fc = nn.Linear(2 * 12 * 12, 5)

        def forward(self, x):
            return self.fc(self.up(F.conv2d(x, self.w, padding=1)).flatten(1))

    model = Functional()
    model.fc.requires_grad_(False)
    s = summary(model, (1, 6, 6), mult_adds=True)
    conv, up, fc = 6 * 6 * 4 * 9, 6 * 6 * 4 * 2 * 4, 2 * 12 * 12 * 5  # transposed: per input element
    # the model owns a parameter, so it has a row; the functional conv is its own work
    assert {r["name"]: r["mult_adds"] for r in s.rows} == {"up": up, "fc": fc, "(model)": conv}
    assert s.totals["mult_adds"] == conv + up + fc
    assert s.totals["frozen_params"] == 2 * 12 * 12 * 5 + 5
    assert s.totals["trainable_params"] == 36 + 4 * 2 * 4 + 2
    assert "Frozen params (requires_grad=False): 1,445" in str(s)
