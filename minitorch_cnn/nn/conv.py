"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d`` and ``ConvTranspose1d/2d/3d`` (PyTorch's API).

A ``Conv2d(C_in, C_out, k)`` holds ``weight (C_out, C_in/groups, kH, kW)`` and ``bias (C_out,)``:
``C_out * (C_in/groups) * kH * kW + C_out`` parameters, independent of the image size -- e.g.
``Conv2d(16, 32, 3)`` has 32*16*9 + 32 = 4,640, where a dense layer between two 28x28 feature maps
of the same channel counts would need ~315 million. A depth-wise separable block
(``Conv2d(16, 16, 3, groups=16, bias=False)`` then ``Conv2d(16, 32, 1)``) needs 144 + 512 + 32 = 688.

Initialisation is PyTorch's default: ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. uniform in
``+-1/sqrt(fan_in)`` with ``fan_in = C_in/groups * kH * kW``, and the bias uniform in the same range.

``padding_mode`` other than ``'zeros'`` (``'reflect'``, ``'replicate'``, ``'circular'``) pads the input
with ``nn.functional.pad`` first and then convolves without padding, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import creation
from ..ops._checks import (
    check_bool,
    check_choice,
    check_divisible_by_groups,
    check_int,
    check_output_padding,
    check_positive,
    conv_padding,
    ntuple,
)
from ..ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..ops.pad import pad
from ..tensors import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", output_padding: int | Sequence[int] = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        nd = self._nd
        in_channels = check_int(name, "in_channels", in_channels, 1)
        out_channels = check_int(name, "out_channels", out_channels, 1)
        groups = check_int(name, "groups", groups, 1)
        check_divisible_by_groups(name, "in_channels", in_channels, groups)
        check_divisible_by_groups(name, "out_channels", out_channels, groups)
        check_choice(name, "padding_mode", padding_mode, _PADDING_MODES)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        self.padding = padding if isinstance(padding, str) else ntuple(padding, nd, "padding", name)
        self.output_padding = ntuple(output_padding, nd, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        check_positive(self.kernel_size, "kernel_size", name)
        check_positive(self.stride, "stride", name)
        check_positive(self.dilation, "dilation", name)
        check_output_padding(name, self.output_padding, self.stride, self.dilation)
        check_bool(name, "bias", bias)
        # resolve 'same' / 'valid' / 'full' now: also validates stride with 'same'
        pads = conv_padding(self.padding, self.kernel_size, self.dilation, self.stride, name)
        # F.pad wants the last axis first: (left, right, top, bottom, ...)
        self._reversed_padding_repeated_twice = tuple(v for lo_hi in reversed(pads) for v in lo_hi)
        if self._transposed:
            if padding_mode != "zeros":
                raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty((out_channels,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str):
            s += f", padding={self.padding}"
        elif self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _padded(self, input: Tensor) -> tuple[Tensor, Any]:
        """``(input, padding)`` for the functional op: a non-zero ``padding_mode`` pads here, first."""
        if self.padding_mode != "zeros":
            return pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0
        return input, self.padding

    def _conv_forward(self, input: Tensor, fn: Any) -> Tensor:
        x, padding = self._padded(input)
        return fn(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _Conv(_ConvNd):
    """The forward convolutions: ``Conv1d/2d/3d`` differ only in ``_nd`` and the functional op."""

    _fn = staticmethod(conv2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self._fn)


class Conv1d(_Conv):
    """1-d convolution layer: ``(N, C_in, L) -> (N, C_out, L_out)``; see ``nn.functional.conv1d``."""

    _nd = 1
    _fn = staticmethod(conv1d)


class Conv2d(_Conv):
    """2-d convolution layer: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``.

    ``H_out = floor((H + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``.
    ``padding``: int, pair, ``'valid'``, ``'same'`` (stride 1) or ``'full'`` (our extension);
    ``padding_mode``: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
    """

    _nd = 2
    _fn = staticmethod(conv2d)

    def forward(self, input: Tensor) -> Tensor:
        # the op, its forward and backward: ops/conv.py (conv2d -> Conv2dFunction)
        x, padding = self._padded(input)
        return conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv3d(_Conv):
    """3-d convolution layer: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``."""

    _nd = 3
    _fn = staticmethod(conv3d)


class _ConvTransposeNd(_ConvNd):
    """What the 1-, 2- and 3-d transposed convolutions share: arguments, ``output_size``, forward."""

    _nd = 2
    _transposed = True
    _fn = staticmethod(conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding=output_padding, device=device, dtype=dtype)

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        nd = self._nd
        wanted = tuple(output_size)[-nd:]
        result = []
        for n, want, k, s, p, d in zip(input.shape[-nd:], wanted, self.kernel_size, self.stride, self.padding,
                                       self.dilation):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            extra = want - smallest
            if not 0 <= extra < max(s, d):
                raise ValueError(
                    f"{type(self).__name__}: output_size {tuple(output_size)} is not reachable from input "
                    f"{tuple(input.shape)}: sizes from {smallest} to {smallest + max(s, d) - 1} are"
                )
            result.append(extra)
        return tuple(result)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return self._fn(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                   self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed convolution (learnable up-sampling, as in U-Net decoders).

    ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)`` with
    ``H_out = (H - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``;
    ``weight (C_in, C_out/groups, kH, kW)``. ``forward(input, output_size=None)``: ``output_size``
    picks ``output_padding`` so that the result has that spatial size.
    """


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution: ``(N, C_in, L) -> (N, C_out, L_out)``, ``weight (C_in, C_out/groups, k)``;
    ``L_out`` follows ``ConvTranspose2d``'s formula."""

    _nd = 1
    _fn = staticmethod(conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``,
    ``weight (C_in, C_out/groups, kD, kH, kW)``."""

    _nd = 3
    _fn = staticmethod(conv_transpose3d)
