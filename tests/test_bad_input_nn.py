"""Bad input to the ops, layers and optimizers: each case asserts the exception type and that the
message names the offending argument; empty batches flow through with a 0 batch dim."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F

# --------------------------------------------------------------------------------------------------
# Empty batches: an output with a 0 batch dim, and a backward that works
# --------------------------------------------------------------------------------------------------
EMPTY_OPS = {
    "conv1d": lambda x: F.conv1d(x.reshape(0, 2, 6), mt.ones(3, 2, 3, device=x.device)),
    "conv2d": lambda x: F.conv2d(x, mt.ones(3, 2, 3, 3, device=x.device), padding=1),
    "conv2d_strided_groups": lambda x: F.conv2d(x, mt.ones(4, 1, 3, 3, device=x.device), stride=2, groups=2),
    "conv_transpose2d": lambda x: F.conv_transpose2d(x, mt.ones(2, 3, 3, 3, device=x.device), stride=2),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, stride=1, padding=1),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, 1),
    "pad_reflect": lambda x: F.pad(x, (1, 1, 2, 2), mode="reflect"),
    "pad_constant": lambda x: F.pad(x, (1, 1)),
}


@pytest.mark.parametrize("name", sorted(EMPTY_OPS))
def test_empty_batch_flows_through(device: str, name: str) -> None:
    x = mt.zeros(0, 2, 6, 6, device=device, requires_grad=True)
    y = EMPTY_OPS[name](x)
    assert y.shape[0] == 0
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_batchnorm_training_on_one_or_zero_samples_says_why(device: str) -> None:
    bn = nn.BatchNorm2d(3).to(device)
    for n in (0, 1):
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
            bn(mt.zeros(n, 3, 1, 1, device=device))
    assert bn.eval()(mt.zeros(0, 3, 4, 4, device=device)).shape == (0, 3, 4, 4)


def test_empty_batches_through_linear_and_losses(device: str) -> None:
    assert nn.Linear(4, 2).to(device)(mt.zeros(0, 4, device=device)).shape == (0, 2)
    logits, labels = mt.zeros(0, 3, device=device), mt.zeros(0, dtype=mt.int64, device=device)
    assert F.cross_entropy(logits, labels, reduction="sum").item() == 0.0
    assert F.nll_loss(logits, labels, reduction="none").shape == (0,)
    assert F.mse_loss(logits, logits, reduction="sum").item() == 0.0


# --------------------------------------------------------------------------------------------------
# One table: (call, exception type, a pattern that names the offending argument)
# --------------------------------------------------------------------------------------------------
X4 = lambda: mt.zeros(1, 2, 6, 6)  # noqa: E731
W = lambda: mt.zeros(3, 2, 3, 3)  # noqa: E731
P = lambda: [nn.Parameter(mt.zeros(2))]  # noqa: E731

CASES = {
    # convolution layers: checked at construction
    "Conv2d stride=0": (lambda: nn.Conv2d(1, 2, 3, stride=0), ValueError, r"Conv2d: stride must be positive"),
    "Conv2d dilation=0": (lambda: nn.Conv2d(1, 2, 3, dilation=0), ValueError, r"Conv2d: dilation must be positive"),
    "Conv2d kernel 0": (lambda: nn.Conv2d(1, 2, 0), ValueError, r"kernel_size must be positive"),
    "Conv2d negative padding": (lambda: nn.Conv2d(1, 2, 3, padding=-1), ValueError, r"padding must be non-negative"),
    "Conv2d bad padding string": (lambda: nn.Conv2d(1, 2, 3, padding="half"), ValueError, r"padding must be.*'same'"),
    "Conv2d same + stride": (lambda: nn.Conv2d(1, 2, 3, stride=2, padding="same"), ValueError, r"padding='same'"),
    "Conv2d groups": (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, r"in_channels=3.*groups=2"),
    "Conv2d out groups": (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, r"out_channels=3.*groups=2"),
    "Conv2d groups=0": (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, r"groups must be a positive int"),
    "Conv2d in_channels=0": (lambda: nn.Conv2d(0, 4, 3), ValueError, r"in_channels must be a positive int"),
    "Conv2d float channels": (lambda: nn.Conv2d(2.0, 4, 3), ValueError, r"in_channels must be a positive int"),
    "Conv2d padding_mode": (lambda: nn.Conv2d(1, 1, 3, padding_mode="mirror"), ValueError, r"padding_mode"),
    "Conv2d kernel tuple length": (lambda: nn.Conv2d(1, 1, (3, 3, 3)), ValueError, r"kernel_size must be an int"),
    "Conv2d bool stride": (lambda: nn.Conv2d(1, 1, 3, stride=True), TypeError, r"stride must be an int"),
    "Conv2d bias not bool": (lambda: nn.Conv2d(1, 1, 3, bias="yes"), TypeError, r"bias must be True or False"),
    "Conv1d stride=0": (lambda: nn.Conv1d(1, 2, 3, stride=0), ValueError, r"Conv1d: stride must be positive"),
    "Conv3d dilation=-1": (lambda: nn.Conv3d(1, 2, 3, dilation=-1), ValueError, r"Conv3d: dilation must be"),
    "ConvTranspose2d output_padding": (lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2), ValueError,
                                       r"output_padding=\(2, 2\) must be smaller"),
    "ConvTranspose2d padding string": (lambda: nn.ConvTranspose2d(2, 2, 3, padding="same"), ValueError, r"padding"),
    # convolution functions
    "conv2d input not a Tensor": (lambda: F.conv2d(np.zeros((1, 2, 6, 6)), W()), TypeError, r"input must be a Tensor"),
    "conv2d weight not a Tensor": (lambda: F.conv2d(X4(), [[1]]), TypeError, r"weight must be a Tensor"),
    "conv2d 3-d weight": (lambda: F.conv2d(X4(), mt.zeros(3, 2, 3)), ValueError, r"weight must be 4-d"),
    "conv2d 2-d input": (lambda: F.conv2d(mt.zeros(6, 6), W()), ValueError, r"expected a 4-d input"),
    "conv2d channels": (lambda: F.conv2d(mt.zeros(1, 3, 6, 6), W()), ValueError, r"weight of shape .* input channels"),
    "conv2d kernel too big": (lambda: F.conv2d(mt.zeros(1, 2, 2, 2), W()), ValueError, r"kernel .* larger"),
    "conv2d dtype": (lambda: F.conv2d(X4(), W().double()), TypeError, r"dtype"),
    "conv2d bias shape": (lambda: F.conv2d(X4(), W(), mt.zeros(2)), ValueError, r"bias must have shape \(3,\)"),
    "conv2d bias type": (lambda: F.conv2d(X4(), W(), np.zeros(3)), TypeError, r"bias must be a Tensor"),
    "conv2d stride=0": (lambda: F.conv2d(X4(), W(), stride=0), ValueError, r"stride must be positive"),
    "conv2d stride str": (lambda: F.conv2d(X4(), W(), stride="2"), ValueError, r"stride must be an int"),
    "conv2d groups=0": (lambda: F.conv2d(X4(), W(), groups=0), ValueError, r"groups must be a positive int"),
    "conv_transpose2d channels": (lambda: F.conv_transpose2d(X4(), mt.zeros(3, 2, 3, 3)), ValueError,
                                  r"weight.shape\[0\]"),
    "conv_transpose2d empty output": (lambda: F.conv_transpose2d(mt.zeros(1, 2, 1, 1), mt.zeros(2, 2, 1, 1),
                                                                 padding=1), ValueError, r"output would be empty"),
    # pooling
    "MaxPool2d kernel 0": (lambda: nn.MaxPool2d(0), ValueError, r"MaxPool2d: kernel_size must be positive"),
    "MaxPool2d stride 0": (lambda: nn.MaxPool2d(2, stride=0), ValueError, r"MaxPool2d: stride must be positive"),
    "MaxPool2d padding > k/2": (lambda: nn.MaxPool2d(2, padding=2), ValueError, r"padding=\(2, 2\) must be at most"),
    "MaxPool2d dilation 0": (lambda: nn.MaxPool2d(2, dilation=0), ValueError, r"dilation must be positive"),
    "MaxPool2d ceil_mode str": (lambda: nn.MaxPool2d(2, ceil_mode="yes"), TypeError, r"ceil_mode must be True"),
    "MaxPool1d kernel tuple": (lambda: nn.MaxPool1d((2, 2)), ValueError, r"kernel_size must be an int"),
    "AvgPool2d stride -1": (lambda: nn.AvgPool2d(2, stride=-1), ValueError, r"AvgPool2d: stride must be positive"),
    "AvgPool2d divisor 0": (lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, r"divisor_override"),
    "AvgPool3d kernel 0": (lambda: nn.AvgPool3d(0), ValueError, r"AvgPool3d: kernel_size"),
    "AdaptiveAvgPool2d 0": (lambda: nn.AdaptiveAvgPool2d(0), ValueError, r"output_size entries must be positive"),
    "AdaptiveMaxPool2d triple": (lambda: nn.AdaptiveMaxPool2d((1, 2, 3)), ValueError, r"output_size must be an int"),
    "MaxUnpool2d stride 0": (lambda: nn.MaxUnpool2d(2, stride=0), ValueError, r"stride must be positive"),
    "max_pool2d empty output": (lambda: F.max_pool2d(mt.zeros(1, 1, 2, 2), 3), ValueError, r"output would be empty"),
    "max_pool2d not a Tensor": (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 2), TypeError, r"input must be a Tensor"),
    "avg_pool2d int input": (lambda: F.avg_pool2d(mt.zeros(1, 1, 4, 4, dtype=mt.int64), 2), TypeError,
                             r"floating-point input"),
    "adaptive_avg_pool2d 2-d": (lambda: F.adaptive_avg_pool2d(mt.zeros(4, 4), 1), ValueError, r"expected a 4-d input"),
    "max_unpool2d float indices": (lambda: F.max_unpool2d(mt.zeros(1, 1, 2, 2), mt.zeros(1, 1, 2, 2), 2), TypeError,
                                   r"indices must be integers"),
    # padding
    "ReflectionPad2d negative": (lambda: nn.ReflectionPad2d(-1), ValueError, r"padding must be non-negative"),
    "ZeroPad2d three numbers": (lambda: nn.ZeroPad2d((1, 2, 3)), ValueError, r"padding must be an int or a tuple"),
    "ConstantPad2d value str": (lambda: nn.ConstantPad2d(1, "0"), TypeError, r"value must be a number"),
    "pad mode": (lambda: F.pad(X4(), (1, 1), mode="mirror"), ValueError, r"mode must be one of"),
    "pad odd length": (lambda: F.pad(X4(), (1, 1, 1)), ValueError, r"pad \(1, 1, 1\) must have an even length"),
    "pad float amounts": (lambda: F.pad(X4(), (1.0, 1.0)), TypeError, r"pad must contain ints"),
    "pad reflect too big": (lambda: F.pad(X4(), (6, 0), mode="reflect"), ValueError, r"reflect padding"),
    "pad value with reflect": (lambda: F.pad(X4(), (1, 1), mode="reflect", value=2.0), ValueError, r"value=2.0"),
    # normalisation, dropout, activations
    "BatchNorm2d eps=0": (lambda: nn.BatchNorm2d(4, eps=0), ValueError, r"BatchNorm2d: eps must be"),
    "BatchNorm2d eps<0": (lambda: nn.BatchNorm2d(4, eps=-1e-5), ValueError, r"eps must be"),
    "BatchNorm2d momentum 1.5": (lambda: nn.BatchNorm2d(4, momentum=1.5), ValueError, r"momentum must be .*\[0.0, 1.0\]"),
    "BatchNorm1d momentum -0.1": (lambda: nn.BatchNorm1d(4, momentum=-0.1), ValueError, r"BatchNorm1d: momentum"),
    "BatchNorm2d num_features 0": (lambda: nn.BatchNorm2d(0), ValueError, r"num_features must be a positive int"),
    "BatchNorm2d affine str": (lambda: nn.BatchNorm2d(2, affine="no"), TypeError, r"affine must be True or False"),
    "BatchNorm2d channels": (lambda: nn.BatchNorm2d(3)(X4()), ValueError, r"input has 2 channels"),
    "batch_norm momentum nan": (lambda: F.batch_norm(X4(), None, None, training=True, momentum=float("nan")),
                                ValueError, r"momentum must be"),
    "LayerNorm eps 0": (lambda: nn.LayerNorm(4, eps=0.0), ValueError, r"LayerNorm: eps must be"),
    "LayerNorm shape 0": (lambda: nn.LayerNorm((4, 0)), ValueError, r"normalized_shape must hold positive ints"),
    "layer_norm mismatch": (lambda: F.layer_norm(X4(), (5, 5)), ValueError, r"normalized_shape=\[5, 5\]"),
    "GroupNorm groups": (lambda: nn.GroupNorm(3, 4), ValueError, r"num_groups=3 must divide the number of channels 4"),
    "GroupNorm groups 0": (lambda: nn.GroupNorm(0, 4), ValueError, r"num_groups must be a positive int"),
    "GroupNorm channels at forward": (lambda: nn.GroupNorm(1, 4)(X4()), ValueError, r"expected 4 channels"),
    "group_norm weight shape": (lambda: F.group_norm(X4(), 1, mt.ones(3)), ValueError, r"weight must have shape \(2,\)"),
    "Dropout p 1.5": (lambda: nn.Dropout(1.5), ValueError, r"Dropout: p must be .*between 0 and 1"),
    "Dropout p str": (lambda: nn.Dropout("0.5"), ValueError, r"p must be a finite number"),
    "dropout p -1": (lambda: F.dropout(X4(), -1.0), ValueError, r"dropout: p must be"),
    "dropout2d 2-d": (lambda: F.dropout2d(mt.zeros(3, 4), 0.5), ValueError, r"expected a 3-D"),
    "GELU approximate": (lambda: nn.GELU("fast"), ValueError, r"approximate must be one of 'none', 'tanh'"),
    "gelu int input": (lambda: F.gelu(mt.zeros(3, dtype=mt.int64)), TypeError, r"floating-point input"),
    "LeakyReLU slope str": (lambda: nn.LeakyReLU("0.1"), ValueError, r"negative_slope must be a finite number"),
    "Softmax dim float": (lambda: nn.Softmax(dim=1.0), TypeError, r"dim must be an int or None"),
    "relu not a Tensor": (lambda: F.relu(np.zeros(3)), TypeError, r"relu: input must be a Tensor"),
    "Flatten start_dim str": (lambda: nn.Flatten("1"), ValueError, r"start_dim must be an int"),
    "Unflatten negative": (lambda: nn.Unflatten(1, (2, -3)), ValueError, r"unflattened_size must hold sizes"),
    "Linear negative": (lambda: nn.Linear(-1, 2), ValueError, r"in_features must be a non-negative int"),
    "linear features": (lambda: F.linear(mt.zeros(2, 5), mt.zeros(3, 4)), ValueError, r"in_features=4"),
    # resizing
    "Upsample both": (lambda: nn.Upsample(size=4, scale_factor=2), ValueError, r"exactly one of size and scale_factor"),
    "Upsample mode": (lambda: nn.Upsample(scale_factor=2, mode="cubic"), ValueError, r"mode must be one of"),
    "Upsample align nearest": (lambda: nn.Upsample(scale_factor=2, align_corners=True), ValueError, r"align_corners"),
    "Upsample factor 0": (lambda: nn.Upsample(scale_factor=0), ValueError, r"scale_factor must be a positive"),
    "interpolate bilinear 3-d": (lambda: F.interpolate(mt.zeros(1, 2, 5), size=4, mode="bilinear"), ValueError,
                                 r"mode='bilinear' needs a 4-d input"),
    "interpolate size 0": (lambda: F.interpolate(X4(), size=(0, 3)), ValueError, r"size must be positive"),
    "interpolate tiny factor": (lambda: F.interpolate(X4(), scale_factor=0.1), ValueError, r"scale_factor=0.1"),
    # losses
    "cross_entropy float targets": (lambda: F.cross_entropy(mt.zeros(4, 3), mt.zeros(4)), TypeError,
                                    r"target .* class indices must be integers: use target.long\(\)"),
    "nll_loss float targets": (lambda: F.nll_loss(mt.zeros(4, 3), mt.zeros(4)), TypeError, r"target.long\(\)"),
    "cross_entropy smoothing": (lambda: F.cross_entropy(mt.zeros(4, 3), mt.zeros(4, dtype=mt.int64),
                                                        label_smoothing=2.0), ValueError, r"label_smoothing must be"),
    "CrossEntropyLoss smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), ValueError,
                                   r"CrossEntropyLoss: label_smoothing"),
    "CrossEntropyLoss reduction": (lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError, r"reduction='avg'"),
    "CrossEntropyLoss weight list": (lambda: nn.CrossEntropyLoss(weight=[1.0, 2.0]), TypeError, r"weight must be a"),
    "NLLLoss ignore_index float": (lambda: nn.NLLLoss(ignore_index=1.5), ValueError, r"ignore_index must be an int"),
    "BCELoss out of range": (lambda: nn.BCELoss()(mt.tensor([0.5, 1.5]), mt.tensor([0.0, 1.0])), ValueError,
                             r"input should be between 0 and 1"),
    "BCELoss shapes": (lambda: nn.BCELoss()(mt.zeros(3), mt.zeros(3, 1)), ValueError, r"target shape \(3, 1\)"),
    "mse_loss shapes": (lambda: F.mse_loss(mt.zeros(4, 1), mt.zeros(4)), ValueError, r"target shape \(4,\) differ"),
    # optimizers and schedulers
    "SGD lr<0": (lambda: mt.optim.SGD(P(), lr=-0.1), ValueError, r"SGD: lr must be .*Invalid learning rate"),
    "SGD lr inf": (lambda: mt.optim.SGD(P(), lr=float("inf")), ValueError, r"SGD: lr must be a finite number"),
    "SGD lr str": (lambda: mt.optim.SGD(P(), lr="0.1"), ValueError, r"lr must be a finite number"),
    "SGD momentum<0": (lambda: mt.optim.SGD(P(), lr=0.1, momentum=-0.9), ValueError, r"SGD: momentum must be"),
    "SGD weight_decay nan": (lambda: mt.optim.SGD(P(), lr=0.1, weight_decay=float("nan")), ValueError,
                             r"weight_decay must be"),
    "SGD nesterov": (lambda: mt.optim.SGD(P(), lr=0.1, nesterov=True), ValueError, r"nesterov=True requires momentum"),
    "SGD group lr": (lambda: mt.optim.SGD([{"params": P(), "lr": -1.0}], lr=0.1), ValueError, r"SGD: lr must be"),
    "SGD empty": (lambda: mt.optim.SGD([], lr=0.1), ValueError, r"empty parameter list"),
    "SGD single tensor": (lambda: mt.optim.SGD(nn.Parameter(mt.zeros(2)), lr=0.1), TypeError, r"single Tensor"),
    "Adam betas": (lambda: mt.optim.Adam(P(), betas=(0.9, 1.0)), ValueError, r"Adam: betas\[1\] must be"),
    "Adam betas length": (lambda: mt.optim.Adam(P(), betas=(0.9,)), ValueError, r"betas must be a pair"),
    "Adam eps<0": (lambda: mt.optim.Adam(P(), eps=-1e-8), ValueError, r"Adam: eps must be"),
    "AdamW lr<0": (lambda: mt.optim.AdamW(P(), lr=-1.0), ValueError, r"AdamW: lr must be"),
    "RMSprop alpha": (lambda: mt.optim.RMSprop(P(), alpha=1.5), ValueError, r"RMSprop: alpha must be"),
    "RMSprop centered str": (lambda: mt.optim.RMSprop(P(), centered="yes"), TypeError, r"centered must be True"),
    "StepLR step_size 0": (lambda: mt.optim.lr_scheduler.StepLR(mt.optim.SGD(P(), lr=0.1), 0), ValueError,
                           r"StepLR: step_size must be a positive int"),
    "CosineAnnealingLR T_max 0": (lambda: mt.optim.lr_scheduler.CosineAnnealingLR(mt.optim.SGD(P(), lr=0.1), 0),
                                  ValueError, r"T_max must be a positive int"),
    "ReduceLROnPlateau factor": (lambda: mt.optim.lr_scheduler.ReduceLROnPlateau(mt.optim.SGD(P(), lr=0.1),
                                                                                 factor=1.0), ValueError, r"factor"),
    "ReduceLROnPlateau mode": (lambda: mt.optim.lr_scheduler.ReduceLROnPlateau(mt.optim.SGD(P(), lr=0.1),
                                                                               mode="lowest"), ValueError, r"mode must"),
    "ReduceLROnPlateau min_lr": (lambda: mt.optim.lr_scheduler.ReduceLROnPlateau(mt.optim.SGD(P(), lr=0.1),
                                                                                 min_lr=[0.0, 0.1]), ValueError,
                                 r"min_lr has 2 entries for 1 parameter groups"),
    "scheduler not an optimizer": (lambda: mt.optim.lr_scheduler.StepLR(object(), 2), TypeError, r"not an Optimizer"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_naming_the_argument(case: str) -> None:
    call, exc, pattern = CASES[case]
    with pytest.raises(exc, match=pattern):
        call()


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 70


# --------------------------------------------------------------------------------------------------
# Property-based: any bad hyper-parameter drawn is refused at construction, naming it
# --------------------------------------------------------------------------------------------------
bad_positive = st.one_of(st.integers(-5, 0), st.sampled_from([1.5, "2", True]))  # None: the pool default
bad_unit = st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 0 <= v <= 1),
                     st.sampled_from(["0.1", [0.1]]))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["stride", "dilation", "kernel_size"]), bad_positive)
def test_conv_and_pool_constructors_refuse_bad_window_arguments(name: str, value) -> None:
    kwargs = {"kernel_size": 3, name: value}
    for build in (lambda kw: nn.Conv2d(2, 2, **kw), lambda kw: nn.MaxPool2d(**kw)):
        with pytest.raises((ValueError, TypeError), match=name):
            build(kwargs)


@settings(max_examples=30, deadline=None)
@given(bad_unit)
def test_probabilities_and_momenta_outside_0_1_are_refused(value) -> None:
    with pytest.raises((ValueError, TypeError), match="momentum"):
        nn.BatchNorm2d(3, momentum=value)
    with pytest.raises((ValueError, TypeError), match="p must be"):
        nn.Dropout(value)
    with pytest.raises((ValueError, TypeError), match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=value)


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf"))))
def test_eps_and_learning_rates_that_cannot_work_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="eps"):
        nn.BatchNorm2d(3, eps=value)
    with pytest.raises(ValueError, match="eps"):
        nn.LayerNorm(3, eps=value)
    if value < 0 or not np.isfinite(value):
        with pytest.raises(ValueError, match="lr"):
            mt.optim.SGD(P(), lr=value)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5))
def test_conv_refuses_a_kernel_larger_than_the_padded_input(size: int, extra: int, channels: int) -> None:
    x = mt.zeros(1, channels, size, size)
    w = mt.zeros(2, channels, size + extra, size + extra)
    with pytest.raises(ValueError, match=r"kernel .* larger than the padded input"):
        F.conv2d(x, w)
