"""MNIST and Fashion-MNIST from their four standard IDX files, found locally or downloaded once.

Where the files are looked for, first match wins:

1. ``root`` (``--data-dir`` on the command line): the files directly in it, or in ``root/<name>/``
   (``<name>`` is ``fashion-mnist`` or ``mnist``), or torchvision's ``root/FashionMNIST/raw/``;
2. else ``$MINITORCH_CNN_DATA/<name>/`` (or the files directly in ``$MINITORCH_CNN_DATA``);
3. else the cache ``~/.cache/minitorch_cnn/<name>/``.

Each file may be the published ``.gz`` or the uncompressed IDX file of the same name without
``.gz``. Missing files are downloaded (``download=True``, the default) into ``root`` when it was
given, else into the ``<name>`` folder of (2) or (3). A download goes to a temporary file, is checked
against the published MD5 checksum, and only then renamed into place (``os.replace``), so a cut
connection never leaves a half file that looks complete. Local ``.gz`` files are MD5-checked too.
Without network, the error says which four files to put in which directory.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .dataset import ImageArrayDataset
from .fileio import atomic_write_bytes
from .idx import read_idx

__all__ = ["MNIST", "FashionMNIST", "md5_of", "default_data_dir", "DOWNLOAD_TIMEOUT_S"]

DOWNLOAD_TIMEOUT_S = 30.0
_ENV = "MINITORCH_CNN_DATA"


def default_data_dir() -> Path:
    """``$MINITORCH_CNN_DATA`` when set, else ``~/.cache/minitorch_cnn``."""
    env = os.environ.get(_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minitorch_cnn"


def md5_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class MNIST(ImageArrayDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 uint8, 10 classes.

    Args (torchvision's, plus where to look):
        root: the data directory (see the module docstring); default ``$MINITORCH_CNN_DATA`` or the
            cache ``~/.cache/minitorch_cnn``.
        train: the training split (True) or the test split (False).
        transform: a batch transform of the uint8 images (default ``ToTensor()``).
        target_transform: applied to the int64 labels.
        download: fetch missing files (default True; PyTorch's default is False).

    ``data`` is uint8 (N, 28, 28), ``targets`` int64 (N,), ``classes`` the class names.
    """

    name = "mnist"
    title = "MNIST"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",)
    #: file -> published MD5 of the .gz (the checksums torchvision and the dataset pages list)
    resources = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]  # fmt: skip

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = True,
    ) -> None:
        self.train = bool(train)
        self.folder = self.locate(root, download=download)
        prefix = "train" if self.train else "t10k"
        images = self._read(f"{prefix}-images-idx3-ubyte", ndim=3)
        labels = self._read(f"{prefix}-labels-idx1-ubyte", ndim=1)
        if images.shape[1:] != (28, 28):
            raise ValueError(f"{self.title} in {str(self.folder)!r}: the {prefix} images are "
                             f"{images.shape[1]}x{images.shape[2]}, expected 28x28")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{self.title} in {str(self.folder)!r}: {images.shape[0]} images but {labels.shape[0]} "
                f"labels in the {prefix} files; one of them is from another data set"
            )
        if labels.size and int(labels.max()) >= len(self.classes):
            raise ValueError(
                f"{self.title} in {str(self.folder)!r}: label {int(labels.max())} found but there are only "
                f"{len(self.classes)} classes"
            )
        super().__init__(images, labels.astype(np.int64), transform, target_transform)

    def _read(self, stem: str, ndim: int) -> np.ndarray:
        """An IDX file of the split; both images and labels of the MNIST family are uint8."""
        path = self._file(stem)
        array = read_idx(path, expected_ndim=ndim)
        if array.dtype != np.uint8:
            raise ValueError(f"{self.title} file {str(path)!r} holds {array.dtype} values; MNIST-style "
                             "images and labels are uint8 (IDX type code 0x08). Is it the right file?")
        return array

    # -- locating, verifying, downloading -------------------------------------------------------
    def _file(self, stem: str) -> Path:
        gz = self.folder / f"{stem}.gz"
        return gz if gz.is_file() else self.folder / stem

    @classmethod
    def _candidates(cls, root: str | os.PathLike | None) -> tuple[list[Path], Path]:
        """Directories to search, and the one to download into."""
        if root is not None:
            root = Path(root).expanduser()
            raw = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}[cls.name]
            return [root, root / cls.name, root / raw / "raw"], root
        base = default_data_dir()
        if os.environ.get(_ENV):
            return [base / cls.name, base], base / cls.name
        return [base / cls.name], base / cls.name

    @classmethod
    def _complete(cls, folder: Path) -> bool:
        return all((folder / f).is_file() or (folder / f.removesuffix(".gz")).is_file() for f in cls.resources)

    @classmethod
    def _verify(cls, folder: Path) -> None:
        for fname, md5 in cls.resources.items():
            path = folder / fname
            if path.is_file() and (got := md5_of(path)) != md5:
                raise ValueError(
                    f"{cls.title} file {str(path)!r} has MD5 {got}, but the published checksum is {md5}: "
                    "it is corrupt, truncated or a different file. Delete it; it will be downloaded again."
                )

    @classmethod
    def locate(cls, root: str | os.PathLike | None = None, download: bool = True) -> Path:
        """The directory holding all four files (downloading them first if needed and allowed)."""
        candidates, target = cls._candidates(root)
        for folder in candidates:
            if cls._complete(folder):
                cls._verify(folder)
                return folder
        reason = "download=False"
        if download:
            try:
                cls.download(target)
                return target
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                reason = f"the download failed: {exc.__class__.__name__}: {exc}"
        names = "\n  ".join(cls.resources)
        raise FileNotFoundError(
            f"{cls.title} not found: looked in {', '.join(str(c) for c in candidates)}, and {reason}.\n"
            f"Put these four files (gzip or uncompressed) into {target}:\n  {names}\n"
            f"(from {cls.mirrors[0]}), or pass another directory with root= / --data-dir, "
            f"or set ${_ENV}."
        )

    @classmethod
    def download(cls, folder: str | os.PathLike, timeout: float | None = None) -> None:
        """Fetch the missing files into ``folder``, each verified by MD5 and written atomically.

        Raises ``urllib.error.URLError`` / ``OSError`` when no mirror answers, and ``ValueError``
        when a downloaded file's MD5 does not match (the bad bytes are never written).
        """
        folder = Path(folder)
        timeout = DOWNLOAD_TIMEOUT_S if timeout is None else timeout
        for fname, md5 in cls.resources.items():
            if (folder / fname).is_file() or (folder / fname.removesuffix(".gz")).is_file():
                continue
            errors = []
            for mirror in cls.mirrors:
                url = mirror + fname
                try:
                    with urllib.request.urlopen(url, timeout=timeout) as response:
                        payload = response.read()
                except (urllib.error.URLError, OSError, TimeoutError) as exc:
                    errors.append(f"{url}: {exc}")
                    continue
                got = hashlib.md5(payload).hexdigest()
                if got != md5:
                    raise ValueError(
                        f"{cls.title}: {url} sent {len(payload)} bytes with MD5 {got}, expected {md5}; "
                        "not saved. Try again later or fetch the file by hand."
                    )
                atomic_write_bytes(folder / fname, payload)
                break
            else:
                raise urllib.error.URLError("; ".join(errors))


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 gray clothing images, 60,000 train / 10,000 test, 10 classes.

    Same files, layout and arguments as :class:`MNIST`.
    """

    name = "fashion-mnist"
    title = "Fashion-MNIST"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
