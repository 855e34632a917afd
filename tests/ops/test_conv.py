"""Convolution ops: the unit's worked examples, fast path == loop reference, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops import conv as conv_ops
from minitorch_cnn.ops.conv_reference import (
    conv_nd_reference,
    conv_transpose_nd_reference,
    correlate2d_reference,
)
from minitorch_cnn.testing import gradcheck

HYP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)
GRAD = settings(HYP, max_examples=20)

X55 = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
K33 = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def t(a: np.ndarray, device: str, dtype: object = mt.float64, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def host(x: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(x.detach()._array)


# --------------------------------------------------------------------------------------------------
# The unit's known values
# --------------------------------------------------------------------------------------------------
def test_worked_correlation_example(device: str) -> None:
    expected = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
    y = F.conv2d(t([[X55]], device), t([[K33]], device))
    np.testing.assert_array_equal(host(y)[0, 0], expected)
    np.testing.assert_array_equal(correlate2d_reference(np.array(X55), np.array(K33)), expected)


def test_sharpen_kernel_top_left(device: str) -> None:
    img = [[60, 113, 56, 139, 85], [73, 121, 54, 84, 128], [131, 99, 70, 129, 127], [80, 57, 115, 69, 134],
           [104, 126, 123, 95, 130]]
    sharpen = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    y = F.conv2d(t([[img]], device), t([[sharpen]], device), padding=1)
    assert host(y).shape == (1, 1, 5, 5)
    assert host(y)[0, 0, 0, 0] == 114  # 5*60 - 113 - 73


@pytest.mark.parametrize(
    "size, kwargs, out",
    [
        (4, dict(padding=0), 2),
        (5, dict(padding=1), 5),
        (5, dict(padding=2), 7),
        (5, dict(padding="full"), 7),
        (5, dict(padding="same"), 5),
        (5, dict(padding="valid"), 3),
        (6, dict(stride=2, padding=1), 3),
        (7, dict(dilation=2), 3),
    ],
)
def test_output_sizes(device: str, size: int, kwargs: dict, out: int) -> None:
    y = F.conv2d(mt.zeros(1, 1, size, size, device=device), mt.zeros(1, 1, 3, 3, device=device), **kwargs)
    assert y.shape == (1, 1, out, out)


def test_correlation_is_not_flipped_convolution(device: str) -> None:
    # deep learning's "convolution" is correlation; true convolution flips the kernel first
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    k = np.arange(9.0).reshape(1, 1, 3, 3)
    corr = host(F.conv2d(t(x, device), t(k, device)))
    conv = host(F.conv2d(t(x, device), t(k[..., ::-1, ::-1].copy(), device)))
    assert not np.allclose(corr, conv)
    assert corr[0, 0, 0, 0] == (x[0, 0, :3, :3] * k[0, 0]).sum()


# --------------------------------------------------------------------------------------------------
# Fast path == loop reference; gradients
# --------------------------------------------------------------------------------------------------
@st.composite
def conv_cases(draw: st.DrawFn, nd: int = 2) -> dict:
    groups = draw(st.sampled_from([1, 2, 3]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    kind = draw(st.sampled_from(["ints", "ints", "valid", "same", "full"]))
    if kind == "same":
        stride = (1,) * nd
        padding = "same"
    else:
        stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
        padding = kind if kind != "ints" else tuple(draw(st.integers(0, 2)) for _ in range(nd))
    pads = conv_ops.conv_padding(padding, kernel, dilation, stride, "test")
    sizes = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - lo - hi), max(1, d * (k - 1) + 1 - lo - hi) + 4))
        for k, d, (lo, hi) in zip(kernel, dilation, pads)
    )
    return dict(n=draw(st.integers(1, 2)), cin=cin, cout=cout, kernel=kernel, sizes=sizes, stride=stride,
                padding=padding, pads=pads, dilation=dilation, groups=groups, bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def _arrays(case: dict, dtype: type = np.float64) -> tuple:
    rng = np.random.default_rng(case["seed"])
    x = rng.uniform(-1, 1, (case["n"], case["cin"], *case["sizes"])).astype(dtype)
    w = rng.uniform(-1, 1, (case["cout"], case["cin"] // case["groups"], *case["kernel"])).astype(dtype)
    b = rng.uniform(-1, 1, case["cout"]).astype(dtype) if case["bias"] else None
    return x, w, b


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@HYP
@given(case=conv_cases())
def test_conv2d_fast_path_matches_loop_reference_float32(device: str, case: dict) -> None:
    x, w, b = _arrays(case, np.float32)
    y = F.conv2d(t(x, device, mt.float32), t(w, device, mt.float32), None if b is None else t(b, device, mt.float32),
                 case["stride"], case["padding"], case["dilation"], case["groups"])
    assert y.dtype == mt.float32
    ref = conv_nd_reference(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64),
                            case["stride"], case["pads"], case["dilation"], case["groups"])
    np.testing.assert_allclose(host(y), ref, rtol=1e-5, atol=1e-5)


@HYP
@given(case=st.one_of(conv_cases(nd=1), conv_cases(nd=3)))
def test_conv1d_conv3d_match_loop_reference(device: str, case: dict) -> None:
    nd = len(case["kernel"])
    x, w, b = _arrays(case)
    y = CONV[nd](t(x, device), t(w, device), None if b is None else t(b, device), case["stride"], case["padding"],
                 case["dilation"], case["groups"])
    ref = conv_nd_reference(x, w, b, case["stride"], case["pads"], case["dilation"], case["groups"])
    np.testing.assert_allclose(host(y), ref, rtol=1e-10, atol=1e-10)


@GRAD
@given(case=conv_cases())
def test_conv2d_gradcheck(device: str, case: dict) -> None:
    x, w, b = _arrays(case)
    inputs = [t(x, device, requires_grad=True), t(w, device, requires_grad=True)]
    if b is not None:
        inputs.append(t(b, device, requires_grad=True))

    def fn(*args: mt.Tensor) -> mt.Tensor:
        return F.conv2d(*args, stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                        groups=case["groups"])

    assert gradcheck(fn, inputs)


@settings(GRAD, max_examples=8)
@given(case=st.one_of(conv_cases(nd=1), conv_cases(nd=3)))
def test_conv1d_conv3d_gradcheck(case: dict) -> None:
    nd = len(case["kernel"])
    x, w, b = _arrays(case)
    inputs = [t(x, "cpu", requires_grad=True), t(w, "cpu", requires_grad=True)]

    def fn(a: mt.Tensor, k: mt.Tensor) -> mt.Tensor:
        return CONV[nd](a, k, None, case["stride"], case["padding"], case["dilation"], case["groups"])

    assert gradcheck(fn, inputs)


def test_input_gradient_is_correlation_with_reflected_kernel(device: str) -> None:
    # the unit's derivation, stride 1 and no padding: dL/dx = full correlation of dL/dy with the flipped kernel
    rng = np.random.default_rng(0)
    x = t(rng.normal(size=(1, 1, 6, 5)), device, requires_grad=True)
    k = rng.normal(size=(1, 1, 3, 2))
    gy = rng.normal(size=(1, 1, 4, 4))
    F.conv2d(x, t(k, device)).backward(t(gy, device))
    flipped = k[..., ::-1, ::-1].copy()
    expected = conv_nd_reference(gy, flipped, pads=((2, 2), (1, 1)))
    np.testing.assert_allclose(host(x.grad), expected, atol=1e-12)


@HYP
@given(case=conv_cases())
def test_transposed_convolution_is_the_adjoint(device: str, case: dict) -> None:
    # <conv(x), y> == <x, conv_transpose(y)> whenever the sizes line up (output_padding fills the gap)
    x, w, _ = _arrays(case)
    if isinstance(case["padding"], str):
        return  # conv_transpose2d takes symmetric numeric padding only
    y = F.conv2d(t(x, device), t(w, device), None, case["stride"], case["padding"], case["dilation"], case["groups"])
    rng = np.random.default_rng(1)
    g = rng.normal(size=y.shape)
    out_pad = tuple(
        n - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
        for n, o, s, p, d, k in zip(x.shape[2:], y.shape[2:], case["stride"], case["padding"], case["dilation"],
                                    case["kernel"])
    )
    if any(op >= max(s, d) for op, s, d in zip(out_pad, case["stride"], case["dilation"])):
        return  # the input had rows no window reached: conv_transpose cannot produce that size
    z = F.conv_transpose2d(t(g, device), t(w, device), None, case["stride"], case["padding"], out_pad,
                           case["groups"], case["dilation"])
    assert z.shape == x.shape
    np.testing.assert_allclose((host(y) * g).sum(), (x * host(z)).sum(), rtol=1e-10)


@HYP
@given(case=conv_cases())
def test_gather_and_scatter_forms_of_the_input_gradient_agree(device: str, case: dict) -> None:
    # the unit's form (correlate the dilated, padded gradient with the reflected kernel) and the
    # col2im scatter form are the same linear map; 'auto' picks whichever moves fewer numbers
    x, w, _ = _arrays(case)
    y = F.conv2d(t(x, device), t(w, device), None, case["stride"], case["padding"], case["dilation"], case["groups"])
    gy = mt.tensor(np.random.default_rng(case["seed"] + 1).normal(size=y.shape), dtype=mt.float64, device=device)._array
    wd = t(w, device)._array
    kw = dict(in_shape=x.shape, stride=case["stride"], pads=case["pads"], dilation=case["dilation"],
              groups=case["groups"])
    tpads = []
    for size, k, s, d, (lo, _), o in zip(x.shape[2:], case["kernel"], case["stride"], case["dilation"], case["pads"],
                                         y.shape[2:]):
        tpads.append((lo, (o - 1) * s + d * (k - 1) + 1 - size - lo))
    gather = conv_ops.transposed_conv_array(gy, wd, case["stride"], tpads, case["dilation"], case["groups"],
                                            method="gather")
    scatter = conv_ops.transposed_conv_array(gy, wd, case["stride"], tpads, case["dilation"], case["groups"],
                                             method="scatter")
    auto = conv_ops.conv_input_grad_array(gy, wd, **kw)
    assert gather.shape == scatter.shape == x.shape
    np.testing.assert_allclose(backend.to_numpy(gather), backend.to_numpy(scatter), atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(auto), backend.to_numpy(gather), atol=1e-12)


@st.composite
def transpose_cases(draw: st.DrawFn) -> dict:
    groups = draw(st.sampled_from([1, 2]))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    return dict(groups=groups, stride=stride, dilation=dilation, kernel=kernel, padding=padding,
                output_padding=output_padding, cin=groups * draw(st.integers(1, 2)),
                cout=groups * draw(st.integers(1, 2)), sizes=tuple(draw(st.integers(1, 4)) for _ in range(2)),
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@HYP
@given(case=transpose_cases())
def test_conv_transpose2d_matches_scatter_reference(device: str, case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    x = rng.uniform(-1, 1, (2, case["cin"], *case["sizes"])).astype(np.float32)
    w = rng.uniform(-1, 1, (case["cin"], case["cout"] // case["groups"], *case["kernel"])).astype(np.float32)
    b = rng.uniform(-1, 1, case["cout"]).astype(np.float32) if case["bias"] else None
    z = F.conv_transpose2d(t(x, device, mt.float32), t(w, device, mt.float32),
                           None if b is None else t(b, device, mt.float32), case["stride"], case["padding"],
                           case["output_padding"], case["groups"], case["dilation"])
    ref = conv_transpose_nd_reference(x.astype(np.float64), w.astype(np.float64), b, case["stride"],
                                      case["padding"], case["output_padding"], case["dilation"], case["groups"])
    assert z.dtype == mt.float32
    np.testing.assert_allclose(host(z), ref, rtol=1e-5, atol=1e-5)


@GRAD
@given(case=transpose_cases())
def test_conv_transpose2d_gradcheck(device: str, case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    x = rng.uniform(-1, 1, (1, case["cin"], *case["sizes"]))
    w = rng.uniform(-1, 1, (case["cin"], case["cout"] // case["groups"], *case["kernel"]))
    inputs = [t(x, device, requires_grad=True), t(w, device, requires_grad=True)]
    if case["bias"]:
        inputs.append(t(rng.uniform(-1, 1, case["cout"]), device, requires_grad=True))

    def fn(*args: mt.Tensor) -> mt.Tensor:
        return F.conv_transpose2d(*args, stride=case["stride"], padding=case["padding"],
                                  output_padding=case["output_padding"], groups=case["groups"],
                                  dilation=case["dilation"])

    assert gradcheck(fn, inputs)


# --------------------------------------------------------------------------------------------------
# Practicalities: dtype, chunking, unbatched input, 'same' with an even kernel
# --------------------------------------------------------------------------------------------------
def test_float32_stays_float32_through_backward(device: str) -> None:
    x = mt.randn(2, 3, 6, 6, device=device, requires_grad=True)
    w = mt.randn(4, 3, 3, 3, device=device, requires_grad=True)
    b = mt.randn(4, device=device, requires_grad=True)
    y = F.conv2d(x, w, b, stride=2, padding=1)
    y.sum().backward()
    assert {y.dtype, x.grad.dtype, w.grad.dtype, b.grad.dtype} == {mt.float32}


def test_batch_chunking_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    x = t(rng.normal(size=(5, 2, 7, 7)), "cpu", requires_grad=True)
    w = t(rng.normal(size=(3, 2, 3, 3)), "cpu", requires_grad=True)
    gy = rng.normal(size=(5, 3, 4, 4))
    y_whole = F.conv2d(x, w, stride=2, padding=1)
    y_whole.backward(t(gy, "cpu"))
    gx, gw = host(x.grad), host(w.grad)
    x.grad = w.grad = None
    # a column buffer of 2*9*16 doubles per item; a limit of 700 bytes forces 5 chunks of one item
    monkeypatch.setattr(conv_ops, "IM2COL_LIMIT_BYTES", 700)
    assert conv_ops._batch_chunks(5, 2 * 9 * 16 * 8, 700) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    y_chunked = F.conv2d(x, w, stride=2, padding=1)
    y_chunked.backward(t(gy, "cpu"))
    np.testing.assert_allclose(host(y_chunked), host(y_whole), atol=1e-12)
    np.testing.assert_allclose(host(x.grad), gx, atol=1e-12)
    np.testing.assert_allclose(host(w.grad), gw, atol=1e-12)


def test_unbatched_input(device: str) -> None:
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    xt = t(x, device, requires_grad=True)
    y = F.conv2d(xt, t(w, device), padding=1)
    assert y.shape == (3, 5, 5)
    np.testing.assert_allclose(host(y), conv_nd_reference(x[None], w, pads=((1, 1), (1, 1)))[0], atol=1e-12)
    y.sum().backward()
    assert xt.grad.shape == (2, 5, 5)


def test_same_padding_with_even_kernel_puts_extra_on_bottom_right(device: str) -> None:
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(1, 1, 5, 6)), rng.normal(size=(1, 1, 4, 2))
    y = F.conv2d(t(x, device), t(w, device), padding="same")
    assert y.shape == (1, 1, 5, 6)
    np.testing.assert_allclose(host(y), conv_nd_reference(x, w, pads=((1, 2), (0, 1))), atol=1e-12)


def test_depthwise_and_pointwise(device: str) -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 4, 5, 5))
    dw = rng.normal(size=(4, 1, 3, 3))
    y = host(F.conv2d(t(x, device), t(dw, device), padding=1, groups=4))
    for c in range(4):  # each channel filtered by its own kernel
        np.testing.assert_allclose(y[:, c:c + 1], conv_nd_reference(x[:, c:c + 1], dw[c:c + 1], pads=((1, 1),) * 2),
                                   atol=1e-12)
    pw = rng.normal(size=(3, 4, 1, 1))
    z = host(F.conv2d(t(x, device), t(pw, device)))
    np.testing.assert_allclose(z, np.einsum("oc,nchw->nohw", pw[:, :, 0, 0], x), atol=1e-12)


# --------------------------------------------------------------------------------------------------
# Errors name the argument and the shapes
# --------------------------------------------------------------------------------------------------
def test_invalid_arguments_raise_value_error(device: str) -> None:
    x = mt.zeros(1, 4, 5, 5, device=device)
    w = mt.zeros(2, 4, 3, 3, device=device)
    with pytest.raises(ValueError, match=r"kernel.*larger than the padded input.*\(2, 2\)"):
        F.conv2d(mt.zeros(1, 4, 2, 2, device=device), w)
    with pytest.raises(ValueError, match=r"in_channels=4.*not divisible by groups=3"):
        F.conv2d(x, mt.zeros(3, 1, 3, 3, device=device), groups=3)
    with pytest.raises(ValueError, match=r"out_channels=3.*\(3, 2, 3, 3\).*groups=2"):
        F.conv2d(x, mt.zeros(3, 2, 3, 3, device=device), groups=2)
    with pytest.raises(ValueError, match=r"stride must be positive.*\(0, 0\)"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"stride must be positive.*\(1, -1\)"):
        F.conv2d(x, w, stride=(1, -1))
    with pytest.raises(ValueError, match=r"4-d input.*\(4, 5\)"):
        F.conv2d(mt.zeros(4, 5, device=device), w)
    with pytest.raises(ValueError, match=r"weight of shape \(2, 3, 3, 3\).*input of shape \(1, 4, 5, 5\)"):
        F.conv2d(x, mt.zeros(2, 3, 3, 3, device=device))
    with pytest.raises(ValueError, match=r"weight must be 4-d.*\(2, 4, 3\)"):
        F.conv2d(x, mt.zeros(2, 4, 3, device=device))
    with pytest.raises(ValueError, match=r"padding='same'.*stride"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        F.conv2d(x, w, mt.zeros(3, device=device))
    with pytest.raises(ValueError, match=r"padding must be non-negative"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"output_padding"):
        F.conv_transpose2d(x, mt.zeros(4, 2, 3, 3, device=device), stride=2, output_padding=2)
    with pytest.raises(TypeError, match=r"dtype"):
        F.conv2d(x, mt.zeros(2, 4, 3, 3, dtype=mt.float64, device=device))
