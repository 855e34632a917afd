"""ShuffleNet v2 (Ma et al. 2018) with torchvision's layout and state-dict keys.

Stem ``conv1`` (3x3/2 conv -> BN -> ReLU) and ``maxpool`` (3x3/2), stages ``stage2-4`` of
``InvertedResidual`` units, ``conv5`` (1x1 -> BN -> ReLU), global average pooling (a mean over H, W),
``fc``. A stride-1 unit *splits* the channels in two halves, leaves one alone and sends the other
through 1x1 -> 3x3 depthwise -> 1x1, concatenates, and *shuffles* the channels (groups of 2) so the
halves mix in the next unit. A stride-2 unit feeds the whole input to two branches (``branch1``:
depthwise 3x3/2 -> 1x1; ``branch2`` as above with stride 2) and concatenates: twice the channels,
half the resolution.

Parameters: shufflenet_v2_x0_5 1,366,792 (widths 24, 48, 96, 192, 1024); shufflenet_v2_x1_0
2,278,604 (24, 116, 232, 464, 1024), 0.145 GMACs at 224x224. Initialisation: PyTorch's defaults
(torchvision sets none). The global pool is an ``AdaptiveAvgPool2d`` module (torchvision:
``x.mean([2, 3])``) so that ``summary`` and ``receptive_field`` see it.

``small_input=True``: ``conv1`` has stride 1 and ``maxpool`` is ``Identity`` (28x28 -> 14, 7, 4
through the stages).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args, stem_pool
from .blocks import channel_shuffle
from .googlenet import _cat

__all__ = ["ShuffleNetV2", "ShuffleInvertedResidual", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0"]


def _depthwise(c: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(c, c, 3, stride, 1, bias=False, groups=c)


class ShuffleInvertedResidual(nn.Module):
    """torchvision's ``shufflenetv2.InvertedResidual``: ``(N, inp, H, W) -> (N, oup, H/stride, W/stride)``."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError(f"ShuffleNetV2 unit: illegal stride value {stride}")
        self.stride = stride
        branch_features = oup // 2
        if stride == 1 and inp != branch_features << 1:
            raise ValueError(f"ShuffleNetV2 unit: with stride 1, inp ({inp}) must equal oup ({oup}) rounded to even")
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(inp, stride), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, 1, 1, 0, bias=False), nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch_features, branch_features, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            _depthwise(branch_features, stride),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = _cat([x1, self.branch2(x2)])
        else:
            out = _cat([self.branch1(x), self.branch2(x)])
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """torchvision's ``ShuffleNetV2(stages_repeats, stages_out_channels, num_classes)``."""

    def __init__(self, stages_repeats: Sequence[int], stages_out_channels: Sequence[int], num_classes: int = 1000,
                 in_channels: int = 3, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("ShuffleNetV2", in_channels, num_classes)
        if len(stages_repeats) != 3:
            raise ValueError("ShuffleNetV2: expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("ShuffleNetV2: expected stages_out_channels as list of 5 positive ints")
        c = stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, c, 3, 1 if small_input else 2, 1, bias=False), nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
        )
        self.maxpool = stem_pool(small_input, kernel_size=3, stride=2, padding=1)
        for name, repeats, c_out in zip(("stage2", "stage3", "stage4"), stages_repeats, stages_out_channels[1:]):
            units = [ShuffleInvertedResidual(c, c_out, 2)]
            units += [ShuffleInvertedResidual(c_out, c_out, 1) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*units))
            c = c_out
        c_out = stages_out_channels[-1]
        self.conv5 = nn.Sequential(nn.Conv2d(c, c_out, 1, 1, 0, bias=False), nn.BatchNorm2d(c_out),
                                   nn.ReLU(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c_out, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(self.avgpool(self.conv5(x)).flatten(1))


def shufflenet_v2_x0_5(**kwargs: Any) -> ShuffleNetV2:
    """ShuffleNet v2 0.5x: 1,366,792 parameters."""
    return ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 1024], **kwargs)


def shufflenet_v2_x1_0(**kwargs: Any) -> ShuffleNetV2:
    """ShuffleNet v2 1.0x: 2,278,604 parameters, 0.145 GMACs at 224x224."""
    return ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], **kwargs)
