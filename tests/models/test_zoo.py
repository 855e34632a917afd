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
