"""nn.utils: gradient clipping and parameter vectors."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, nn
from minitorch_cnn.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def _np(t):
    return backend.to_numpy(t._array)


def _params_with_grads(device="cpu"):
    a = nn.Parameter(mt.zeros(2, device=device))
    b = nn.Parameter(mt.zeros(1, device=device))
    a.grad = mt.tensor([3.0, 0.0], device=device)
    b.grad = mt.tensor([4.0], device=device)
    return a, b


def test_clip_grad_norm_scales_to_max_norm(device) -> None:
    a, b = _params_with_grads(device)
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert abs(float(_np(total)) - 5.0) < 1e-6  # sqrt(3^2 + 4^2), before clipping
    np.testing.assert_allclose(_np(a.grad), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(_np(b.grad), [0.8], rtol=1e-5)
    # below the limit nothing changes
    total = clip_grad_norm_([a, b], max_norm=10.0)
    np.testing.assert_allclose(_np(a.grad), [0.6, 0.0], rtol=1e-5)


def test_clip_grad_norm_other_norms_and_nonfinite() -> None:
    a, b = _params_with_grads()
    assert abs(float(_np(clip_grad_norm_([a, b], 100.0, norm_type=1))) - 7.0) < 1e-6
    assert abs(float(_np(clip_grad_norm_([a, b], 2.0, norm_type=float("inf")))) - 4.0) < 1e-6
    np.testing.assert_allclose(_np(b.grad), [2.0], rtol=1e-5)
    a.grad = mt.tensor([np.inf, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    assert float(_np(clip_grad_norm_([nn.Parameter(mt.zeros(1))], 1.0))) == 0.0


def test_clip_grad_value_and_vectors() -> None:
    a, b = _params_with_grads()
    clip_grad_value_([a, b], 1.0)
    np.testing.assert_array_equal(_np(a.grad), [1.0, 0.0])
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    vector_to_parameters(vec * 0 + 1, lin.parameters())
    np.testing.assert_array_equal(_np(lin.weight), 1)
    with pytest.raises(ValueError, match="8"):
        vector_to_parameters(mt.zeros(3), lin.parameters())
