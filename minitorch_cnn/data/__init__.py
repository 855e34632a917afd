"""Data: data sets, the DataLoader, batch transforms, the IDX format and the offline built-in data set.

    from minitorch_cnn.data import DataLoader, FashionMNIST, GlyphsInClutter, transforms as T
    train = FashionMNIST("../shared/data/fashion-mnist", train=True,
                         transform=T.Compose([T.ToTensor(), T.Normalize((0.2860,), (0.3530,))]))
    for images, labels in DataLoader(train, batch_size=128, shuffle=True, seed=0):
        ...   # images: float32 Tensor (128, 1, 28, 28); labels: int64 Tensor (128,)
"""

from . import transforms
from .builtin import GlyphsInClutter
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, ImageArrayDataset, Subset, TensorDataset
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ImageArrayDataset",
    "DataLoader",
    "default_collate",
    "transforms",
    "read_idx",
    "write_idx",
    "MNIST",
    "FashionMNIST",
    "GlyphsInClutter",
]
