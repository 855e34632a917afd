"""Losses: values against PyTorch (numbers hard-coded from a scratch run of torch 2.13 CPU), PyTorch's
weighted-mean semantics, reductions, gradchecks and error messages."""

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


def _f64(a, device="cpu", grad=False):
    return mt.tensor(np.asarray(a, dtype=np.float64), dtype=mt.float64, device=device, requires_grad=grad)


X = [[1.0, -2.0, 0.5, 3.0], [0.2, 0.1, -0.3, 0.0], [-1.0, 2.0, 1.5, -0.5]]
W = [1.0, 2.0, 0.5, 1.5]

# Reference values: torch.nn.functional in float64 on X, targets [3, 0, -100], weight W, label_smoothing 0.1
TORCH_CE_W_LS = {"mean": 0.7525603469471425, "sum": 1.881400867367856}
TORCH_CE_W_LS_NONE = [0.6295738353270438, 1.2518270320408122, 0.0]
TORCH_CE_W_LS_MEAN_GRAD = [
    [0.055226712713426156, -0.016752553194725635, 0.03456200109296078, -0.07303616061166122],
    [-0.24688053093059925, 0.09140310250271473, 0.0696757327981328, 0.08580169562975176],
    [0.0, 0.0, 0.0, 0.0],
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_weights_smoothing_ignore_match_torch(reduction, device) -> None:
    x = _f64(X, device, grad=True)
    loss = nn.CrossEntropyLoss(weight=_f64(W, device), label_smoothing=0.1, reduction=reduction)(
        x, mt.tensor([3, 0, -100], device=device)
    )
    if reduction == "none":
        np.testing.assert_allclose(_np(loss), TORCH_CE_W_LS_NONE, rtol=1e-12)
    else:
        np.testing.assert_allclose(float(_np(loss)), TORCH_CE_W_LS[reduction], rtol=1e-12)
    if reduction == "mean":
        loss.backward()
        np.testing.assert_allclose(_np(x.grad), TORCH_CE_W_LS_MEAN_GRAD, rtol=1e-10, atol=1e-15)


def test_cross_entropy_other_torch_values() -> None:
    x = _f64(X)
    assert abs(F.cross_entropy(x, mt.tensor([3, 0, 1])).item() - 0.6527407162102831) < 1e-12
    probs = _f64([[0.1, 0.2, 0.3, 0.4], [1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25]])
    val = F.cross_entropy(x, probs, weight=_f64(W), label_smoothing=0.2).item()
    assert abs(val - 2.2390590964309314) < 1e-12
    assert abs(F.nll_loss(x, mt.tensor([3, 0, -100]), weight=_f64(W)).item() - (-1.8800000000000001)) < 1e-12


def test_cross_entropy_by_hand() -> None:
    # logits [0, ln 3] -> p = [1/4, 3/4]; target 1 -> loss -ln(3/4); gradient p - onehot = [1/4, -1/4]
    x = _f64([[0.0, np.log(3.0)]], grad=True)
    loss = F.cross_entropy(x, mt.tensor([1]))
    assert abs(loss.item() + np.log(0.75)) < 1e-14
    loss.backward()
    np.testing.assert_allclose(_np(x.grad), [[0.25, -0.25]], atol=1e-15)


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    x = mt.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(x, mt.tensor([2]))
    assert np.isfinite(loss.item()) and abs(loss.item() - 2000.0) < 1e-2
    loss.backward()
    assert np.all(np.isfinite(_np(x.grad)))


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(1, 4), c=st.integers(2, 4), spatial=st.lists(st.integers(1, 2), max_size=2),
    weighted=st.booleans(), smoothing=st.sampled_from([0.0, 0.3]), reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 1000),
)
def test_cross_entropy_gradcheck_property(n, c, spatial, weighted, smoothing, reduction, seed) -> None:
    rng = np.random.default_rng(seed)
    x = _f64(rng.standard_normal((n, c, *spatial)), grad=True)
    y = rng.integers(0, c, size=(n, *spatial))
    y.reshape(-1)[0] = -100 if y.size > 1 else y.reshape(-1)[0]
    target = mt.tensor(y)
    w = _f64(rng.uniform(0.5, 2.0, c)) if weighted else None
    assert gradcheck(lambda t: F.cross_entropy(t, target, w, reduction=reduction, label_smoothing=smoothing), [x])


def test_cross_entropy_probability_targets_gradcheck_both_inputs() -> None:
    rng = np.random.default_rng(1)
    x = _f64(rng.standard_normal((3, 4)), grad=True)
    t = _f64(rng.dirichlet(np.ones(4), size=3), grad=True)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, _f64(W), label_smoothing=0.1), [x, t])
    # unbatched input (C,) with a scalar target
    v = _f64(rng.standard_normal(4), grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, mt.tensor(2)), [v])


def test_nll_loss_matches_log_softmax_pipeline_and_gradchecks() -> None:
    rng = np.random.default_rng(2)
    x = _f64(rng.standard_normal((5, 3)), grad=True)
    y = mt.tensor([0, 2, 1, 1, -100])
    a = F.nll_loss(F.log_softmax(x, dim=1), y)
    b = F.cross_entropy(x, y)
    assert abs(a.item() - b.item()) < 1e-12
    assert gradcheck(lambda t: nn.NLLLoss(weight=_f64([1.0, 2.0, 3.0]), reduction="sum")(t, y), [x])


def test_classification_loss_errors() -> None:
    x = mt.randn(3, 4)
    with pytest.raises(ValueError, match=r"outside \[0, 3\]"):
        F.cross_entropy(x, mt.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"expects a target of shape \(3,\)"):
        F.cross_entropy(x, mt.tensor([[0], [1], [2]]))
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(x, mt.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"one entry per class, shape \(4,\)"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), weight=mt.ones(3))


@pytest.mark.parametrize("cls, ref", [(nn.MSELoss, lambda d: d**2), (nn.L1Loss, np.abs)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(cls, ref, reduction, device) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x, t = _f64(a, device, grad=True), _f64(b, device, grad=True)
    out = cls(reduction=reduction)(x, t)
    full = ref(a - b)
    expected = {"mean": full.mean(), "sum": full.sum(), "none": full}[reduction]
    np.testing.assert_allclose(_np(out), expected, rtol=1e-12)
    assert gradcheck(lambda p, q: cls(reduction=reduction)(p, q), [x, t])
    with pytest.raises(ValueError, match="differ"):
        cls()(x, _f64(b[:, :1], device))


Z = [[0.5, -1.0, 2.0], [-3.0, 0.0, 1.0]]
T = [[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]]


def test_bce_with_logits_matches_torch() -> None:
    assert abs(F.binary_cross_entropy_with_logits(_f64(Z), _f64(T)).item() - 0.4948771503988687) < 1e-12
    out = nn.BCEWithLogitsLoss(
        weight=_f64([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]), pos_weight=_f64([2.0, 0.5, 1.0]), reduction="none"
    )(_f64(Z), _f64(T))
    torch_ref = [[0.9481539683602134, 0.6265233750364456, 3.3807840331289176],
                 [0.024293675786871027, 0.17328679513998632, 0.15663084375911143]]
    np.testing.assert_allclose(_np(out), torch_ref, rtol=1e-12)


@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits_gradcheck_and_stability(with_pos_weight, device) -> None:
    x = _f64(Z, device, grad=True)
    t = _f64(T, device, grad=True)
    w = _f64([1.0, 2.0, 0.5], device)
    pw = _f64([2.0, 0.5, 3.0], device) if with_pos_weight else None
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw), [x, t])
    big = F.binary_cross_entropy_with_logits(_f64([[800.0, -800.0]], device), _f64([[0.0, 1.0]], device))
    np.testing.assert_allclose(float(_np(big)), 800.0)
