"""VGG (Simonyan & Zisserman 2014) with torchvision's layout: configurations A (vgg11), B (vgg13),
D (vgg16) and E (vgg19), each with or without BatchNorm (``_bn``).

``features``: 3x3 convs (padding 1) + ReLU (+ BN before the ReLU in ``_bn``), a 2x2 max-pool after
each of the 5 stages; ``avgpool``: adaptive 7x7; ``classifier``: 25088 -> 4096 -> 4096 -> classes
with ReLU and Dropout. Why only 3x3: two stacked 3x3 convs see 5x5 pixels, three see 7x7, with
``2*9 C^2`` / ``3*9 C^2`` weights instead of ``25 C^2`` / ``49 C^2`` and a ReLU between each.

Parameters: vgg11 132,863,336; vgg13 133,047,848; vgg16 138,357,544; vgg19 143,667,240;
vgg11_bn 132,868,840; vgg13_bn 133,053,736; vgg16_bn 138,365,992; vgg19_bn 143,678,248 -- about
90% of them in the classifier's first Linear (25088 x 4096 = 102.8 M). vgg16: 15.47 GMACs at 224x224.
Initialisation (torchvision's): convs ``kaiming_normal_(fan_out, relu)``, bias 0; BN 1 / 0;
Linear ``N(0, 0.01)``, bias 0.

``small_input=True``: the 5th max-pool is ``Identity`` (a 28x28 image is 1x1 after four, 32x32 is
2x2), ``avgpool`` is global (``AdaptiveAvgPool2d(1)``) and ``classifier.0`` takes 512 features
instead of 512*7*7. The convs are already 3x3 stride 1, so the stem is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn"]

# "M" is a 2x2 max-pool; numbers are the output channels of a 3x3 conv
cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: Sequence[str | int], batch_norm: bool = False, in_channels: int = 3,
                small_input: bool = False) -> nn.Sequential:
    """The ``features`` Sequential of one configuration (indices as torchvision's, so keys match)."""
    layers: list[nn.Module] = []
    last_pool = max(i for i, v in enumerate(cfg) if v == "M")
    c = in_channels
    for i, v in enumerate(cfg):
        if v == "M":
            layers.append(nn.Identity() if small_input and i == last_pool else nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = nn.Conv2d(c, int(v), kernel_size=3, padding=1)
        layers += [conv, nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)] if batch_norm else [conv, nn.ReLU(inplace=True)]
        c = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features -> avgpool (7x7, or 1x1 with small_input) -> flatten -> classifier``."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("VGG", 1, num_classes)
        pooled = 1 if small_input else 7
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.classifier = nn.Sequential(
            nn.Linear(512 * pooled * pooled, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(cfg: str, batch_norm: bool, in_channels: int = 3, small_input: bool = False, **kwargs: Any) -> VGG:
    check_builder_args("VGG", in_channels, kwargs.get("num_classes", 1000))
    return VGG(make_layers(cfgs[cfg], batch_norm, in_channels, small_input), small_input=small_input, **kwargs)


def vgg11(**kwargs: Any) -> VGG:
    """VGG-11 (configuration A): 132,863,336 parameters."""
    return _vgg("A", False, **kwargs)


def vgg11_bn(**kwargs: Any) -> VGG:
    """VGG-11 with BatchNorm: 132,868,840 parameters."""
    return _vgg("A", True, **kwargs)


def vgg13(**kwargs: Any) -> VGG:
    """VGG-13 (configuration B): 133,047,848 parameters."""
    return _vgg("B", False, **kwargs)


def vgg13_bn(**kwargs: Any) -> VGG:
    """VGG-13 with BatchNorm: 133,053,736 parameters."""
    return _vgg("B", True, **kwargs)


def vgg16(**kwargs: Any) -> VGG:
    """VGG-16 (configuration D): 138,357,544 parameters, 15.47 GMACs at 224x224."""
    return _vgg("D", False, **kwargs)


def vgg16_bn(**kwargs: Any) -> VGG:
    """VGG-16 with BatchNorm: 138,365,992 parameters."""
    return _vgg("D", True, **kwargs)


def vgg19(**kwargs: Any) -> VGG:
    """VGG-19 (configuration E): 143,667,240 parameters."""
    return _vgg("E", False, **kwargs)


def vgg19_bn(**kwargs: Any) -> VGG:
    """VGG-19 with BatchNorm: 143,678,248 parameters."""
    return _vgg("E", True, **kwargs)
