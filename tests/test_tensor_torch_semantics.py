"""PyTorch semantics of everyday idioms: ``.data``, 0-d accumulators, ``__format__``, the legacy
constructors (``mt.Tensor([...])``, ``mt.LongTensor``), ``size=`` / ``axis=`` keywords, function forms
and the in-place unary ops.

Each idiom is a short PyTorch-style snippet in tests/oracle/tensor_semantics_cases.py, run here with
``T = minitorch_cnn`` on every backend and compared with PyTorch 2.13's answers, frozen in
tests/oracle/tensor_semantics.json by tools/oracle_tensor_semantics.py (CI has no torch).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend

HERE = Path(__file__).parent / "oracle"
ORACLE = json.loads((HERE / "tensor_semantics.json").read_text())["cases"]
_spec = importlib.util.spec_from_file_location("tensor_semantics_cases", HERE / "tensor_semantics_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

# a NumPy array is shared only on the CPU; repr names the device; FloatTensor & co. are CPU types
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # sqrt_(-1) is nan

CPU_ONLY_KEYS = {("legacy_tensor_constructor", "shared"), ("formatting", "str"), ("formatting", "fstring_repr"),
                 ("formatting", "float64_str"), ("formatting", "vector_plain")}
CPU_ONLY_CASES = {"legacy_typed_constructors"}


def assert_matches(got: Any, want: Any, where: str) -> None:
    """Exact for strings, bools, ints, dtypes and shapes; float values to float32 rounding (NaN = NaN)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: got {got!r}, PyTorch gives {want!r}"
        assert sorted(got) == sorted(want), f"{where}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            assert_matches(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list) and want and all(isinstance(v, (int, float, list)) for v in want) and (
        not all(isinstance(v, int) and not isinstance(v, bool) for v in _flat(want))
    ) and not any(isinstance(v, bool) for v in _flat(want)):
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=2e-6,
                                   atol=1e-7, equal_nan=True, err_msg=where)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: got {got!r}, PyTorch gives {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_matches(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, float) and (math.isclose(got, want, rel_tol=2e-6, abs_tol=1e-7) or
                                           (math.isnan(got) and math.isnan(want))), f"{where}: {got!r} != {want!r}"
    else:
        assert got == want and type(got) is type(want), f"{where}: got {got!r}, PyTorch gives {want!r}"


def _flat(v: Any) -> list:
    return [x for item in v for x in _flat(item)] if isinstance(v, list) else [v]


def test_the_oracle_covers_every_case() -> None:
    assert sorted(ORACLE) == sorted(fn.__name__ for fn in cases.CASES)


@pytest.mark.parametrize("case", cases.CASES, ids=lambda fn: fn.__name__)
def test_idiom_matches_pytorch(case: Any, device: str) -> None:
    if device != "cpu" and case.__name__ in CPU_ONLY_CASES:
        pytest.skip("isinstance(t, mt.FloatTensor) & co. hold for CPU tensors only, as in PyTorch")
    backend.set_default_device(device)
    got, want = cases.encode(case(mt)), dict(ORACLE[case.__name__])
    if device != "cpu":
        for name, key in CPU_ONLY_KEYS:
            if name == case.__name__:
                got.pop(key), want.pop(key)
    assert_matches(got, want, case.__name__)


# --------------------------------------------------------------------------------------------------
# .data and the raw array behind it
# --------------------------------------------------------------------------------------------------
def test_data_is_a_fresh_tensor_on_the_same_array() -> None:
    w = mt.nn.Parameter(mt.randn(3))
    d = w.data
    assert isinstance(d, mt.Tensor) and d is not w.data and d._array is w._array
    assert not d.requires_grad and d.grad_fn is None and type(d) is mt.Tensor
    d.fill_(2.0)  # no error: the alias is not a leaf that requires grad
    assert w.tolist() == [2.0, 2.0, 2.0] and w._version == 0 and d._version == 1


def test_data_setter_takes_a_tensor_or_an_array_and_keeps_the_parameter() -> None:
    p = mt.nn.Parameter(mt.zeros(2))
    p.data = mt.ones(3)
    assert p.shape == (3,) and p.requires_grad and isinstance(p, mt.nn.Parameter)
    p.data = np.full(2, 4.0, dtype=np.float32)
    assert p.tolist() == [4.0, 4.0]
    p.data = np.float32(5.0)  # a NumPy scalar becomes a writable 0-d array
    assert p.shape == () and p._array.flags.writeable
    with pytest.raises(TypeError, match="must be a Tensor"):
        p.data = [1.0, 2.0]


def test_optimizer_step_through_data_matches_sgd() -> None:
    a = mt.nn.Parameter(mt.tensor([1.0, -2.0]))
    b = mt.nn.Parameter(mt.tensor([1.0, -2.0]))
    opt = mt.optim.SGD([b], lr=0.1)
    for _ in range(3):
        (a * a).sum().backward()
        a.data.sub_(0.1 * a.grad.data)
        a.grad.zero_()
        opt.zero_grad()
        (b * b).sum().backward()
        opt.step()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# 0-d results are writable arrays, never NumPy scalars
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda x: x.sum(), lambda x: x.mean(), lambda x: x.max(), lambda x: x.norm(), lambda x: 0.0 + x.sum(),
    lambda x: (x > 1).sum(), lambda x: x.argmax(), lambda x: x[0, 0], lambda x: x.prod(), lambda x: x.var(),
], ids=["sum", "mean", "max", "norm", "radd", "bool_sum", "argmax", "index", "prod", "var"])
def test_zero_dim_results_are_writable(make: Any, device: str) -> None:
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    t = make(x)
    assert t.ndim == 0 and t._array.ndim == 0 and not isinstance(t._array, np.generic)
    before = t.item()
    for _ in range(3):
        t += 1
    assert math.isclose(t.item(), before + 3, rel_tol=1e-6)


def test_accumulators_over_iterations_with_and_without_grad() -> None:
    for grad_on in (True, False):
        w = mt.tensor([0.5, -1.0], requires_grad=True)
        with mt.set_grad_enabled(grad_on):
            running_loss, running_corrects = 0.0, 0
            for i in range(5):
                out = mt.stack([w * (i + 1), -w]).t()
                loss = (out**2).mean()
                running_loss += loss
                running_corrects += (out.argmax(1) == mt.tensor([0, 1])).sum()
        assert running_loss.requires_grad is grad_on and running_corrects.dtype == mt.int64
        assert math.isclose(running_loss.item(), sum(((i + 1) ** 2 * 1.25 + 1.25) / 4 for i in range(5)), rel_tol=1e-6)
        assert running_corrects.item() == 10 and f"{running_loss / 5:.2f}" == f"{running_loss.item() / 5:.2f}"
        if grad_on:  # the graph recorded each in-place add: d/dw of sum_i mean(out_i ** 2)
            running_loss.backward()
            expected = [sum(2 * v * ((i + 1) ** 2 + 1) / 4 for i in range(5)) for v in (0.5, -1.0)]
            np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6)


def test_format_spec_on_a_vector_names_the_method() -> None:
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{mt.ones(2):.3f}"


# --------------------------------------------------------------------------------------------------
# legacy constructors, function forms, in-place unary ops: what the oracle cannot show
# --------------------------------------------------------------------------------------------------
def test_legacy_constructors_on_a_device_and_their_errors(device: str) -> None:
    t = mt.Tensor([1, 2], device=device)
    assert t.device == device and t.dtype == mt.float32
    assert mt.LongTensor(3, device=device).tolist() == [0, 0, 0]
    alias = mt.Tensor(t)
    alias[0] = 5.0
    assert t.tolist() == [5.0, 2.0] and t._version == alias._version == 1
    with pytest.raises(TypeError, match="expected a tensor of dtype int64, got float32"):
        mt.LongTensor(t)
    with pytest.raises(ValueError, match="negative dimension"):
        mt.Tensor(2, -1)
    with pytest.raises(TypeError, match="could not turn the data"):
        mt.Tensor([[1, 2], [3]])
    assert mt.LongTensor.__name__ == "LongTensor" and not isinstance(np.zeros(2), mt.FloatTensor)


def test_parameter_keeps_its_dtype_not_the_legacy_float32() -> None:
    p = mt.nn.Parameter(mt.zeros(2, dtype=mt.float64))
    assert p.dtype == mt.float64 and p.requires_grad


def test_axis_and_dim_together_are_refused() -> None:
    with pytest.raises(TypeError, match="both dim=0 and axis=1"):
        mt.ones(2, 2).sum(0, axis=1)


@pytest.mark.parametrize("op", cases.UNARY)
def test_inplace_unary_ops_follow_the_inplace_rules(op: str, device: str) -> None:
    base = mt.tensor([0.5, 1.0, 2.0], device=device)
    view = base[1:]
    getattr(view, op)()  # a view without grad: written through to the base
    expected = getattr(mt.tensor([1.0, 2.0], device=device), op.rstrip("_"))().tolist()
    np.testing.assert_allclose(base.tolist()[1:], expected, rtol=1e-6)
    assert base._version == 1
    leaf = mt.tensor([0.5, 1.0], requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(leaf, op)()
    w = mt.tensor([0.5, 1.0], requires_grad=True, device=device)
    x = w * 1
    with pytest.raises(RuntimeError, match="in-place change of a view"):
        getattr(x[0:1], op)()


def test_inplace_unary_on_integers() -> None:
    with pytest.raises(TypeError, match="sqrt_: the result is floating point"):
        mt.tensor([4, 9]).sqrt_()
    assert mt.tensor([-3, 2]).abs_().tolist() == [3, 2]
