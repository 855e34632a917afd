"""The padding op: every mode against NumPy's np.pad, gradients folded onto the source pixels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.nn import functional as F
from minitorch_cnn.testing import gradcheck

HYP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)
NP_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def t(a: np.ndarray, device: str, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.asarray(a), dtype=mt.float64, device=device, requires_grad=requires_grad)


def host(x: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(x.detach()._array)


@st.composite
def pad_cases(draw: st.DrawFn) -> dict:
    mode = draw(st.sampled_from(list(NP_MODE)))
    k = draw(st.integers(1, 3))  # number of padded axes
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(k))
    amounts = []
    for n in reversed(sizes):  # PyTorch order: last axis first
        top = {"reflect": n - 1, "circular": n}.get(mode, 3)
        amounts += [draw(st.integers(0, top)), draw(st.integers(0, top))]
    return dict(mode=mode, shape=(2, *sizes), pad=tuple(amounts), value=draw(st.sampled_from([0.0, -1.5])),
                seed=draw(st.integers(0, 2**16)))


def _np_pad_width(pad: tuple, ndim: int) -> list:
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    return [(0, 0)] * (ndim - len(pairs)) + pairs


@HYP
@given(case=pad_cases())
def test_pad_matches_numpy(device: str, case: dict) -> None:
    x = np.random.default_rng(case["seed"]).normal(size=case["shape"])
    mode = case["mode"]
    value = case["value"] if mode == "constant" else None
    y = F.pad(t(x, device), case["pad"], mode, value)
    kw = {"constant_values": case["value"]} if mode == "constant" else {}
    np.testing.assert_array_equal(host(y), np.pad(x, _np_pad_width(case["pad"], x.ndim), NP_MODE[mode], **kw))


@settings(HYP, max_examples=15)
@given(case=pad_cases())
def test_pad_gradcheck(device: str, case: dict) -> None:
    x = np.random.default_rng(case["seed"]).normal(size=case["shape"])
    assert gradcheck(lambda a: F.pad(a, case["pad"], case["mode"]), [t(x, device, requires_grad=True)])


@pytest.mark.parametrize(
    "mode, expected",
    [
        # the row a b c d padded by 2 on the left and 1 on the right; d(sum)/dx counts each pixel's copies
        ("constant", [1, 1, 1, 1]),  # 0 0 | a b c d | 0
        ("reflect", [1, 2, 3, 1]),  # c b | a b c d | c
        ("replicate", [3, 1, 1, 2]),  # a a | a b c d | d
        ("circular", [2, 1, 2, 2]),  # c d | a b c d | a
    ],
)
def test_backward_folds_gradient_onto_source_pixels(device: str, mode: str, expected: list) -> None:
    x = t(np.arange(4.0).reshape(1, 1, 4), device, requires_grad=True)
    F.pad(x, (2, 1), mode).sum().backward()
    np.testing.assert_array_equal(host(x.grad)[0, 0], expected)


def test_negative_constant_padding_crops(device: str) -> None:
    x = t(np.arange(20.0).reshape(1, 4, 5), device, requires_grad=True)
    y = F.pad(x, (-1, 2, 1, -2), value=7.0)
    assert y.shape == (1, 3, 6)
    np.testing.assert_array_equal(host(y)[0, 0], [7] * 6)
    np.testing.assert_array_equal(host(y)[0, 1], [1, 2, 3, 4, 7, 7])
    y.sum().backward()
    expected = np.zeros((4, 5))
    expected[:2, 1:] = 1
    np.testing.assert_array_equal(host(x.grad)[0], expected)


def test_pad_errors(device: str) -> None:
    x = mt.zeros(1, 2, 3, 3, device=device)
    with pytest.raises(ValueError, match=r"mode must be one of"):
        F.pad(x, (1, 1), "mirror")
    with pytest.raises(ValueError, match=r"even length"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match=r"reflect padding must be smaller.*\(3, 0\).*\(1, 2, 3, 3\)"):
        F.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match=r"circular padding may wrap around at most once"):
        F.pad(x, (0, 4), "circular")
    with pytest.raises(ValueError, match=r"non-negative"):
        F.pad(x, (-1, 1), "replicate")
    with pytest.raises(ValueError, match=r"value=.*only applies to mode='constant'"):
        F.pad(x, (1, 1), "reflect", value=2.0)
