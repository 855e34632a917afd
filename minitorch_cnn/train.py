"""``python -m minitorch_cnn.train``: train the unit's CNN (or the MLP baseline) and keep the results.

Examples::

    python -m minitorch_cnn.train                       # built-in data, CNN, ~1 minute on 2 CPU cores
    python -m minitorch_cnn.train --model mlp           # the MLP baseline on the same data
    python -m minitorch_cnn.train --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist \\
        --epochs 15 --scheduler onecycle --augment
    python -m minitorch_cnn.train --resume runs/builtin-cnn-seed0/last.npz   # continue after Ctrl-C
    python -m minitorch_cnn.train --resume runs/builtin-cnn-seed0/best.npz --eval-only

What one run does:

1. Seeds everything from ``--seed`` (weights, dropout, augmentation, shuffling): same seed, same run.
2. Prints the model summary, then per epoch a progress bar with running loss, accuracy and
   images/s, and an evaluation on the test split.
3. Writes to ``--out`` (default ``runs/<dataset>-<model>-seed<seed>``), each file atomically:
   ``metrics.csv`` / ``metrics.json`` (one row per epoch), ``last.npz`` (after every epoch),
   ``best.npz`` (best test accuracy so far) and ``curves.png`` (loss / accuracy, when matplotlib
   is installed). A checkpoint holds model, optimizer and scheduler state, the epoch, the random
   generators' states, the data loader's position and the configuration (see ``checkpoint.py``).
4. Ctrl-C finishes the running batch, writes ``last.npz`` and prints the command that resumes. A
   resumed run is bit-identical to one that was never interrupted (on the CPU). A second Ctrl-C
   aborts at once.

From Python: ``train(TrainConfig(epochs=1, limit=512))`` or ``main(["--limit", "512"])``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from .checkpoint import load_checkpoint, save_checkpoint
from .data import MNIST, DataLoader, FashionMNIST, GlyphsInClutter, Subset
from .data import transforms as T
from .data.fileio import atomic_open, atomic_write_text

__all__ = ["TrainConfig", "train", "evaluate", "main", "build_parser", "BUILTIN_DEFAULT_TRAIN_SIZE"]

#: training images used from the built-in data set when --limit is not given: keeps the default run ~1 min
BUILTIN_DEFAULT_TRAIN_SIZE = 8000
_DATASETS = ("builtin", "fashion-mnist", "mnist")
_OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
_SCHEDULERS = ("none", "step", "cosine", "onecycle")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run; stored in every checkpoint and in metrics.json."""

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
    eval_batch_size: int = 250
    progress: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.dataset in _DATASETS, f"dataset must be one of {_DATASETS}, got {self.dataset!r}"),
            (self.optimizer in _OPTIMIZERS, f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}"),
            (self.scheduler in _SCHEDULERS, f"scheduler must be one of {_SCHEDULERS}, got {self.scheduler!r}"),
            (self.model in ("cnn", "mlp"), f"model must be 'cnn' or 'mlp', got {self.model!r}"),
            (self.device in ("cpu", "cuda"), f"device must be 'cpu' or 'cuda', got {self.device!r}"),
            (int(self.epochs) >= 1 or self.eval_only, f"epochs must be >= 1, got {self.epochs}"),
            (int(self.batch_size) >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (float(self.lr) > 0, f"lr must be positive, got {self.lr}"),
            (self.limit is None or int(self.limit) >= 1, f"limit must be >= 1, got {self.limit}"),
            (not self.eval_only or bool(self.resume), "--eval-only needs --resume CKPT, the checkpoint to evaluate"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"TrainConfig: {msg}")

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


class _StopRequest:
    """Turns the first SIGINT into "stop after this batch"; a second one aborts as usual."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this batch and saving a checkpoint (press again to abort)...", flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


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
    base = [T.ToTensor(), T.Normalize((normalize[0],), (normalize[1],))]
    aug = []
    if cfg.augment:
        aug = [T.RandomCrop(28, padding=2)]
        if cfg.dataset == "fashion-mnist":  # mirrored clothes are still clothes; mirrored digits are not
            aug.append(T.RandomHorizontalFlip())
    train_set.transform = T.Compose(base[:1] + aug + base[1:])
    test_set.transform = T.Compose(base)
    if train_limit is not None:
        train_set = Subset(train_set, np.arange(min(train_limit, len(train_set))))
        test_set = Subset(test_set, np.arange(min(max(train_limit // 5, 1), len(test_set))))
    return train_set, test_set, normalize


def _optimizer(cfg: TrainConfig, params: list) -> Any:
    from . import optim

    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay or 1e-2)
    return optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


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


def _print_summary(console: Any, model: Any, device: str) -> None:
    """The viz engineer's summary table when available, else repr + parameter counts.

    A summary runs the model on dummy inputs; the weights, buffers and generator state are put back
    afterwards so that printing it cannot change the run.
    """
    rng = backend.get_rng_state()
    saved = {k: backend.to_numpy(v.data).copy() for k, v in model.state_dict().items()}
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


def _lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])


def evaluate(model: Any, loader: DataLoader, criterion: Any, device: str, num_classes: int = 10) -> dict:
    """Test loss, accuracy and confusion matrix (rows: true class, columns: predicted)."""
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
            pred = backend.to_numpy(out.data.argmax(axis=1))
            np.add.at(confusion, (backend.to_numpy(y.data), pred), 1)
            n += y.shape[0]
    return {
        "loss": total_loss / max(n, 1),
        "accuracy": float(np.trace(confusion) / max(n, 1)),
        "confusion": confusion,
    }


def _write_metrics(out: Path, cfg: TrainConfig, history: list[dict], extra: dict) -> None:
    if history:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(history[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        atomic_write_text(out / "metrics.csv", buf.getvalue())
    doc = {"config": cfg.to_dict(), "history": history, **extra}
    atomic_write_text(out / "metrics.json", json.dumps(doc, indent=2) + "\n")


def _plot(out: Path, history: list[dict]) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    ep = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(ep, [h["train_loss"] for h in history], "o-", label="train")
    ax1.plot(ep, [h["test_loss"] for h in history], "o-", label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax2.plot(ep, [h["train_acc"] for h in history], "o-", label="train")
    ax2.plot(ep, [h["test_acc"] for h in history], "o-", label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = out / "curves.png"
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)
    return path


def _final_table(console: Any, result: dict, classes: Sequence[str], title: str) -> None:
    from rich.table import Table

    conf = result["confusion"]
    table = Table(title=f"{title}: test accuracy {100 * result['accuracy']:.2f}%  (loss {result['loss']:.4f})")
    table.add_column("true \\ pred", style="bold")
    for j in range(len(classes)):
        table.add_column(str(j), justify="right")
    table.add_column("recall", justify="right", style="cyan")
    for i, name in enumerate(classes):
        row_total = max(int(conf[i].sum()), 1)
        cells = [f"[green]{v}[/]" if i == j else (str(v) if v else "[dim]0[/]") for j, v in enumerate(conf[i])]
        table.add_row(f"{i} {name}", *cells, f"{100 * conf[i, i] / row_total:.1f}%")
    console.print(table)


def _progress(console: Any, enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.2%}  {task.fields[ips]:.0f} img/s"),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------
def train(cfg: TrainConfig, callbacks: Sequence[Callable[[TrainState], None]] = (), console: Any = None) -> dict:
    """Run ``cfg``; returns ``{"history", "test", "best_accuracy", "out", "model", "interrupted", ...}``.

    ``callbacks`` are called after every optimizer step with a :class:`TrainState`; one that raises
    ``KeyboardInterrupt`` behaves like Ctrl-C (the batch is complete, a checkpoint is saved).
    """
    from rich.console import Console

    import minitorch_cnn as mt

    from . import models, nn

    console = console or Console()
    ckpt = None
    if cfg.resume:
        ckpt = load_checkpoint(cfg.resume)
    normalize = tuple(ckpt["normalize"]) if ckpt and ckpt.get("normalize") else None
    device = cfg.device
    if device == "cuda" and not backend.cuda_is_available():
        raise RuntimeError("train: --device cuda was asked for but no CUDA GPU is usable; use --device cpu")

    mt.manual_seed(cfg.seed)
    train_set, test_set, normalize = _datasets(cfg, normalize)
    classes = list(getattr(getattr(train_set, "dataset", train_set), "classes", [])) or [str(i) for i in range(10)]
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, seed=cfg.seed + 1_000_003)
    test_loader = DataLoader(test_set, batch_size=cfg.eval_batch_size, shuffle=False, seed=0)
    model = models.build_model(cfg.model)
    model.to(device)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    optimizer = _optimizer(cfg, list(model.parameters()))
    scheduler, per_batch = _scheduler(cfg, optimizer, len(loader))
    out = cfg.out_dir()
    title = f"{cfg.model.upper()} on {cfg.dataset}"

    console.rule(f"[bold]{title}")
    _print_summary(console, model, device)
    console.print(
        f"train {len(train_set)} / test {len(test_set)} images, {cfg.epochs} epochs of {len(loader)} batches "
        f"of {cfg.batch_size}, {cfg.optimizer} lr {cfg.lr}, scheduler {cfg.scheduler}, device {device}, "
        f"out {out}"
    )

    history: list[dict] = []
    start_epoch, best_acc = 0, -1.0
    run_stats = {"loss_sum": 0.0, "correct": 0, "seen": 0, "time": 0.0}
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optim"])
        if scheduler is not None and ckpt.get("scheduler") is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        backend.set_rng_state(ckpt["rng"])
        loader.load_state_dict(ckpt["loader"])
        history = list(ckpt["history"])
        start_epoch, best_acc = int(ckpt["epoch"]), float(ckpt["best_accuracy"])
        run_stats = dict(ckpt["running"])
        console.print(f"resumed from {cfg.resume}: epoch {start_epoch + 1}, batch {ckpt['loader']['batches_done']}")

    def checkpoint(epoch: int, running: dict) -> dict:
        return {
            "model": model.state_dict(),
            "optim": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "epoch": epoch,  # epochs fully done
            "rng": backend.get_rng_state(),
            "loader": loader.state_dict(),
            "running": running,
            "history": history,
            "best_accuracy": best_acc,
            "normalize": list(normalize),
            "config": cfg.to_dict(),
        }

    if cfg.eval_only:
        res = evaluate(model, test_loader, criterion, device, len(classes))
        _final_table(console, res, classes, title)
        return {"history": history, "test": res, "best_accuracy": best_acc, "out": out, "model": model,
                "interrupted": False}

    step = sum(len(loader) for _ in range(start_epoch)) + (ckpt["loader"]["batches_done"] if ckpt else 0)
    interrupted = False
    res: dict = {}
    out.mkdir(parents=True, exist_ok=True)
    with _StopRequest() as stop:
        for epoch in range(start_epoch, cfg.epochs):
            model.train()
            stats = run_stats
            run_stats = {"loss_sum": 0.0, "correct": 0, "seen": 0, "time": 0.0}
            t0 = time.perf_counter() - stats["time"]
            with _progress(console, cfg.progress) as bar:
                task = bar.add_task(f"epoch {epoch + 1}/{cfg.epochs}", total=len(loader), loss=0.0, acc=0.0,
                                    ips=0.0, completed=loader.state_dict()["batches_done"])
                for x, y in loader:
                    x, y = x.to(device), y.to(device)
                    logits = model(x)
                    loss = criterion(logits, y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    if per_batch:
                        scheduler.step()
                    step += 1
                    loss_value = float(loss.item())
                    stats["loss_sum"] += loss_value * y.shape[0]
                    stats["correct"] += int(backend.to_numpy((logits.data.argmax(axis=1) == y.data).sum()))
                    stats["seen"] += int(y.shape[0])
                    stats["time"] = time.perf_counter() - t0
                    bar.update(task, advance=1, loss=stats["loss_sum"] / stats["seen"],
                               acc=stats["correct"] / stats["seen"], ips=stats["seen"] / max(stats["time"], 1e-9))
                    done = loader.state_dict()["batches_done"] or len(loader)
                    if not cfg.progress and done % max(len(loader) // 5, 1) == 0 and done < len(loader):
                        # no live bar (e.g. output to a log file): a line every fifth of an epoch
                        console.print(
                            f"  epoch {epoch + 1} batch {done}/{len(loader)}: loss {stats['loss_sum'] / stats['seen']:.4f}"
                            f" acc {stats['correct'] / stats['seen']:.2%} {stats['seen'] / stats['time']:.0f} img/s",
                            highlight=False,
                        )
                    state = TrainState(epoch, done, step, loss_value, model, optimizer)
                    try:
                        for cb in callbacks:
                            cb(state)
                    except KeyboardInterrupt:
                        stop.requested = True
                    if stop.requested:
                        break
            if stop.requested and loader.state_dict()["batches_done"] > 0:
                interrupted = True
                save_checkpoint(out / "last.npz", checkpoint(epoch, stats))
                break
            if scheduler is not None and not per_batch:
                scheduler.step()
            train_time = time.perf_counter() - t0
            res = evaluate(model, test_loader, criterion, device, len(classes))
            row = {
                "epoch": epoch + 1,
                "train_loss": stats["loss_sum"] / max(stats["seen"], 1),
                "train_acc": stats["correct"] / max(stats["seen"], 1),
                "test_loss": res["loss"],
                "test_acc": res["accuracy"],
                "lr": _lr(optimizer),
                "epoch_time_s": round(train_time, 2),
                "images_per_s": round(stats["seen"] / max(train_time, 1e-9), 1),
            }
            history.append(row)
            console.print(
                f"epoch {epoch + 1}/{cfg.epochs}: train loss {row['train_loss']:.4f} acc {row['train_acc']:.2%} | "
                f"test loss {row['test_loss']:.4f} acc {row['test_acc']:.2%} | {row['images_per_s']:.0f} img/s, "
                f"{train_time:.1f}s",
                highlight=False,
            )
            last = checkpoint(epoch + 1, {"loss_sum": 0.0, "correct": 0, "seen": 0, "time": 0.0})
            if res["accuracy"] > best_acc:
                best_acc = res["accuracy"]
                last["best_accuracy"] = best_acc
                save_checkpoint(out / "best.npz", last)
            save_checkpoint(out / "last.npz", last)
            _write_metrics(out, cfg, history, {"best_accuracy": best_acc,
                                               "confusion": res["confusion"].tolist(), "classes": classes})
            _plot(out, history)
            if stop.requested:  # Ctrl-C during the evaluation: the epoch is complete and saved
                interrupted = epoch + 1 < cfg.epochs
                break

    if interrupted:
        resume = f"python -m minitorch_cnn.train --resume {out / 'last.npz'}"
        console.print(f"[yellow]Interrupted.[/] Checkpoint saved to {out / 'last.npz'}. Resume with:", soft_wrap=True)
        console.print(f"  {resume}", soft_wrap=True, highlight=False, markup=False)
    elif res:
        _final_table(console, res, classes, title)
        console.print(f"best test accuracy {100 * best_acc:.2f}%; files in {out}")
    return {"history": history, "test": res, "best_accuracy": best_acc, "out": out, "model": model,
            "interrupted": interrupted, "normalize": normalize}


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m minitorch_cnn.train",
        description="Train the unit's CNN (or the MLP baseline) on the built-in data set, Fashion-MNIST or MNIST.",
        argument_default=argparse.SUPPRESS,  # only flags given on the command line override a checkpoint
    )
    p.add_argument("--dataset", choices=_DATASETS, help=f"data set (default {d.dataset}: offline, generated)")
    p.add_argument("--data-dir", help="directory with the four IDX files (default $MINITORCH_CNN_DATA or "
                   "~/.cache/minitorch_cnn; downloaded there when missing)")
    p.add_argument("--model", choices=("cnn", "mlp"), help=f"network (default {d.model})")
    p.add_argument("--epochs", type=int, help=f"epochs (default {d.epochs})")
    p.add_argument("--batch-size", type=int, help=f"mini-batch size (default {d.batch_size})")
    p.add_argument("--lr", type=float, help=f"learning rate, the peak one for onecycle (default {d.lr})")
    p.add_argument("--optimizer", choices=_OPTIMIZERS, help=f"optimizer (default {d.optimizer})")
    p.add_argument("--scheduler", choices=_SCHEDULERS, help=f"learning-rate schedule (default {d.scheduler})")
    p.add_argument("--weight-decay", type=float, help=f"weight decay (default {d.weight_decay})")
    p.add_argument("--label-smoothing", type=float, help=f"cross-entropy label smoothing (default {d.label_smoothing})")
    p.add_argument("--augment", action="store_true", help="random crop (padding 2), plus horizontal flip on "
                   "Fashion-MNIST")
    p.add_argument("--seed", type=int, help=f"seed of weights, dropout, augmentation, shuffling (default {d.seed})")
    p.add_argument("--device", choices=("cpu", "cuda"), help=f"device (default {d.device})")
    p.add_argument("--out", help="output directory (default runs/<dataset>-<model>-seed<seed>, or the "
                   "checkpoint's directory with --resume)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint (its configuration is used; "
                   "flags given here override it)")
    p.add_argument("--eval-only", action="store_true", help="only evaluate the --resume checkpoint on the test split")
    p.add_argument("--limit", type=int, metavar="N", help="use the first N training and N//5 test images "
                   f"(built-in data: default {BUILTIN_DEFAULT_TRAIN_SIZE})")
    p.add_argument("--eval-batch-size", type=int, help=f"batch size of evaluation (default {d.eval_batch_size})")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    return p


def config_from_args(argv: Sequence[str] | None = None) -> TrainConfig:
    """Defaults, overridden by the checkpoint's config (with --resume), overridden by explicit flags."""
    given = vars(build_parser().parse_args(argv))
    base = TrainConfig().to_dict()
    if given.get("resume"):
        saved = load_checkpoint(given["resume"]).get("config", {})
        base.update({k: v for k, v in saved.items() if k in base and k not in ("resume", "eval_only", "out")})
    base.update(given)
    return TrainConfig(**base)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m minitorch_cnn.train``; returns the exit status (130 when interrupted)."""
    try:
        cfg = config_from_args(argv)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = train(cfg)
    except FileNotFoundError as exc:  # e.g. Fashion-MNIST offline: the message says what to do
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 130 if result["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
