"""torchvision-style data sets that yield ONE ``(image, target)`` at a time, for per-image transforms.

``MNIST`` / ``FashionMNIST(root, train=True, transform=None, target_transform=None, download=False)``
wrap :mod:`minitorch_cnn.data.mnist` (same files, same search rules; ``root=None`` means the default
data folder). Without a transform an image is a PIL image (mode ``"L"``, 28x28) when Pillow is
installed, else a uint8 NumPy array of shape (28, 28); with ``transforms.ToTensor()`` a float32 Tensor
(1, 28, 28) in [0, 1]. Targets are Python ints. The DataLoader batches them item by item; for
training speed on these 28x28 sets prefer ``minitorch_cnn.data.FashionMNIST`` with its batch
transforms (one call per batch).

``ImageFolder(root, transform=None, ...)``: ``root/<class>/**/<image>`` with classes the sorted folder
names, ``class_to_idx``, ``samples`` (path, index) and ``targets``; images read with Pillow (an
optional dependency: ``pip install minitorch_cnn[vision]``) and converted to RGB, as torchvision's loader.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data import mnist as _mnist
from ..data.dataset import Dataset
from .transforms import require_pil

__all__ = ["MNIST", "FashionMNIST", "ImageFolder", "IMG_EXTENSIONS", "pil_loader", "has_file_allowed_extension"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _as_image(array: np.ndarray) -> Any:
    try:
        from PIL import Image
    except ImportError:
        return array
    return Image.fromarray(array, mode="L")


class _PerImage:
    """Mixin: ``ds[i]`` applies the per-image ``transform`` to one image; no batch fast path."""

    data: np.ndarray
    targets: np.ndarray
    transform: Callable | None
    target_transform: Callable | None

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = int(index)
        img, target = _as_image(self.data[index]), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def get_batch(self) -> Any:
        """Absent (``hasattr`` is False): transforms here take one image, so the DataLoader and
        ``Subset`` use the per-sample path instead of the parent's batch fast path."""
        raise AttributeError(f"{type(self).__name__} has no get_batch: its transforms take one image")


class MNIST(_PerImage, _mnist.MNIST):
    """MNIST digits with torchvision's signature (``download=False`` by default, as torchvision)."""

    def __init__(self, root: str | os.PathLike | None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, train=train, transform=None, target_transform=None, download=download)
        self.transform, self.target_transform = transform, target_transform


class FashionMNIST(_PerImage, _mnist.FashionMNIST):
    """Fashion-MNIST with torchvision's signature (``download=False`` by default, as torchvision)."""

    def __init__(self, root: str | os.PathLike | None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, train=train, transform=None, target_transform=None, download=download)
        self.transform, self.target_transform = transform, target_transform


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def pil_loader(path: str | os.PathLike) -> Any:
    """Open an image file with Pillow and convert it to RGB (torchvision's default loader)."""
    Image = require_pil("ImageFolder")
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


class ImageFolder(Dataset):
    """Images arranged as ``root/<class name>/.../<file>``; classes are the sorted folder names.

    Attributes (torchvision's): ``classes``, ``class_to_idx``, ``samples`` / ``imgs`` (list of
    (path, class index)), ``targets``, ``extensions``. Files are found in sorted order (following
    links); a class folder without images is an error unless ``allow_empty=True``.
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable[[str], Any] | None = None,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:
        if loader is None:
            require_pil("ImageFolder")
            loader = pil_loader
        self.root = str(root)
        self.loader, self.transform, self.target_transform = loader, transform, target_transform
        self.extensions = IMG_EXTENSIONS if is_valid_file is None else None
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, self.extensions, is_valid_file, allow_empty)
        self.imgs = self.samples
        self.targets = [s[1] for s in self.samples]

    @staticmethod
    def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
        if not Path(directory).is_dir():
            raise FileNotFoundError(f"ImageFolder: {str(directory)!r} is not a directory")
        classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
        if not classes:
            raise FileNotFoundError(f"ImageFolder: couldn't find any class folder in {str(directory)!r}; "
                                    "expected root/<class name>/<image files>")
        return classes, {name: i for i, name in enumerate(classes)}

    @staticmethod
    def make_dataset(directory: str, class_to_idx: dict[str, int], extensions: tuple[str, ...] | None = None,
                     is_valid_file: Callable[[str], bool] | None = None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        if (extensions is None) == (is_valid_file is None):
            raise ValueError("ImageFolder: give exactly one of extensions and is_valid_file")
        valid = is_valid_file or (lambda p: has_file_allowed_extension(p, extensions))  # type: ignore[arg-type]
        samples, empty = [], []
        for name in sorted(class_to_idx):
            before = len(samples)
            for base, _dirs, files in sorted(os.walk(os.path.join(directory, name), followlinks=True)):
                for fname in sorted(files):
                    path = os.path.join(base, fname)
                    if valid(path):
                        samples.append((path, class_to_idx[name]))
            if len(samples) == before:
                empty.append(name)
        if empty and not allow_empty:
            raise FileNotFoundError(f"ImageFolder: found no valid file for the classes {', '.join(empty)} in "
                                    f"{directory!r}; supported extensions are {', '.join(extensions or ())} "
                                    "(or pass allow_empty=True)")
        return samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        return f"ImageFolder(root={self.root!r}, n={len(self)}, classes={len(self.classes)}, transform={self.transform!r})"
