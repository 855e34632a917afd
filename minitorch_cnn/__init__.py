"""minitorch_cnn: an autograd-from-scratch deep-learning framework for teaching CNNs.

    import minitorch_cnn as mt
    x = mt.randn(8, 1, 28, 28)
    conv = mt.nn.Conv2d(1, 32, 3, padding=1)
    loss = conv(x).relu().mean()
    loss.backward()

The names mirror PyTorch's (``mt.tensor``, ``mt.nn.Conv2d``, ``mt.optim.SGD``, ...); see
ARCHITECTURE.md for how the package is layered and README.md for the documented differences.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import backend, fast
from .autograd import Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import cuda_is_available, device, get_default_device, set_default_device
from .creation import *  # noqa: F403
from .creation import __all__ as _creation_all
from .tensors import Tensor, bool_, float16, float32, float64, int32, int64, uint8

fast.allocator.tune_malloc()  # large temporaries reuse heap pages instead of faulting in fresh ones

bool = bool_  # noqa: A001 - mt.bool as torch.bool
float = float32  # noqa: A001 - mt.float as torch.float
double = float64
long = int64

__version__ = "0.1.0"

_SUBMODULES = ("nn", "optim", "data", "models", "viz", "vision", "utils", "testing", "checkpoint")
# tools re-exported at the top level, imported on first use so `import minitorch_cnn` stays light
_LAZY_ATTRS = {
    "summary": ("minitorch_cnn.viz.summary", "summary"),
    "receptive_field": ("minitorch_cnn.viz.receptive_field", "receptive_field"),
    "receptive_field_for_unit": ("minitorch_cnn.viz.receptive_field", "receptive_field_for_unit"),
    "gradcheck": ("minitorch_cnn.testing", "gradcheck"),
    "save": ("minitorch_cnn.serialization", "save"),
    "load": ("minitorch_cnn.serialization", "load"),
}

# PyTorch's device and runtime names (torch.cuda, torch.accelerator, torch.backends, set_num_threads)
_SUBMODULES += ("cuda", "accelerator", "backends")
_LAZY_ATTRS.update({name: ("minitorch_cnn.runtime", name) for name in ("set_num_threads", "get_num_threads")})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_ATTRS:
        module, attr = _LAZY_ATTRS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'minitorch_cnn' has no attribute {name!r}")


__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled", "backend",
    "device", "cuda_is_available", "set_default_device", "get_default_device", "float16", "float32",
    "float64", "int32", "int64", "uint8", "bool_", *_creation_all, *_SUBMODULES, *_LAZY_ATTRS,
]
