"""Building blocks of chapter 08, "beyond classification": sequences, segmentation, volumes.

* ``CausalConv1d``: a 1-d convolution whose output at time ``t`` sees only inputs ``<= t``
  (all the padding goes on the left); stacked with dilations 1, 2, 4, 8 it covers a long past
  with few layers (the WaveNet / TCN idea).
* ``dilated_stack_receptive_field``: how many time steps one output of such a stack sees.
* ``TinyUNet``: a two-level encoder-decoder with a skip connection, upsampling with
  ``ConvTranspose2d``, predicting one logit per pixel (binary segmentation).
* ``mask_iou``: intersection over union, the usual segmentation score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import nn
from ..creation import cat
from ..nn import functional as F
from ..tensors import Tensor

__all__ = ["CausalConv1d", "dilated_stack_receptive_field", "TinyUNet", "mask_iou"]


class CausalConv1d(nn.Module):
    """``Conv1d`` on ``(N, C_in, T)`` -> ``(N, C_out, T)`` that never looks at the future.

    With kernel ``k`` and dilation ``d`` the window of output ``t`` is
    ``t - d*(k-1), ..., t - d, t``: pad ``d*(k-1)`` zeros on the left, none on the right, then a
    plain (valid) convolution. Same length in and out.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1) -> None:
        super().__init__()
        if kernel_size < 1 or dilation < 1:
            raise ValueError(f"CausalConv1d: kernel_size and dilation must be >= 1, got {kernel_size}, {dilation}")
        self.left_pad = dilation * (kernel_size - 1)
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x: Tensor) -> Tensor:
        # BEGIN SOLUTION 8.1
        return self.conv(F.pad(x, (self.left_pad, 0)))
        # END SOLUTION


def dilated_stack_receptive_field(kernel_size: int, dilations: Sequence[int]) -> int:
    """Time steps seen by one output of stacked causal convs: ``1 + sum_l d_l * (k - 1)``.

    Each layer widens the window by ``d*(k-1)`` steps (stride 1, so the jump stays 1). With
    ``k = 2`` and dilations 1, 2, 4, 8 that is 16: doubling the dilation doubles the reach.
    """
    # BEGIN SOLUTION 8.2
    return 1 + sum(d * (kernel_size - 1) for d in dilations)
    # END SOLUTION


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1),
                         nn.ReLU())


class TinyUNet(nn.Module):
    """``(N, C, H, W)`` -> ``(N, 1, H, W)`` logits, ``H`` and ``W`` even.

    encoder ``down`` at full resolution -> 2x2 max pool -> ``bottom`` at half resolution ->
    ``ConvTranspose2d(k=2, s=2)`` back to full resolution -> concatenated with ``down``'s maps
    (the skip connection carries the fine detail the pooling threw away) -> ``up`` -> 1x1 conv.
    """

    def __init__(self, in_channels: int = 1, width: int = 8) -> None:
        super().__init__()
        self.down = _double_conv(in_channels, width)
        self.pool = nn.MaxPool2d(2)
        self.bottom = _double_conv(width, 2 * width)
        self.upsample = nn.ConvTranspose2d(2 * width, width, kernel_size=2, stride=2)
        self.up = _double_conv(2 * width, width)
        self.head = nn.Conv2d(width, 1, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        skip = self.down(x)
        deep = self.upsample(self.bottom(self.pool(skip)))
        return self.head(self.up(cat([deep, skip], dim=1)))


def mask_iou(pred: Any, target: Any) -> float:
    """``|pred AND target| / |pred OR target|`` of two boolean masks (1.0 when both are empty)."""
    pred, target = np.asarray(pred, dtype=bool), np.asarray(target, dtype=bool)
    if pred.shape != target.shape:
        raise ValueError(f"mask_iou: pred has shape {pred.shape} but target {target.shape}; they must match")
    # BEGIN SOLUTION 8.3
    union = np.logical_or(pred, target).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, target).sum() / union)
    # END SOLUTION
