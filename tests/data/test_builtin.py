"""The built-in procedural data set: determinism, balance, prefix property, speed, structure."""

import time

import numpy as np
import pytest

from minitorch_cnn.data import DataLoader, GlyphsInClutter
from minitorch_cnn.data.builtin import GLYPHS, generate


def test_deterministic_by_seed_and_split():
    a, ya = generate(1500, seed=0)
    b, yb = generate(1500, seed=0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    c, _ = generate(1500, seed=1)
    t, _ = generate(1500, seed=0, train=False)
    assert not np.array_equal(a, c) and not np.array_equal(a, t)


def test_prefix_property_balance_and_format():
    x, y = generate(3000)
    x2, y2 = generate(1234)
    np.testing.assert_array_equal(x2, x[:1234])
    np.testing.assert_array_equal(y2, y[:1234])
    assert x.shape == (3000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [300] * 10
    assert generate(0)[0].shape == (0, 28, 28)
    with pytest.raises(ValueError, match="non-negative"):
        generate(-1)


def test_fast_enough():
    t = time.perf_counter()
    generate(10000)
    assert time.perf_counter() - t < 5.0


def test_class_is_not_given_away_by_global_statistics():
    """Mean brightness or the location of the brightest pixel must not reveal the class."""
    x, y = generate(5000)
    means = np.array([x[y == k].mean() for k in range(10)])
    assert means.std() / means.mean() < 0.15
    # the glyph wanders: for every class the brightest pixel spreads over most of the image
    for k in range(10):
        argmax = x[y == k].reshape(-1, 784).argmax(1)
        rows, cols = np.unravel_index(argmax, (28, 28))
        assert rows.std() > 5 and cols.std() > 5


def test_dataset_class_and_loader():
    ds = GlyphsInClutter(train=False, size=100, seed=0)
    assert len(ds) == 100 and ds.classes == list(GLYPHS)
    x, y = next(iter(DataLoader(ds, batch_size=32)))
    assert x.shape == (32, 1, 28, 28) and 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0
