"""GoogLeNet / Inception v1 (Szegedy et al. 2014) with torchvision's layout and state-dict keys.

Stem ``conv1 (7x7/2) -> maxpool1 -> conv2 (1x1) -> conv3 (3x3) -> maxpool2``, nine ``Inception``
modules (3a, 3b, 4a-4e, 5a, 5b) with max-pools between the stages, global average pooling,
Dropout(0.2) and ``fc``. Every conv is a ``BasicConv2d`` (conv without bias -> BatchNorm(eps=1e-3)
-> ReLU): BatchNorm is torchvision's addition, the 2014 paper had none.

**Where torchvision departs from the paper**: its ``Inception`` "5x5" branch (``branch3``) is a
3x3 convolution (a bug kept for the sake of the released weights), and the pool branch uses
``ceil_mode``. The paper-faithful module with a real 5x5 conv is ``models.InceptionModule``.

``aux_logits`` (default True, as torchvision without weights): the two auxiliary classifiers
``aux1`` (after 4a) and ``aux2`` (after 4d); in training mode ``forward`` then returns
``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``, in eval mode the logits only.
6,624,904 parameters with ``aux_logits=False``, 13,004,888 with; 1.498 GMACs at 224x224.
``transform_input=True`` maps inputs normalised with ImageNet's mean/std to the [-1, 1] scaling the
original weights expect. Initialisation (torchvision's): convs and linears ``trunc_normal_(std=0.01,
a=-2, b=2)``, BN 1 / 0.

``small_input=True``: ``conv1`` is a 3x3 stride-1 conv and ``maxpool1`` / ``maxpool2`` are
``Identity``, so a 28x28 image enters inception3a at 28x28 (instead of 224 -> 28).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from .. import nn
from ..nn import functional as F
from ..tensors import Tensor
from ._stem import check_builder_args, stem_pool

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "BasicConv2d", "googlenet",
           "transform_imagenet_input", "init_inception"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


def _cat(tensors: list[Tensor]) -> Tensor:
    import minitorch_cnn as mt

    return mt.cat(tensors, dim=1)


def transform_imagenet_input(x: Tensor) -> Tensor:
    """Undo ImageNet's mean/std normalisation and rescale to [-1, 1], per channel (``transform_input``)."""
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"transform_input needs (N, 3, H, W) RGB images, got shape {tuple(x.shape)}")
    std, mean = (0.229, 0.224, 0.225), (0.485, 0.456, 0.406)
    return _cat([x[:, c:c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)])


def init_inception(model: nn.Module, std: float) -> None:
    """torchvision's GoogLeNet / Inception v3 init: conv and linear weights ``trunc_normal_(std)``
    (a layer's own ``stddev`` attribute overrides it; the bounds -2, 2 are absolute, so barely
    truncate), BatchNorm weight 1 and bias 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=float(getattr(m, "stddev", std)), a=-2, b=2)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


class BasicConv2d(nn.Module):
    """``relu(bn(conv(x)))`` with a bias-free conv and BatchNorm ``eps=0.001``."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """torchvision's Inception v1 module: ``cat(1x1, 1x1->3x3, 1x1->3x3 (the paper's 5x5), maxpool->1x1)``.

    Output channels ``ch1x1 + ch3x3 + ch5x5 + pool_proj``; the spatial size is kept.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x: Tensor) -> Tensor:
        return _cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)])


class InceptionAux(nn.Module):
    """Auxiliary classifier: adaptive avg-pool 4x4 -> 1x1 conv (128) -> fc1 (1024) -> ReLU -> Dropout -> fc2."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((4, 4))  # torchvision calls F.adaptive_avg_pool2d; no parameters
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(self.pool(x)).flatten(1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    """torchvision's ``GoogLeNet(num_classes, aux_logits, transform_input, init_weights, dropout, dropout_aux)``."""

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
                 init_weights: bool | None = True, dropout: float = 0.2, dropout_aux: float = 0.7,
                 in_channels: int = 3, small_input: bool = False) -> None:
        super().__init__()
        check_builder_args("GoogLeNet", in_channels, num_classes)
        if transform_input and in_channels != 3:
            raise ValueError(f"GoogLeNet: transform_input=True needs in_channels=3, got {in_channels}")
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.conv1 = (BasicConv2d(in_channels, 64, kernel_size=3, stride=1, padding=1) if small_input
                      else BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3))
        self.maxpool1 = stem_pool(small_input, kernel_size=3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = stem_pool(small_input, kernel_size=3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        if init_weights or init_weights is None:
            init_inception(self, std=0.01)

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        if self.transform_input:
            x = transform_imagenet_input(x)
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        training_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if training_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if training_aux else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(**kwargs: Any) -> GoogLeNet:
    """GoogLeNet (Inception v1): 6,624,904 parameters with ``aux_logits=False`` (13,004,888 with the aux heads)."""
    return GoogLeNet(**kwargs)
