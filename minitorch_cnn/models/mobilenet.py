"""MobileNet v1 (Howard et al. 2017) and v2 (Sandler et al. 2018).

**MobileNet v1** (torchvision has none; the paper's Table 1): a full 3x3/2 conv (32), then 13
depthwise-separable blocks (3x3 depthwise conv ``groups=C`` -> BN -> ReLU -> 1x1 pointwise conv ->
BN -> ReLU) with widths 64, 128, 128, 256, 256, 512 (x6), 1024, 1024 and stride 2 at blocks 2, 4,
6 and 12, global average pooling, ``fc``. 4,231,976 parameters (PyTorch's count: weights and BN
affine); Keras's ``MobileNet()`` reports 4,253,864 because it also counts BN's running means and
variances (21,888 of them) -- ``summary(..., count_bn_stats_as_params=True)`` does the same.
Keras's head is a 1x1 conv instead of a Linear: the same weight count. Initialisation here: as
torchvision's v2. ReLU (not ReLU6) as in the paper.

**MobileNet v2** (torchvision's layout and keys): a 3x3/2 conv (32), 17 ``InvertedResidual``
blocks -- 1x1 expand (x t) -> ReLU6 -> 3x3 depthwise -> ReLU6 -> 1x1 *linear* projection, with a
residual add when the stride is 1 and the widths agree -- a 1x1 conv to 1280, global pooling,
Dropout(0.2), Linear. 3,504,872 parameters, 0.301 GMACs at 224x224. Initialisation
(torchvision's): convs ``kaiming_normal_(fan_out)``, BN 1 / 0, Linear ``N(0, 0.01)``, bias 0.

``small_input=True``: the first conv has stride 1 (both versions), so a 28x28 image ends at 2x2
(v2: 28, 14, 7, 4, 2) / 1x1 (v1) instead of 1/32 of its size.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args

__all__ = ["MobileNetV1", "MobileNetV2", "InvertedResidual", "Conv2dNormActivation", "mobilenet_v1",
           "mobilenet_v2", "make_divisible"]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a width to a multiple of ``divisor`` (never below 90% of ``v``): TensorFlow's rule."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d (padding (k-1)//2, no bias) -> BatchNorm2d -> activation``, keys ``0.weight``, ``1.*``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1, activation_layer: type[nn.Module] | None = nn.ReLU6) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """MobileNet v2 block: ``(N, inp, H, W) -> (N, oup, H/stride, W/stride)``; residual iff stride 1 and inp == oup."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride should be 1 or 2 instead of {stride}")
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),  # linear bottleneck: no activation
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def _init_mobilenet(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


# (expansion t, output channels c, repeats n, first stride s): the paper's Table 2
V2_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
              [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    """torchvision's ``MobileNetV2(num_classes, width_mult, round_nearest, dropout)``."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, round_nearest: int = 8,
                 dropout: float = 0.2, in_channels: int = 3, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("MobileNetV2", in_channels, num_classes)
        c_in = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [Conv2dNormActivation(in_channels, c_in, stride=1 if small_input else 2)]
        for t, c, n, s in V2_SETTING:
            c_out = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(c_in, c_out, s if i == 0 else 1, expand_ratio=t))
                c_in = c_out
        features.append(Conv2dNormActivation(c_in, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # torchvision: F.adaptive_avg_pool2d in forward
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        _init_mobilenet(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


# (output channels, stride) of MobileNet v1's 13 depthwise-separable blocks: the paper's Table 1
V1_SETTING = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
              (512, 1), (512, 1), (1024, 2), (1024, 1)]


def _depthwise_separable(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        ("depthwise", Conv2dNormActivation(c_in, c_in, 3, stride, groups=c_in, activation_layer=nn.ReLU)),
        ("pointwise", Conv2dNormActivation(c_in, c_out, 1, activation_layer=nn.ReLU)),
    ]))


class MobileNetV1(nn.Module):
    """MobileNet v1 (the paper's Table 1) with a width multiplier ``alpha``; ``features -> avgpool -> classifier``."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 1e-3,
                 in_channels: int = 3, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("MobileNetV1", in_channels, num_classes)
        c = int(32 * width_mult)
        layers: list[nn.Module] = [Conv2dNormActivation(in_channels, c, 3, 1 if small_input else 2,
                                                        activation_layer=nn.ReLU)]
        for width, stride in V1_SETTING:
            layers.append(_depthwise_separable(c, int(width * width_mult), stride))
            c = int(width * width_mult)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(c, num_classes))
        _init_mobilenet(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def mobilenet_v1(**kwargs: Any) -> MobileNetV1:
    """MobileNet v1 (1.0, 224): 4,231,976 parameters (Keras, counting BN statistics: 4,253,864)."""
    return MobileNetV1(**kwargs)


def mobilenet_v2(**kwargs: Any) -> MobileNetV2:
    """MobileNet v2 (1.0): 3,504,872 parameters, 0.301 GMACs at 224x224."""
    return MobileNetV2(**kwargs)
