"""Batch transforms: values, shapes, per-image randomness, determinism by generator."""

import numpy as np
import pytest

from minitorch_cnn import backend
from minitorch_cnn.data import transforms as T


def _batch(n=6, h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w), dtype=np.uint8)


def test_to_tensor_scales_and_adds_channel():
    x = _batch()
    y = T.ToTensor()(x)
    assert y.shape == (6, 1, 5, 7) and y.dtype == np.float32
    np.testing.assert_allclose(y[:, 0], x / 255.0, rtol=1e-6)
    hwc = np.random.default_rng(1).integers(0, 256, size=(2, 4, 5, 3), dtype=np.uint8)
    z = T.ToTensor()(hwc)
    assert z.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(z[1, 2], hwc[1, :, :, 2] / 255.0, rtol=1e-6)
    with pytest.raises(ValueError, match="ToTensor"):
        T.ToTensor()(np.zeros((3, 3), np.uint8))


def test_normalize_per_channel():
    x = np.random.default_rng(0).random((4, 2, 3, 3)).astype(np.float32)
    y = T.Normalize((0.5, 0.25), (2.0, 0.5))(x)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 0.5) / 2.0, rtol=1e-6)
    np.testing.assert_allclose(y[:, 1], (x[:, 1] - 0.25) / 0.5, rtol=1e-6)
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match="3 channels"):
        T.Normalize((0.1, 0.2), (1, 1))(np.zeros((1, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="positive"):
        T.Normalize(0.0, 0.0)


def test_random_crop_is_a_per_image_shift():
    x = T.ToTensor()(_batch(n=64, h=6, w=6))
    crop = T.RandomCrop(6, padding=2, generator=np.random.default_rng(0))
    y = crop(x)
    assert y.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for i in range(len(x)):  # every output is some window of the padded image (reference loop)
        found = [(r, c) for r in range(5) for c in range(5) if np.array_equal(padded[i, :, r:r + 6, c:c + 6], y[i])]
        assert found, f"image {i} is not a window of its padded input"
        offsets.add(found[0])
    assert len(offsets) > 5  # offsets are drawn per image, not once per batch


def test_random_crop_smaller_size_and_errors():
    x = np.ones((3, 1, 8, 8), np.float32)
    assert T.RandomCrop((4, 5))(x).shape == (3, 1, 4, 5)
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(10)(x)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        T.RandomCrop(4)(np.ones((8, 8), np.float32))


def test_horizontal_flip_probability_and_content():
    x = T.ToTensor()(_batch(n=1000, h=3, w=4))
    y = T.RandomHorizontalFlip(0.5, generator=np.random.default_rng(0))(x)
    flipped = np.array([np.array_equal(y[i], x[i, :, :, ::-1]) for i in range(len(x))])
    kept = np.array([np.array_equal(y[i], x[i]) for i in range(len(x))])
    assert np.all(flipped | kept)
    assert 400 < flipped.sum() < 600
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(x), x)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x), x[..., ::-1])


def test_random_transforms_follow_manual_seed():
    x = T.ToTensor()(_batch(n=16))
    aug = T.Compose([T.RandomCrop((5, 7), padding=1), T.RandomHorizontalFlip()])
    backend.manual_seed(3)
    a = aug(x)
    backend.manual_seed(3)
    b = aug(x)
    np.testing.assert_array_equal(a, b)


def test_transforms_run_on_strict_backend():
    """The transforms use the array's module, so they would run on CuPy arrays too."""
    x = backend.strict.asarray(T.ToTensor()(_batch(n=4)))
    y = T.Compose([T.RandomCrop((5, 7), padding=2), T.RandomHorizontalFlip(), T.Normalize(0.5, 0.5)])(x)
    assert isinstance(y, backend.StrictArray) and y.shape == (4, 1, 5, 7)


def test_image_transforms_is_the_train_clis_pipeline():
    plain = T.image_transforms((0.25, 0.5))
    assert [type(t) for t in plain.transforms] == [T.ToTensor, T.Normalize]
    batch = np.full((2, 28, 28), 255, dtype=np.uint8)
    np.testing.assert_allclose(plain(batch), np.full((2, 1, 28, 28), (1.0 - 0.25) / 0.5), rtol=1e-6)
    assert [type(t) for t in T.image_transforms((0.25, 0.5), augment=True).transforms] == [
        T.ToTensor, T.RandomCrop, T.RandomHorizontalFlip, T.Normalize]
    assert [type(t) for t in T.image_transforms((0.25, 0.5), augment=True, flip=False).transforms] == [
        T.ToTensor, T.RandomCrop, T.Normalize]
