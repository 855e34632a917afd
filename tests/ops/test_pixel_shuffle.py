"""ops/pixel_shuffle.py (F.pixel_shuffle / F.pixel_unshuffle, nn.PixelShuffle / nn.PixelUnshuffle): PyTorch's
frozen values, gradcheck, the inverse pair as a property, the errors, and the declared geometry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend, nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops.geometry import Window, declared
from minitorch_cnn.ops.pixel_shuffle import Blocks
from minitorch_cnn.testing import gradcheck, tensors

ORACLE = json.loads((Path(__file__).parent / "oracle" / "pixel_shuffle.json").read_text())


def _np(t: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(t._array)


@pytest.mark.parametrize("case", ORACLE["cases"], ids=lambda c: f"{c['op']}{tuple(np.shape(c['input']))}r{c['factor']}")
def test_values_and_gradients_match_pytorch(case: dict, device: str) -> None:
    x = mt.tensor(np.array(case["input"]), dtype=mt.float64, device=device, requires_grad=True)
    y = getattr(F, case["op"])(x, case["factor"])
    assert list(y.shape) == case["output_shape"]
    np.testing.assert_array_equal(_np(y), np.array(case["output"]))  # a permutation: exact
    assert y.grad_fn.name() == case["grad_fn"].removesuffix("0")
    (y * mt.tensor(np.array(case["grad_output"]), dtype=mt.float64, device=device)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.array(case["grad_input"]))


@pytest.mark.parametrize("op,shape,r", [("pixel_shuffle", (2, 8, 2, 3), 2), ("pixel_shuffle", (9, 2, 1), 3),
                                        ("pixel_unshuffle", (2, 1, 4, 6), 2), ("pixel_unshuffle", (1, 2, 3, 6), 3)])
def test_gradcheck_float64(op: str, shape: tuple, r: int) -> None:
    x = mt.tensor(np.random.default_rng(0).standard_normal(shape), dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda a: getattr(F, op)(a, r), [x])


@st.composite
def _shuffle_inputs(draw: st.DrawFn) -> tuple:
    r = draw(st.integers(1, 3))
    lead = draw(st.lists(st.integers(1, 2), min_size=0, max_size=2))
    shape = (*lead, draw(st.integers(1, 2)) * r * r, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return draw(tensors(st.just(shape))), r


@settings(max_examples=40, deadline=None)
@given(_shuffle_inputs())
def test_shuffle_then_unshuffle_is_the_identity(case: tuple) -> None:
    x, r = case
    y = F.pixel_shuffle(x, r)
    *lead, c, h, w = x.shape
    assert tuple(y.shape) == (*lead, c // (r * r), h * r, w * r)
    back = F.pixel_unshuffle(y, r)
    np.testing.assert_array_equal(_np(back), _np(x))
    np.testing.assert_array_equal(_np(F.pixel_shuffle(F.pixel_unshuffle(y, r), r)), _np(y))
    # the index map of the docstring: y[..., c, h*r + i, w*r + j] = x[..., c*r^2 + i*r + j, h, w]
    xs, ys = _np(x), _np(y)
    for i in range(r):
        for j in range(r):
            np.testing.assert_array_equal(ys[..., i::r, j::r], xs[..., i * r + j::r * r, :, :])


def test_layers_and_their_repr() -> None:
    x = mt.randn(2, 12, 3, 5)
    assert nn.PixelShuffle(2)(x).shape == (2, 3, 6, 10)
    assert nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(x)).shape == (2, 12, 3, 5)
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    assert list(nn.PixelShuffle(2).parameters()) == []


@pytest.mark.parametrize("key", sorted(ORACLE["errors"]))
def test_errors_say_what_pytorch_says_and_the_fix(key: str) -> None:
    op = "pixel_unshuffle" if key.startswith("pixel_unshuffle") else "pixel_shuffle"
    shape = tuple(int(v) for v in key[len(op) + 1:key.index(")")].split(","))
    with pytest.raises(ValueError) as err:
        getattr(F, op)(mt.zeros(*shape), 2)
    msg = str(err.value)
    assert msg.startswith(ORACLE["errors"][key])  # PyTorch's sentence first, then ours
    assert any(w in msg for w in ("e.g.", "pass", "crop", "give the layer")), msg


@pytest.mark.parametrize("layer,arg", [(nn.PixelShuffle, "upscale_factor"), (nn.PixelUnshuffle, "downscale_factor")])
@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_factors_are_named(layer, arg, bad) -> None:
    with pytest.raises(ValueError, match=arg):
        layer(bad)
    with pytest.raises(ValueError, match=arg):
        getattr(F, layer.__name__.replace("PixelS", "pixel_s").replace("PixelU", "pixel_u"))(mt.zeros(1, 4, 2, 2), bad)


def test_not_a_tensor() -> None:
    with pytest.raises(TypeError, match="input must be a Tensor"):
        F.pixel_shuffle(np.zeros((1, 4, 2, 2)), 2)


def test_geometry_is_declared_on_the_node() -> None:
    x = mt.randn(1, 8, 4, 4, requires_grad=True)
    assert declared(F.pixel_shuffle(x, 2).grad_fn).geometry == Blocks((2, 2))
    assert declared(F.pixel_unshuffle(x, 2).grad_fn).geometry == Window((2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1))
