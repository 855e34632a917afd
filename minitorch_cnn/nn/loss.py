"""Loss layers (``torch.nn`` names): a Module holding the options, calling ``nn.functional``.

``reduction``: ``'mean'`` (default), ``'sum'`` or ``'none'`` (one loss per sample / element).
"""

from __future__ import annotations

from ..ops.losses import check_reduction
from ..tensors import Tensor
from . import functional as F
from ._checks import check_int, check_number
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss", "BCELoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"{type(self).__name__}: weight must be a Tensor of per-class weights or None, got "
                            f"{type(weight).__name__}; wrap it with mt.tensor(...)")
        # a buffer, so that .to(device) moves it and it stays out of the optimizer
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy from raw scores (logits): ``loss_i = -log softmax(x_i)[y_i]``.

    Input ``(N, C)`` (or ``(N, C, d1, ...)``), target ``(N,)`` class indices or ``(N, C)`` class
    probabilities. ``weight (C,)`` rescales classes (``'mean'`` then divides by the summed weights of
    the targets); targets equal to ``ignore_index`` contribute nothing; ``label_smoothing`` in [0, 1].
    Do not put a Softmax before it: it applies log-softmax itself, stably.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.label_smoothing = check_number("CrossEntropyLoss", "label_smoothing", label_smoothing, 0.0, 1.0)
        self.ignore_index = check_int("CrossEntropyLoss", "ignore_index", ignore_index, minimum=-(2**63))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities (pair with ``LogSoftmax(dim=1)``): ``-w_y x[y]``."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = check_int("NLLLoss", "ignore_index", ignore_index, minimum=-(2**63))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(x - y)^2`` (input and target of the same shape)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|x - y|`` (input and target of the same shape)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross entropy on logits (stable). ``pos_weight`` (per class, broadcast along the
    last axis) multiplies the positive term: > 1 raises recall on rare positives."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class BCELoss(_WeightedLoss):
    """Binary cross entropy on probabilities (after a Sigmoid): ``-w [y log x + (1 - y) log(1 - x)]``,
    logs clamped at -100. On raw scores prefer ``BCEWithLogitsLoss``, which is numerically stable."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)
