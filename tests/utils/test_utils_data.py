"""minitorch_cnn.utils.data: torch.utils.data's API -- data sets, random_split, samplers, DataLoader
(argument checks, collation, the get_batch fast path) and its worker processes (order, seeding,
errors, and that no worker outlives the iteration)."""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.data import GlyphsInClutter
from minitorch_cnn.tensors import Tensor
from minitorch_cnn.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)

REPO = Path(__file__).resolve().parents[2]


def arr(t):
    return np.asarray(t.data)


class Squares(Dataset):
    """ds[i] = (float32 [i, i*i], int i); no get_batch: the per-sample path."""

    def __init__(self, n: int = 20, delay: float = 0.0) -> None:
        self.n, self.delay = n, delay

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if self.delay and i % 4 == 0:
            time.sleep(self.delay)  # worker 0's batches are slow: results arrive out of order
        return np.array([i, i * i], dtype=np.float32), int(i)


class WhoAmI(Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        info = get_worker_info()
        return (info.id, info.num_workers, info.seed, _INIT_SEEN.get(info.id, -1),
                float(backend.random_state("cpu").random()))


_INIT_SEEN: dict = {}


def _init_fn(worker_id: int) -> None:
    _INIT_SEEN[worker_id] = worker_id * 10 + 7


class Fails(Dataset):
    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int):
        if i == 9:
            raise KeyError(f"item {i} is broken")
        return np.float32(i)


class Slow(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        time.sleep(1.0)
        return np.float32(i)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _no_workers(pids) -> None:
    gc.collect()
    assert multiprocessing.active_children() == []
    assert not [p for p in pids if _alive(p)]


# -- data sets and random_split ----------------------------------------------------------------
def test_tensor_dataset_items_are_tensors_and_concat_dataset_indexes_like_pytorch() -> None:
    x = mt.tensor(np.arange(12, dtype=np.float32).reshape(6, 2))
    y = np.arange(6)
    ds = TensorDataset(x, y)
    assert ds.tensors[0] is x and isinstance(ds.tensors[1], Tensor) and len(ds) == 6
    xi, yi = ds[4]
    assert isinstance(xi, Tensor) and arr(xi).tolist() == [8.0, 9.0] and int(arr(yi)) == 4
    with pytest.raises(ValueError):
        TensorDataset(x, np.arange(5))

    cat = ConcatDataset([ds, TensorDataset(np.arange(100, 108, dtype=np.float32).reshape(4, 2), np.arange(4))])
    assert len(cat) == 10 and cat.cumulative_sizes == [6, 10]
    assert arr(cat[6][0]).tolist() == [100.0, 101.0] and arr(cat[-1][0]).tolist() == [106.0, 107.0]
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-11]
    with pytest.raises(IndexError):
        cat[10]
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    idx = np.array([7, 0, 9, 5, 6, 1])
    xb, yb = cat.get_batch(idx)
    assert np.array_equal(xb, np.stack([arr(cat[i][0]) for i in idx])) and yb.tolist() == [1, 0, 3, 5, 0, 1]


def test_random_split_counts_fractions_and_pytorchs_remainder_rule() -> None:
    ds = Squares(10)
    # 10 * 0.25 = 2.5 -> floor 2 each (8), the 2 left over go to splits 0 and 1: [3, 3, 2, 2]
    parts = random_split(ds, [0.25, 0.25, 0.25, 0.25], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [3, 3, 2, 2] and all(isinstance(p, Subset) for p in parts)
    perm = np.random.default_rng(0).permutation(10).tolist()  # one permutation, cut in order
    assert [p.indices.tolist() for p in parts] == [perm[0:3], perm[3:6], perm[6:8], perm[8:10]]
    # 11 * (0.5, 0.3, 0.2) = (5.5, 3.3, 2.2) -> (5, 3, 2), 1 left over -> split 0: [6, 3, 2]
    assert [len(p) for p in random_split(Squares(11), [0.5, 0.3, 0.2], generator=1)] == [6, 3, 2]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        assert [len(p) for p in random_split(Squares(3), [0.9, 0.1], generator=0)] == [3, 0]
    counts = random_split(ds, [7, 3], generator=5)
    assert sorted(counts[0].indices.tolist() + counts[1].indices.tolist()) == list(range(10))
    assert [p.indices.tolist() for p in random_split(ds, [7, 3], generator=5)] == [p.indices.tolist() for p in counts]
    mt.manual_seed(3)
    a = random_split(ds, [5, 5])[0].indices.tolist()
    mt.manual_seed(3)
    assert random_split(ds, [5, 5])[0].indices.tolist() == a
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(ds, [0.5, 1.2, -0.7])
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [5, 5], generator="seed")


# -- samplers --------------------------------------------------------------------------------------
def test_sequential_random_and_subset_samplers() -> None:
    data = range(10)
    assert list(SequentialSampler(data)) == list(range(10)) and len(SequentialSampler(data)) == 10
    assert list(RandomSampler(data, generator=np.random.default_rng(4))) == np.random.default_rng(4).permutation(10).tolist()
    s = RandomSampler(data, generator=4)
    first, second = list(s), list(s)
    assert sorted(first) == list(range(10)) and first != second  # the generator advances: epochs differ
    long = list(RandomSampler(data, num_samples=25, generator=0))
    assert len(long) == 25 and sorted(long[:10]) == sorted(long[10:20]) == list(range(10)) and len(set(long[20:])) == 5
    rep = RandomSampler(data, replacement=True, num_samples=100, generator=0)
    draws = list(rep)
    assert len(rep) == len(draws) == 100 and set(draws) <= set(range(10)) and len(set(draws)) < 100
    assert list(RandomSampler(data, replacement=True, num_samples=100, generator=0)) == draws
    mt.manual_seed(1)
    g1 = list(RandomSampler(data))
    mt.manual_seed(1)
    assert list(RandomSampler(data)) == g1
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(data, replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(data, num_samples=0)
    sub = SubsetRandomSampler([3, 5, 7, 11], generator=0)
    assert len(sub) == 4 and sorted(sub) == [3, 5, 7, 11]
    assert list(SubsetRandomSampler([3, 5, 7, 11], generator=0)) == [[3, 5, 7, 11][i] for i in
                                                                      np.random.default_rng(0).permutation(4)]
    with pytest.raises(NotImplementedError):
        iter(Sampler())


def test_weighted_random_sampler_follows_the_weights() -> None:
    w = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=8000, generator=0)
    counts = np.bincount(list(w), minlength=3)
    assert len(w) == 8000 and counts[0] == 0 and 2.7 < counts[2] / counts[1] < 3.3
    assert list(WeightedRandomSampler([0.0, 1.0, 3.0], 50, generator=0)) == list(w)[:0] + list(
        WeightedRandomSampler([0.0, 1.0, 3.0], 50, generator=0))
    no_rep = list(WeightedRandomSampler([1, 1, 5, 1, 0], 4, replacement=False, generator=2))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1, 0, 1], 3, replacement=False)
    with pytest.raises(ValueError, match="weights should be a 1d sequence but given weights have shape"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match=">= 0"):
        WeightedRandomSampler([1.0, -1.0], 2)


def test_batch_sampler_drop_last_and_checks() -> None:
    keep = BatchSampler(range(10), 4, drop_last=False)
    assert list(keep) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(keep) == 3
    drop = BatchSampler(range(10), 4, drop_last=True)
    assert list(drop) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(drop) == 2
    assert len(BatchSampler(range(8), 4, True)) == len(BatchSampler(range(8), 4, False)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=True"):
        BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)


# -- DataLoader (single process) -----------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
    ({"num_workers": 1, "prefetch_factor": -1}, "prefetch_factor option should be non-negative"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"sampler": [0, 1], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive with batch_size, "
                                                "shuffle, sampler, and drop_last"),
    ({"batch_sampler": [[0]], "shuffle": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "sampler": [0]}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching and is mutually "
                                              "exclusive with drop_last"),
    ({"batch_size": 0}, "batch_size should be a positive integer value"),
])
def test_dataloader_rejects_what_pytorch_rejects(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        DataLoader(Squares(), **kwargs)


def test_dataloader_batches_collation_and_options() -> None:
    loader = DataLoader(Squares(10), batch_size=4, pin_memory=True)
    batches = list(loader)
    assert len(loader) == 3 and [len(arr(b[1])) for b in batches] == [4, 4, 2]
    x, y = batches[0]
    assert isinstance(batches[0], list) and x.dtype == np.float32 and y.dtype == np.int64
    assert arr(x).tolist() == [[0, 0], [1, 1], [2, 4], [3, 9]] and arr(y).tolist() == [0, 1, 2, 3]
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    # shuffle with a generator: a permutation per epoch, reproducible from the seed
    a = [arr(b[1]).tolist() for b in DataLoader(Squares(10), batch_size=5, shuffle=True, generator=7)]
    b = [arr(b[1]).tolist() for b in DataLoader(Squares(10), batch_size=5, shuffle=True, generator=7)]
    assert a == b and sorted(sum(a, [])) == list(range(10)) and sum(a, []) != list(range(10))
    # a sampler, a batch sampler, batch_size=None, a collate_fn
    assert arr(next(iter(DataLoader(Squares(10), batch_size=3, sampler=[9, 8, 7])))[1]).tolist() == [9, 8, 7]
    got = [arr(b[1]).tolist() for b in DataLoader(Squares(10), batch_sampler=[[1, 2], [5]])]
    assert got == [[1, 2], [5]]
    item = next(iter(DataLoader(Squares(10), batch_size=None)))
    assert isinstance(item[0], Tensor) and arr(item[0]).shape == (2,) and item[1] == 0
    assert next(iter(DataLoader(Squares(10), batch_size=2, collate_fn=lambda s: len(s)))) == 2


def test_default_collate_follows_pytorchs_rules() -> None:
    Point = collections.namedtuple("Point", "x y")
    out = default_collate([{"a": 1.5, "b": (1, "s"), "p": Point(np.int32(1), True)},
                           {"a": 2.5, "b": (2, "t"), "p": Point(np.int32(2), False)}])
    assert out["a"].dtype == np.float64 and arr(out["a"]).tolist() == [1.5, 2.5]
    assert isinstance(out["b"], list) and arr(out["b"][0]).tolist() == [1, 2] and out["b"][1] == ["s", "t"]
    assert isinstance(out["p"], Point) and out["p"].x.dtype == np.int32 and out["p"].y.dtype == np.bool_
    t = default_collate([mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and t.dtype == np.float32
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found"):
        default_collate([object()])


class CountingGlyphs(Dataset):
    """A built-in data set that counts which of its two paths the loader used."""

    def __init__(self) -> None:
        self.inner = GlyphsInClutter(train=True, size=300, seed=0)
        self.items = self.batches = 0

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, i):
        self.items += 1
        return self.inner[i]

    def get_batch(self, idx):
        self.batches += 1
        return self.inner.get_batch(idx)


def test_fast_path_is_used_only_without_custom_sampler_or_collate_and_gives_the_same_batches() -> None:
    ds = CountingGlyphs()
    fast = list(DataLoader(ds, batch_size=128, shuffle=True, generator=3))
    assert ds.batches == 3 and ds.items == 0
    gen = np.random.default_rng(3)
    gen.integers(0, 2**63 - 1)  # the loader draws the workers' base seed first, as PyTorch does
    order = list(RandomSampler(ds, generator=gen))
    slow = list(DataLoader(ds, batch_size=128, sampler=order))  # same order, through __getitem__
    assert ds.batches == 3 and ds.items == 300
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.dtype == sx.dtype == np.float32 and np.array_equal(arr(fx), arr(sx))
        assert fy.dtype == sy.dtype == np.int64 and np.array_equal(arr(fy), arr(sy))
    list(DataLoader(ds, batch_size=128, collate_fn=default_collate))
    assert ds.batches == 3 and ds.items == 600


# -- workers -----------------------------------------------------------------------------------
def test_workers_give_the_same_batches_in_order() -> None:
    for ds, kw in [(Squares(40, delay=0.01), {}), (GlyphsInClutter(train=True, size=500, seed=0), {"shuffle": True})]:
        ref = list(DataLoader(ds, batch_size=8, generator=11, **kw))
        got = list(DataLoader(ds, batch_size=8, generator=11, num_workers=2, prefetch_factor=3, **kw))
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert all(np.array_equal(arr(a), arr(b)) and a.dtype == b.dtype for a, b in zip(g, r))
    _no_workers([])


def test_worker_info_seeds_and_worker_init_fn() -> None:
    assert get_worker_info() is None
    gen = np.random.default_rng(5)
    base = int(np.random.default_rng(5).integers(0, 2**63 - 1))
    batches = list(DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=_init_fn, generator=gen))
    for k, (wid, nw, seed, init, _) in enumerate(batches):
        assert arr(wid).tolist() == [k % 2] * 2 and arr(nw).tolist() == [2, 2]
        assert arr(seed).tolist() == [base + k % 2] * 2 and arr(init).tolist() == [(k % 2) * 10 + 7] * 2
    draws = [arr(b[4]) for b in batches]
    assert not np.array_equal(draws[0], draws[1])  # the workers' global generators differ
    assert _INIT_SEEN == {}  # worker_init_fn ran in the workers, not here
    _no_workers([])


def test_a_worker_exception_is_raised_here_with_the_worker_id_and_the_workers_stop() -> None:
    loader = DataLoader(Fails(), batch_size=4, num_workers=2)
    it = iter(loader)
    pids = it.worker_pids
    with pytest.raises(KeyError, match=r"Caught KeyError in DataLoader worker process 0\.(.|\n)*item 9 is broken"):
        list(it)
    _no_workers(pids)
    with pytest.raises(RuntimeError, match="timed out after 0.3 seconds"):
        next(iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.3)))
    _no_workers([])


def test_no_worker_outlives_an_early_stop_a_deleted_loader_or_an_exception() -> None:
    ds = Squares(64)
    it = iter(DataLoader(ds, batch_size=4, num_workers=2))
    next(it)
    pids = it.worker_pids
    assert all(_alive(p) for p in pids)
    del it
    _no_workers(pids)

    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    first = [arr(b[1]).tolist() for b in loader]
    pids = loader._iterator.worker_pids
    for _b in loader:  # stop early: the next epoch must not see the abandoned epoch's batches
        break
    assert [arr(b[1]).tolist() for b in loader] == first and loader._iterator.worker_pids == pids
    del loader, _b
    _no_workers(pids)

    with pytest.raises(ZeroDivisionError):
        for _ in DataLoader(ds, batch_size=4, num_workers=2):
            1 / 0
    _no_workers([])


def test_ctrl_c_stops_the_workers(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys, time
        import numpy as np
        from minitorch_cnn.utils.data import DataLoader, Dataset

        class Slow(Dataset):
            def __len__(self):
                return 1000
            def __getitem__(self, i):
                time.sleep(0.05)
                return np.float32(i)

        it = iter(DataLoader(Slow(), batch_size=2, num_workers=2))
        next(it)
        try:  # the signal may come as soon as the pids are out
            print(*it.worker_pids, flush=True)
            for _ in it:
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            raise
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=20)
    assert "interrupted" in rest and "KeyboardInterrupt" in err and proc.returncode != 0, (rest, err)
    assert not [p for p in pids if _alive(p)]
