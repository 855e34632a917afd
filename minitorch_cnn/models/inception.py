"""Inception v3 (Szegedy et al. 2015) with torchvision's layout and state-dict keys.

A stem of five ``BasicConv2d`` (``Conv2d_1a_3x3`` ... ``Conv2d_4a_3x3``) and two max-pools, then
``Mixed_5b-5d`` (InceptionA: 1x1 | 1x1->5x5 | 1x1->3x3->3x3 | avgpool->1x1), ``Mixed_6a``
(InceptionB, grid reduction 35 -> 17), ``Mixed_6b-6e`` (InceptionC: 7x7 factorised into 1x7 and
7x1), ``Mixed_7a`` (InceptionD, 17 -> 8), ``Mixed_7b-7c`` (InceptionE: 3x3 split into parallel 1x3
and 3x1), global average pooling, Dropout(0.5), ``fc``. Built for 299x299 inputs (at least 75x75).

``aux_logits`` (default True): ``AuxLogits`` after Mixed_6e; training-mode ``forward`` then returns
``InceptionOutputs(logits, aux_logits)``. 27,161,264 parameters with it (the figure torchvision
publishes), 5.713 GMACs at 299x299. Initialisation (torchvision's): ``trunc_normal_`` with std 0.1
(0.01 for ``AuxLogits.conv1``, 0.001 for ``AuxLogits.fc``), BN 1 / 0.

torchvision pools with ``F.avg_pool2d`` / ``F.max_pool2d`` inside the blocks; here those are
parameter-free modules (``branch_pool_avg`` / ``pool``) so that ``summary`` and
``receptive_field`` see them. The state-dict keys are unchanged.

``small_input=True`` (28x28 / 32x32): ``Conv2d_1a_3x3`` has stride 1 and padding 1, ``maxpool1``
and ``maxpool2`` are ``Identity`` (28 -> 26 -> 24 at Mixed_5b, 11 at Mixed_6e, 5 at Mixed_7c), and
``AuxLogits`` pools adaptively to 5x5 instead of avg-pool 5/3 (which needs a 17x17 map).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args, stem_pool
from .googlenet import BasicConv2d, _cat, init_inception, transform_imagenet_input

__all__ = ["Inception3", "InceptionOutputs", "InceptionA", "InceptionB", "InceptionC", "InceptionD",
           "InceptionE", "InceptionAuxV3", "inception_v3"]

InceptionOutputs = namedtuple("InceptionOutputs", ["logits", "aux_logits"])


def _avg3() -> nn.AvgPool2d:
    return nn.AvgPool2d(kernel_size=3, stride=1, padding=1)


class InceptionA(nn.Module):
    """35x35 module: ``cat(1x1 (64), 1x1->5x5 (64), 1x1->3x3->3x3 (96), avgpool->1x1 (pool_features))``."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool_avg = _avg3()
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return _cat([self.branch1x1(x), b5, b3, self.branch_pool(self.branch_pool_avg(x))])


class InceptionB(nn.Module):
    """Grid reduction 35 -> 17: ``cat(3x3/2 (384), 1x1->3x3->3x3/2 (96), maxpool 3/2)``."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return _cat([self.branch3x3(x), b3, self.pool(x)])


class InceptionC(nn.Module):
    """17x17 module with 7x7 convs factorised as 1x7 then 7x1 (``c7`` channels inside)."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool_avg = _avg3()
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return _cat([self.branch1x1(x), b7, d, self.branch_pool(self.branch_pool_avg(x))])


class InceptionD(nn.Module):
    """Grid reduction 17 -> 8: ``cat(1x1->3x3/2 (320), 1x1->1x7->7x1->3x3/2 (192), maxpool 3/2)``."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return _cat([b3, b7, self.pool(x)])


class InceptionE(nn.Module):
    """8x8 module: the 3x3 convs' outputs are split into parallel 1x3 and 3x1 convs, concatenated."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool_avg = _avg3()
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_1(x)
        b3 = _cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)])
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = _cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)])
        return _cat([self.branch1x1(x), b3, d, self.branch_pool(self.branch_pool_avg(x))])


class InceptionAuxV3(nn.Module):
    """Auxiliary head on the 17x17 map: avgpool 5/3 -> 1x1 (128) -> 5x5 (768) -> global pool -> fc."""

    def __init__(self, in_channels: int, num_classes: int, small_input: bool = False) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(5) if small_input else nn.AvgPool2d(kernel_size=5, stride=3)
        self.conv0 = BasicConv2d(in_channels, 128, kernel_size=1)
        self.conv1 = BasicConv2d(128, 768, kernel_size=5)
        self.conv1.stddev = 0.01
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(768, num_classes)
        self.fc.stddev = 0.001

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.gap(self.conv1(self.conv0(self.pool(x)))).flatten(1))


class Inception3(nn.Module):
    """torchvision's ``Inception3(num_classes, aux_logits, transform_input, init_weights, dropout)``."""

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
                 init_weights: bool | None = True, dropout: float = 0.5, in_channels: int = 3,
                 small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("Inception3", in_channels, num_classes)
        if transform_input and in_channels != 3:
            raise ValueError(f"Inception3: transform_input=True needs in_channels=3, got {in_channels}")
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        stride, pad = (1, 1) if small_input else (2, 0)
        self.Conv2d_1a_3x3 = BasicConv2d(in_channels, 32, kernel_size=3, stride=stride, padding=pad)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = stem_pool(small_input, kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = stem_pool(small_input, kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits = InceptionAuxV3(768, num_classes, small_input) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)
        if init_weights or init_weights is None:
            init_inception(self, std=0.1)

    def forward(self, x: Tensor) -> Tensor | InceptionOutputs:
        if self.transform_input:
            x = transform_imagenet_input(x)
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            x = getattr(self, name)(x)
        aux = self.AuxLogits(x) if self.training and self.AuxLogits is not None else None
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        x = self.fc(self.dropout(self.avgpool(x)).flatten(1))
        if self.training and self.aux_logits:
            return InceptionOutputs(x, aux)
        return x


def inception_v3(**kwargs: Any) -> Inception3:
    """Inception v3: 27,161,264 parameters with the auxiliary head (``aux_logits=True``, the default)."""
    return Inception3(**kwargs)
