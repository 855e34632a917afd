"""The unit's Fashion-MNIST CNN (exact parameter counts), the MLP baseline, build_model and the blocks."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, models, nn


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_fashion_cnn_matches_the_unit_table() -> None:
    model = models.build_model("cnn")
    assert _count(model) == 1_677_674
    running = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert running == 1_408
    assert _count(model) + running == 1_679_082  # the Keras "Total params"
    kinds = [type(m).__name__ for m in model.features] + [type(m).__name__ for m in model.classifier]
    assert kinds == [
        "Conv2d", "ReLU", "BatchNorm2d", "Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Dropout",
        "Conv2d", "ReLU", "BatchNorm2d", "Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Dropout",
        "Flatten", "Linear", "ReLU", "BatchNorm1d", "Dropout", "Linear",
    ]
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.25, 0.25, 0.5]
    names = [n for n, _ in model.named_parameters()]
    assert names[:2] == ["features.0.weight", "features.0.bias"] and names[-1] == "classifier.5.bias"
    assert model.classifier[1].weight.shape == (512, 3136)


def test_fashion_cnn_forward_backward_and_eval() -> None:
    model = models.FashionCNN()
    x = mt.randn(4, 1, 28, 28)
    out = model(x)
    assert out.shape == (4, 10) and out.dtype == np.float32
    nn.functional.cross_entropy(out, mt.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    model.eval()
    a = backend.to_numpy(model(x)._array)
    b = backend.to_numpy(model(x[:1])._array)
    np.testing.assert_allclose(a[:1], b, rtol=1e-4, atol=1e-5)  # eval: no dependence on the batch
    with pytest.raises(ValueError, match="unsqueeze"):
        model(mt.randn(4, 28, 28))


def test_mlp_baseline() -> None:
    model = models.build_model("mlp")
    assert _count(model) == 535_818  # 784*512+512 + 512*256+256 + 256*10+10
    assert model(mt.randn(3, 1, 28, 28)).shape == (3, 10)
    assert [n for n, _ in model.named_children()][:3] == ["flatten", "fc1", "relu1"]
    assert isinstance(model[1:3], nn.Sequential)


def test_build_model_errors_and_kwargs() -> None:
    with pytest.raises(ValueError, match="unknown model 'lenet'"):
        models.build_model("lenet")
    assert models.build_model("cnn", in_channels=3, num_classes=5)(mt.randn(2, 3, 28, 28)).shape == (2, 5)


def test_blocks_shapes_and_sizes() -> None:
    x = mt.randn(2, 8, 12, 12)
    assert models.VGGBlock(8, 16, num_convs=2)(x).shape == (2, 16, 6, 6)
    assert models.BasicBlock(8, 8)(x).shape == (2, 8, 12, 12)
    block = models.BasicBlock(8, 16, stride=2)
    assert block(x).shape == (2, 16, 6, 6) and isinstance(block.shortcut, nn.Sequential)
    inc = models.InceptionModule(8, 4, 4, 8, 2, 4, 4)
    assert inc(x).shape == (2, 20, 12, 12) and inc.out_channels == 20
    dw = models.DepthwiseSeparableConv(8, 16)
    assert dw(x).shape == (2, 16, 12, 12)
    # depthwise 3x3: 8*9 weights; pointwise: 8*16; two BatchNorms: 2*8 + 2*16
    assert _count(dw) == 8 * 9 + 8 * 16 + 2 * 8 + 2 * 16
    assert models.ShuffleUnit(8, groups=2)(x).shape == (2, 8, 12, 12)


def test_channel_shuffle_permutation_and_gradient() -> None:
    x = mt.tensor(np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1), requires_grad=True)
    y = models.channel_shuffle(x, 2)
    # channels [0 1 2 | 3 4 5] interleave to [0 3 1 4 2 5]
    np.testing.assert_array_equal(backend.to_numpy(y._array).ravel(), [0, 3, 1, 4, 2, 5])
    (y * mt.tensor(np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1))).sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(x.grad._array).ravel(), [0, 2, 4, 1, 3, 5])
    with pytest.raises(ValueError, match="3 equal groups"):
        models.channel_shuffle(mt.randn(1, 4, 2, 2), 3)


def test_small_resnet_and_vgg() -> None:
    x = mt.randn(2, 1, 28, 28)
    resnet = models.build_model("resnet")
    assert resnet(x).shape == (2, 10)
    vgg = models.build_model("vgg")
    assert vgg(x).shape == (2, 10)
    assert [n for n, _ in vgg.named_children()] == ["block1", "block2", "flatten", "fc1", "relu", "fc2"]
