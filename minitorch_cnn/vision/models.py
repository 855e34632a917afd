"""The model zoo with torchvision's builder signatures: ``resnet18(*, weights=None, progress=True, **kwargs)``.

``weights``:

* ``None`` -- random initialisation (torchvision's default);
* a path to a ``.safetensors`` or ``.npz`` state dict (``tools/convert_torchvision_weights.py`` makes one
  from torchvision's weights) -- built, then ``load_state_dict(mt.load(path))`` (strict);
* a torchvision weight name (``"IMAGENET1K_V1"``, ``"DEFAULT"``, ``"ResNet18_Weights.IMAGENET1K_V1"``,
  or such an enum member) -- a ``ValueError`` that explains how to convert it: minitorch_cnn never
  downloads weights.

``progress`` is accepted and ignored. Other keyword arguments (``num_classes``, ``aux_logits``,
``in_channels``, ``small_input``, ...) go to the builder in :mod:`minitorch_cnn.models`. As torchvision,
googlenet / inception_v3 built with weights default to ``transform_input=True``, and keep their
auxiliary heads only if the file has them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import serialization
from ..models import ZOO
from ..nn import Module

__all__ = ["get_model", "list_models", "load_weights", *ZOO]

_FILE_SUFFIXES = (".safetensors", ".npz")
_AUX_PREFIXES = {"googlenet": ("aux1.", "aux2."), "inception_v3": ("AuxLogits.",)}


def _weights_path(name: str, weights: Any) -> Path:
    """The file that ``weights`` names, or the explanatory error for a hub weight."""
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights).expanduser()
        if path.suffix.lower() in _FILE_SUFFIXES or path.is_file():
            if not path.is_file():
                raise FileNotFoundError(f"{name}: weights file {str(path)!r} does not exist")
            return path
    label = getattr(weights, "name", None) or str(weights)
    label = label.rsplit(".", 1)[-1]  # "ResNet18_Weights.IMAGENET1K_V1" -> "IMAGENET1K_V1"
    raise ValueError(
        f"{name}: weights={weights!r} names a torchvision hub weight, but minitorch_cnn never downloads "
        f"weights. Convert them once where PyTorch and torchvision are installed:\n"
        f"    python tools/convert_torchvision_weights.py {name} --weights {label} --out {name}.safetensors\n"
        f"then pass the file: {name}(weights=\"{name}.safetensors\") "
        f"(or weights=None for a randomly initialised model)."
    )


def load_weights(model: Module, path: str | os.PathLike) -> Module:
    """``model.load_state_dict(mt.load(path))``; returns the model."""
    model.load_state_dict(serialization.load(path))
    return model


def _build(name: str, weights: Any, kwargs: dict[str, Any]) -> Module:
    builder = ZOO[name]
    if weights is None:
        return builder(**kwargs)
    path = _weights_path(name, weights)
    state = serialization.load(path)
    if name in _AUX_PREFIXES:
        kwargs.setdefault("transform_input", True)
        kwargs.setdefault("aux_logits", any(k.startswith(_AUX_PREFIXES[name]) for k in state))
    model = builder(**kwargs)
    model.load_state_dict(state)
    return model


def _make_builder(name: str) -> Callable[..., Module]:
    def builder(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> Module:
        return _build(name, weights, kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (f"torchvision's ``{name}(*, weights=None, progress=True, **kwargs)``: "
                       f"``minitorch_cnn.models.{name}(**kwargs)``, with ``weights`` a converted file or None "
                       "(see this module's docstring).")
    return builder


for _name in ZOO:
    globals()[_name] = _make_builder(_name)


def list_models() -> list[str]:
    """The builder names, sorted (torchvision's ``list_models``)."""
    return sorted(ZOO)


def get_model(name: str, *, weights: Any = None, **config: Any) -> Module:
    """``get_model("resnet18", weights=None, num_classes=10)``, as torchvision's."""
    if name not in ZOO:
        raise ValueError(f"get_model: unknown model {name!r}; choose one of {', '.join(list_models())}")
    return _build(name, weights, dict(config))
