"""Ready-made models: the unit's Fashion-MNIST CNN, the MLP baseline and classic CNN blocks.

``build_model(name)`` makes one by name: ``"cnn"`` (``FashionCNN``, 1,677,674 parameters), ``"mlp"``
(``MLP``, 535,818), ``"resnet"`` (``SmallResNet``) or ``"vgg"`` (``small_vgg``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nn import Module
from .blocks import (
    BasicBlock,
    ChannelShuffle,
    DepthwiseSeparableConv,
    InceptionModule,
    ShuffleUnit,
    SmallResNet,
    VGGBlock,
    channel_shuffle,
    small_resnet,
    small_vgg,
)
from .fashion_cnn import MLP, FashionCNN

__all__ = [
    "FashionCNN", "MLP", "build_model", "MODELS",
    "VGGBlock", "BasicBlock", "InceptionModule", "DepthwiseSeparableConv", "channel_shuffle", "ChannelShuffle",
    "ShuffleUnit", "SmallResNet", "small_resnet", "small_vgg",
]

MODELS: dict[str, Callable[..., Module]] = {
    "cnn": FashionCNN,
    "mlp": MLP,
    "resnet": SmallResNet,
    "vgg": small_vgg,
}


def build_model(name: str, **kwargs: Any) -> Module:
    """A fresh model by name (``"cnn"``, ``"mlp"``, ``"resnet"``, ``"vgg"``); keyword arguments go to its constructor."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
    return factory(**kwargs)
