"""Batch normalisation layers ``BatchNorm1d`` / ``BatchNorm2d``.

Each channel is normalised to zero mean and unit variance, then scaled and shifted by learned
``weight`` (gamma, initialised to 1) and ``bias`` (beta, initialised to 0)::

    y = (x - mean) / sqrt(var + eps) * gamma + beta

* ``train()`` mode: mean and (biased) variance come from the current batch, and the buffers
  ``running_mean`` / ``running_var`` are updated as exponential moving averages with the
  *unbiased* variance: ``running = (1 - momentum) * running + momentum * batch_stat``
  (``momentum=None``: a cumulative average, factor ``1 / num_batches_tracked``).
* ``eval()`` mode: the running statistics are used, so a prediction does not depend on the batch.

Parameters: ``2 * num_features`` trainable, plus ``2 * num_features`` running statistics and the
``num_batches_tracked`` counter as buffers (Keras counts the running statistics as "non-trainable
params").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import creation
from ..tensors import Tensor
from . import functional as F
from . import init
from ._checks import check_bool, check_eps, check_int, check_momentum
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    _expected_dims: tuple[int, ...] = ()
    _shape_text = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        num_features = check_int(name, "num_features", num_features, 1)
        self.num_features = num_features
        self.eps = check_eps(name, eps)
        self.momentum = check_momentum(name, momentum, allow_none=True)
        self.affine = check_bool(name, "affine", affine)
        self.track_running_stats = check_bool(name, "track_running_stats", track_running_stats)
        if affine:
            self.weight = Parameter(creation.empty((num_features,), dtype=dtype, device=device))
            self.bias = Parameter(creation.empty((num_features,), dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "num_batches_tracked", creation.tensor(0, dtype=np.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._expected_dims:
            raise ValueError(
                f"{type(self).__name__}: expected {self._shape_text} input, got shape {tuple(input.shape)}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input has {input.shape[1]} channels at dim 1 "
                f"(shape {tuple(input.shape)}), expected {self.num_features}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            if input.numel() // input.shape[1] > 1:  # F.batch_norm raises for a single value per channel
                self.num_batches_tracked._array += 1
            if self.momentum is None:
                factor = 1.0 / max(int(self.num_batches_tracked.item()), 1)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)``: statistics per feature ``C`` over N (and L)."""

    _expected_dims = (2, 3)
    _shape_text = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)``: statistics per channel over N, H and W."""

    _expected_dims = (4,)
    _shape_text = "4-D (N, C, H, W)"
