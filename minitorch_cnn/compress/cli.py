"""``python -m minitorch_cnn.compress COMMAND MODEL ...``: compress a trained unit CNN and report it.

Commands (``MODEL`` is a training checkpoint such as ``runs/.../best.npz`` or a file written by
``compress.export``):

    float     MODEL                       the reference: float32 .npz (np.savez) and accuracy
    prune     MODEL --sparsity 0.9 --steps 3 --batches 100 [--schedule cubic] [--conv-sparsity 0.5]
    int8      MODEL --observer percentile --batches 10 [--qat-batches N]
    kmeans    MODEL --bits 4 --batches 50   (usually on a pruned export: Deep Compression)
    binarize  MODEL --method bwn --batches 200
    sparse    --conv-density 0.444 --linear-density 0.1 --epochs 1    (trained from scratch)
    report    MODEL

Each writes ``--out/<command>.npz`` (compressed) and ``<command>.json`` (the report: bytes, file
size on disk, ratio, mult-adds, test accuracy) and prints the table. Errors: one line, exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..checkpoint import load_checkpoint
from ..data.fileio import atomic_write_text
from ..models import FashionCNN
from . import pipeline, storage
from .reporting import accuracy, print_report, report

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see python -m minitorch_cnn.compress --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m minitorch_cnn.compress", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("command", choices=("float", "prune", "int8", "kmeans", "binarize", "sparse", "report"))
    p.add_argument("model", nargs="?", help="training checkpoint or compress.export file (not for 'sparse')")
    p.add_argument("--dataset", choices=("builtin", "fashion-mnist"), default="fashion-mnist")
    p.add_argument("--data-dir", help="directory of the four Fashion-MNIST IDX files")
    p.add_argument("--limit", type=int, help="use the first N training images (built-in data: default 8000, and "
                   "N // 5 test images; Fashion-MNIST: the test set stays all 10,000)")
    p.add_argument("--test-limit", type=int, help="evaluate on the first N test images only (default: all)")
    p.add_argument("--out", default="runs/compress", help="output directory (default runs/compress)")
    p.add_argument("--name", help="file stem of the outputs (default: the command)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--batches", type=int, default=100, help="fine-tuning (or calibration, for int8) batches")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-4 for fine-tuning, "
                   "2e-3, the peak of one cycle, for 'sparse' training from scratch)")
    p.add_argument("--lr-decay", choices=("none", "cosine"), default="none",
                   help="fine-tuning: constant learning rate, or a cosine decay to 0 over each round's batches")
    p.add_argument("--augment", action="store_true",
                   help="fine-tune on augmented images (the train CLI's --augment: random crop, flip)")
    p.add_argument("--seed", type=int, default=0, help="seed of shuffling, dropout and augmentation (default 0)")
    p.add_argument("--sparsity", type=float, default=0.9)
    p.add_argument("--steps", type=int, default=3, help="prune-retrain rounds")
    p.add_argument("--schedule", choices=("linear", "cubic"), default="linear",
                   help="prune: sparsity per round, equal steps or Zhu & Gupta's cubic (big cuts first)")
    p.add_argument("--conv-sparsity", type=float, default=None,
                   help="prune: hold every Conv2d at this sparsity (its own magnitudes); the Linear layers "
                   "take the rest of --sparsity (default: one global ranking over all layers)")
    p.add_argument("--observer", choices=tuple(pipeline.OBSERVERS), default="percentile")
    p.add_argument("--qat-batches", type=int, default=0, help="int8: quantization-aware fine-tuning batches")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--method", choices=("bwn", "binaryconnect", "xnor"), default="bwn")
    p.add_argument("--conv-density", type=float, default=4 / 9)
    p.add_argument("--linear-density", type=float, default=0.1)
    p.add_argument("--dense-every", type=int, default=None, help="sparse: every n-th kernel stays dense")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar while fine-tuning")
    p.add_argument("--int8-check-images", type=int, default=1000,
                   help="int8: test images also run through the integer path to compare codes (default 1000)")
    return p


def _steps(args: argparse.Namespace, train: Any) -> int:
    """How many optimizer steps the command takes (0: none, so no bar)."""
    return {"prune": args.steps * args.batches, "kmeans": args.batches, "binarize": args.batches,
            "int8": args.qat_batches, "sparse": args.epochs * len(train)}.get(args.command, 0)


@contextlib.contextmanager
def _progress(args: argparse.Namespace, total: int) -> Iterator[pipeline.StepHook | None]:
    """A rich bar over the command's optimizer steps with the running loss; ``None`` when off."""
    if not args.progress or total <= 0:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), TextColumn("eta"),
               TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(f"{args.command}: fine-tuning steps", total=total, loss=float("nan"))
        yield lambda loss: bar.update(task, advance=1, loss=loss)


def _load(path: str | None) -> tuple[Any, list[float]]:
    """A FashionCNN from a training checkpoint or an export file, and its input normalisation."""
    if not path:
        raise ValueError("this command needs MODEL, a training checkpoint or a compress.export file")
    if not Path(path).exists():
        raise FileNotFoundError(f"MODEL {path!r} does not exist; train one with python -m minitorch_cnn.train")
    model = FashionCNN()
    if storage.is_export_file(path):
        storage.load(path, model)
        normalize = storage.read_extra(path).get("normalize")
    else:
        ckpt = load_checkpoint(path)
        model.load_state_dict(ckpt["model"])
        normalize = ckpt.get("normalize")
    if not normalize:
        raise ValueError(f"MODEL {path!r} records no input normalisation; it was not written by this package")
    return model.eval(), list(normalize)


def _save(args: argparse.Namespace, result: dict, title: str) -> dict:
    out = Path(args.out)
    result["command"] = " ".join(["python -m minitorch_cnn.compress", *sys.argv[1:]])
    atomic_write_text(out / f"{args.name or args.command}.json", json.dumps(result, indent=1, default=float))
    print_report(result, title=title)
    return result


def _export_report(args: argparse.Namespace, model: Any, test: Any, normalize: list) -> dict:
    """Export ``model`` to ``--out/<name>.npz`` and report it (with the test accuracy when ``test``)."""
    path = Path(args.out) / f"{args.name or args.command}.npz"
    result = report(model, loader=test)
    result["file_bytes"] = storage.export(model, path, extra={"normalize": normalize})
    result["file"] = str(path)
    return result


def _float_reference(args: argparse.Namespace, model: Any, test: Any) -> dict:
    """The float32 state dict saved with np.savez: the size every ratio is measured against."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.name or 'float'}-float32.npz"
    np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})
    result = report(model, loader=test)
    result.update(file=str(path), file_bytes=path.stat().st_size)
    return result


def _int8(args: argparse.Namespace, models: tuple[Any, Any], test: Any, normalize: list) -> dict:
    """Int8: the report of the integer model; its accuracy from the fake-quant twin (same codes), and
    ``--int8-check-images`` test images through both to confirm the outputs are identical."""
    import minitorch_cnn as mt

    fake, real = models
    result = _export_report(args, real, None, normalize)
    result["accuracy"] = accuracy(fake, test)
    seen = same = 0
    with mt.no_grad():
        for x, _ in test:
            if seen >= args.int8_check_images:
                break
            same += int((mt.backend.to_numpy(fake(x).data) == mt.backend.to_numpy(real(x).data)).all(axis=1).sum())
            seen += x.shape[0]
    result.update(int8_checked_images=seen, int8_identical_outputs=same)
    return result


def _compress(args: argparse.Namespace, model: Any, train: Any, on_step: pipeline.StepHook | None) -> Any:
    """The command's recipe (see ``pipeline``); int8 returns ``(fake-quant, int8)`` models."""
    if args.command == "prune":
        pipeline.prune_retrain(model, train, args.sparsity, args.steps, args.batches, args.lr, args.schedule,
                               args.conv_sparsity, args.lr_decay, on_step)
    elif args.command == "kmeans":
        pipeline.share_weights(model, train, args.bits, args.batches, args.lr, on_step)
    elif args.command == "binarize":
        pipeline.binarize_weights(model, train, args.method, args.batches, args.lr, on_step)
    elif args.command == "int8":
        return pipeline.quantize_int8(model, train, args.observer, args.batches, args.qat_batches, on_step=on_step)
    elif args.command == "sparse":
        return pipeline.train_predefined_sparse(train, args.conv_density, args.linear_density, args.epochs,
                                                args.dense_every, args.lr, on_step)
    return model


def run(args: argparse.Namespace) -> dict:
    """Carry out one command (see the module docstring)."""
    import minitorch_cnn as mt

    if args.lr is None:
        args.lr = 2e-3 if args.command == "sparse" else 1e-4
    if args.conv_sparsity is not None and not 0.0 <= args.conv_sparsity < 1.0:
        raise ValueError(f"--conv-sparsity {args.conv_sparsity} must lie in [0, 1); e.g. 0.5 keeps half of each conv")
    mt.manual_seed(args.seed)
    if args.command == "sparse":
        model, normalize = None, list(pipeline.normalization(args.dataset, args.data_dir, args.limit))
    else:
        model, normalize = _load(args.model)
    train, test = pipeline.loaders(args.dataset, args.data_dir, tuple(normalize), args.batch_size, args.limit,
                                   args.seed, args.test_limit, augment=args.augment)
    if args.command == "float":
        return _save(args, _float_reference(args, model, test), "float32 reference")
    with _progress(args, _steps(args, train)) as on_step:
        model = _compress(args, model, train, on_step)
    if args.command == "int8":
        return _save(args, _int8(args, model, test, normalize), "int8")
    if args.command == "report":
        result = report(model, loader=test)
        result.update(file=args.model, file_bytes=Path(args.model).stat().st_size)
        return _save(args, result, args.model)
    return _save(args, _export_report(args, model, test, normalize), args.name or args.command)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..cli import claim_out_dir

    try:
        # commands share --out (prune, then kmeans on its export): lock it, refuse no earlier files
        with claim_out_dir("--out", args.out, markers=(), prog="minitorch_cnn.compress"):
            run(args)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
