"""Ready-made models: the unit's Fashion-MNIST CNN, the MLP baseline, classic CNN blocks and the
ImageNet model zoo with torchvision's names, layouts and state-dict keys.

``build_model(name, **kwargs)`` makes one by name. The small models for 28x28 inputs: ``"cnn"``
(``FashionCNN``, 1,677,674 parameters), ``"mlp"`` (``MLP``, 535,818), ``"resnet"``
(``SmallResNet``), ``"resnet_gap"`` (289,514, a small ResNet with a GAP head), ``"vgg"``
(``small_vgg``). The zoo (``ZOO``; ``num_classes=1000``,
``in_channels=3``, ``small_input=False`` by default; parameter counts equal torchvision 0.28's):

=======================  =====================  =================================================
builder                  parameters             ``small_input=True`` changes (keys stay the same)
=======================  =====================  =================================================
alexnet                  61,100,840             features.0 -> 3x3/1 conv
alexnet_paper            60,965,224             (2012 paper: LRN, groups=2) features.0 -> 3x3/1
vgg11/13/16/19[_bn]      132,863,336 (vgg11) to 5th max-pool -> Identity, avgpool 1x1,
                         143,678,248 (vgg19_bn) classifier.0 takes 512 features
resnet18/34/50           11,689,512 /           conv1 -> 3x3/1, maxpool -> Identity
                         21,797,672 / 25,557,032
resnext50_32x4d          25,028,904             as ResNet
wide_resnet50_2          68,883,240             as ResNet
googlenet                6,624,904 (*)          conv1 -> 3x3/1, maxpool1/2 -> Identity
inception_v3             27,161,264             Conv2d_1a_3x3 stride 1 pad 1, maxpool1/2 ->
                                                Identity, the aux head pools adaptively
densenet121              7,978,856              features.conv0 -> 3x3/1, features.pool0 -> Identity
mobilenet_v1             4,231,976 (Keras       first conv stride 1
                         4,253,864 with BN stats)
mobilenet_v2             3,504,872              first conv stride 1
shufflenet_v2_x0_5/x1_0  1,366,792 / 2,278,604  conv1 stride 1, maxpool -> Identity
squeezenet1_0            1,248,424              features.0 -> 3x3/1 conv
=======================  =====================  =================================================

(*) with ``aux_logits=False``; googlenet and inception_v3 default to ``aux_logits=True`` as
torchvision's builders without weights do. ``in_channels`` sets the first conv's input channels.
``build_for_images(name, in_channels, num_classes)`` is what the train CLI uses: zoo models with
``small_input=True`` and without auxiliary heads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nn import Module
from .alexnet import AlexNet, alexnet, alexnet_paper
from .blocks import (
    BasicBlock,
    ChannelShuffle,
    DepthwiseSeparableConv,
    InceptionModule,
    ShuffleUnit,
    SmallResNet,
    VGGBlock,
    channel_shuffle,
    resnet_gap,
    small_resnet,
    small_vgg,
)
from .densenet import DenseNet, densenet121
from .fashion_cnn import MLP, FashionCNN
from .googlenet import GoogLeNet, GoogLeNetOutputs, Inception, googlenet
from .inception import Inception3, InceptionOutputs, inception_v3
from .mobilenet import InvertedResidual, MobileNetV1, MobileNetV2, mobilenet_v1, mobilenet_v2
from .resnet import Bottleneck, ResNet, resnet18, resnet34, resnet50, resnext50_32x4d, wide_resnet50_2
from .shufflenet import ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0
from .squeezenet import Fire, SqueezeNet, squeezenet1_0
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = [
    "FashionCNN", "MLP", "build_model", "build_for_images", "MODELS", "ZOO",
    "AlexNet", "VGG", "ResNet", "Bottleneck", "GoogLeNet", "GoogLeNetOutputs", "Inception", "Inception3",
    "InceptionOutputs", "DenseNet", "MobileNetV1", "MobileNetV2", "InvertedResidual", "ShuffleNetV2", "SqueezeNet",
    "Fire",
    "VGGBlock", "BasicBlock", "InceptionModule", "DepthwiseSeparableConv", "channel_shuffle", "ChannelShuffle",
    "ShuffleUnit", "SmallResNet", "small_resnet", "resnet_gap", "small_vgg",
]

# the ImageNet zoo, torchvision's builder names
ZOO: dict[str, Callable[..., Module]] = {
    f.__name__: f
    for f in (
        alexnet, alexnet_paper, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn, resnet18,
        resnet34, resnet50, resnext50_32x4d, wide_resnet50_2, googlenet, inception_v3, densenet121, mobilenet_v1,
        mobilenet_v2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, squeezenet1_0,
    )
}

# models made for 28x28 single-channel images (their defaults: in_channels=1, num_classes=10)
SMALL_MODELS: dict[str, Callable[..., Module]] = {
    "cnn": FashionCNN,
    "mlp": MLP,
    "resnet": SmallResNet,
    "resnet_gap": resnet_gap,
    "vgg": small_vgg,
}

MODELS: dict[str, Callable[..., Module]] = {**SMALL_MODELS, **ZOO}


def build_model(name: str, **kwargs: Any) -> Module:
    """A fresh model by name (see ``MODELS``); keyword arguments go to its constructor / builder."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
    return factory(**kwargs)


def build_for_images(name: str, in_channels: int = 1, num_classes: int = 10) -> Module:
    """The model the train CLI trains on small images (28x28 Fashion-MNIST, ...).

    A small model with its defaults (``"mlp"`` needs no channel count); a zoo model with
    ``small_input=True``, the given ``in_channels`` and ``num_classes``, and, for googlenet and
    inception_v3, ``aux_logits=False`` (the CLI's loss takes one output).
    """
    if name in SMALL_MODELS:
        return build_model(name) if name == "mlp" else build_model(name, in_channels=in_channels,
                                                                   num_classes=num_classes)
    kwargs: dict[str, Any] = {"in_channels": in_channels, "num_classes": num_classes, "small_input": True}
    if name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
    return build_model(name, **kwargs)
