"""Pruning: exact counts, PyTorch's amount semantics, global ranking, structured slices."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.compress import masks, prune


def _zeros(t: mt.Tensor) -> int:
    return int((t.detach().numpy() == 0).sum())


@given(amount=st.floats(0.0, 1.0), seed=st.integers(0, 100))
def test_l1_prunes_exactly_round_amount_times_n_smallest(amount: float, seed: int) -> None:
    mt.manual_seed(seed)
    lin = nn.Linear(7, 5)
    w = lin.weight.detach().numpy().copy()
    prune.l1_unstructured(lin, "weight", amount)
    k = round(amount * w.size)
    assert _zeros(lin.weight) == k
    kept = np.abs(w[lin.weight.detach().numpy() != 0])
    gone = np.abs(w[lin.weight.detach().numpy() == 0])
    assert gone.size == 0 or kept.size == 0 or gone.max() <= kept.min()


def test_amount_as_count_and_iterative_semantics(device: str) -> None:
    conv = nn.Conv2d(3, 4, 3).to(device)  # 108 weights
    prune.l1_unstructured(conv, "weight", 10)
    assert _zeros(conv.weight) == 10
    prune.l1_unstructured(conv, "weight", 0.5)  # half of the 98 survivors, as PyTorch
    assert _zeros(conv.weight) == 10 + 49
    prune.random_unstructured(conv, "weight", 9)
    assert _zeros(conv.weight) == 68 and prune.is_pruned(conv)
    prune.remove(conv, "weight")
    assert not prune.is_pruned(conv) and _zeros(conv.weight) == 68


def test_ln_structured_removes_whole_filters() -> None:
    conv = nn.Conv2d(2, 6, 3)
    w = conv.weight.detach().numpy().copy()
    prune.ln_structured(conv, "weight", amount=2, n=2, dim=0)
    after = conv.weight.detach().numpy()
    dead = np.where(np.all(after == 0, axis=(1, 2, 3)))[0]
    norms = np.sqrt((w ** 2).sum(axis=(1, 2, 3)))
    np.testing.assert_array_equal(np.sort(dead), np.sort(np.argsort(norms)[:2]))
    assert np.all(after[np.setdiff1d(np.arange(6), dead)] != 0)
    prune.ln_structured(conv, "weight", amount=1, n=math.inf, dim=1)  # then one input channel
    live = conv.weight.detach().numpy()[np.setdiff1d(np.arange(6), dead)]
    assert np.all(live == 0, axis=(0, 2, 3)).sum() == 1


def test_global_ranks_across_layers_and_accepts_a_model() -> None:
    net = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 10))
    with mt.no_grad():
        net[0].weight._array[...] = 0.01 * np.sign(net[0].weight._array)  # all small
        net[2].weight._array[...] = 1.0
    prune.global_unstructured(net, amount=0.5)
    assert _zeros(net[0].weight) == 100 and _zeros(net[2].weight) == 0
    net2 = nn.Sequential(nn.Linear(10, 10), nn.Linear(10, 10))
    prune.global_unstructured([(net2[0], "weight"), (net2[1], "weight")], pruning_method=prune.L1Unstructured,
                              amount=0.3)
    assert _zeros(net2[0].weight) + _zeros(net2[1].weight) == 60
    with pytest.raises(TypeError, match="pass the model"):
        prune.global_unstructured(net2.parameters(), amount=0.1)


def test_iterative_prune_schedule_reaches_target() -> None:
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    rounds = []
    history = prune.iterative_prune(net, 0.9, 3, lambda m, r: rounds.append(r))
    assert rounds == [1, 2, 3]
    total = 36 + 192
    np.testing.assert_allclose(history, [round(0.3 * total) / total, round(0.6 * total) / total,
                                         round(0.9 * total) / total])


def test_bad_amount_names_the_fix() -> None:
    with pytest.raises(ValueError, match="amount=1.5 as a fraction must lie in"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", 1.5)
    with pytest.raises(ValueError, match="amount=9 entries, but only 4"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", 9)
    assert not masks.is_masked(nn.Linear(2, 2))


def test_cubic_schedule_cuts_big_first_and_reaches_the_target() -> None:
    targets = prune.schedule_targets(0.9, 4, "cubic")
    np.testing.assert_allclose(targets, [0.9 * (1 - 0.75**3), 0.9 * (1 - 0.5**3), 0.9 * (1 - 0.25**3), 0.9])
    steps = np.diff([0.0, *targets])
    assert (np.diff(steps) < 0).all()  # every round prunes less than the one before
    np.testing.assert_allclose(prune.schedule_targets(0.9, 3), [0.3, 0.6, 0.9])
    with pytest.raises(ValueError, match="schedule='quadratic' must be 'linear' or 'cubic'"):
        prune.schedule_targets(0.9, 3, "quadratic")


def test_conv_sparsity_holds_convs_and_linear_layers_pay_the_rest() -> None:
    mt.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 30))
    conv_n, lin_n = 36, 64 * 30
    history = prune.iterative_prune(net, 0.8, 2, lambda m, r: None, schedule="cubic", conv_sparsity=0.5)
    assert _zeros(net[0].weight) == round(0.5 * conv_n)  # the conv's own fraction, reached in the last round
    assert _zeros(net[0].weight) + _zeros(net[2].weight) == round(0.8 * (conv_n + lin_n))  # the overall target
    assert history[-1] == pytest.approx(round(0.8 * (conv_n + lin_n)) / (conv_n + lin_n))
    w = net[2].weight.detach().numpy()
    assert _zeros(net[2].weight) == lin_n - int((w != 0).sum())


def test_conv_sparsity_too_high_for_the_linear_budget_names_the_fix() -> None:
    net = nn.Sequential(nn.Conv2d(1, 40, 3), nn.Flatten(), nn.Linear(40, 2))  # convs hold most weights
    with pytest.raises(ValueError, match="needs 360 zeros in the Linear layers, which have only 80 weights; raise"):
        prune.iterative_prune(net, 0.9, 1, lambda m, r: None, conv_sparsity=0.1)
    assert not prune.is_pruned(net)  # refused before any pruning
    with pytest.raises(ValueError, match="drop conv_sparsity or layerwise"):
        prune.iterative_prune(net, 0.9, 1, lambda m, r: None, layerwise=True, conv_sparsity=0.9)
    with pytest.raises(ValueError, match="conv_sparsity=1.5 must lie in"):
        prune.iterative_prune(net, 0.9, 1, lambda m, r: None, conv_sparsity=1.5)
