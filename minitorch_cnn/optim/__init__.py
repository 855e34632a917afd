"""Optimizers and learning-rate schedulers (``torch.optim``).

``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta`` (all with ``state_dict`` /
``load_state_dict``) and ``lr_scheduler`` with ``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``LambdaLR``, ``MultiplicativeLR``, ``CosineAnnealingLR``, ``OneCycleLR``, ``ReduceLROnPlateau``.
Gradient clipping is ``minitorch_cnn.nn.utils.clip_grad_norm_`` (re-exported here for convenience).
"""

from __future__ import annotations

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler", "clip_grad_norm_"]


def __getattr__(name: str):
    # imported lazily: optim sits beside nn in the layering, and nn.utils imports nothing from here
    if name == "clip_grad_norm_":
        from ..nn.utils import clip_grad_norm_

        return clip_grad_norm_
    raise AttributeError(f"module 'minitorch_cnn.optim' has no attribute {name!r}")
