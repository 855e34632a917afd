"""Dataset / TensorDataset / Subset / DataLoader: batching, shuffling, resumable state."""

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.data import DataLoader, Dataset, Subset, TensorDataset, default_collate
from minitorch_cnn.data.dataset import ImageArrayDataset


class Squares(Dataset):
    """A data set with only __getitem__: the loader must use the per-sample path."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.full((1, 2, 2), i, np.float32), i


def _labels(loader):
    return [y.numpy().tolist() for _, y in loader]


def test_batches_sizes_and_types():
    ds = TensorDataset(np.arange(10 * 4, dtype=np.float32).reshape(10, 1, 2, 2), np.arange(10))
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 1, 2, 2), (4, 1, 2, 2), (2, 1, 2, 2)]
    x, y = batches[0]
    assert isinstance(x, mt.Tensor) and x.dtype == np.float32 and y.dtype == np.int64
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [b[1].shape[0] for b in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]


def test_fast_path_equals_per_sample_path():
    images = np.random.default_rng(0).integers(0, 256, (10, 3, 3), dtype=np.uint8)
    ds = ImageArrayDataset(images, np.arange(10) % 3)
    fast = list(DataLoader(ds, batch_size=3, shuffle=True, seed=5))
    slow = list(DataLoader(ds, batch_size=3, shuffle=True, seed=5, collate_fn=default_collate))
    for (a, b), (c, d) in zip(fast, slow):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
    img, label = ds[4]
    np.testing.assert_allclose(img, images[4][None] / 255.0, rtol=1e-6)
    assert label == 4 % 3


def test_fast_path_is_used(monkeypatch):
    ds = TensorDataset(np.zeros((8, 2), np.float32), np.zeros(8, np.int64))
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-item path used"))
    assert sum(y.shape[0] for _, y in DataLoader(ds, batch_size=3)) == 8


def test_per_sample_dataset_and_collate():
    batches = list(DataLoader(Squares(), batch_size=4))
    x, y = batches[0]
    assert x.shape == (4, 1, 2, 2) and y.numpy().tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(x.numpy()[:, 0, 0, 0], [0, 1, 2, 3])
    assert default_collate([{"a": 1.0}, {"a": 2.0}])["a"].dtype == np.float32


def test_shuffle_is_a_permutation_and_seeded():
    ds = TensorDataset(np.zeros((50, 1), np.float32), np.arange(50))
    a = _labels(DataLoader(ds, batch_size=7, shuffle=True, seed=1))
    b = _labels(DataLoader(ds, batch_size=7, shuffle=True, seed=1))
    c = _labels(DataLoader(ds, batch_size=7, shuffle=True, seed=2))
    assert a == b and a != c
    assert sorted(sum(a, [])) == list(range(50))
    loader = DataLoader(ds, batch_size=50, shuffle=True, seed=1)
    assert _labels(loader) != _labels(loader)  # a new order every epoch
    assert sum(_labels(DataLoader(ds, batch_size=7)), []) == list(range(50))


def test_seed_from_manual_seed():
    ds = TensorDataset(np.arange(20))
    mt.manual_seed(7)
    a = [x.numpy().tolist() for (x,) in DataLoader(ds, batch_size=20, shuffle=True)]
    mt.manual_seed(7)
    b = [x.numpy().tolist() for (x,) in DataLoader(ds, batch_size=20, shuffle=True)]
    assert a == b


def test_state_dict_resumes_mid_epoch():
    ds = TensorDataset(np.arange(30))
    ref = DataLoader(ds, batch_size=4, shuffle=True, seed=3)
    reference = [_labels_of(ref) for _ in range(3)]

    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=3)
    first = _labels_of(loader)
    seen = []
    for (x,) in loader:  # epoch 2, interrupted after 3 batches
        seen.append(x.numpy().tolist())
        if len(seen) == 3:
            break
    state = loader.state_dict()
    assert state["batches_done"] == 3
    fresh = DataLoader(ds, batch_size=4, shuffle=True, seed=999)
    fresh.load_state_dict(state)
    rest = _labels_of(fresh)
    assert [first, seen + rest, _labels_of(fresh)] == reference


def _labels_of(loader):
    return [x.numpy().tolist() for (x,) in loader]


def test_subset_and_errors():
    ds = TensorDataset(np.arange(10) * 10)
    sub = Subset(ds, [9, 0, 3])
    assert len(sub) == 3 and sub[0][0] == 90
    assert [x.numpy().tolist() for (x,) in DataLoader(sub, batch_size=3)] == [[90, 0, 30]]
    with pytest.raises(ValueError, match="same size along axis 0"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, generator=42)
    with pytest.raises(IndexError):
        ds.get_batch([10])
    with pytest.raises(ValueError, match="indices"):
        Subset(ds, [10])


def test_device_argument_moves_batches():
    ds = TensorDataset(np.zeros((4, 1, 2, 2), np.float32), np.arange(4))
    x, y = next(iter(DataLoader(ds, batch_size=4, device="strict")))
    assert x.device == "strict" and y.device == "strict"
