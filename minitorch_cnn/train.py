"""``python -m minitorch_cnn.train``: train the unit's CNN (or the MLP baseline) and keep the results.

Examples::

    python -m minitorch_cnn.train                       # built-in data, CNN (README: time, accuracy)
    python -m minitorch_cnn.train --model mlp           # the MLP baseline on the same data
    python -m minitorch_cnn.train --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist \\
        --epochs 8 --batch-size 128 --lr 2e-3 --scheduler onecycle   # README's measured run (93.5% soonest)
    python -m minitorch_cnn.train --resume runs/builtin-cnn-seed0/last.npz   # continue after Ctrl-C
    python -m minitorch_cnn.train --resume runs/builtin-cnn-seed0/best.npz --eval-only

The algorithm is two functions, :func:`train_one_epoch` (forward, loss, zero_grad, backward, step
for every batch) and :func:`evaluate` (the test split under ``no_grad``). :func:`train` wraps them
with what a real run needs:

1. Every flag, path and the device are checked first (``preflight``), before data is loaded or a
   model built: a mistake is one line and exit status 2.
2. Seeds everything from ``--seed`` (weights, dropout, augmentation, shuffling): same seed, same run.
3. Prints the model summary, then per epoch a progress bar and an evaluation on the test split.
4. Writes to ``--out`` (default ``runs/<dataset>-<model>-seed<seed>``), each file atomically:
   ``metrics.csv`` / ``metrics.json`` (one row per epoch; strict JSON), ``last.npz`` (after every
   epoch), ``best.npz`` (best test accuracy so far) and ``curves.png`` (or a one-line notice that
   matplotlib is missing). A checkpoint holds model, optimizer and scheduler state, the epoch, the
   random generators' states, the data loader's position and the configuration (see
   ``checkpoint.py``).
   A run never destroys another run's files: an ``--out`` that already holds a run is refused
   before any work (continue it with ``--resume``, give another ``--out``, or pass ``--overwrite``),
   and a lock file ``<out>/.lock`` (pid, host, start time) makes a second run on the same folder
   at the same time refuse to start (see ``cli.claim_out_dir``).
5. Ctrl-C, SIGTERM or SIGHUP (the terminal closed, an SSH connection dropped) finishes the running
   batch, writes ``last.npz`` and prints the command that resumes; the exit status is 128 + the
   signal's number (130, 143, 129). A resumed run is bit-identical to one never interrupted. A
   second signal aborts at once.
6. A loss that is NaN or infinite stops the run (exit status 1) with the last good checkpoint kept,
   unless ``--skip-nonfinite`` is given (such batches are then skipped and counted).
7. ``--resume`` continues a run with its own configuration. Flags given with it either *apply*
   (``--lr``, ``--weight-decay``, ``--momentum``, ``--batch-size`` at an epoch boundary, ``--epochs`` to
   extend; the header and ``metrics.json`` list each change) or are refused with the reason
   (``--optimizer``, ``--scheduler``, ``--model``, ``--dataset``, ``--limit``, ``--seed``).

From Python: ``train(TrainConfig(epochs=1, limit=512))`` or ``main(["--limit", "512"])``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import backend, safe_load
from . import train_report as report
from .checkpoint import load_checkpoint, save_checkpoint, state_dict_mismatch
from .cli import (
    RUN_MARKERS,
    ArgumentParser,
    UsageError,
    check_device,
    check_input_file,
    check_out_dir,
    check_range,
    claim_out_dir,
    run_main,
    user_errors,
)
from .data import MNIST, DataLoader, FashionMNIST, GlyphsInClutter, Subset
from .data import transforms as T
from .models import MODELS, build_for_images

__all__ = ["TrainConfig", "TrainState", "RunningStats", "NonFiniteLossError", "train", "train_one_epoch",
           "evaluate", "preflight", "claim_run_dir", "main", "build_parser", "config_from_args", "BUILTIN_DEFAULT_TRAIN_SIZE",
           "MAX_BATCH_SIZE"]

PROG = "minitorch_cnn.train"
#: training images used from the built-in data set when --limit is not given: keeps the default run ~1 min
BUILTIN_DEFAULT_TRAIN_SIZE = 8000
#: largest --batch-size / --eval-batch-size: activations and im2col buffers grow linearly with the batch
MAX_BATCH_SIZE = 4096
MAX_EPOCHS = 10_000
_DATASETS = ("builtin", "fashion-mnist", "mnist")
_OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
_SCHEDULERS = ("none", "step", "cosine", "onecycle")
_DEVICES = ("cpu", "cuda", "strict")  # strict: the CuPy stand-in of the tests (CPU arrays that refuse NumPy)


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run; stored in every checkpoint and in metrics.json.

    Each field is the command-line flag of the same name (``batch_size`` is ``--batch-size``); an
    invalid value raises :class:`~minitorch_cnn.cli.UsageError` (a ``ValueError``) naming that flag.
    """

    dataset: str = "builtin"
    data_dir: str | None = None
    model: str = "cnn"
    epochs: int = 2
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    scheduler: str = "none"
    weight_decay: float = 0.0
    momentum: float = 0.9
    label_smoothing: float = 0.0
    augment: bool = False
    seed: int = 0
    device: str = "cpu"
    out: str | None = None
    resume: str | None = None
    eval_only: bool = False
    limit: int | None = None
    eval_batch_size: int = 1000
    progress: bool = True
    skip_nonfinite: bool = False
    overwrite: bool = False  # replace the files of an earlier run in --out (never inherited on --resume)

    def __post_init__(self) -> None:
        choices = {"dataset": _DATASETS, "optimizer": _OPTIMIZERS, "scheduler": _SCHEDULERS,
                   "model": tuple(MODELS), "device": _DEVICES}
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise UsageError(f"{_flag(field)} {getattr(self, field)!r} is not one of {', '.join(allowed)}")
        if not self.eval_only:
            check_range("--epochs", self.epochs, 1, MAX_EPOCHS)
        check_range("--batch-size", self.batch_size, 1, MAX_BATCH_SIZE, "the limit keeps a batch in memory")
        check_range("--eval-batch-size", self.eval_batch_size, 1, MAX_BATCH_SIZE, "the limit keeps a batch in memory")
        check_range("--lr", self.lr, 0, None, "give a positive learning rate such as 1e-3", lo_open=True)
        check_range("--weight-decay", self.weight_decay, 0, None)
        check_range("--momentum", self.momentum, 0, 1, hi_open=True)
        check_range("--label-smoothing", self.label_smoothing, 0, 1)
        check_range("--seed", self.seed, 0, 2**32 - 1)
        check_range("--limit", self.limit, 2, None, "training needs at least 2 images (BatchNorm needs a batch of 2)")
        if self.eval_only and not self.resume:
            raise UsageError("--eval-only needs --resume CKPT, the checkpoint to evaluate")

    def out_dir(self) -> Path:
        if self.out:
            return Path(self.out)
        if self.resume:
            return Path(self.resume).parent
        return Path("runs") / f"{self.dataset}-{self.model}-seed{self.seed}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TrainState:
    """What callbacks see after every batch (``callbacks=[fn]``, ``fn(state)``)."""

    epoch: int
    batch: int  # batches done in this epoch
    step: int  # batches done in the whole run
    loss: float
    model: Any
    optimizer: Any


@dataclasses.dataclass
class RunningStats:
    """Running sums of one epoch: mean loss and accuracy so far, in training mode (dropout on)."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    time: float = 0.0  # seconds spent in this epoch so far (kept across an interruption)
    skipped: int = 0  # batches skipped for a non-finite loss (--skip-nonfinite)
    last_loss: float = 0.0

    def update(self, loss_value: float, logits: Any, y: Any) -> None:
        self.last_loss = loss_value
        self.loss_sum += loss_value * y.shape[0]
        self.correct += int(backend.to_numpy((logits._array.argmax(axis=1) == y._array).sum()))
        self.seen += int(y.shape[0])

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.seen, 1)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class NonFiniteLossError(FloatingPointError):
    """The loss of a batch was NaN or infinite: the weights would be ruined by its step."""

    def __init__(self, value: float, batch: int, message: str = "") -> None:
        super().__init__(message or f"the loss of batch {batch} is {value}")
        self.value, self.batch = value, batch


# --------------------------------------------------------------------------------------------------
# The algorithm
# --------------------------------------------------------------------------------------------------
def train_one_epoch(model: Any, loader: DataLoader, criterion: Any, optimizer: Any, device: str = "cpu", *,
                    scheduler: Any = None, stats: RunningStats | None = None,
                    after_batch: Callable[[RunningStats], bool] | None = None,
                    skip_nonfinite: bool = False) -> RunningStats:
    """One pass over ``loader``: for every batch, forward, loss, zero_grad, backward, step.

    Args:
        scheduler: a learning-rate schedule stepped after every batch (``OneCycleLR``); schedules
            stepped per epoch are the caller's.
        stats: running sums to continue (a resumed epoch); default fresh ones.
        after_batch: called after every step with the stats; returning True ends the epoch early.
        skip_nonfinite: skip a batch whose loss is NaN/inf instead of raising ``NonFiniteLossError``.

    Returns the epoch's :class:`RunningStats` (mean loss and accuracy over the batches, dropout on).
    """
    model.train()
    stats = stats if stats is not None else RunningStats()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        # BEGIN SOLUTION 4.6
        logits = model(x)
        loss = criterion(logits, y)
        # END SOLUTION
        loss_value = float(loss.item())
        if not math.isfinite(loss_value):  # checked before the step, so the weights stay good
            if not skip_nonfinite:
                raise NonFiniteLossError(loss_value, loader.state_dict()["batches_done"] or len(loader))
            stats.skipped += 1
            continue
        # BEGIN SOLUTION 4.6
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # END SOLUTION
        if scheduler is not None:
            scheduler.step()
        stats.update(loss_value, logits, y)
        if after_batch is not None and after_batch(stats):
            break
    return stats


def evaluate(model: Any, loader: DataLoader, criterion: Any, device: str = "cpu", num_classes: int = 10) -> dict:
    """Test loss, accuracy and confusion matrix (rows: true class, columns: predicted).

    Runs in eval mode (dropout off, BatchNorm's running statistics) under ``no_grad``, so no op keeps
    anything for a backward pass.
    """
    import minitorch_cnn as mt

    model.eval()
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    total_loss = 0.0
    n = 0
    with mt.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            total_loss += float(criterion(out, y).item()) * y.shape[0]
            pred = backend.to_numpy(out._array.argmax(axis=1))
            np.add.at(confusion, (backend.to_numpy(y._array), pred), 1)
            n += y.shape[0]
    return {"loss": total_loss / max(n, 1), "accuracy": float(np.trace(confusion) / max(n, 1)),
            "confusion": confusion}


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------
def _datasets(cfg: TrainConfig, normalize: tuple[float, float] | None) -> tuple[Any, Any, tuple]:
    """(train set, test set, (mean, std)); the test set is the first ``max(limit // 5, 1)`` images."""
    train_limit = cfg.limit
    if cfg.dataset == "builtin":
        n_train = cfg.limit or BUILTIN_DEFAULT_TRAIN_SIZE
        n_test = max(n_train // 5, 1)
        train_set = GlyphsInClutter(train=True, size=min(n_train, 60000), seed=0)
        test_set = GlyphsInClutter(train=False, size=min(n_test, 10000), seed=0)
        train_limit = None
    else:
        cls = FashionMNIST if cfg.dataset == "fashion-mnist" else MNIST
        train_set = cls(cfg.data_dir, train=True)
        test_set = cls(cfg.data_dir, train=False)
    if normalize is None:  # statistics of the training images, stored in the config for later runs
        pixels = train_set.data[: train_limit or None]
        normalize = (float(pixels.mean() / 255.0), float(pixels.std() / 255.0))
    train_set.transform = T.image_transforms(normalize, augment=cfg.augment, flip=cfg.dataset == "fashion-mnist")
    test_set.transform = T.image_transforms(normalize)
    if train_limit is not None:
        train_set = Subset(train_set, np.arange(min(train_limit, len(train_set))))
        test_set = Subset(test_set, np.arange(min(max(train_limit // 5, 1), len(test_set))))
    return train_set, test_set, normalize


def _optimizer_hparams(cfg: TrainConfig) -> dict:
    """The hyper-parameters of ``cfg.optimizer`` that come from flags (what a resume may change)."""
    if cfg.optimizer == "sgd":
        return {"lr": cfg.lr, "momentum": cfg.momentum, "weight_decay": cfg.weight_decay}
    if cfg.optimizer == "adamw":
        return {"lr": cfg.lr, "weight_decay": cfg.weight_decay or 1e-2}  # AdamW's usual default
    return {"lr": cfg.lr, "weight_decay": cfg.weight_decay}


def _optimizer(cfg: TrainConfig, params: list) -> Any:
    from . import optim

    cls = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop}[cfg.optimizer]
    return cls(params, **_optimizer_hparams(cfg))


def _scheduler(cfg: TrainConfig, optimizer: Any, steps_per_epoch: int) -> tuple[Any, bool]:
    """(scheduler or None, stepped per batch?)."""
    from .optim import lr_scheduler

    if cfg.scheduler == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(cfg.epochs // 3, 1), gamma=0.1), False
    if cfg.scheduler == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs), False
    if cfg.scheduler == "onecycle":
        total = cfg.epochs * steps_per_epoch
        return lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total), True
    return None, False


def _train_loader(cfg: TrainConfig, train_set: Any) -> tuple[DataLoader, str]:
    """The shuffled training loader, and a note when its last batch (of one image) is dropped."""
    lone = len(train_set) % cfg.batch_size == 1 and len(train_set) > 1
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, seed=cfg.seed + 1_000_003,
                        drop_last=lone)
    note = (f"note: {len(train_set)} images in batches of {cfg.batch_size} would leave a last batch of 1 image, "
            "which BatchNorm cannot normalise in training mode; it is dropped each epoch (drop_last)") if lone else ""
    return loader, note


def _print_summary(console: Any, model: Any, device: str) -> None:
    """The viz engineer's summary table when available, else repr + parameter counts.

    A summary runs the model on dummy inputs; the weights, buffers and generator state are put back
    afterwards so that printing it cannot change the run.
    """
    rng = backend.get_rng_state()
    saved = {k: backend.to_numpy(v._array).copy() for k, v in model.state_dict().items()}
    try:
        from .viz.summary import summary

        console.print(summary(model, (1, 28, 28), device=device))
    except Exception as exc:  # noqa: BLE001 - a broken summary must not stop training
        n_train = sum(int(np.prod(p.shape)) for p in model.parameters() if p.requires_grad)
        n_buf = sum(int(np.prod(b.shape)) for _, b in model.named_buffers())
        console.print(repr(model))
        console.print(f"Trainable params: {n_train:,}   buffers: {n_buf:,}   (summary unavailable: {exc})")
    finally:
        model.load_state_dict(saved)
        backend.set_rng_state(rng)


# --------------------------------------------------------------------------------------------------
# Checks before any work, and what a resume may change
# --------------------------------------------------------------------------------------------------
#: fixed by the checkpoint: the weights, optimizer state, schedule or data order depend on them
_FIXED_ON_RESUME = {
    "model": "the checkpoint's weights are for its model",
    "dataset": "the checkpoint was trained on its data set",
    "limit": "the data loader's position refers to the checkpoint's images",
    "seed": "the random generators continue from the checkpoint's states",
    "optimizer": "the checkpoint holds the state of its optimizer",
    "scheduler": "the checkpoint holds the state of its schedule",
}
#: applied on resume (written into the optimizer's parameter groups), and reported
_APPLIED_ON_RESUME = ("lr", "weight_decay", "momentum", "batch_size", "epochs")


def _resume_changes(cfg: TrainConfig, ckpt: dict) -> dict[str, list]:
    """``{field: [checkpoint's value, new value]}`` for the changes a resume applies; refuses the rest."""
    saved = ckpt["config"]
    fields = ("model",) if cfg.eval_only else tuple(_FIXED_ON_RESUME)
    for field in fields:
        if field in saved and saved[field] != getattr(cfg, field):
            raise UsageError(f"{_flag(field)} {getattr(cfg, field)!r} differs from the checkpoint's "
                             f"{saved[field]!r} and cannot change on --resume: {_FIXED_ON_RESUME[field]}; "
                             f"start a new run with another --out instead")
    if cfg.eval_only:
        return {}
    done, batches_done = int(ckpt["epoch"]), int(ckpt["loader"]["batches_done"])
    if done >= cfg.epochs and not batches_done and cfg.epochs == saved.get("epochs"):
        raise UsageError(f"--resume {cfg.resume!r}: this run already finished {done} of {cfg.epochs} epochs; "
                         f"give --epochs N with N > {done} to train on, or --eval-only to evaluate it")
    if done + (1 if batches_done else 0) > cfg.epochs or done == cfg.epochs:
        part = " and part of the next" if batches_done else ""
        raise UsageError(f"--epochs {cfg.epochs} leaves nothing to train: the checkpoint has done {done} "
                         f"epochs{part}; give --epochs {done + 1} or more")
    changes = {f: [saved.get(f), getattr(cfg, f)] for f in _APPLIED_ON_RESUME if saved.get(f) != getattr(cfg, f)}
    laid_out = {"none": (), "onecycle": ("epochs", "lr", "batch_size")}.get(cfg.scheduler, ("epochs", "lr"))
    for field in (f for f in laid_out if f in changes):
        raise UsageError(f"{_flag(field)} cannot change on --resume with --scheduler {cfg.scheduler}: the "
                         f"schedule was laid out for {_flag(field)} {saved.get(field)}; resume with that value")
    if "batch_size" in changes and batches_done:
        raise UsageError(f"--batch-size cannot change on --resume in the middle of an epoch (the checkpoint "
                         f"stopped after batch {batches_done} of size {saved['batch_size']}); resume with "
                         f"--batch-size {saved['batch_size']} or from a checkpoint at an epoch's end")
    if "momentum" in changes and cfg.optimizer != "sgd":
        raise UsageError(f"--momentum applies to --optimizer sgd only; this run uses {cfg.optimizer}")
    return changes


def preflight(cfg: TrainConfig) -> tuple[dict | None, dict]:
    """Check the device, the checkpoint, what a resume changes and ``--out``: before any data is loaded.

    Returns (the checkpoint or None, the changes a resume applies).
    """
    check_device("--device", cfg.device)
    if cfg.data_dir is not None and Path(cfg.data_dir).is_file():
        raise UsageError(f"--data-dir {cfg.data_dir!r} is a file; give the directory with the IDX files")
    ckpt, changes = None, {}
    if cfg.resume:
        ckpt = _load_training_checkpoint(cfg.resume)
        changes = _resume_changes(cfg, ckpt)
    if not cfg.eval_only:
        check_out_dir("--out", cfg.out_dir())
    return ckpt, changes


def claim_run_dir(cfg: TrainConfig) -> contextlib.AbstractContextManager[Path]:
    """``--out``, claimed for this run (:func:`~minitorch_cnn.cli.claim_out_dir`): locked for the run's
    life, and refused if it holds another run's files unless ``--overwrite``.

    ``--resume`` continues in its checkpoint's own folder, whose files are that run's: no refusal there.
    """
    out = cfg.out_dir()
    own = cfg.resume is not None and _same_dir(out, Path(cfg.resume).parent)
    last = out / "last.npz"
    resume = f"continue it with --resume {last}, " if last.is_file() else ""
    choices = f"{resume}give another --out, or pass --overwrite to replace its files"
    return claim_out_dir("--out", out, overwrite=cfg.overwrite, markers=() if own else RUN_MARKERS,
                         choices=choices, prog=PROG)


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def _load_training_checkpoint(path: str) -> dict:
    check_input_file("--resume", path)
    with user_errors(f"--resume {path!r}"):
        ckpt = load_checkpoint(path)
    missing = [k for k in ("model", "optim", "rng", "loader", "config", "epoch", "history") if k not in ckpt]
    if missing:
        raise UsageError(f"--resume {path!r} is a checkpoint but not one written by {PROG} (no {', '.join(missing)})")
    return ckpt


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------
class _StopRequest:
    """Turns the first SIGINT, SIGTERM or SIGHUP into "stop after this batch"; a second one aborts at once.

    SIGHUP is what a process gets when its terminal closes or its SSH connection drops: by default it
    dies on the spot, losing the epoch; here it saves like Ctrl-C.
    """

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # the second signal: stop now (``cli.run_main`` says so in one line)
            abort = KeyboardInterrupt()
            abort.signum = signum  # type: ignore[attr-defined]
            raise abort
        self.requested, self.signum = True, signum
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone; the save matters more
            print(f"\n{name}: finishing this batch and saving a checkpoint (again to abort)...", flush=True)

    def __exit__(self, *exc: Any) -> None:
        for s, previous in self._previous.items():
            signal.signal(s, previous)


@dataclasses.dataclass
class _Run:
    """Everything one training run holds between epochs."""

    cfg: TrainConfig
    console: Any
    model: Any
    optimizer: Any
    scheduler: Any
    per_batch: bool
    criterion: Any
    loader: DataLoader
    test_loader: DataLoader
    classes: list
    normalize: tuple
    out: Path
    title: str
    history: list = dataclasses.field(default_factory=list)
    resume_log: list = dataclasses.field(default_factory=list)  # [{"epoch", "batch", "changes"}] per resume
    notes: list = dataclasses.field(default_factory=list)  # printed under the header
    start_epoch: int = 0
    best_acc: float = -1.0
    step: int = 0
    stats: RunningStats = dataclasses.field(default_factory=RunningStats)
    started: float = dataclasses.field(default_factory=time.perf_counter)  # when this process began the run
    wall_before: float = 0.0  # wall-clock seconds of the runs this one resumes

    def wall_s(self) -> float:
        """Wall-clock seconds of the whole run so far: data loading, training, evaluation, checkpoints."""
        return round(self.wall_before + time.perf_counter() - self.started, 1)

    def checkpoint(self, epoch: int, stats: RunningStats) -> dict:
        return {
            "model": self.model.state_dict(),
            "optim": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": epoch,  # epochs fully done
            "rng": backend.get_rng_state(),
            "device_rng_seed": backend.device_rng_seed(),
            "loader": self.loader.state_dict(),
            "running": stats.to_dict(),
            "history": self.history,
            "best_accuracy": self.best_acc,
            "normalize": list(self.normalize),
            "config": self.cfg.to_dict(),
            "resume_log": self.resume_log,
        }

    def metrics_extra(self, res: dict) -> dict:
        return {"best_accuracy": self.best_acc if self.best_acc >= 0 else None, "resume_log": self.resume_log,
                "confusion": np.asarray(res["confusion"]).tolist(), "classes": self.classes}


def _build(cfg: TrainConfig, console: Any, ckpt: dict | None) -> _Run:
    """Data, model, optimizer, schedule and loaders of ``cfg`` (the checkpoint's normalisation)."""
    import minitorch_cnn as mt

    from . import nn

    mt.manual_seed(cfg.seed)
    normalize = tuple(ckpt["normalize"]) if ckpt and ckpt.get("normalize") else None
    with user_errors(f"--dataset {cfg.dataset}"):
        train_set, test_set, normalize = _datasets(cfg, normalize)
    base = getattr(train_set, "dataset", train_set)
    classes = list(getattr(base, "classes", [])) or [str(i) for i in range(10)]
    loader, note = _train_loader(cfg, train_set)
    test_loader = DataLoader(test_set, batch_size=cfg.eval_batch_size, shuffle=False, seed=0)
    model = build_for_images(cfg.model, in_channels=1, num_classes=len(classes))  # zoo models: small_input=True
    model.to(cfg.device)
    optimizer = _optimizer(cfg, list(model.parameters()))
    scheduler, per_batch = _scheduler(cfg, optimizer, len(loader))
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    run = _Run(cfg, console, model, optimizer, scheduler, per_batch, criterion, loader, test_loader, classes,
               normalize, cfg.out_dir(), f"{cfg.model.upper()} on {cfg.dataset}")
    run.notes += [note] if note else []
    return run


def _restore(run: _Run, ckpt: dict, changes: dict) -> None:
    """Load the checkpoint into ``run`` and apply the hyper-parameters a resume changes."""
    cfg = run.cfg
    mismatch = state_dict_mismatch(run.model.state_dict(), ckpt["model"])
    if mismatch:
        raise UsageError(f"--resume {cfg.resume!r} does not fit --model {cfg.model}: {mismatch}")
    run.model.load_state_dict(ckpt["model"])
    run.optimizer.load_state_dict(ckpt["optim"])
    if run.scheduler is not None and ckpt.get("scheduler") is not None:
        run.scheduler.load_state_dict(ckpt["scheduler"])
    backend.set_rng_state(ckpt["rng"])
    backend.set_device_rng_seed(ckpt.get("device_rng_seed"))
    run.loader.load_state_dict(ckpt["loader"])
    run.history, run.resume_log = list(ckpt["history"]), list(ckpt.get("resume_log", []))
    run.wall_before = float(run.history[-1].get("wall_s", 0.0)) if run.history else 0.0
    run.start_epoch, run.best_acc = int(ckpt["epoch"]), float(ckpt["best_accuracy"])
    run.stats = RunningStats(**ckpt["running"])
    batches_done = int(ckpt["loader"]["batches_done"])
    run.step = run.start_epoch * len(run.loader) + batches_done
    hparams = _optimizer_hparams(cfg)
    for group in run.optimizer.param_groups:
        group.update({k: v for k, v in hparams.items() if k in changes and k in group})
    where = f"epoch {run.start_epoch + 1}, batch {batches_done}"
    run.notes.append(f"resumed from {cfg.resume}: {where}")
    if changes:
        run.resume_log.append({"epoch": run.start_epoch + 1, "batch": batches_done, "changes": changes})
        said = ", ".join(f"{_flag(k)} {old} -> {new}" for k, (old, new) in changes.items())
        run.notes.append(f"applied on resume: {said}")


def _header(run: _Run) -> None:
    cfg = run.cfg
    run.console.rule(f"[bold]{run.title}")
    _print_summary(run.console, run.model, cfg.device)
    hp = f"momentum {cfg.momentum}, " if cfg.optimizer == "sgd" else ""
    run.console.print(
        f"train {len(run.loader.dataset)} / test {len(run.test_loader.dataset)} images, {cfg.epochs} epochs of "
        f"{len(run.loader)} batches of {cfg.batch_size}, {cfg.optimizer} lr {cfg.lr}, {hp}weight decay "
        f"{_optimizer_hparams(cfg)['weight_decay']}, scheduler {cfg.scheduler}, device {cfg.device}, out {run.out}",
        highlight=False)
    run.console.print(report.RUNNING_NOTE, highlight=False, style="dim")
    for note in run.notes:
        run.console.print(note, highlight=False)


def _epoch_with_progress(run: _Run, epoch: int, stop: _StopRequest, callbacks: Sequence[Callable]) -> RunningStats:
    """:func:`train_one_epoch` with the live bar, log lines, callbacks, the stop request and the GPU seed."""
    cfg, loader = run.cfg, run.loader
    stats, run.stats = run.stats, RunningStats()
    t0 = time.perf_counter() - stats.time
    with report.progress_bar(run.console, cfg.progress) as bar:
        task = bar.add_task(f"epoch {epoch + 1}/{cfg.epochs}", total=len(loader), loss=0.0, acc=0.0, ips=0.0,
                            completed=loader.state_dict()["batches_done"])

        def after_batch(s: RunningStats) -> bool:
            backend.reseed_device_generator(cfg.device)  # the GPU's stream follows the saved CPU state
            run.step += 1
            s.time = time.perf_counter() - t0
            ips = s.seen / max(s.time, 1e-9)
            bar.update(task, advance=1, loss=s.loss, acc=s.accuracy, ips=ips)
            done = loader.state_dict()["batches_done"] or len(loader)
            if not cfg.progress and done % max(len(loader) // 5, 1) == 0 and done < len(loader):
                run.console.print(f"  epoch {epoch + 1} batch {done}/{len(loader)}: running loss {s.loss:.4f} "
                                  f"acc {s.accuracy:.2%} {ips:.0f} img/s", highlight=False)
            state = TrainState(epoch, done, run.step, s.last_loss, run.model, run.optimizer)
            try:
                for cb in callbacks:
                    cb(state)
            except KeyboardInterrupt:
                stop.requested = True
            return stop.requested

        return train_one_epoch(run.model, loader, run.criterion, run.optimizer, cfg.device,
                               scheduler=run.scheduler if run.per_batch else None, stats=stats,
                               after_batch=after_batch, skip_nonfinite=cfg.skip_nonfinite)


def _finish_epoch(run: _Run, epoch: int, stats: RunningStats) -> dict:
    """Schedule step, evaluation, the epoch's row, checkpoints, metrics and curves."""
    if run.scheduler is not None and not run.per_batch:
        run.scheduler.step()
    res = evaluate(run.model, run.test_loader, run.criterion, run.cfg.device, len(run.classes))
    row = {"epoch": epoch + 1, "train_loss": stats.loss, "train_acc": stats.accuracy, "test_loss": res["loss"],
           "test_acc": res["accuracy"], "lr": float(run.optimizer.param_groups[0]["lr"]),
           "epoch_time_s": round(stats.time, 2), "images_per_s": round(stats.seen / max(stats.time, 1e-9), 1),
           "skipped_batches": stats.skipped, "wall_s": run.wall_s()}
    run.history.append(row)
    skipped = f" | {stats.skipped} batches skipped (non-finite loss)" if stats.skipped else ""
    run.console.print(
        f"epoch {epoch + 1}/{run.cfg.epochs}: train (running avg, dropout on) loss {row['train_loss']:.4f} acc "
        f"{row['train_acc']:.2%} | test loss {row['test_loss']:.4f} acc {row['test_acc']:.2%} | "
        f"{row['images_per_s']:.0f} img/s, {stats.time:.1f}s{skipped}", highlight=False)
    if res["accuracy"] > run.best_acc:
        run.best_acc = res["accuracy"]
        save_checkpoint(run.out / "best.npz", run.checkpoint(epoch + 1, RunningStats()))
    save_checkpoint(run.out / "last.npz", run.checkpoint(epoch + 1, RunningStats()))
    report.write_metrics(run.out, run.cfg.to_dict(), run.history, run.metrics_extra(res))
    if report.plot_curves(run.out, run.history, run.title) is None and len(run.history) == 1:  # said once
        from .viz.plotting import skip_notice

        run.console.print(skip_notice("curves.png"), highlight=False, markup=False)
    return res


def _nonfinite_message(run: _Run, epoch: int, exc: NonFiniteLossError) -> str:
    last = run.out / "last.npz"
    epochs_done = run.history[-1]["epoch"] if run.history else run.start_epoch
    kept = (f"the last good checkpoint {str(last)!r} (after epoch {epochs_done}) is kept" if last.is_file()
            else "no checkpoint had been written yet")
    return (f"loss is {exc.value} at epoch {epoch + 1}, batch {exc.batch} (--lr {run.cfg.lr}): training stopped "
            f"before that step; {kept}. Lower --lr, or pass --skip-nonfinite to skip such batches")


def train(cfg: TrainConfig, callbacks: Sequence[Callable[[TrainState], None]] = (), console: Any = None) -> dict:
    """Run ``cfg``; returns ``{"history", "test", "best_accuracy", "out", "model", "interrupted", ...}``.

    ``callbacks`` are called after every optimizer step with a :class:`TrainState`; one that raises
    ``KeyboardInterrupt`` behaves like Ctrl-C (the batch is complete, a checkpoint is saved). Raises
    ``UsageError`` for a bad flag, path or checkpoint (before any work) and ``NonFiniteLossError``
    when the loss diverges (the weights of the last good checkpoint are kept on disk).
    """
    console = console or report.make_console()
    started = time.perf_counter()
    ckpt, changes = preflight(cfg)
    if cfg.eval_only:  # writes nothing, so claims no folder
        run = _build(cfg, console, ckpt)
        _restore(run, ckpt, changes)
        res = evaluate(run.model, run.test_loader, run.criterion, cfg.device, len(run.classes))
        report.final_table(console, res, run.classes, run.title)
        return _result(run, res, interrupted=False, signum=None)
    with claim_run_dir(cfg):
        run = _build(cfg, console, ckpt)
        run.started = started
        if ckpt is not None:
            _restore(run, ckpt, changes)
        return _train_loop(run, ckpt is None, callbacks)


def _train_loop(run: _Run, fresh: bool, callbacks: Sequence[Callable[[TrainState], None]]) -> dict:
    """The epochs of a built (and, on resume, restored) run, with its checkpoints and the stop request."""
    cfg = run.cfg
    _header(run)
    if fresh:
        backend.reseed_device_generator(cfg.device)
    run.out.mkdir(parents=True, exist_ok=True)
    interrupted, res = False, {}
    # a diverging run overflows inside the ops; the loss check below reports it once, clearly
    with _StopRequest() as stop, np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(run.start_epoch, cfg.epochs):
            try:
                stats = _epoch_with_progress(run, epoch, stop, callbacks)
            except NonFiniteLossError as exc:
                raise NonFiniteLossError(exc.value, exc.batch, _nonfinite_message(run, epoch, exc)) from None
            if stop.requested and run.loader.state_dict()["batches_done"] > 0:
                interrupted = True
                save_checkpoint(run.out / "last.npz", run.checkpoint(epoch, stats))
                break
            res = _finish_epoch(run, epoch, stats)
            if stop.requested:  # a signal during the evaluation: the epoch is complete and saved
                interrupted = epoch + 1 < cfg.epochs
                break
    _report_end(run, res, interrupted)
    return _result(run, res, interrupted, stop.signum)


def _report_end(run: _Run, res: dict, interrupted: bool) -> None:
    if interrupted:
        resume = f"python -m minitorch_cnn.train --resume {run.out / 'last.npz'}"
        run.console.print(f"[yellow]Interrupted.[/] Checkpoint saved to {run.out / 'last.npz'}. Resume with:",
                          soft_wrap=True)
        run.console.print(f"  {resume}", soft_wrap=True, highlight=False, markup=False)
    elif res:
        report.final_table(run.console, res, run.classes, run.title)
        run.console.print(f"best test accuracy {100 * run.best_acc:.2f}%; files in {run.out}", highlight=False)


def _result(run: _Run, res: dict, interrupted: bool, signum: int | None) -> dict:
    return {"history": run.history, "test": res, "best_accuracy": run.best_acc, "out": run.out, "model": run.model,
            "interrupted": interrupted, "signal": signum, "normalize": run.normalize, "resume_log": run.resume_log}


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------
def build_parser() -> ArgumentParser:
    d = TrainConfig()
    p = ArgumentParser(
        prog="python -m minitorch_cnn.train",
        description="Train the unit's CNN (or the MLP baseline) on the built-in data set, Fashion-MNIST or MNIST.",
        argument_default=argparse.SUPPRESS,  # only flags given on the command line override a checkpoint
    )
    p.add_argument("--dataset", choices=_DATASETS, help=f"data set (default {d.dataset}: offline, generated)")
    p.add_argument("--data-dir", help="directory with the four IDX files (default $MINITORCH_CNN_DATA or "
                   "~/.cache/minitorch_cnn; downloaded there when missing)")
    p.add_argument("--model", choices=tuple(MODELS), metavar="MODEL",
                   help=f"network (default {d.model}): {', '.join(MODELS)}; zoo models get small_input=True")
    p.add_argument("--epochs", type=int, help=f"epochs (default {d.epochs}); with --resume: extend a run")
    p.add_argument("--batch-size", type=int, help=f"mini-batch size, 1 to {MAX_BATCH_SIZE} (default {d.batch_size})")
    p.add_argument("--lr", type=float, help=f"learning rate, the peak one for onecycle (default {d.lr})")
    p.add_argument("--optimizer", choices=_OPTIMIZERS, help=f"optimizer (default {d.optimizer})")
    p.add_argument("--momentum", type=float, help=f"SGD momentum in [0, 1) (default {d.momentum}; sgd only)")
    p.add_argument("--scheduler", choices=_SCHEDULERS, help=f"learning-rate schedule (default {d.scheduler})")
    p.add_argument("--weight-decay", type=float, help=f"weight decay (default {d.weight_decay}; adamw: 0.01)")
    p.add_argument("--label-smoothing", type=float, help=f"cross-entropy label smoothing (default {d.label_smoothing})")
    p.add_argument("--augment", action="store_true", help="random crop (padding 2), plus horizontal flip on "
                   "Fashion-MNIST")
    p.add_argument("--seed", type=int, help=f"seed of weights, dropout, augmentation, shuffling (default {d.seed})")
    p.add_argument("--device", choices=("cpu", "cuda"), help=f"device (default {d.device})")
    p.add_argument("--out", help="output directory (default runs/<dataset>-<model>-seed<seed>, or the "
                   "checkpoint's directory with --resume)")
    p.add_argument("--overwrite", action="store_true", help="replace the files of an earlier run in --out "
                   "(last.npz, best.npz, metrics.*, curves.png); without it such an --out is refused")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint with its configuration; "
                   "--lr, --weight-decay, --momentum, --batch-size, --epochs given here are applied (and reported)")
    p.add_argument("--eval-only", action="store_true", help="only evaluate the --resume checkpoint on the test split")
    p.add_argument("--limit", type=int, metavar="N", help="use the first N training and N//5 test images "
                   f"(built-in data: default {BUILTIN_DEFAULT_TRAIN_SIZE})")
    p.add_argument("--eval-batch-size", type=int, help=f"batch size of evaluation (default {d.eval_batch_size})")
    p.add_argument("--skip-nonfinite", action="store_true", help="skip batches whose loss is NaN/inf instead of "
                   "stopping the run")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    p.add_argument("--max-load-bytes", type=int, metavar="N", help=MAX_LOAD_HELP)
    return p


MAX_LOAD_HELP = ("let --resume's checkpoint decode to up to N bytes (default: max(256 MiB, 100 x the file's "
                 "size), so that no small file can ask for gigabytes)")


def _load_cap(argv: Sequence[str] | None) -> int | None:
    """``--max-load-bytes`` alone, before the checkpoint of ``--resume`` is read."""
    parser = ArgumentParser(add_help=False)
    parser.add_argument("--max-load-bytes", type=int)
    cap = parser.parse_known_args(argv)[0].max_load_bytes
    check_range("--max-load-bytes", cap, 0)
    return cap


def config_from_args(argv: Sequence[str] | None = None) -> TrainConfig:
    """Defaults, overridden by the checkpoint's config (with --resume), overridden by explicit flags."""
    given = vars(build_parser().parse_args(argv))
    given.pop("max_load_bytes", None)  # not part of a run's configuration: see _main
    base = TrainConfig().to_dict()
    if given.get("resume"):
        saved = _load_training_checkpoint(given["resume"])["config"]
        base.update({k: v for k, v in saved.items() if k in base and k not in ("resume", "eval_only", "out", "overwrite")})
    if "momentum" in given and given.get("optimizer", base["optimizer"]) != "sgd":
        raise UsageError(f"--momentum applies to --optimizer sgd only; this run uses {given.get('optimizer', base['optimizer'])}")
    base.update(given)
    return TrainConfig(**base)


def _main(argv: Sequence[str] | None) -> int:
    with safe_load.allowing(_load_cap(argv)):
        cfg = config_from_args(argv)
        try:
            result = train(cfg)
        except NonFiniteLossError as exc:
            print(f"{PROG}: stopped: {exc}", file=sys.stderr)
            return 1
    if result["interrupted"]:
        return 128 + (result["signal"] or signal.SIGINT)  # 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m minitorch_cnn.train``: 0 done, 1 diverged, 2 bad usage (also: --out
    holds another run, or a run is writing there now), 130/143/129 interrupted (SIGINT/SIGTERM/SIGHUP)."""
    return run_main(PROG, lambda: _main(argv))


if __name__ == "__main__":
    sys.exit(main())
