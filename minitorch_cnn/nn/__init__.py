"""Neural-network layers, losses and utilities (``torch.nn``).

``Module`` / ``Parameter`` (module.py), containers, fully connected, activation, dropout, batch norm,
flatten and loss layers, plus the convolution, pooling and padding layers of the CNN primitives
(conv.py, pooling.py, padding.py), up-sampling (upsampling.py, pixelshuffle.py). Functions: ``nn.functional``; initialisers: ``nn.init``;
gradient clipping: ``nn.utils``.
"""

from __future__ import annotations

from . import functional, init, utils
from .activation import GELU, Hardswish, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter, RemovableHandle
from .normalization import GroupNorm, LayerNorm, LocalResponseNorm
from .padding import (
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad2d,
)
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    MaxUnpool2d,
)
from .upsampling import Upsample

__all__ = [
    "functional", "init", "utils",
    "Module", "Parameter", "RemovableHandle", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Unflatten",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "Dropout", "Dropout2d", "BatchNorm1d", "BatchNorm2d",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss",
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d",
    "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad2d",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d", "MaxUnpool2d",
    "GELU", "LayerNorm", "GroupNorm", "BCELoss", "Upsample",
    "ReLU6", "Hardtanh", "Hardswish", "Dropout1d", "Dropout3d", "LocalResponseNorm", "ConvTranspose1d",
    "ConvTranspose3d", "PixelShuffle", "PixelUnshuffle",
]
