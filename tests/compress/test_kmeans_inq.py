"""Weight sharing and powers of two: the weights take only the advertised values."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim
from minitorch_cnn.compress import inq, kmeans, layers, prune
from minitorch_cnn.testing import gradcheck


def test_kmeans_1d_finds_well_separated_clusters() -> None:
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(m, 0.01, 200) for m in (-1.0, 0.2, 3.0)])
    c, a = kmeans.kmeans_1d(v, 3)
    np.testing.assert_allclose(c, [-1.0, 0.2, 3.0], atol=0.01)
    assert np.all(np.diff(a[:200]) == 0) and a[0] == 0 and a[-1] == 2


def test_shared_weights_take_2_to_the_b_values_and_pruned_zeros_stay(device: str) -> None:
    net = nn.Sequential(nn.Conv2d(2, 8, 3), nn.Flatten(), nn.Linear(8 * 3 * 3, 5)).to(device)
    prune.l1_unstructured(net[0], "weight", 0.5)
    kmeans.share_weights(net, bits=2)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = mt.randn(4, 2, 5, 5, device=device), mt.tensor(np.arange(4) % 5, device=device)
    for _ in range(5):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    for m in (net[0], net[2]):
        w = layers.used_weight(m).detach().numpy()
        centroids = m.weight_transform.centroids.detach().numpy()
        nonzero = np.unique(w[w != 0])
        assert len(centroids) == 4 and set(nonzero) <= set(centroids)
    w0 = layers.used_weight(net[0]).detach().numpy()
    assert (w0 == 0).sum() == round(0.5 * w0.size)  # the pruned half is still exactly zero
    layers.detach(net[0])
    assert len(np.unique(net[0].weight.detach().numpy())) <= 5


def test_centroid_gradient_sums_the_shared_weight_gradients() -> None:
    c = mt.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assign = np.array([[0, 2, 2], [1, 0, 2]])
    keep = np.array([[True, True, False], [True, True, True]])
    assert gradcheck(lambda t: kmeans.GatherCentroids.apply(t, assign=assign, keep=keep), (c,))


def test_inq_weights_are_powers_of_two_and_frozen_ones_get_no_gradient(device: str) -> None:
    lin = nn.Linear(16, 8).to(device)
    inq.inq_step(lin, 0.5)
    frozen = lin.weight_transform.frozen.detach().numpy()
    assert frozen.sum() == 64
    lin(mt.randn(3, 16, device=device)).sum().backward()
    assert np.all(lin.weight.grad.numpy()[frozen] == 0) and np.all(lin.weight.grad.numpy()[~frozen] != 0)
    inq.inq_step(lin, 1.0)
    w = layers.used_weight(lin).detach().numpy()
    n1, n2 = lin.weight_transform.n1, lin.weight_transform.n2
    allowed = {0.0} | {s * 2.0 ** n for n in range(n2, n1 + 1) for s in (1, -1)}
    assert set(np.unique(w).tolist()) <= allowed and n1 - n2 == 7  # 5 bits: 8 exponents, signs, zero


def test_power_of_two_rule() -> None:
    w = np.array([0.75, 0.74, 1.49, 1.5, 0.01, -0.3], dtype=np.float32)
    q = inq.quantize_power_of_two(w, 0, -3)
    np.testing.assert_array_equal(q, [1.0, 0.5, 1.0, 1.0, 0.0, -0.25])
    with pytest.raises(ValueError, match="fraction must lie in"):
        inq.inq_step(nn.Linear(2, 2), 0.0)
