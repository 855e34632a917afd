"""ResNet (He et al. 2015), ResNeXt and Wide ResNet with torchvision's layout and state-dict keys.

``conv1 (7x7/2) -> bn1 -> relu -> maxpool (3x3/2) -> layer1..layer4 -> avgpool (global) -> fc``.
``layerK`` is a ``Sequential`` of residual blocks; the first block of layers 2-4 halves the
resolution (stride 2 in its 3x3 conv; the shortcut is then ``downsample = conv1x1/2 + BN``).

* ``BasicBlock`` (ResNet-18/34): ``relu(bn2(conv2(relu(bn1(conv1(x))))) + identity)``.
* ``Bottleneck`` (ResNet-50 and up): 1x1 reduce -> 3x3 -> 1x1 expand (x4), cheaper than two 3x3
  convs at the wide width. torchvision puts the stride on the 3x3 conv ("ResNet v1.5"), not on the
  first 1x1 as the paper does. ResNeXt uses a grouped 3x3 (``groups=32``, 4 channels per group);
  Wide ResNet-50-2 doubles the bottleneck width.

Parameters: resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032; resnext50_32x4d
25,028,904; wide_resnet50_2 68,883,240. Initialisation (torchvision's): convs ``kaiming_normal_
(fan_out, relu)``, BN weight 1 / bias 0, ``fc`` PyTorch's default Linear init.

``small_input=True``: ``conv1`` is 3x3 stride 1 and ``maxpool`` is ``Identity``, so a 28x28 image
reaches ``layer4`` at 4x4 instead of 1x1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args, stem_conv, stem_pool

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnext50_32x4d",
           "wide_resnet50_2"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with BN and a residual connection: ``(N, inplanes, H, W) -> (N, planes, H/s, W/s)``."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce) -> 3x3 (stride, groups) -> 1x1 (expand x4), each with BN, plus the shortcut."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision's ``ResNet(block, layers, num_classes, zero_init_residual, groups, width_per_group)``
    plus ``in_channels`` and ``small_input`` (see the module docstring)."""

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: Sequence[int], num_classes: int = 1000,
                 zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
                 in_channels: int = 3, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("ResNet", in_channels, num_classes)
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list 4 block counts, got {list(layers)}")
        self.inplanes = 64
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = stem_conv(in_channels, 64, 7, 2, 3, small_input)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = stem_pool(small_input, kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:  # each block starts as the identity (Goyal et al. 2017)
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups=self.groups, base_width=self.base_width)
                   for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(**kwargs: Any) -> ResNet:
    """ResNet-18: BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters, 1.814 GMACs at 224x224."""
    return ResNet(BasicBlock, [2, 2, 2, 2], **kwargs)


def resnet34(**kwargs: Any) -> ResNet:
    """ResNet-34: BasicBlocks [3, 4, 6, 3]; 21,797,672 parameters."""
    return ResNet(BasicBlock, [3, 4, 6, 3], **kwargs)


def resnet50(**kwargs: Any) -> ResNet:
    """ResNet-50: Bottlenecks [3, 4, 6, 3]; 25,557,032 parameters, 4.089 GMACs at 224x224."""
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


def resnext50_32x4d(**kwargs: Any) -> ResNet:
    """ResNeXt-50 32x4d: ResNet-50 with 32-group 3x3 convs, 4 channels per group; 25,028,904 parameters."""
    return ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, **kwargs)


def wide_resnet50_2(**kwargs: Any) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide; 68,883,240 parameters."""
    return ResNet(Bottleneck, [3, 4, 6, 3], width_per_group=128, **kwargs)
