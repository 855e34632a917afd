"""Masks: applied in forward and to the gradient, invisible to state_dict keys."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim
from minitorch_cnn.compress import masks


def _net(device: str = "cpu") -> nn.Module:
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3)).to(device)


def _random_mask(shape: tuple, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape) < 0.5


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw"])
def test_masked_weights_stay_exactly_zero_after_100_steps(device: str, opt: str) -> None:
    net = _net(device)
    conv = net[0]
    mask = _random_mask(conv.weight.shape)
    masks.apply_mask(conv, "weight", mt.tensor(mask, device=device))
    if opt == "sgd":
        optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-2)
    elif opt == "adam":
        optimizer = optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-2)
    else:
        optimizer = optim.AdamW(net.parameters(), lr=0.01, weight_decay=1e-1)
    x = mt.randn(8, 2, 5, 5, device=device)
    y = mt.tensor(np.arange(8) % 3, device=device)
    before = conv.weight.detach().numpy().copy()
    for _ in range(100):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    w = conv.weight.detach().numpy()
    assert np.all(w[~mask] == 0)  # exactly zero, after the step (not only inside forward)
    assert np.all(np.signbit(w[~mask]) == 0)  # and +0.0, not -0.0
    assert np.all(w[mask] != before[mask])  # the kept weights did train


def test_gradient_is_masked(device: str) -> None:
    conv = nn.Conv2d(2, 3, 3).to(device)
    mask = _random_mask(conv.weight.shape, 1)
    masks.apply_mask(conv, "weight", mask)
    conv(mt.randn(2, 2, 5, 5, device=device)).sum().backward()
    g = conv.weight.grad.numpy()
    assert np.all(g[~mask] == 0) and np.count_nonzero(g[mask]) == mask.sum()


def test_forward_reapplies_mask_after_external_write() -> None:
    lin = nn.Linear(4, 2)
    mask = np.array([[1, 0, 1, 0], [0, 1, 1, 1]], dtype=bool)
    masks.apply_mask(lin, "weight", mask)
    with mt.no_grad():
        lin.weight._array[...] = 1.0
    out = lin(mt.ones(1, 4))
    np.testing.assert_allclose(out.detach().numpy(), (mask.sum(1) + lin.bias.detach().numpy())[None], rtol=1e-6)


def test_state_dict_strict_round_trip_both_ways() -> None:
    masked, plain = _net(), _net()
    mask = _random_mask(masked[0].weight.shape, 2)
    masks.apply_mask(masked[0], "weight", mask)
    # masked -> unmasked, strict: the same keys, the zeros travel in the weight itself
    assert list(masked.state_dict()) == list(plain.state_dict())
    plain.load_state_dict(masked.state_dict(), strict=True)
    np.testing.assert_array_equal(plain[0].weight.detach().numpy(), masked[0].weight.detach().numpy())
    # unmasked -> masked, strict: loads, and the mask still holds
    fresh = _net()
    masked.load_state_dict(fresh.state_dict(), strict=True)
    x = mt.randn(2, 2, 5, 5)
    masked(x)
    assert np.all(masked[0].weight.detach().numpy()[~mask] == 0)
    # the masks travel under their own documented keys
    ms = masks.mask_state_dict(masked)
    assert list(ms) == ["0.weight_mask"]
    other = _net()
    masks.load_mask_state_dict(other, {k: v.numpy() for k, v in ms.items()})
    np.testing.assert_array_equal(masks.get_mask(other[0], "weight").numpy(), mask)


def test_remove_folds_mask_and_drops_hooks() -> None:
    lin = nn.Linear(3, 2)
    mask = np.array([[1, 0, 1], [0, 1, 0]], dtype=bool)
    masks.apply_mask(lin, "weight", mask)
    masks.remove_mask(lin, "weight")
    assert not masks.is_masked(lin) and "weight_mask" not in dict(lin.named_buffers())
    lin(mt.ones(1, 3)).sum().backward()
    assert np.all(lin.weight.grad.numpy() == 1)  # the gradient is no longer masked
    assert np.all(lin.weight.detach().numpy()[~mask] == 0)  # but the zeros stayed


def test_deepcopy_keeps_masks_working() -> None:
    lin = nn.Linear(3, 2)
    mask = np.array([[1, 0, 1], [0, 1, 0]], dtype=bool)
    masks.apply_mask(lin, "weight", mask)
    twin = copy.deepcopy(lin)
    twin(mt.ones(1, 3)).sum().backward()
    assert np.all(twin.weight.grad.numpy()[~mask] == 0)
    masks.remove_mask(twin, "weight")
    assert masks.is_masked(lin, "weight")


def test_bad_mask_shape_names_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"mask shape \(2,\) does not match Linear.weight shape \(2, 3\)"):
        masks.apply_mask(nn.Linear(3, 2), "weight", np.ones(2, bool))
    with pytest.raises(ValueError, match="has no parameter 'wieght'"):
        masks.apply_mask(nn.Linear(3, 2), "wieght", np.ones((2, 3), bool))
