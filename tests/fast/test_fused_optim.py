"""The fused Adam / AdamW update (fast/optim.py) against the textbook loop (optim/adam.py).

The fused kernel runs the textbook's statements in its order with its scalars, and IEEE arithmetic
and ``sqrt`` are correctly rounded whatever the chunking, so trajectories are compared *exactly*.
Each test runs the same script twice, fast kernels on and ``fast.disabled()``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, fast, nn
from minitorch_cnn.fast import optim as fast_optim
from minitorch_cnn.optim import Adam, AdamW

# (shape, dtype): a large float32 weight (several chunks), small ones (merged into one piece), a
# float64 pair (a second flat buffer), and one that never gets a gradient
SHAPES = [((300, 256), np.float32), ((7,), np.float32), ((3, 5), np.float32), ((40, 40, 3, 3), np.float32),
          ((200, 400), np.float64), ((5,), np.float64), ((11,), np.float32)]
NO_GRAD = 6  # index of the parameter without a gradient
SOMETIMES = 1  # index of a parameter whose gradient is None on step 2 (its step count falls behind)

CONFIGS = [
    (Adam, {}),
    (AdamW, {}),
    (Adam, dict(weight_decay=0.1)),
    (Adam, dict(amsgrad=True)),
    (Adam, dict(maximize=True)),
    (AdamW, dict(weight_decay=0.05, amsgrad=True, maximize=True, betas=(0.8, 0.99), eps=1e-6)),
]


def make_params(seed: int = 0, device: str = "cpu") -> list[nn.Parameter]:
    rng = np.random.default_rng(seed)
    return [nn.Parameter(mt.tensor(rng.standard_normal(shape).astype(dtype), device=device)) for shape, dtype in SHAPES]


def set_grads(params: list[nn.Parameter], step: int) -> None:
    rng = np.random.default_rng(100 + step)
    for i, p in enumerate(params):
        g = rng.standard_normal(p.shape).astype(p.dtype.name)
        skip = i == NO_GRAD or (i == SOMETIMES and step == 2)
        p.grad = None if skip else mt.tensor(g, device=p.device)


def host(p: mt.Tensor) -> np.ndarray:
    return backend.to_numpy(p.detach()._array).copy()


def trajectory(on: bool, cls: type, kwargs: dict, steps: int = 4, groups: bool = False,
               between: Callable | None = None, device: str = "cpu") -> tuple[list, Adam]:
    """The parameters after every step of ``cls``, fast kernels on or off; ``between(step, params, opt)``
    runs after each step."""
    params = make_params(device=device)
    spec = ([{"params": params[:4]}, {"params": params[4:], "lr": 3e-3, "betas": (0.5, 0.9)}] if groups
            else params)
    opt = cls(spec, lr=1e-2, **kwargs)
    history = []
    with fast.enabled(on):
        for t in range(steps):
            set_grads(params, t)
            opt.step()
            history.append([host(p) for p in params])
            if between is not None:
                between(t, params, opt)
    return history, opt


def assert_same(a: list, b: list) -> None:
    for t, (step_a, step_b) in enumerate(zip(a, b, strict=True)):
        for i, (x, y) in enumerate(zip(step_a, step_b, strict=True)):
            np.testing.assert_array_equal(x, y, err_msg=f"step {t}, parameter {i}")


@pytest.fixture
def fused(monkeypatch: pytest.MonkeyPatch) -> list:
    """Counts the steps that took the fused path (the real kernel still runs)."""
    calls: list = []
    original = fast.adam_update
    monkeypatch.setattr(fast, "adam_update", lambda opt, group: calls.append(1) or original(opt, group))
    return calls


@pytest.mark.parametrize("groups", [False, True], ids=["one group", "two groups"])
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=lambda c: c.__name__ if isinstance(c, type) else str(c))
def test_trajectories_equal_the_textbook(cls: type, kwargs: dict, groups: bool, fused: list) -> None:
    on, opt_on = trajectory(True, cls, kwargs, groups=groups)
    assert fused, "the fused path was not taken"
    off, opt_off = trajectory(False, cls, kwargs, groups=groups)
    assert_same(on, off)
    sd_on, sd_off = opt_on.state_dict(), opt_off.state_dict()
    assert sd_on["state"].keys() == sd_off["state"].keys() and NO_GRAD not in sd_on["state"]
    for j, entry in sd_on["state"].items():
        assert entry.keys() == sd_off["state"][j].keys()
        for k, v in entry.items():
            np.testing.assert_array_equal(v, sd_off["state"][j][k], err_msg=f"state {j} {k}")
    assert sd_on["state"][SOMETIMES]["step"] == 3  # skipped once


def test_moments_are_views_of_one_flat_buffer_per_dtype() -> None:
    _, opt = trajectory(True, Adam, dict(amsgrad=True), steps=1)
    params = opt.param_groups[0]["params"]
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        f32 = [opt.state[p][key] for p in params if p.grad is not None and p.dtype == mt.float32]
        f64 = [opt.state[p][key] for p in params if p.grad is not None and p.dtype == mt.float64]
        assert len({id(a.base) for a in f32}) == 1 and len({id(a.base) for a in f64}) == 1, key
        assert f32[0].base is not f64[0].base and all(a.base is not None for a in f32 + f64)
        for a, p in zip(f32, [p for p in params if p.grad is not None and p.dtype == mt.float32]):
            assert a.shape == tuple(p.shape)


def test_state_dict_into_a_fresh_optimizer_continues_like_an_uninterrupted_run() -> None:
    whole, _ = trajectory(True, AdamW, dict(amsgrad=True), steps=5)
    saved = {}

    def save(t: int, params: list, opt: Adam) -> None:
        if t == 1:
            saved["params"] = [host(p) for p in params]
            saved["opt"] = opt.state_dict()

    first, _ = trajectory(True, AdamW, dict(amsgrad=True), steps=2, between=save)
    params = [nn.Parameter(mt.tensor(a)) for a in saved["params"]]
    opt = AdamW(params, lr=1e-2, amsgrad=True)
    opt.load_state_dict(saved["opt"])
    rest = []
    with fast.enabled(True):
        for t in range(2, 5):
            set_grads(params, t)
            opt.step()
            rest.append([host(p) for p in params])
    assert_same(whole, first + rest)


@pytest.mark.parametrize("cls, kwargs", [(Adam, {}), (AdamW, dict(amsgrad=True))], ids=["Adam", "AdamW-amsgrad"])
def test_load_state_dict_mid_run_replaces_the_moments(cls: type, kwargs: dict) -> None:
    """Loading an older state mid-run: the flat buffer must take the loaded values, not keep its own."""
    def reload(t: int, params: list, opt: Adam) -> None:
        if t == 0:
            reload.saved = opt.state_dict()
        if t == 2:
            opt.load_state_dict(reload.saved)

    on, opt = trajectory(True, cls, kwargs, steps=5, between=reload)
    off, _ = trajectory(False, cls, kwargs, steps=5, between=reload)
    assert_same(on, off)
    bases = {id(opt.state[p]["exp_avg"].base) for p in opt.param_groups[0]["params"][:4]}
    assert len(bases) == 1  # rebuilt as one buffer again


def test_state_replaced_by_hand_and_amsgrad_switched_on_mid_run() -> None:
    def meddle(t: int, params: list, opt: Adam) -> None:
        if t == 1:
            p = params[0]
            opt.state[p]["exp_avg"] = np.full(p.shape, 0.25, np.float32)
            opt.state[params[4]]["exp_avg_sq"][...] = 2.0  # in place, through the view
        if t == 2:
            opt.param_groups[0]["amsgrad"] = True

    assert_same(trajectory(True, Adam, {}, steps=5, between=meddle)[0],
                trajectory(False, Adam, {}, steps=5, between=meddle)[0])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_between_steps(set_to_none: bool) -> None:
    def zero(t: int, params: list, opt: Adam) -> None:
        opt.zero_grad(set_to_none=set_to_none)
        if t == 1:  # a step on the zeroed (or absent) gradients
            opt.step()

    assert_same(trajectory(True, Adam, {}, between=zero)[0], trajectory(False, Adam, {}, between=zero)[0])


@pytest.mark.parametrize("how", ["data", "transposed", "module"])
def test_a_parameter_whose_array_is_replaced_is_still_updated(how: str) -> None:
    def replace(t: int, params: list, opt: Adam) -> None:
        if t != 1:
            return
        p = params[0]
        new = np.linspace(-1, 1, p.numel(), dtype=np.float32).reshape(p.shape)
        if how == "data":
            p.data = mt.tensor(new)
        elif how == "transposed":  # not contiguous: that step falls back to the textbook loop
            p.data = mt.tensor(np.ascontiguousarray(new.T)).T
        else:
            layer = nn.Linear(256, 300)
            layer.weight, layer.bias = p, params[3]
            layer.load_state_dict({"weight": mt.tensor(new), "bias": params[3].detach() * 0.5})

    assert_same(trajectory(True, Adam, {}, between=replace)[0], trajectory(False, Adam, {}, between=replace)[0])


def test_a_deep_copied_optimizer_updates_its_own_state() -> None:
    def fork(t: int, params: list, opt: Adam) -> None:
        if t == 1:
            twin = copy.deepcopy(opt)
            twin_params = twin.param_groups[0]["params"]
            set_grads(twin_params, 9)
            twin.step()
            fork.twin = [host(p) for p in twin_params]

    on, _ = trajectory(True, Adam, {}, between=fork)
    twin_on = fork.twin
    off, _ = trajectory(False, Adam, {}, between=fork)
    assert_same(on, off)
    assert_same([twin_on], [fork.twin])


def test_switched_off_or_small_or_strict_takes_the_textbook_path(fused: list, monkeypatch: pytest.MonkeyPatch) -> None:
    trajectory(False, Adam, {}, steps=1)
    monkeypatch.setenv(fast.ENV_VAR, "0")
    params = make_params()
    opt = Adam(params)
    set_grads(params, 0)
    opt.step()
    monkeypatch.delenv(fast.ENV_VAR)
    assert not fused
    # the course's task checks step a few-element parameter: the student's code must run
    p = nn.Parameter(mt.tensor(np.array([1.0, 1.0])))
    p.grad = mt.tensor(np.array([0.5, -0.5]))
    Adam([p], lr=0.01).step()
    assert not fused and p.numel() < fast_optim.MIN_FUSED_ELEMENTS
    # the strict CuPy stand-in: the textbook path, same numbers as NumPy's
    strict, _ = trajectory(True, Adam, dict(amsgrad=True), steps=2, device="strict")
    assert not fused
    assert_same(strict, trajectory(False, Adam, dict(amsgrad=True), steps=2)[0])


def test_per_parameter_pieces_equal_merged_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    merged, _ = trajectory(True, AdamW, dict(amsgrad=True))
    monkeypatch.setattr(fast_optim, "MERGE_SMALL", False)
    monkeypatch.setattr(fast_optim, "CHUNK_ELEMENTS", 4096)
    assert_same(merged, trajectory(True, AdamW, dict(amsgrad=True))[0])


def test_pieces_cover_every_element_once() -> None:
    params = make_params()
    opt = Adam(params, lr=1e-2)
    set_grads(params, 2)
    with fast.enabled(True):
        opt.step()
    layout = fast_optim._layouts[opt][id(opt.param_groups[0])]
    jobs = [fast_optim._Job((p._array.reshape(-1),), layout.slots[id(p)].offset, (1.0, 1.0))
            for p in params if p.grad is not None]
    seen = [np.zeros(job.flats[0].size, int) for job in jobs]
    for piece in fast_optim._pieces(jobs):
        assert sum(b - a for _, a, b in piece) <= fast_optim.CHUNK_ELEMENTS
        for k, a, b in piece:
            seen[k][a:b] += 1
    assert all((s == 1).all() for s in seen)
