"""``torch.utils.data`` for minitorch_cnn: data sets, samplers and a multi-process ``DataLoader``.

    from minitorch_cnn.utils.data import DataLoader, TensorDataset, random_split

    train, val = random_split(TensorDataset(x, y), [0.8, 0.2], generator=np.random.default_rng(0))
    for images, labels in DataLoader(train, batch_size=128, shuffle=True, num_workers=2):
        ...

``minitorch_cnn.data`` (the single-process loader the train CLI uses, with ``seed=``, ``device=`` and
resumable ``state_dict``) stays as it is; ``Dataset`` and ``Subset`` are its classes, re-exported.
Differences from PyTorch are listed in :mod:`minitorch_cnn.utils.data.dataloader`'s docstring.
"""

from ...data.dataset import Dataset, Subset
from ._collate import default_collate, default_convert
from ._worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader
from .dataset import ConcatDataset, TensorDataset, random_split
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "WorkerInfo",
]
