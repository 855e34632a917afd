"""Adagrad, Adadelta, ExponentialLR, LambdaLR, MultiplicativeLR against PyTorch 2.13's trajectories.

The values are frozen in ``oracle/new_optimizers.json`` by ``oracle/freeze_new_optimizers.py`` (run
with PyTorch; CI has none). The setting is repeated here: two float64 parameters, and before each
step the gradient ``g = p**3 - 0.5 * p + 0.01 * step`` set by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim
from minitorch_cnn.optim import lr_scheduler as sched

ORACLE = json.loads((Path(__file__).parent / "oracle" / "new_optimizers.json").read_text())

OPTIMIZERS = {  # the same cases as the freezing script
    "adagrad_default": ("Adagrad", {}, None),
    "adagrad_all_options": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                                            eps=1e-8), None),
    "adagrad_maximize_groups": ("Adagrad", dict(lr=0.05, maximize=True), [{}, {"lr": 0.2, "weight_decay": 0.3}]),
    "adadelta_default": ("Adadelta", {}, None),
    "adadelta_all_options": ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05), None),
    "adadelta_maximize_groups": ("Adadelta", dict(lr=2.0, maximize=True), [{}, {"rho": 0.5}]),
}


def _params() -> list[nn.Parameter]:
    shapes = [(3, 4), (5,)]
    return [nn.Parameter(mt.tensor(np.array(v, dtype=np.float64).reshape(s))) for v, s in zip(ORACLE["initial"], shapes)]


def _grad(p: np.ndarray, step: int) -> np.ndarray:
    return p ** 3 - 0.5 * p + 0.01 * step


@pytest.mark.parametrize("case", list(OPTIMIZERS))
def test_optimizer_trajectory_matches_pytorch(case) -> None:
    name, kwargs, groups = OPTIMIZERS[case]
    params = _params()
    arg = [{"params": [p], **g} for p, g in zip(params, groups)] if groups else params
    opt = getattr(optim, name)(arg, **kwargs)
    for step, expected in enumerate(ORACLE["optimizers"][case]):
        for p in params:
            p.grad = mt.tensor(_grad(p._array, step))
        opt.step()
        for p, want in zip(params, expected):
            np.testing.assert_allclose(p._array.ravel(), want, rtol=1e-12, atol=1e-14, err_msg=f"{case} step {step}")


def test_defaults_are_pytorchs() -> None:
    p = [nn.Parameter(mt.zeros(2))]
    assert optim.Adagrad(p).defaults == dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                                             eps=1e-10, maximize=False)
    assert optim.Adadelta(p).defaults == dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)


@pytest.mark.parametrize("cls, kwargs, match", [
    ("Adagrad", {"lr": -1.0}, "lr must be"), ("Adagrad", {"lr_decay": -0.1}, "lr_decay must be"),
    ("Adagrad", {"weight_decay": -1}, "weight_decay must be"), ("Adagrad", {"eps": -1e-8}, "eps must be"),
    ("Adagrad", {"initial_accumulator_value": -1}, "initial_accumulator_value must be"),
    ("Adadelta", {"rho": 1.5}, "rho must be"), ("Adadelta", {"lr": float("nan")}, "lr must be"),
    ("Adadelta", {"eps": -1.0}, "eps must be"), ("Adadelta", {"weight_decay": -0.5}, "weight_decay must be"),
])
def test_bad_hyper_parameters_are_refused(cls, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        getattr(optim, cls)([nn.Parameter(mt.zeros(2))], **kwargs)


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta"])
def test_state_dict_round_trip_resumes_identically(tmp_path, name) -> None:
    """Four steps, save (through an ``.npz`` file), load into a fresh optimizer, four more: as eight at once."""
    def run(split: bool) -> np.ndarray:
        params = _params()
        opt = getattr(optim, name)(params, lr=0.1, weight_decay=0.01)
        for step in range(8):
            if split and step == 4:
                mt.save({"optimizer": opt.state_dict()}, tmp_path / "opt.pt")
                opt = getattr(optim, name)(params, lr=0.5)
                opt.load_state_dict(mt.load(tmp_path / "opt.pt")["optimizer"])
            for p in params:
                p.grad = mt.tensor(_grad(p._array, step))
            opt.step()
        return np.concatenate([p._array.ravel() for p in params])

    np.testing.assert_array_equal(run(True), run(False))


def test_adagrad_state_exists_from_construction() -> None:
    p = nn.Parameter(mt.zeros(3))
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    assert opt.state[p]["step"] == 0
    np.testing.assert_array_equal(opt.state[p]["sum"], [0.25] * 3)


# --------------------------------------------------------------------------------------------------
# Schedulers: the lambdas are written identically in the freezing script
# --------------------------------------------------------------------------------------------------
def lam_a(e: int) -> float:
    return 0.95 ** e / (1 + e)


def lam_b(e: int) -> float:
    return 1.0 + math.sin(e)


def mult(e: int) -> float:
    return 0.9 if e % 3 else 1.05


SCHEDULERS = {
    "exponential": (lambda o: sched.ExponentialLR(o, gamma=0.9), 12),
    "lambda_one": (lambda o: sched.LambdaLR(o, lam_a), 10),
    "lambda_per_group": (lambda o: sched.LambdaLR(o, [lam_a, lam_b]), 10),
    "multiplicative": (lambda o: sched.MultiplicativeLR(o, mult), 10),
}


def _two_group_sgd() -> optim.SGD:
    a, b = nn.Parameter(mt.zeros(1)), nn.Parameter(mt.zeros(1))
    return optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1)


@pytest.mark.parametrize("case", list(SCHEDULERS))
def test_scheduler_sequence_matches_pytorch(case) -> None:
    make, n = SCHEDULERS[case]
    opt = _two_group_sgd()
    s = make(opt)
    lrs = [s.get_last_lr()]
    for _ in range(n):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr())
    np.testing.assert_allclose(lrs, ORACLE["schedulers"][case], rtol=1e-15, atol=0)
    assert [g["lr"] for g in opt.param_groups] == lrs[-1]


def test_lambda_schedulers_check_their_functions() -> None:
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        sched.LambdaLR(_two_group_sgd(), [lam_a])
    with pytest.raises(TypeError, match="lr_lambda must be a function"):
        sched.MultiplicativeLR(_two_group_sgd(), 0.9)
    with pytest.raises(ValueError, match="gamma must be"):
        sched.ExponentialLR(_two_group_sgd(), gamma=-0.5)


class _Warmup:
    """A callable object: its attributes go into the state dict, as PyTorch saves them."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __call__(self, e: int) -> float:
        return min(1.0, (e + 1) / self.epochs)


def test_lambda_state_dict_saves_callable_objects_only(tmp_path) -> None:
    opt = _two_group_sgd()
    s = sched.LambdaLR(opt, [lam_a, _Warmup(5)])
    for _ in range(3):
        s.step()
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"epochs": 5}] and sd["last_epoch"] == 3
    mt.save({"scheduler": sd}, tmp_path / "s.pth")  # plain values only: a checkpoint holds it
    fresh = sched.LambdaLR(_two_group_sgd(), [lam_a, _Warmup(9)])
    fresh.load_state_dict(mt.load(tmp_path / "s.pth")["scheduler"])
    assert fresh.lr_lambdas[1].epochs == 5 and fresh.last_epoch == 3
    assert fresh.get_last_lr() == s.get_last_lr()
