"""Fake quantization against PyTorch's (frozen) values, the STE gradient, and the observers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn.compress import observers
from minitorch_cnn.compress.quantize import (
    fake_quantize_per_channel_affine,
    fake_quantize_per_tensor_affine,
    quantize_array,
)

ORACLE = np.load(Path(__file__).parent / "data" / "quant_oracle.npz")  # tools/freeze_compress_oracle.py


def test_per_tensor_equals_torch_bit_for_bit(device: str) -> None:
    x = mt.tensor(ORACLE["x"], device=device, requires_grad=True)
    y = fake_quantize_per_tensor_affine(x, float(ORACLE["scale"]), int(ORACLE["zero_point"]), 0, 255)
    np.testing.assert_array_equal(y.detach().numpy(), ORACLE["per_tensor"])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), ORACLE["per_tensor_grad"])  # straight-through, 0 if clamped


def test_per_channel_equals_torch_bit_for_bit(device: str) -> None:
    x = mt.tensor(ORACLE["x"], device=device, requires_grad=True)
    s = mt.tensor(ORACLE["pc_scale"], device=device)
    z = mt.tensor(ORACLE["pc_zero_point"], device=device)
    y = fake_quantize_per_channel_affine(x, s, z, 1, -128, 127)
    np.testing.assert_array_equal(y.detach().numpy(), ORACLE["per_channel"])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), ORACLE["per_channel_grad"])


@given(st.lists(st.floats(-50, 50, width=32), min_size=1, max_size=30), st.floats(0.0009765625, 1.0, width=32),
       st.integers(0, 255))
def test_fake_quant_is_the_formula(values: list, scale: float, zp: int) -> None:
    x = np.array(values, dtype=np.float32)
    y = fake_quantize_per_tensor_affine(mt.tensor(x), scale, zp, 0, 255).numpy()
    q = np.clip(np.rint(x * (np.float32(1) / np.float32(scale))) + zp, 0, 255)
    np.testing.assert_array_equal(y, ((q - zp) * np.float32(scale)).astype(np.float32))
    codes = quantize_array(x, np.float32(scale), zp, 0, 255)
    assert codes.dtype == np.int32 and codes.min() >= 0 and codes.max() <= 255


def test_observers_match_torch_qparams() -> None:
    mm, ma = observers.MinMaxObserver(), observers.MovingAverageMinMaxObserver()
    sym = observers.PerChannelMinMaxObserver(ch_axis=0)
    for b in ORACLE["batches"]:
        for obs in (mm, ma, sym):
            obs(mt.tensor(b))
    for obs, key in ((mm, "minmax"), (ma, "movavg"), (sym, "sym")):
        scale, zp = obs.calculate_qparams()
        np.testing.assert_allclose(scale, ORACLE[f"{key}_scale"], rtol=1e-6)
        np.testing.assert_array_equal(zp, ORACLE[f"{key}_zero_point"])


def test_percentile_observer_ignores_an_outlier() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 100_000).astype(np.float32)
    x[0] = 1000.0  # one outlier activation
    mm, pc = observers.MinMaxObserver(), observers.PercentileObserver(99.9)
    mm(mt.tensor(x))
    pc(mt.tensor(x))
    bulk = np.abs(x[1:]) < 3
    errors = {}
    for name, obs in (("minmax", mm), ("percentile", pc)):
        s, z = obs.calculate_qparams()
        y = fake_quantize_per_tensor_affine(mt.tensor(x), float(s), int(z), 0, 255).numpy()
        errors[name] = float(np.abs(y[1:][bulk] - x[1:][bulk]).mean())
    assert errors["percentile"] < errors["minmax"] / 20  # min/max wastes the codes on the outlier


def test_bad_arguments_name_the_fix() -> None:
    with pytest.raises(ValueError, match="scale must be positive"):
        fake_quantize_per_tensor_affine(mt.ones(3), 0.0, 0, 0, 255)
    with pytest.raises(ValueError, match=r"must both have shape \(3,\)"):
        fake_quantize_per_channel_affine(mt.ones(3, 2), mt.ones(2), mt.zeros(2, dtype=mt.int32), 0, -128, 127)
    with pytest.raises(RuntimeError, match="run calibration batches first"):
        observers.MinMaxObserver().calculate_qparams()
