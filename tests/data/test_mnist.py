"""MNIST / Fashion-MNIST: locating, MD5 verification, (offline) download, error messages, real data.

Nothing here touches the network: downloads are exercised through a file:// mirror.
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from minitorch_cnn.data import DataLoader, FashionMNIST
from minitorch_cnn.data.idx import write_idx
from minitorch_cnn.data.mnist import MNIST, md5_of

SHARED_FMNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fashion-mnist"
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


def _make_files(folder: Path, n_train=20, n_test=10, gz=True) -> dict:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for stem, a in arrays.items():
        write_idx(folder / (stem + (".gz" if gz else "")), a)
    return arrays


def _tiny_class(folder: Path, mirror: str = "file:///nonexistent/"):
    """A MNIST subclass whose 'published' MD5s are those of the files in ``folder``."""
    return type("TinyMNIST", (MNIST,), {
        "resources": {f: md5_of(folder / f) for f in FILES},
        "mirrors": (mirror,),
    })


def test_reads_raw_files_from_root(tmp_path):
    arrays = _make_files(tmp_path, gz=False)  # uncompressed: no MD5 to check
    ds = MNIST(tmp_path, train=True, download=False)
    assert ds.data.shape == (20, 28, 28) and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, arrays["train-images-idx3-ubyte"])
    test = MNIST(tmp_path, train=False, download=False)
    x, y = next(iter(DataLoader(test, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x.numpy()[:, 0], arrays["t10k-images-idx3-ubyte"][:4] / 255.0, rtol=1e-6)


def test_finds_name_subfolder_and_env(tmp_path, monkeypatch):
    _make_files(tmp_path / "mnist", gz=False)
    assert MNIST(tmp_path, download=False).folder == tmp_path / "mnist"
    monkeypatch.setenv("MINITORCH_CNN_DATA", str(tmp_path))
    assert MNIST(download=False).folder == tmp_path / "mnist"


def test_md5_verified_for_local_gz(tmp_path):
    _make_files(tmp_path)
    tiny = _tiny_class(tmp_path)
    assert len(tiny(tmp_path, download=False)) == 20
    # the real MNIST checksums do not match these files: a clear error naming the file
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz.*MD5.*published checksum is f68b3c2d"):
        MNIST(tmp_path, download=False)


def test_offline_error_names_the_four_files_and_directory(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(empty, download=False)
    msg = str(info.value)
    assert all(f in msg for f in FILES) and str(empty) in msg
    # with download=True but no reachable mirror, the reason is part of the message
    monkeypatch.setattr(FashionMNIST, "mirrors", ("file:///definitely/not/here/",))
    with pytest.raises(FileNotFoundError, match="download failed") as info:
        FashionMNIST(empty, download=True)
    assert all(f in str(info.value) for f in FILES)


def test_download_verifies_and_writes_atomically(tmp_path):
    mirror = tmp_path / "mirror"
    _make_files(mirror)
    tiny = _tiny_class(mirror, mirror=mirror.as_uri() + "/")
    dest = tmp_path / "dest"
    ds = tiny(dest, train=False)  # downloads the four files through the file:// mirror
    assert len(ds) == 10
    assert sorted(p.name for p in dest.iterdir()) == sorted(FILES)  # no temporary files left
    for f in FILES:
        assert (dest / f).read_bytes() == (mirror / f).read_bytes()


def test_download_with_wrong_md5_saves_nothing(tmp_path):
    mirror = tmp_path / "mirror"
    _make_files(mirror)
    tiny = _tiny_class(mirror, mirror=mirror.as_uri() + "/")
    tiny.resources = dict(tiny.resources, **{FILES[0]: hashlib.md5(b"other").hexdigest()})
    dest = tmp_path / "dest"
    with pytest.raises(ValueError, match="MD5"):
        tiny(dest)
    assert not (dest / FILES[0]).exists()


def test_mismatched_counts(tmp_path):
    _make_files(tmp_path, gz=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(7, np.uint8))
    with pytest.raises(ValueError, match="20 images but 7 labels"):
        MNIST(tmp_path, download=False)


def test_published_md5s_match_shared_source():
    """The checksums in the code are the ones SOURCE.md lists next to the real files."""
    source = SHARED_FMNIST / "SOURCE.md"
    if not source.is_file():
        pytest.skip(f"../shared/data/fashion-mnist not present ({SHARED_FMNIST})")
    text = source.read_text()
    for fname, md5 in FashionMNIST.resources.items():
        assert f"| {fname} |" in text and md5 in text


@pytest.mark.skipif(not SHARED_FMNIST.is_dir(), reason=f"../shared/data/fashion-mnist not present ({SHARED_FMNIST})")
def test_real_fashion_mnist():
    train = FashionMNIST(SHARED_FMNIST, train=True, download=False)
    test = FashionMNIST(SHARED_FMNIST, train=False, download=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == np.uint8
    assert np.bincount(train.targets).tolist() == [6000] * 10
    assert np.bincount(test.targets).tolist() == [1000] * 10
    assert test.targets[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert os.path.samefile(train.folder, SHARED_FMNIST)
