"""BatchNorm1d / BatchNorm2d: train/eval semantics, running statistics vs NumPy by hand, gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend, nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.testing import gradcheck


def _np(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


def _hand_bn_train(x: np.ndarray, gamma, beta, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes)
    var = x.var(axis=axes)  # biased: used to normalise
    y = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)
    m = x.size // x.shape[1]
    return y, mu, var * m / (m - 1)  # unbiased: used for the running average


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 2, 5)])
def test_two_training_steps_then_eval_match_hand_computation(shape, device) -> None:
    rng = np.random.default_rng(0)
    C = shape[1]
    bn = (nn.BatchNorm2d(C) if len(shape) == 4 else nn.BatchNorm1d(C)).double().to(device)
    gamma, beta = rng.uniform(0.5, 2, C), rng.uniform(-1, 1, C)
    bn.weight._array[...] = backend.to_device(gamma, device)
    bn.bias._array[...] = backend.to_device(beta, device)
    rm, rv = np.zeros(C), np.ones(C)
    for step in range(2):
        x = rng.standard_normal(shape) * 3 + 2
        y = bn(mt.tensor(x, dtype=mt.float64, device=device))
        y_ref, mu, var_unbiased = _hand_bn_train(x, gamma, beta)
        np.testing.assert_allclose(_np(y), y_ref, rtol=1e-10, atol=1e-10)
        rm = 0.9 * rm + 0.1 * mu
        rv = 0.9 * rv + 0.1 * var_unbiased
        np.testing.assert_allclose(_np(bn.running_mean), rm, rtol=1e-12)
        np.testing.assert_allclose(_np(bn.running_var), rv, rtol=1e-12)
        assert int(_np(bn.num_batches_tracked)) == step + 1
    bn.eval()
    x = rng.standard_normal(shape)
    shp = (1, -1) + (1,) * (len(shape) - 2)
    expected = (x - rm.reshape(shp)) / np.sqrt(rv.reshape(shp) + 1e-5) * gamma.reshape(shp) + beta.reshape(shp)
    np.testing.assert_allclose(_np(bn(mt.tensor(x, dtype=mt.float64, device=device))), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(_np(bn.running_mean), rm)  # eval does not update
    assert int(_np(bn.num_batches_tracked)) == 2


def test_known_values_small_example() -> None:
    # one channel, values 1..4: mean 2.5, biased var 1.25, unbiased var 5/3
    bn = nn.BatchNorm1d(1).double()
    y = bn(mt.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=mt.float64))
    np.testing.assert_allclose(_np(y).ravel(), (np.arange(1, 5) - 2.5) / np.sqrt(1.25 + 1e-5))
    np.testing.assert_allclose(_np(bn.running_mean), [0.25])
    np.testing.assert_allclose(_np(bn.running_var), [0.9 + 0.1 * 5 / 3])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 4), (3, 2, 3, 2)])
def test_gradcheck(shape, training) -> None:
    rng = np.random.default_rng(1)
    C = shape[1]
    x = mt.tensor(rng.standard_normal(shape), dtype=mt.float64, requires_grad=True)
    w = mt.tensor(rng.uniform(0.5, 1.5, C), dtype=mt.float64, requires_grad=True)
    b = mt.tensor(rng.standard_normal(C), dtype=mt.float64, requires_grad=True)
    rm = mt.tensor(rng.standard_normal(C), dtype=mt.float64)
    rv = mt.tensor(rng.uniform(0.5, 2, C), dtype=mt.float64)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=training), [x, w, b])


def test_layer_gradcheck_without_affine_and_without_running_stats() -> None:
    x = mt.tensor(np.random.default_rng(2).standard_normal((4, 3, 2, 2)), dtype=mt.float64, requires_grad=True)
    bn = nn.BatchNorm2d(3, affine=False).double()
    assert gradcheck(bn, [x])
    bn_no_stats = nn.BatchNorm2d(3, track_running_stats=False).double().eval()
    assert bn_no_stats.running_mean is None
    y = bn_no_stats(x)  # no running stats: batch statistics even in eval
    np.testing.assert_allclose(_np(y).mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert "running_mean" not in bn_no_stats.state_dict()


def test_momentum_none_is_a_cumulative_average() -> None:
    bn = nn.BatchNorm1d(2, momentum=None).double()
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((5, 2)) for _ in range(3)]
    for x in batches:
        bn(mt.tensor(x, dtype=mt.float64))
    np.testing.assert_allclose(_np(bn.running_mean), np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-12)


def test_batchnorm_errors() -> None:
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\)"):
        nn.BatchNorm2d(3)(mt.randn(2, 3))
    with pytest.raises(ValueError, match="input has 4 channels"):
        nn.BatchNorm1d(3)(mt.randn(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mt.randn(1, 3))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(mt.randn(1, 3)).shape == (1, 3)  # a single sample is fine in eval mode


def test_state_dict_keys_and_param_count() -> None:
    bn = nn.BatchNorm2d(32)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sum(p.numel() for p in bn.parameters()) == 64


def test_float32_training_is_accurate() -> None:
    x = np.random.default_rng(4).standard_normal((32, 8, 6, 6)).astype(np.float32) * 10 + 100
    y = _np(nn.BatchNorm2d(8)(mt.tensor(x)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(2, 4), c=st.integers(1, 3), spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       seed=st.integers(0, 100))
def test_normalised_output_property(n, c, spatial, seed) -> None:
    x = np.random.default_rng(seed).standard_normal((n, c, *spatial)) * 5 + 3
    if x.reshape(n, c, -1).std(axis=(0, 2)).min() < 1e-3:
        return  # a constant channel has nothing to normalise
    y = _np(F.batch_norm(mt.tensor(x, dtype=mt.float64), None, None, training=True, eps=0.0))
    axes = (0,) + tuple(range(2, y.ndim))
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(axis=axes), 1, rtol=1e-9)
