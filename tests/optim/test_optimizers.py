"""Optimizers: update rules vs hand computation and vs PyTorch (numbers from a scratch run of torch 2.13
CPU, hard-coded below), state_dict round trips (also through flat .npz-like dicts), errors."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, nn, optim


def _np(t):
    return backend.to_numpy(t._array)


def _param(values, device="cpu"):
    return nn.Parameter(mt.tensor(values, dtype=mt.float64, device=device))


def test_sgd_momentum_two_steps_by_hand(device) -> None:
    p = _param([1.0, 2.0], device)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad = mt.tensor([0.5, -1.0], dtype=mt.float64, device=device)
        opt.step()
    # step 1: buf = g = [0.5, -1];            p = [1, 2] - 0.1 * buf = [0.95, 2.1]
    # step 2: buf = 0.9 * buf + g = [0.95, -1.9]; p = [0.95, 2.1] - 0.1 * buf = [0.855, 2.29]
    np.testing.assert_allclose(_np(p), [0.855, 2.29], rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].tolist(), [0.95, -1.9], rtol=1e-14)


def test_adam_one_step_by_hand(device) -> None:
    p = _param([1.0, 1.0], device)
    opt = optim.Adam([p], lr=0.1)
    p.grad = mt.tensor([0.5, -2.0], dtype=mt.float64, device=device)
    opt.step()
    # m = 0.1 g, v = 0.001 g^2; m_hat = m / 0.1 = g, sqrt(v_hat) = sqrt(v / 0.001) = |g|
    # p -= 0.1 * g / (|g| + 1e-8)  ->  1 -/+ 0.1 * 0.5 / (0.5 + 1e-8) and 0.1 * 2 / (2 + 1e-8)
    expected = [1 - 0.1 * 0.5 / (0.5 + 1e-8), 1 + 0.1 * 2.0 / (2.0 + 1e-8)]
    np.testing.assert_allclose(_np(p), expected, rtol=1e-14)
    st = opt.state[p]
    assert st["step"] == 1
    np.testing.assert_allclose(backend.to_numpy(st["exp_avg"]), [0.05, -0.2], rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(st["exp_avg_sq"]), [0.00025, 0.004], rtol=1e-12)


def _three_steps(make):
    """Three steps with g_k = k * [0.5, -1, 2] + 0.1 * p (the scratch torch script used the same)."""
    p = _param([1.0, 2.0, 3.0])
    opt = make([p])
    for k in range(1, 4):
        p.grad = mt.tensor(np.array([0.5, -1.0, 2.0]) * k + 0.1 * _np(p), dtype=mt.float64)
        opt.step()
    return _np(p)


TORCH_THREE_STEPS = {
    "sgd_nesterov_wd": ([0.19477814172099983, 3.2629826712420003, -0.13402217178699982],
                        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_dampening": ([0.6543134999999999, 2.525832, 1.6586392499999998],
                      lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5)),
    "adam_amsgrad_wd": ([0.7034936840423753, 2.2880821929356396, 2.7042546486078005],
                        lambda ps: optim.Adam(ps, lr=0.1, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    "adamw": ([0.6789415470773009, 2.2275442301007375, 2.620074818261033],
              lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1)),
    "adam_maximize": ([1.2939397800308081, 1.7103229887253892, 3.2936761049470458],
                      lambda ps: optim.Adam(ps, lr=0.1, maximize=True)),
    "rmsprop": ([0.733520291462496, 2.2732603698587517, 2.7325439925871304], lambda ps: optim.RMSprop(ps, lr=0.01)),
    "rmsprop_centered_momentum_wd": (
        [0.867100742439114, 2.1374407820365584, 2.86655620173235],
        lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("name", sorted(TORCH_THREE_STEPS))
def test_matches_torch_over_three_steps(name) -> None:
    expected, make = TORCH_THREE_STEPS[name]
    np.testing.assert_allclose(_three_steps(make), expected, rtol=1e-12)


def _train(model, opt, steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = mt.tensor(rng.standard_normal((8, 3)), dtype=mt.float32)
        y = mt.tensor(rng.integers(0, 2, 8))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _flatten(sd):
    """What a trainer writes into an .npz: one array per leaf of the nested dict."""
    flat = {}
    for j, entry in sd["state"].items():
        for k, v in entry.items():
            flat[f"state/{j}/{k}"] = np.asarray(v)
    for i, g in enumerate(sd["param_groups"]):
        for k, v in g.items():
            flat[f"group/{i}/{k}"] = np.asarray(v)
    return flat


def _unflatten(flat):
    sd = {"state": {}, "param_groups": []}
    for key, v in flat.items():
        kind, a, b = key.split("/")
        if kind == "state":
            sd["state"].setdefault(int(a), {})[b] = v
        else:
            while len(sd["param_groups"]) <= int(a):
                sd["param_groups"].append({})
            sd["param_groups"][int(a)][b] = v
    return sd


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.01),
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop"],
)
def test_state_dict_round_trip_resumes_identically(make) -> None:
    mt.manual_seed(0)
    ref = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    ref_opt = make(ref.parameters())
    _train(ref, ref_opt, 3, seed=0)
    model_sd = {k: v.numpy().copy() for k, v in ref.state_dict().items()}
    opt_sd = ref_opt.state_dict()
    assert all(isinstance(v, (int, np.ndarray)) for e in opt_sd["state"].values() for v in e.values())
    _train(ref, ref_opt, 3, seed=1)

    mt.manual_seed(123)
    resumed = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    resumed.load_state_dict(model_sd)
    opt = make(resumed.parameters())
    opt.load_state_dict(_unflatten(_flatten(opt_sd)))
    _train(resumed, opt, 3, seed=1)
    for a, b in zip(ref.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]


def test_param_groups_zero_grad_and_errors() -> None:
    a, b = _param([1.0]), _param([2.0])
    opt = optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b]}], lr=0.1)
    a.grad = mt.tensor([1.0], dtype=mt.float64)
    b.grad = mt.tensor([1.0], dtype=mt.float64)
    opt.step()
    np.testing.assert_allclose([_np(a)[0], _np(b)[0]], [0.0, 1.9])
    opt.zero_grad(set_to_none=False)
    assert _np(a.grad)[0] == 0
    opt.zero_grad()
    assert a.grad is None
    opt.step()  # no gradients: nothing happens
    np.testing.assert_allclose(_np(b), [1.9])
    assert "Parameter Group 1" in repr(opt)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([a], lr=-1)
    with pytest.raises(ValueError, match="nesterov=True requires momentum"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="different model"):
        optim.SGD([a, b], lr=0.1).load_state_dict(optim.SGD([a], lr=0.1).state_dict())


def test_step_with_closure_returns_loss() -> None:
    p = _param([3.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    np.testing.assert_allclose(_np(p), [1.5])  # 3 - 0.25 * 6
    assert optim.clip_grad_norm_ is nn.utils.clip_grad_norm_


@pytest.mark.parametrize(
    "make",
    [lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.05),
     lambda ps: optim.RMSprop(ps, lr=0.01)],
    ids=["sgd", "adam", "rmsprop"],
)
def test_optimizers_fit_a_separable_problem(make) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 2)).astype(np.float32)
    y = (a[:, 0] + a[:, 1] > 0).astype(np.int64)
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = make(model.parameters())
    x, t = mt.tensor(a), mt.tensor(y)
    for _ in range(100):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
    acc = (_np(model(x)).argmax(1) == y).mean()
    assert loss.item() < 0.2 and acc >= 0.95
