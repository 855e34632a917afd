"""SqueezeNet 1.0 (Iandola et al. 2016) with torchvision's layout and state-dict keys.

``Fire`` module: a 1x1 "squeeze" conv to few channels, then parallel 1x1 and 3x3 "expand" convs,
concatenated: ``Fire(96, 16, 64, 64)`` has 96*16 + 16*64 + 16*64*9 (+ biases) = 11,920 weights
where one 3x3 conv 96 -> 128 would need 110,592. No fully connected layer: the classifier is
Dropout -> 1x1 conv to ``num_classes`` -> ReLU -> global average pooling. 1,248,424 parameters,
0.819 GMACs at 224x224. Initialisation (torchvision's): ``kaiming_uniform_`` for the convs, ``N(0,
0.01)`` for the final conv, biases 0.

``small_input=True``: ``features.0`` is a 3x3 stride-1 conv (padding 1) instead of 7x7/2; the
three max-pools (ceil mode) stay: 28x28 -> 14, 7, 3.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args, stem_conv
from .googlenet import _cat

__all__ = ["SqueezeNet", "Fire", "squeezenet1_0"]


class Fire(nn.Module):
    """``cat(relu(expand1x1(s)), relu(expand3x3(s)))`` with ``s = relu(squeeze(x))``."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        s = self.squeeze_activation(self.squeeze(x))
        return _cat([self.expand1x1_activation(self.expand1x1(s)), self.expand3x3_activation(self.expand3x3(s))])


class SqueezeNet(nn.Module):
    """torchvision's ``SqueezeNet(version="1_0", num_classes, dropout)`` (only version 1.0 here)."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5, in_channels: int = 3,
                 small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("SqueezeNet", in_channels, num_classes)
        if version != "1_0":
            raise ValueError(f"SqueezeNet: unsupported version {version!r}; only '1_0' is built here")
        self.num_classes = num_classes
        self.features = nn.Sequential(
            stem_conv(in_channels, 96, 7, 2, 0, small_input, bias=True),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(96, 16, 64, 64),
            Fire(128, 16, 64, 64),
            Fire(128, 32, 128, 128),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(256, 32, 128, 128),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(512, 64, 256, 256),
        )
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x)).flatten(1)


def squeezenet1_0(**kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.0: 1,248,424 parameters, 0.819 GMACs at 224x224."""
    return SqueezeNet("1_0", **kwargs)
