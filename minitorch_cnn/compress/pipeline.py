"""The measured recipes behind ``python -m minitorch_cnn.compress``: each starts from a trained unit
CNN, compresses it, fine-tunes briefly where the method needs it, and returns the compressed model.

* ``prune_retrain``: global magnitude pruning to ``sparsity`` in ``steps`` rounds (equal steps or
  Zhu & Gupta's cubic schedule; convolutions optionally held to their own ``conv_sparsity``), each
  followed by ``batches`` steps of fine-tuning (Han et al. 2015);
* ``quantize_int8``: post-training int8 (weights per channel, activations per tensor) calibrated
  on ``batches`` training batches with the chosen observer; ``qat_batches`` > 0 adds
  quantization-aware fine-tuning before freezing;
* ``share_weights``: k-means weight sharing (``bits``) of an (already pruned) model, then
  fine-tuning of the centroids only;
* ``binarize_weights``: BWN / BinaryConnect / XNOR on all but the first and last layer, then
  fine-tuning of the shadow weights;
* ``train_predefined_sparse``: a fresh unit CNN with pre-defined sparse masks, trained from scratch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import nn, optim
from ..data import MNIST, DataLoader, FashionMNIST, GlyphsInClutter, Subset
from ..data import transforms as T
from ..models import FashionCNN
from . import binarize, int8, kmeans, predefined, prune, qat
from .observers import MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver

__all__ = ["DATASETS", "loaders", "normalization", "fine_tune", "prune_retrain", "quantize_int8", "share_weights", "binarize_weights",
           "train_predefined_sparse", "OBSERVERS"]

StepHook = Callable[[float], None]  # called after every optimizer step with that batch's loss

OBSERVERS = {"minmax": MinMaxObserver, "moving-average": MovingAverageMinMaxObserver,
             "percentile": PercentileObserver}


DATASETS = ("builtin", "fashion-mnist", "mnist")


def _datasets(dataset: str, data_dir: str | None, limit: int | None, transform: Any = None) -> tuple[Any, Any]:
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r} must be one of {', '.join(DATASETS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit={limit!r} must be a positive int (None: the whole training set; built-in: 8000)")
    if dataset == "builtin":
        n = 8000 if limit is None else limit
        return (GlyphsInClutter(train=True, size=n, seed=0, transform=transform),
                GlyphsInClutter(train=False, size=max(n // 5, 1), seed=0, transform=transform))
    cls = MNIST if dataset == "mnist" else FashionMNIST
    train = cls(data_dir, train=True, transform=transform)
    if limit is not None:  # the first ``limit`` training images; the test set stays whole
        train = Subset(train, np.arange(min(limit, len(train))))
    return train, cls(data_dir, train=False, transform=transform)


def normalization(dataset: str, data_dir: str | None, limit: int | None = None) -> tuple[float, float]:
    """Mean and standard deviation of the training pixels (in [0, 1]), as ``train.py`` computes them."""
    train = _datasets(dataset, data_dir, limit)[0]
    pixels = train.dataset.data[train.indices] if isinstance(train, Subset) else train.data
    return float(pixels.mean() / 255.0), float(pixels.std() / 255.0)


def loaders(dataset: str, data_dir: str | None, normalize: tuple[float, float], batch_size: int = 128,
            limit: int | None = None, seed: int = 0, test_limit: int | None = None,
            augment: bool = False) -> tuple[DataLoader, DataLoader]:
    """Shuffled training and ordered test loaders (``test_limit``: only the first that many test images).

    ``augment``: the training images get the train CLI's ``--augment`` (random crop with padding 2,
    and on Fashion-MNIST a horizontal flip), the augmentation the unit CNN was trained with.
    """
    train_set, test_set = _datasets(dataset, data_dir, limit, T.image_transforms(normalize))
    if augment:
        base = train_set.dataset if isinstance(train_set, Subset) else train_set
        # the test set is a separate object and keeps the plain transform
        base.transform = T.image_transforms(normalize, augment=True, flip=dataset == "fashion-mnist")
    if test_limit is not None and (isinstance(test_limit, bool) or not isinstance(test_limit, int) or test_limit < 1):
        raise ValueError(f"test_limit={test_limit!r} must be a positive int (None: the whole test split)")
    if test_limit is not None:
        test_set = Subset(test_set, np.arange(min(test_limit, len(test_set))))
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed),
            DataLoader(test_set, batch_size=250))


def _batches(loader: DataLoader) -> Iterator[Any]:
    while True:  # as many passes as asked for
        yield from loader


def _train_step(model: nn.Module, opt: Any, x: Any, y: Any, on_step: StepHook | None) -> None:
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    if on_step is not None:
        on_step(loss.item())


def fine_tune(model: nn.Module, loader: DataLoader, batches: int, lr: float = 1e-4,
              lr_decay: str = "none", on_step: StepHook | None = None) -> nn.Module:
    """``batches`` Adam steps of cross-entropy on ``loader`` (every parameter that requires grad).

    ``lr_decay="cosine"``: the learning rate falls from ``lr`` to 0 over the ``batches`` steps
    (``CosineAnnealingLR``), so the fine-tuned weights settle instead of ending mid-stride.
    ``on_step(loss)`` after every step (the CLI's progress bar).
    """
    if lr_decay not in ("none", "cosine"):
        raise ValueError(f"fine_tune: lr_decay={lr_decay!r} must be 'none' or 'cosine'")
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 0:
        raise ValueError(f"fine_tune: batches={batches!r} must be an int >= 0 (0: no fine-tuning)")
    if batches == 0:
        return model
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optim.Adam(params, lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=batches) if lr_decay == "cosine" else None
    model.train()
    for i, (x, y) in enumerate(_batches(loader)):
        if i >= batches:
            break
        _train_step(model, opt, x, y, on_step)
        if sched is not None:
            sched.step()
    return model.eval()


def prune_retrain(model: nn.Module, loader: DataLoader, sparsity: float, steps: int, batches: int,
                  lr: float = 1e-4, schedule: str = "linear", conv_sparsity: float | None = None,
                  lr_decay: str = "none", on_step: StepHook | None = None) -> nn.Module:
    prune.iterative_prune(model, sparsity, steps,
                          lambda m, r: fine_tune(m, loader, batches, lr, lr_decay, on_step),
                          schedule=schedule, conv_sparsity=conv_sparsity)
    return model


def quantize_int8(model: nn.Module, loader: DataLoader, observer: str, batches: int, qat_batches: int = 0,
                  lr: float = 1e-5, on_step: StepHook | None = None,
                  lr_decay: str = "none") -> tuple[nn.Module, nn.Module]:
    """``(fake-quantized model, int8 model)``; both compute the same codes.

    ``batches`` >= 1 calibration batches; ``qat_batches`` >= 0 quantization-aware fine-tuning steps.
    """
    if observer not in OBSERVERS:
        raise ValueError(f"quantize_int8: observer={observer!r} must be one of {', '.join(OBSERVERS)}")
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise ValueError(f"quantize_int8: batches={batches!r} calibration batches must be an int >= 1 (the "
                         "observers need data to set the scales)")
    if isinstance(qat_batches, bool) or not isinstance(qat_batches, int) or qat_batches < 0:
        raise ValueError(f"quantize_int8: qat_batches={qat_batches!r} must be an int >= 0 (0: no QAT)")
    qat.prepare_qat(model, activation_observer=OBSERVERS[observer])
    qat.calibrate(model, loader, max_batches=batches)
    if qat_batches > 0:
        fine_tune(model, loader, qat_batches, lr, lr_decay, on_step=on_step)
    qat.freeze(model)
    return model.eval(), int8.convert(model)


def share_weights(model: nn.Module, loader: DataLoader, bits: int, batches: int, lr: float = 1e-4,
                  on_step: StepHook | None = None, lr_decay: str = "none") -> nn.Module:
    kmeans.share_weights(model, bits=bits)
    return fine_tune(model, loader, batches, lr, lr_decay, on_step=on_step)


def binarize_weights(model: nn.Module, loader: DataLoader, method: str, batches: int, lr: float = 1e-4,
                     on_step: StepHook | None = None, lr_decay: str = "none") -> nn.Module:
    binarize.binarize(model, method)
    return fine_tune(model, loader, batches, lr, lr_decay, on_step=on_step)


def train_predefined_sparse(loader: DataLoader, conv_density: float, linear_density: float, epochs: int,
                            dense_every: int | None = None, lr: float = 2e-3,
                            on_step: StepHook | None = None) -> nn.Module:
    """A unit CNN with pre-defined sparse masks, trained from scratch with Adam and a one-cycle schedule."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train_predefined_sparse: epochs={epochs!r} must be an int >= 1")
    model = predefined.predefined_sparse(FashionCNN(), conv_density, linear_density, dense_every=dense_every)
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader))
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            _train_step(model, opt, x, y, on_step)
            sched.step()
    return model.eval()
