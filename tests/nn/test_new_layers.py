"""GELU, LayerNorm, GroupNorm, BCELoss, Upsample / F.interpolate and ReduceLROnPlateau: values and
gradients against PyTorch 2.13 (frozen in oracle/new_layers.json), gradcheck, properties, known
values, and interpolate's fast path against its loop reference."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend, nn, optim
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops.gelu import erf_array
from minitorch_cnn.ops.resize_reference import interpolate2d_reference
from minitorch_cnn.testing import gradcheck

ORACLE = json.loads((Path(__file__).parent / "oracle" / "new_layers.json").read_text())
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])


def t(a, device: str, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


def host(x: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(x.detach()._array)


def _against_oracle(name: str, fn, device: str, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    case = ORACLE[name]
    inputs = [t(a, device, requires_grad=True) for a in case["inputs"]]
    y = fn(*inputs)
    np.testing.assert_allclose(host(y), np.asarray(case["y"]), rtol=rtol, atol=atol)
    (y * t(case["c"], device)).sum().backward()
    for x, g in zip(inputs, case["grads"]):
        np.testing.assert_allclose(host(x.grad), np.asarray(g), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------------------------
# GELU
# --------------------------------------------------------------------------------------------------
def test_erf_known_values() -> None:
    xs = np.array([-7.0, -3.2, -2.5, -1.0, -1e-8, 0.0, 0.3, 1.0, 2.49, 2.51, 4.0, 30.0])
    np.testing.assert_allclose(erf_array(xs), [math.erf(v) for v in xs], rtol=0, atol=1e-14)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_pytorch(device: str, approximate: str) -> None:
    _against_oracle(f"gelu_{approximate}", lambda x: F.gelu(x, approximate=approximate), device)
    assert host(nn.GELU(approximate)(t([0.0, 1.0], device)))[0] == 0.0


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck_and_properties(device: str, approximate: str) -> None:
    x = t(np.linspace(-4, 4, 17), device, requires_grad=True)
    assert gradcheck(lambda v: F.gelu(v, approximate=approximate), [x])
    y = host(F.gelu(t(np.linspace(-10, 10, 101), device), approximate=approximate))
    xs = np.linspace(-10, 10, 101)
    assert np.all(y >= -0.17) and np.allclose(y[xs > 6], xs[xs > 6], atol=1e-6)  # -> x for large x, > -0.17
    assert abs(host(F.gelu(t([1.0], device)))[0] - 0.8413447460685429) < 1e-15  # 1 * Phi(1)


# --------------------------------------------------------------------------------------------------
# LayerNorm and GroupNorm
# --------------------------------------------------------------------------------------------------
def test_layer_norm_and_group_norm_match_pytorch(device: str) -> None:
    _against_oracle("layer_norm", lambda x, w, b: F.layer_norm(x, [4, 5], w, b), device, rtol=1e-9, atol=1e-11)
    _against_oracle("group_norm", lambda x, w, b: F.group_norm(x, 3, w, b), device, rtol=1e-9, atol=1e-11)


def test_norm_gradcheck(device: str) -> None:
    rng = np.random.default_rng(0)
    x = t(rng.normal(size=(2, 4, 3, 3)), device, requires_grad=True)
    w = t(rng.normal(size=4), device, requires_grad=True)
    b = t(rng.normal(size=4), device, requires_grad=True)
    assert gradcheck(lambda a, c, d: F.group_norm(a, 2, c, d), [x, w, b])
    w2 = t(rng.normal(size=(3, 3)), device, requires_grad=True)
    assert gradcheck(lambda a, c: F.layer_norm(a, (3, 3), c), [x, w2])


@HYP
@given(st.integers(1, 3), st.sampled_from([1, 2, 4]), st.integers(1, 4), st.integers(0, 2**16))
def test_norms_standardise_each_group(device: str, n: int, groups: int, size: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(3.0, 5.0, size=(n, 4, size, size + 1))
    y = host(nn.GroupNorm(groups, 4, eps=1e-12).to(device).double()(t(x, device)))
    g = y.reshape(n, groups, -1)
    np.testing.assert_allclose(g.mean(axis=-1), 0, atol=1e-9)
    if g.shape[-1] > 1:
        np.testing.assert_allclose(g.var(axis=-1), 1, rtol=1e-6)
    one = host(nn.GroupNorm(1, 4).to(device).double()(t(x, device)))  # GroupNorm(1, C) == LayerNorm over (C, H, W)
    np.testing.assert_allclose(one, host(F.layer_norm(t(x, device), x.shape[1:])), atol=1e-12)


def test_norm_layers_state_and_batch_of_one(device: str) -> None:
    ln = nn.LayerNorm([4, 5])
    assert [k for k, _ in ln.named_parameters()] == ["weight", "bias"] and ln.weight.shape == (4, 5)
    assert nn.LayerNorm(5, elementwise_affine=False).weight is None and nn.LayerNorm(5, bias=False).bias is None
    gn = nn.GroupNorm(2, 6)
    assert repr(gn) == "GroupNorm(2, 6, eps=1e-05, affine=True)"
    x = mt.randn(1, 6, 3, 3, device=device)  # a batch of one is fine: no batch statistics
    assert gn.to(device)(x).shape == (1, 6, 3, 3)
    assert gn.to(device)(mt.zeros(0, 6, 3, 3, device=device)).shape == (0, 6, 3, 3)


# --------------------------------------------------------------------------------------------------
# BCELoss
# --------------------------------------------------------------------------------------------------
def test_bce_matches_pytorch(device: str) -> None:
    _against_oracle("bce_mean", lambda p, y: F.binary_cross_entropy(p, y), device, rtol=1e-9)
    w = ORACLE["bce_weight_sum"]["weight"]
    _against_oracle("bce_weight_sum", lambda p, y: nn.BCELoss(t(w, device), reduction="sum")(p, y), device,
                    rtol=1e-9)


def test_bce_known_values_and_gradcheck(device: str) -> None:
    p = t([0.5, 0.0, 1.0], device)
    y = t([1.0, 0.0, 0.0], device)
    # -log 0.5, 0 (certain and right), 100 (certain and wrong: the log is clamped at -100)
    np.testing.assert_allclose(host(F.binary_cross_entropy(p, y, reduction="none")), [math.log(2), 0, 100])
    q = t([0.2, 0.7, 0.9], device, requires_grad=True)
    target = t([0.0, 1.0, 0.3], device, requires_grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), [q, target])
    logits = t([-1.0, 0.4, 2.0], device)
    np.testing.assert_allclose(host(F.binary_cross_entropy(logits.sigmoid(), y)),
                               host(F.binary_cross_entropy_with_logits(logits, y)), rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# interpolate / Upsample
# --------------------------------------------------------------------------------------------------
INTERP = sorted(k for k in ORACLE if k.startswith("interp_"))


@pytest.mark.parametrize("name", INTERP)
def test_interpolate_matches_pytorch(device: str, name: str) -> None:
    kw = dict(ORACLE[name]["kwargs"])
    if isinstance(kw.get("size"), list):
        kw["size"] = tuple(kw["size"])
    _against_oracle(name, lambda x: F.interpolate(x, **kw), device)


@HYP
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 9), st.integers(1, 9),
       st.sampled_from(["nearest", "bilinear-false", "bilinear-true"]), st.integers(0, 2**16))
def test_interpolate_equals_the_loop_reference(device: str, h: int, w: int, oh: int, ow: int, mode: str,
                                               seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(2, 3, h, w))
    kind, _, align = mode.partition("-")
    kwargs = {} if kind == "nearest" else {"align_corners": align == "true"}
    y = F.interpolate(t(x, device), size=(oh, ow), mode=kind, **kwargs)
    ref = interpolate2d_reference(x, (oh, ow), kind, align == "true")
    np.testing.assert_allclose(host(y), ref, rtol=1e-12, atol=1e-12)


def test_interpolate_gradcheck_and_known_values(device: str) -> None:
    x = t(np.random.default_rng(1).normal(size=(1, 2, 3, 4)), device, requires_grad=True)
    for kw in (dict(scale_factor=2), dict(size=(5, 7), mode="bilinear"),
               dict(size=(4, 3), mode="bilinear", align_corners=True)):
        assert gradcheck(lambda v, kw=kw: F.interpolate(v, **kw), [x])
    row = t([[[[0.0, 1.0]]]], device)
    np.testing.assert_array_equal(host(F.interpolate(row, scale_factor=2))[0, 0, 0], [0, 0, 1, 1])
    np.testing.assert_allclose(host(F.interpolate(row, size=(1, 4), mode="bilinear"))[0, 0, 0], [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(host(F.interpolate(row, size=(1, 3), mode="bilinear", align_corners=True))[0, 0, 0],
                               [0, 0.5, 1])
    up = nn.Upsample(scale_factor=2, mode="bilinear")
    assert up(mt.zeros(2, 3, 4, 5, device=device)).shape == (2, 3, 8, 10)
    assert repr(up) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert up(mt.zeros(0, 3, 4, 5, device=device)).shape == (0, 3, 8, 10)


def test_upsampling_receptive_field_contains_the_inverse_image() -> None:
    """Up-sampled units do not sit on the input grid (a transposed window): the analytic field is an
    interval with fractional ends that contains the true one, a pixel or so wider per such layer."""
    from minitorch_cnn.viz import inverse_image, receptive_field, receptive_field_for_unit

    mt.manual_seed(0)
    for mode in ("nearest", "bilinear"):
        model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Upsample(scale_factor=2, mode=mode),
                              nn.Conv2d(2, 2, 3, padding=1), nn.ConvTranspose2d(2, 2, 3, stride=2))
        rf = receptive_field(model, (1, 17, 17))
        assert rf["1"]["jump"] == [1, 1] and rf["3"]["jump"] == [0.5, 0.5]
        for layer, unit in [("2", (5, 6)), ("2", (8, 9)), ("3", (7, 7)), ("3", (12, 15))]:
            empirical = inverse_image(model, (1, 17, 17), layer, unit)
            analytic = receptive_field_for_unit(rf, layer, unit)
            for (e0, e1), (a0, a1) in zip(empirical, analytic):
                assert a0 <= e0 < e1 <= a1 and (e0 - a0) + (a1 - e1) <= 2 * int(layer), (mode, layer, unit, empirical, analytic)


# --------------------------------------------------------------------------------------------------
# ReduceLROnPlateau
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ORACLE["plateau"]["cases"]))
def test_reduce_lr_on_plateau_matches_pytorch(name: str) -> None:
    case = ORACLE["plateau"]["cases"][name]
    a, b = nn.Parameter(mt.zeros(1)), nn.Parameter(mt.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **case["kwargs"])
    got = []
    for m in ORACLE["plateau"]["metrics"]:
        sched.step(m)
        got.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(got, case["lrs"], rtol=1e-12)
    assert sched.get_last_lr() == got[-1]
    again = optim.lr_scheduler.ReduceLROnPlateau(opt, **case["kwargs"])
    again.load_state_dict(sched.state_dict())
    assert again.best == sched.best and again.num_bad_epochs == sched.num_bad_epochs
