"""nn.init: fans, gains, the distributions' bounds and spreads, seeding, devices."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.nn import init


def _np(t):
    return backend.to_numpy(t._array)


def test_fans_of_linear_and_conv_weights() -> None:
    assert init._calculate_fan_in_and_fan_out(mt.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(mt.empty(64, 32, 3, 3)) == (32 * 9, 64 * 9)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mt.empty(5))


def test_calculate_gain_table() -> None:
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(2 / 6)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize(
    "fn, kwargs, kind, scale",
    [
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, "uniform", math.sqrt(2) * math.sqrt(3 / 200)),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, "uniform", 1 / math.sqrt(200)),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, "normal", math.sqrt(2 / 400)),
        (init.xavier_uniform_, {}, "uniform", math.sqrt(6 / 600)),
        (init.xavier_normal_, {"gain": 2.0}, "normal", 2 * math.sqrt(2 / 600)),
        (init.uniform_, {"a": -0.5, "b": 0.5}, "uniform", 0.5),
        (init.normal_, {"std": 0.02}, "normal", 0.02),
    ],
)
def test_distributions(fn, kwargs, kind, scale, device) -> None:
    w = mt.empty(400, 200, device=device)
    fn(w, **kwargs)
    a = _np(w)
    assert w.device == device and a.dtype == np.float32
    if kind == "uniform":  # U(-b, b): bounded by b, std b / sqrt(3)
        assert np.abs(a).max() <= scale * (1 + 1e-6)
        assert abs(a.std() - scale / math.sqrt(3)) < 0.02 * scale
    else:
        assert abs(a.std() - scale) < 0.02 * scale
    assert abs(a.mean()) < 0.02 * scale


def test_constants_and_seeding() -> None:
    w = mt.empty(3, 4)
    np.testing.assert_array_equal(_np(init.ones_(w)), 1)
    np.testing.assert_array_equal(_np(init.zeros_(w)), 0)
    np.testing.assert_array_equal(_np(init.constant_(w, 2.5)), 2.5)
    np.testing.assert_array_equal(_np(init.eye_(w)), np.eye(3, 4))
    t = init.trunc_normal_(mt.empty(1000), std=1.0, a=-1.0, b=1.0)
    assert np.abs(_np(t)).max() <= 1.0
    mt.manual_seed(9)
    a = _np(init.kaiming_uniform_(mt.empty(4, 4))).copy()
    mt.manual_seed(9)
    np.testing.assert_array_equal(a, _np(init.kaiming_uniform_(mt.empty(4, 4))))
