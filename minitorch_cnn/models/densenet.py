"""DenseNet-121 (Huang et al. 2016, "DenseNet-BC") with torchvision's layout and state-dict keys.

Inside a dense block every layer sees the concatenation of *all* earlier feature maps of the block
and adds ``growth_rate`` (k = 32) new channels: ``_DenseLayer = BN -> ReLU -> 1x1 conv (4k) -> BN ->
ReLU -> 3x3 conv (k)``. A block of L layers turns C channels into C + L*k. Between blocks a
``_Transition`` (BN -> ReLU -> 1x1 conv halving the channels -> 2x2 avg-pool) shrinks the map.
densenet121: blocks of (6, 12, 24, 16) layers, 64 stem channels, 1024 at the end; 7,978,856
parameters, 2.834 GMACs at 224x224. Initialisation (torchvision's): convs ``kaiming_normal_``,
BN 1 / 0, the classifier's bias 0 (its weight PyTorch's default).

The final ReLU and global pooling are modules here (``final_relu``, ``avgpool``; torchvision calls
them functionally) so that ``summary`` and ``receptive_field`` see them; keys are unchanged.

``small_input=True``: ``features.conv0`` is 3x3 stride 1 and ``features.pool0`` is ``Identity``
(28x28 -> 28, 14, 7, 3 through the four blocks).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args, stem_conv, stem_pool
from .googlenet import _cat

__all__ = ["DenseNet", "densenet121"]


class _DenseLayer(nn.Module):
    """``(N, C_total, H, W)`` (the concatenated earlier maps) -> ``(N, growth_rate, H, W)``."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop = nn.Dropout(float(drop_rate))

    def forward(self, features: list[Tensor]) -> Tensor:
        x = _cat(features) if len(features) > 1 else features[0]
        out = self.conv1(self.relu1(self.norm1(x)))
        return self.drop(self.conv2(self.relu2(self.norm2(out))))


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; output = cat(input, every layer's new maps)."""

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int,
                 drop_rate: float) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return _cat(features)


class _Transition(nn.Sequential):
    """BN -> ReLU -> 1x1 conv -> 2x2 average pool: fewer channels, half the resolution."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__(OrderedDict([
            ("norm", nn.BatchNorm2d(num_input_features)),
            ("relu", nn.ReLU(inplace=True)),
            ("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)),
            ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
        ]))


class DenseNet(nn.Module):
    """torchvision's ``DenseNet(growth_rate, block_config, num_init_features, bn_size, drop_rate, num_classes)``."""

    def __init__(self, growth_rate: int = 32, block_config: Sequence[int] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0, num_classes: int = 1000,
                 in_channels: int = 3, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("DenseNet", in_channels, num_classes)
        self.features = nn.Sequential(OrderedDict([
            ("conv0", stem_conv(in_channels, num_init_features, 7, 2, 3, small_input)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", stem_pool(small_input, kernel_size=3, stride=2, padding=1)),
        ]))
        c = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(num_layers, c, bn_size, growth_rate, drop_rate))
            c += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(c, c // 2))
                c //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(c))
        self.final_relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        out = self.avgpool(self.final_relu(self.features(x)))
        return self.classifier(out.flatten(1))


def densenet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121: growth rate 32, blocks (6, 12, 24, 16); 7,978,856 parameters."""
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)
