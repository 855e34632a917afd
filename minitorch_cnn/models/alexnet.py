"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) in torchvision's layout, and the paper's own version.

``alexnet()`` is torchvision's (from Krizhevsky's "One weird trick" 2014 paper): 64-192-384-256-256
channels, no local response normalisation, no grouped convolutions; 61,100,840 parameters,
0.714 GMACs at 224x224. ``features`` (convs, ReLUs, max-pools) -> ``avgpool`` (adaptive, 6x6) ->
``classifier`` (Dropout, 9216 -> 4096 -> 4096 -> classes).

``alexnet_paper()`` follows the 2012 paper: 96-256-384-384-256 channels, convs 2, 4 and 5 split in
two groups (the two GPUs, ``groups=2``), and ``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)``
after the first two ReLUs (the paper's alpha = 1e-4 multiplies a *sum* over 5 channels; PyTorch's
divides by ``size``). 60,965,224 parameters. The same key names as ``alexnet()`` where layers exist
in both; its indices in ``features`` differ because of the LRN layers.

Initialisation: PyTorch's default for every conv and linear layer (torchvision sets none).
``small_input=True``: ``features.0`` becomes a 3x3 stride-1 conv (padding 1); the max-pools stay,
so a 28x28 image leaves ``features`` at 2x2 and ``avgpool`` spreads it to 6x6.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..tensors import Tensor
from ._stem import check_builder_args, stem_conv

__all__ = ["AlexNet", "alexnet", "alexnet_paper"]


class AlexNet(nn.Module):
    """``features -> avgpool (6x6) -> flatten -> classifier``; ``features`` can be replaced (see ``alexnet_paper``)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, in_channels: int = 3,
                 small_input: bool = False, features: nn.Sequential | None = None) -> None:
        super().__init__()
        check_builder_args("AlexNet", in_channels, num_classes)
        self.features = features if features is not None else nn.Sequential(
            stem_conv(in_channels, 64, 11, 4, 2, small_input, bias=True),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(**kwargs: Any) -> AlexNet:
    """torchvision's AlexNet: 61,100,840 parameters."""
    return AlexNet(**kwargs)


def alexnet_paper(num_classes: int = 1000, dropout: float = 0.5, in_channels: int = 3,
                  small_input: bool = False) -> AlexNet:
    """The 2012 paper's AlexNet: two groups, local response normalisation; 60,965,224 parameters."""
    check_builder_args("alexnet_paper", in_channels, num_classes)
    features = nn.Sequential(
        stem_conv(in_channels, 96, 11, 4, 2, small_input, bias=True),
        nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),
        nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    return AlexNet(num_classes, dropout, in_channels, small_input, features=features)
