"""Freeze PyTorch's trajectories for Adadelta, Adagrad, ExponentialLR, LambdaLR and MultiplicativeLR.

Run with a Python that has PyTorch (CI has none; the JSON beside this file is what the tests read)::

    $(/work/shared/tools/oracle-venv.sh) tests/optim/oracle/freeze_new_optimizers.py

The setting is shared with ``tests/optim/test_new_optimizers.py`` (the cases below are repeated
there by name): two float64 parameters, and after each step the gradient
``g = p**3 - 0.5 * p + 0.01 * step`` set by hand, so no autograd is involved on either side.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("new_optimizers.json")
STEPS = 8

OPTIMIZERS = {
    "adagrad_default": ("Adagrad", {}, None),
    "adagrad_all_options": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                                            eps=1e-8), None),
    "adagrad_maximize_groups": ("Adagrad", dict(lr=0.05, maximize=True), [{}, {"lr": 0.2, "weight_decay": 0.3}]),
    "adadelta_default": ("Adadelta", {}, None),
    "adadelta_all_options": ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05), None),
    "adadelta_maximize_groups": ("Adadelta", dict(lr=2.0, maximize=True), [{}, {"rho": 0.5}]),
}


def initial_params() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.standard_normal((3, 4)), rng.standard_normal(5)]


def grad_of(p: np.ndarray, step: int) -> np.ndarray:
    return p ** 3 - 0.5 * p + 0.01 * step


def run_optimizer(name: str, kwargs: dict, groups: list | None) -> list[list[list[float]]]:
    params = [torch.tensor(a, requires_grad=True) for a in initial_params()]
    cls = getattr(torch.optim, name)
    arg = [{"params": [p], **g} for p, g in zip(params, groups)] if groups else params
    opt = cls(arg, **kwargs)
    out = []
    for step in range(STEPS):
        for p in params:
            p.grad = torch.from_numpy(grad_of(p.detach().numpy(), step))
        opt.step()
        out.append([p.detach().numpy().ravel().tolist() for p in params])
    return out


# the lambdas, written identically in the test
def lam_a(e: int) -> float:
    return 0.95 ** e / (1 + e)


def lam_b(e: int) -> float:
    return 1.0 + math.sin(e)


def mult(e: int) -> float:
    return 0.9 if e % 3 else 1.05


SCHEDULERS = {
    "exponential": (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 12),
    "lambda_one": (lambda o: torch.optim.lr_scheduler.LambdaLR(o, lam_a), 10),
    "lambda_per_group": (lambda o: torch.optim.lr_scheduler.LambdaLR(o, [lam_a, lam_b]), 10),
    "multiplicative": (lambda o: torch.optim.lr_scheduler.MultiplicativeLR(o, mult), 10),
}


def run_scheduler(make, n: int) -> list[list[float]]:
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1)
    sched = make(opt)
    lrs = [sched.get_last_lr()]
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


def main() -> None:
    torch.set_default_dtype(torch.float64)
    data = {
        "torch": torch.__version__, "steps": STEPS,
        "initial": [p.ravel().tolist() for p in initial_params()],
        "optimizers": {k: run_optimizer(*v) for k, v in OPTIMIZERS.items()},
        "schedulers": {k: run_scheduler(*v) for k, v in SCHEDULERS.items()},
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
