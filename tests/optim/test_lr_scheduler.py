"""LR schedulers: sequences against PyTorch (values from a scratch run of torch 2.13 CPU, hard-coded)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim
from minitorch_cnn.optim import lr_scheduler as sched


def _run(make, n, opt=None):
    p = nn.Parameter(mt.zeros(1))
    opt = opt(p) if opt else optim.SGD([p], lr=0.1, momentum=0.9)
    s = make(opt)
    lrs, moms = [s.get_last_lr()[0]], [_momentum(opt)]
    for _ in range(n):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
        moms.append(_momentum(opt))
    return lrs, moms


def _momentum(opt):
    g = opt.param_groups[0]
    return g["momentum"] if "momentum" in g else g["betas"][0]


CASES = {
    "step": (lambda o: sched.StepLR(o, 3, 0.5), 10, None,
             [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125], None),
    "multistep": (lambda o: sched.MultiStepLR(o, [2, 5, 5], 0.1), 8, None,
                  [0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002,
                   0.00010000000000000005, 0.00010000000000000005, 0.00010000000000000005, 0.00010000000000000005],
                  None),
    "cosine": (lambda o: sched.CosineAnnealingLR(o, 5, eta_min=0.01), 12, None,
               [0.1, 0.09140576474687263, 0.06890576474687263, 0.04109423525312736, 0.018594235253127367, 0.01,
                0.018594235253127367, 0.04109423525312739, 0.06890576474687267, 0.09140576474687269,
                0.10000000000000006, 0.09140576474687272, 0.06890576474687268], None),
    "onecycle": (lambda o: sched.OneCycleLR(o, 1.0, total_steps=10), 9, None,
                 [0.040000000000000036, 0.52, 1.0, 0.9504846320134737, 0.8117456539497631, 0.6112620219362893,
                  0.38874197806371075, 0.18825834605023697, 0.049519367986526286, 4e-06],
                 [0.95, 0.8999999999999999, 0.85, 0.854951556604879, 0.8688255099070633, 0.8888739533021842,
                  0.9111260466978157, 0.9311744900929366, 0.945048443395121, 0.95]),
    "onecycle_three_phase_linear": (
        lambda o: sched.OneCycleLR(o, 0.5, total_steps=12, anneal_strategy="linear", three_phase=True,
                                   pct_start=0.25, div_factor=10.0, final_div_factor=100.0), 11, None,
        [0.05, 0.275, 0.5, 0.275, 0.04999999999999999, 0.042928571428571434, 0.03585714285714286,
         0.02878571428571429, 0.021714285714285717, 0.014642857142857145, 0.007571428571428576,
         0.0005000000000000004],
        [0.95, 0.8999999999999999, 0.85, 0.8999999999999999, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]),
    "onecycle_adam_epochs": (
        lambda o: sched.OneCycleLR(o, 0.01, epochs=2, steps_per_epoch=4), 7, lambda p: optim.Adam([p], lr=0.1),
        [0.0003999999999999993, 0.00819275104892192, 0.009719417773875232, 0.00811745653949763,
         0.005559840141227016, 0.0028306099820869924, 0.0007664159383425639, 4e-08],
        [0.95, 0.8688255099070633, 0.8528058334845816, 0.8688255099070633, 0.8944017761948346,
         0.9216941869558779, 0.9423362099614142, 0.95]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequences_match_torch(name) -> None:
    make, n, opt, lrs, moms = CASES[name]
    got_lrs, got_moms = _run(make, n, opt)
    np.testing.assert_allclose(got_lrs, lrs, rtol=1e-12)
    if moms is not None:
        np.testing.assert_allclose(got_moms, moms, rtol=1e-12)


def test_state_dict_resumes_the_schedule() -> None:
    p = nn.Parameter(mt.zeros(1))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    s = sched.OneCycleLR(opt, 1.0, total_steps=10)
    for _ in range(4):
        s.step()
    sd_opt, sd_s = opt.state_dict(), s.state_dict()
    assert "optimizer" not in sd_s
    rest = []
    for _ in range(3):
        s.step()
        rest.append(s.get_last_lr()[0])
    p2 = nn.Parameter(mt.zeros(1))
    opt2 = optim.SGD([p2], lr=0.1, momentum=0.9)
    s2 = sched.OneCycleLR(opt2, 1.0, total_steps=10)
    opt2.load_state_dict(sd_opt)
    s2.load_state_dict(sd_s)
    got = []
    for _ in range(3):
        s2.step()
        got.append(s2.get_last_lr()[0])
    assert got == rest
    m = sched.MultiStepLR(optim.SGD([p2], lr=0.1), [1, 3])
    m.load_state_dict(m.state_dict())
    assert dict(m.milestones) == {1: 1, 3: 1}


def test_scheduler_errors() -> None:
    p = nn.Parameter(mt.zeros(1))
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="total_steps"):
        sched.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        s = sched.OneCycleLR(optim.SGD([p], lr=0.1, momentum=0.9), 1.0, total_steps=2)
        s.step()
        s.step()
        s.step()
    with pytest.raises(TypeError, match="not an Optimizer"):
        sched.StepLR("sgd", 3)

    class PlainGD(optim.Optimizer):  # no momentum and no betas to cycle
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(PlainGD([p]), 1.0, total_steps=5)
    s = sched.OneCycleLR(PlainGD([p]), 1.0, total_steps=5, cycle_momentum=False)
    assert abs(s.get_last_lr()[0] - 0.04) < 1e-15
