"""Per-sample normalisation layers: ``LayerNorm``, ``GroupNorm`` and ``LocalResponseNorm`` (PyTorch's API).

Unlike BatchNorm they normalise every sample on its own (no batch statistics, no running
averages), so training and evaluation agree and any batch size works, even one. The arithmetic
is ``ops/norm.py``'s ``xhat = (x - mean) / sqrt(var + eps)`` then a learned ``weight * xhat + bias``
(ones and zeros at the start, as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import creation
from ..tensors import Tensor
from . import functional as F
from ._checks import check_bool, check_eps, check_groups_divide, check_int, check_normalized_shape
from .module import Module, Parameter

__all__ = ["LayerNorm", "GroupNorm", "LocalResponseNorm"]


class LayerNorm(Module):
    """Normalise over the last axes ``normalized_shape`` of each sample: ``(*, *normalized_shape)``.

    ``elementwise_affine=True`` learns ``weight`` and ``bias`` of shape ``normalized_shape``. For a
    CNN feature map ``(N, C, H, W)``, ``LayerNorm([C, H, W])`` normalises each image as a whole.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = check_normalized_shape("LayerNorm", normalized_shape)
        self.eps = check_eps("LayerNorm", eps)
        self.elementwise_affine = check_bool("LayerNorm", "elementwise_affine", elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(creation.ones(self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.zeros(self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Split ``C`` channels into ``num_groups`` groups and normalise each group of each sample over its
    channels and positions (Wu & He 2018). ``num_groups=1`` is LayerNorm over ``(C, H, W)``;
    ``num_groups=C`` is InstanceNorm. ``affine=True`` learns a per-channel ``weight`` and ``bias``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_channels = check_int("GroupNorm", "num_channels", num_channels, 1)
        self.num_groups = check_groups_divide("GroupNorm", num_groups, num_channels)
        self.eps = check_eps("GroupNorm", eps)
        self.affine = check_bool("GroupNorm", "affine", affine)
        if affine:
            self.weight = Parameter(creation.ones((num_channels,), dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros((num_channels,), dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim >= 2 and input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected {self.num_channels} channels (input.shape[1]), got input of "
                             f"shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LocalResponseNorm(Module):
    """Normalise each activation by the energy of ``size`` neighbouring channels; see
    ``F.local_response_norm`` for the formula. AlexNet (2012) used ``size=5, alpha=5e-4 (PyTorch's
    scaling), beta=0.75, k=2``; BatchNorm later replaced it. No parameters; any ``(N, C, *)`` shape."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = check_int("LocalResponseNorm", "size", size, 1)
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
