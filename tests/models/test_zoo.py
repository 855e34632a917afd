"""The model zoo against torchvision 0.28: parameter counts, state-dict keys and shapes, outputs.

The torchvision facts were frozen by ``freeze_torchvision.py`` (run once with the PyTorch oracle);
CI needs no torch. Big models are built with ``nn.utils.skip_init`` (no random draws, lazily
allocated zeros) when only their structure is checked.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from zoo_weights import deterministic_input, deterministic_state

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn.utils import skip_init

DATA = Path(__file__).resolve().parent / "data"
with gzip.open(DATA / "zoo_keys.json.gz", "rt") as _f:
    FROZEN = json.load(_f)
TORCHVISION_KEYS: dict[str, list] = FROZEN["models"]

# torchvision 0.28's published parameter counts (the issue's table), plus our non-torchvision builders
PARAMS = {
    "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "inception_v3": 27_161_264, "densenet121": 7_978_856, "mobilenet_v2": 3_504_872,
    "shufflenet_v2_x0_5": 1_366_792, "shufflenet_v2_x1_0": 2_278_604, "squeezenet1_0": 1_248_424,
    "mobilenet_v1": 4_231_976, "alexnet_paper": 60_965_224,
}


def n_params(model: nn.Module) -> int:
    return sum(int(np.prod(p.shape)) for p in model.parameters())


def test_frozen_data_is_torchvision_0_28() -> None:
    assert FROZEN["torchvision"].startswith("0.28")
    assert set(TORCHVISION_KEYS) >= set(models.ZOO) - {"mobilenet_v1", "alexnet_paper"}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_count_is_torchvision_s(name: str) -> None:
    kwargs = {"aux_logits": False} if name == "googlenet" else {}
    assert n_params(skip_init(models.build_model, name, **kwargs)) == PARAMS[name]


def test_googlenet_counts_with_and_without_aux_heads() -> None:
    assert n_params(skip_init(models.googlenet, aux_logits=False)) == 6_624_904
    with_aux = skip_init(models.googlenet)
    assert with_aux.aux_logits and n_params(with_aux) == 13_004_888


def test_mobilenet_v1_count_with_bn_statistics_is_keras_s() -> None:
    model = skip_init(models.mobilenet_v1)
    stats = sum(int(np.prod(b.shape)) for k, b in model.named_buffers() if k.endswith(("running_mean", "running_var")))
    assert n_params(model) == 4_231_976
    assert n_params(model) + stats == 4_253_864  # Keras's MobileNet() "Total params"


@pytest.mark.parametrize("name", sorted(TORCHVISION_KEYS))
def test_state_dict_keys_and_shapes_equal_torchvision_s(name: str) -> None:
    builder = "googlenet" if name == "googlenet_no_aux" else name
    kwargs = {"aux_logits": False} if name == "googlenet_no_aux" else {}
    ours = [[k, list(v.shape)] for k, v in skip_init(models.build_model, builder, **kwargs).state_dict().items()]
    assert ours == TORCHVISION_KEYS[name]


OUTPUTS = np.load(DATA / "zoo_outputs.npz")
SIZES = {"alexnet": 64, "resnet18": 64, "resnet34": 48, "resnet50": 48, "resnext50_32x4d": 48, "googlenet": 64,
         "inception_v3": 80, "densenet121": 48, "mobilenet_v2": 48, "shufflenet_v2_x0_5": 48,
         "shufflenet_v2_x1_0": 48, "squeezenet1_0": 48, "alexnet_paper": 64}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_eval_output_equals_torchvision_s_for_the_same_weights(name: str) -> None:
    model = skip_init(models.build_model, name).eval()
    shapes = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    model.load_state_dict(deterministic_state(shapes))
    x = mt.tensor(deterministic_input((2, 3, SIZES[name], SIZES[name])))
    with mt.no_grad():
        y = model(x).numpy()
    expected = OUTPUTS[name]
    assert y.shape == expected.shape == (2, 1000)
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-4 * max(1.0, scale))


# what small_input=True changes: the stem conv's weight shape (and VGG's first classifier layer); keys stay
SMALL_INPUT_SHAPE_CHANGES = {
    "alexnet": {"features.0.weight"}, "alexnet_paper": {"features.0.weight"},
    "resnet18": {"conv1.weight"}, "resnet34": {"conv1.weight"}, "resnet50": {"conv1.weight"},
    "resnext50_32x4d": {"conv1.weight"}, "wide_resnet50_2": {"conv1.weight"}, "googlenet": {"conv1.conv.weight"},
    "inception_v3": {"Conv2d_1a_3x3.conv.weight"}, "densenet121": {"features.conv0.weight"},
    "mobilenet_v1": {"features.0.0.weight"}, "mobilenet_v2": {"features.0.0.weight"},
    "shufflenet_v2_x0_5": {"conv1.0.weight"}, "shufflenet_v2_x1_0": {"conv1.0.weight"},
    "squeezenet1_0": {"features.0.weight"},
    **{v: {"features.0.weight", "classifier.0.weight"} for v in models.ZOO if v.startswith("vgg")},
}


def test_every_zoo_builder_documents_its_small_input_change() -> None:
    assert set(SMALL_INPUT_SHAPE_CHANGES) == set(models.ZOO)


@pytest.mark.parametrize("name", sorted(models.ZOO))
def test_small_input_builds_a_28x28_grey_model_with_the_same_keys(name: str) -> None:
    big = skip_init(models.build_model, name).state_dict()
    small = skip_init(models.build_model, name, in_channels=1, num_classes=10, small_input=True)
    state = small.state_dict()
    assert list(state) == list(big)
    heads = {k for k, v in big.items() if 1000 in v.shape}  # num_classes=10 changes the classifiers
    changed = {k for k in state if state[k].shape != big[k].shape} - heads
    assert changed == SMALL_INPUT_SHAPE_CHANGES[name]
    stem = state[sorted(SMALL_INPUT_SHAPE_CHANGES[name])[-1 if name.startswith("vgg") else 0]]
    assert stem.shape[1:] == (1, 3, 3)  # one input channel, 3x3 kernel
    # summary and receptive_field run through every builder, branches and concatenations included
    table = mt.summary(small.eval(), (1, 28, 28), batch_size=1, count_bn_stats_as_params=False).to_dict()
    assert int(np.prod(table["rows"][-1]["output_shape"])) == 10  # squeezenet ends on (1, 10, 1, 1), then flattens
    assert table["totals"]["total_params"] == n_params(small)
    rf = mt.receptive_field(small, (1, 28, 28)).to_dict()["rows"]
    spatial = [r for r in rf if not r["global"]]
    assert spatial[-1]["rf"][0] > 28 / 2 and rf[-1]["global"]  # the last map sees most of the image


def test_build_for_images_is_what_the_cli_trains() -> None:
    net = models.build_for_images("googlenet", in_channels=1, num_classes=10)
    assert net.aux1 is None and isinstance(net.maxpool1, nn.Identity)
    assert isinstance(models.build_for_images("cnn"), models.FashionCNN)
    net.train()
    out = net(mt.randn(2, 1, 28, 28))
    assert isinstance(out, mt.Tensor) and out.shape == (2, 10)


def test_aux_heads_in_training_mode_return_torchvision_s_named_tuples() -> None:
    g = skip_init(models.googlenet, num_classes=7, in_channels=1, small_input=True).train()
    out = g(mt.randn(2, 1, 28, 28))
    assert isinstance(out, models.GoogLeNetOutputs) and [t.shape for t in out] == [(2, 7)] * 3
    assert g.eval()(mt.randn(1, 1, 28, 28)).shape == (1, 7)
    v3 = skip_init(models.inception_v3, num_classes=5, in_channels=1, small_input=True).train()
    out = v3(mt.randn(2, 1, 28, 28))
    assert isinstance(out, models.InceptionOutputs) and out.logits.shape == out.aux_logits.shape == (2, 5)


def test_builders_reject_bad_arguments_before_building() -> None:
    with pytest.raises(ValueError, match="in_channels must be a positive int, got 0"):
        models.resnet18(in_channels=0)
    with pytest.raises(ValueError, match="num_classes must be a positive int, got -1"):
        models.vgg11(num_classes=-1)
    with pytest.raises(ValueError, match="transform_input=True needs in_channels=3, got 1"):
        models.googlenet(transform_input=True, in_channels=1)
    with pytest.raises(ValueError, match="unknown model 'resnet19'"):
        models.build_model("resnet19")


def test_transform_input_matches_torchvision_s_formula() -> None:
    x = np.random.default_rng(0).standard_normal((1, 3, 2, 2)).astype(np.float32)
    from minitorch_cnn.models.googlenet import transform_imagenet_input

    y = transform_imagenet_input(mt.tensor(x)).numpy()
    np.testing.assert_allclose(y[0, 1], x[0, 1] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5, rtol=1e-6)


def test_initialisation_is_torchvision_s() -> None:
    mt.manual_seed(0)
    r = models.resnet18()
    w = r.layer1[0].conv1.weight.detach().numpy()
    assert abs(w.std() / np.sqrt(2 / (64 * 9)) - 1) < 0.05  # kaiming_normal_(mode="fan_out", relu)
    assert np.all(r.bn1.weight.detach().numpy() == 1) and np.all(r.bn1.bias.detach().numpy() == 0)
    g = models.googlenet(aux_logits=False)
    gw = g.inception3a.branch1.conv.weight.detach().numpy()
    assert abs(gw.std() - 0.01) < 0.001  # trunc_normal_(std=0.01, a=-2, b=2): bounds in absolute units
    v = models.vgg11()
    assert abs(v.classifier[0].weight.detach().numpy()[:64].std() - 0.01) < 5e-4
    assert np.all(v.features[0].bias.detach().numpy() == 0)


# torchvision's published GMACs at 224x224; the cheaper models are measured here, all of them (vgg16
# 15.470, resnet50 4.089, densenet121 2.834, inception_v3 5.713 at 299) by tools/zoo_table.py
GMACS = {"alexnet": 0.714, "resnet18": 1.814, "googlenet": 1.498, "mobilenet_v2": 0.301,
         "shufflenet_v2_x1_0": 0.145, "squeezenet1_0": 0.819}


@pytest.mark.parametrize("name", sorted(GMACS))
def test_mult_adds_at_224_agree_with_torchvision_within_1_percent(name: str) -> None:
    model = skip_init(models.build_model, name, **({"aux_logits": False} if name == "googlenet" else {})).eval()
    macs = mt.summary(model, (3, 224, 224), batch_size=1).to_dict()["totals"]["mult_adds"]
    assert abs(macs / 1e9 / GMACS[name] - 1) < 0.01, macs


def test_the_train_cli_trains_a_zoo_model_with_small_input(tmp_path, capsys) -> None:
    from minitorch_cnn.train import main

    rc = main(["--model", "squeezenet1_0", "--limit", "64", "--epochs", "1", "--batch-size", "32",
               "--out", str(tmp_path / "run"), "--no-progress"])
    assert rc == 0
    assert "SqueezeNet summary" in capsys.readouterr().out
    ckpt = mt.load(tmp_path / "run" / "last.npz")
    assert ckpt["model"]["features.0.weight"].shape == (96, 1, 3, 3)  # the small-input stem
    assert ckpt["model"]["classifier.1.weight"].shape == (10, 512, 1, 1)
