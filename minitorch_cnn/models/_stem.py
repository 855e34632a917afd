"""What the zoo's builders share: checking ``in_channels`` / ``num_classes`` and the small-image stem.

``small_input=True`` adapts an ImageNet model (224x224 inputs, an aggressive stem that shrinks the
image 4x before the first block) to 28x28 / 32x32 images, as CIFAR papers do: the stem's large
strided convolution becomes a 3x3 stride-1 convolution (padding 1) and the stem's max-pool, if any,
becomes ``nn.Identity``. Module names and state-dict keys stay the same; only the stem
convolution's weight shape changes. What else changes is listed per family in ``models/__init__``.
"""

from __future__ import annotations

from .. import nn

__all__ = ["check_builder_args", "stem_conv", "stem_pool"]


def check_builder_args(model: str, in_channels: int, num_classes: int) -> None:
    """Raise before building anything if ``in_channels`` or ``num_classes`` is not a positive int."""
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{model}: {name} must be a positive int, got {value!r}")


def stem_conv(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int, small_input: bool,
              bias: bool = False) -> nn.Conv2d:
    """The stem convolution: as given for ImageNet, or 3x3 / stride 1 / padding 1 with ``small_input``."""
    if small_input:
        return nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1, bias=bias)
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)


def stem_pool(small_input: bool, **pool_args: object) -> nn.Module:
    """The stem's max-pool, or ``nn.Identity`` with ``small_input`` (a 28px image cannot afford it)."""
    return nn.Identity() if small_input else nn.MaxPool2d(**pool_args)  # type: ignore[arg-type]
