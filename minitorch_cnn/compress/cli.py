"""``python -m minitorch_cnn.compress COMMAND MODEL ...``: compress a trained unit CNN and report it.

Commands (``MODEL`` is a training checkpoint of the unit's CNN such as ``runs/.../best.npz`` or a
file written by ``compress.export``):

    float     MODEL                       the reference: float32 .npz (np.savez format) and accuracy
    prune     MODEL --sparsity 0.9 --steps 3 --batches 100 [--schedule cubic] [--conv-sparsity 0.5]
    int8      MODEL --observer percentile --batches 10 [--qat-batches N]
    kmeans    MODEL --bits 4 --batches 50   (usually on a pruned export: Deep Compression)
    binarize  MODEL --method bwn --batches 200
    sparse    --conv-density 0.444 --linear-density 0.1 --epochs 1    (trained from scratch)
    report    MODEL

Each writes ``--out/<name>.npz`` (compressed; ``float``: ``<name>-float32.npz``) and
``<name>.json`` (the report: bytes, file size on disk, ratio, mult-adds, test accuracy) and prints
the table; ``<name>`` is ``--name`` (a plain file name: no folders, no '..') or the command. Files
are written atomically: a failed run leaves the previous ones intact.

The data set is ``--dataset``, else the one MODEL records (its training run's, or the one it was
compressed on), else fashion-mnist. A flag the command does not use is refused (``--bits`` with
``prune``, MODEL with ``sparse``); ``--batch-size``, ``--batches``, ``--seed`` and ``--no-progress``
are accepted by every command so that one set can be passed to all, and ignored by those that do
not train. Every flag, MODEL and every output path is checked before any work; errors: one line
``minitorch_cnn.compress: error: ...``, exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint import load_checkpoint
from ..cli import (
    ArgumentParser,
    UsageError,
    check_input_file,
    check_out_dir,
    check_range,
    run_main,
    user_errors,
)
from ..data.fileio import atomic_open, atomic_write_text
from ..models import FashionCNN
from . import checks, pipeline, prune, storage
from .reporting import accuracy, print_report, report

__all__ = ["main", "build_parser", "run", "parse_args", "PROG", "COMMANDS"]

PROG = "minitorch_cnn.compress"
COMMANDS = ("float", "prune", "int8", "kmeans", "binarize", "sparse", "report")
MAX_BATCH_SIZE = 4096
MAX_STEPS = 1000
MAX_EPOCHS = 10_000

DEFAULTS: dict[str, Any] = {
    "model": None, "dataset": None, "data_dir": None, "limit": None, "test_limit": None, "out": "runs/compress",
    "name": None, "batch_size": 128, "batches": 100, "lr": None, "lr_decay": "none", "augment": False, "seed": 0,
    "sparsity": 0.9, "steps": 3, "schedule": "linear", "conv_sparsity": None, "observer": "percentile",
    "qat_batches": 0, "bits": 4, "method": "bwn", "conv_density": 4 / 9, "linear_density": 0.1,
    "dense_every": None, "epochs": 1, "progress": True, "int8_check_images": 1000, "max_load_bytes": None,
}
"""Every option's value when it is not given."""

_SHARED = {"out", "name", "dataset", "data_dir", "limit", "test_limit", "batch_size", "batches", "seed", "progress",
           "max_load_bytes"}
_FINE_TUNE = {"lr", "lr_decay", "augment"}
USES: dict[str, set[str]] = {
    "float": {"model"},
    "report": {"model"},
    "prune": {"model", "sparsity", "steps", "schedule", "conv_sparsity", *_FINE_TUNE},
    "int8": {"model", "observer", "qat_batches", "int8_check_images", *_FINE_TUNE},
    "kmeans": {"model", "bits", *_FINE_TUNE},
    "binarize": {"model", "method", *_FINE_TUNE},
    "sparse": {"conv_density", "linear_density", "dense_every", "epochs", "lr", "augment"},
}
"""The options each command uses besides the shared ones (``_SHARED``)."""


def _flag(dest: str) -> str:
    return "MODEL" if dest == "model" else "--no-progress" if dest == "progress" else "--" + dest.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m minitorch_cnn.compress", description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
                       argument_default=argparse.SUPPRESS)  # only what is given: unused flags are refused
    p.add_argument("command", choices=COMMANDS)
    p.add_argument("model", nargs="?", help="training checkpoint or compress.export file (not for 'sparse')")
    p.add_argument("--dataset", choices=pipeline.DATASETS,
                   help="data set (default: the one MODEL records, else fashion-mnist)")
    p.add_argument("--data-dir", help="directory of the four IDX files (Fashion-MNIST / MNIST)")
    p.add_argument("--limit", type=int, help="use the first N >= 2 training images (built-in data: default 8000, "
                   "and N // 5 test images; Fashion-MNIST: default all, the test set stays all 10,000)")
    p.add_argument("--test-limit", type=int, help="evaluate on the first N >= 1 test images only (default: all)")
    p.add_argument("--out", help="output directory (default runs/compress)")
    p.add_argument("--max-load-bytes", type=int, metavar="N", help="let MODEL decode to up to N bytes "
                   "(default: max(256 MiB, 100 x the file's size))")
    p.add_argument("--name", help="file stem of the outputs, a plain file name (default: the command)")
    p.add_argument("--batch-size", type=int, help=f"training batch size, 1 to {MAX_BATCH_SIZE} (default 128)")
    p.add_argument("--batches", type=int, help="fine-tuning batches, >= 0 (0: none), or calibration batches for "
                   "int8, >= 1 (default 100)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 1e-4 for fine-tuning, 1e-5 for int8 QAT, "
                   "2e-3, the peak of one cycle, for 'sparse' training from scratch)")
    p.add_argument("--lr-decay", choices=("none", "cosine"),
                   help="fine-tuning: constant learning rate (default), or a cosine decay to 0 over each round's batches")
    p.add_argument("--augment", action="store_true",
                   help="train on augmented images (the train CLI's --augment: random crop, flip)")
    p.add_argument("--seed", type=int, help="seed of shuffling, dropout and augmentation (default 0)")
    p.add_argument("--sparsity", type=float, help="prune: final fraction of zero weights, in [0, 1) (default 0.9)")
    p.add_argument("--steps", type=int, help=f"prune: prune-retrain rounds, 1 to {MAX_STEPS} (default 3)")
    p.add_argument("--schedule", choices=("linear", "cubic"),
                   help="prune: sparsity per round, equal steps (default) or Zhu & Gupta's cubic (big cuts first)")
    p.add_argument("--conv-sparsity", type=float,
                   help="prune: hold every Conv2d at this sparsity in [0, 1) (its own magnitudes); the Linear layers "
                   "take the rest of --sparsity (default: one global ranking over all layers)")
    p.add_argument("--observer", choices=tuple(pipeline.OBSERVERS), help="int8: activation observer (default "
                   "percentile)")
    p.add_argument("--qat-batches", type=int, help="int8: quantization-aware fine-tuning batches, >= 0 (default 0)")
    p.add_argument("--bits", type=int, help="kmeans: bits per weight index, 1 to 8 (default 4)")
    p.add_argument("--method", choices=("bwn", "binaryconnect", "xnor"), help="binarize: method (default bwn)")
    p.add_argument("--conv-density", type=float, help="sparse: kept fraction of conv kernels, in (0, 1] (default 4/9)")
    p.add_argument("--linear-density", type=float, help="sparse: kept fraction of Linear weights, in (0, 1] "
                   "(default 0.1)")
    p.add_argument("--dense-every", type=int, help="sparse: every n-th kernel stays dense, n >= 1 (default none)")
    p.add_argument("--epochs", type=int, help=f"sparse: training epochs, 1 to {MAX_EPOCHS} (default 1)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar while fine-tuning")
    p.add_argument("--int8-check-images", type=int,
                   help="int8: test images also run through the integer path to compare outputs, >= 0 (0: no "
                   "comparison; default 1000)")
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line with every default filled in; ``given`` lists the options given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ns = build_parser().parse_args(argv)
    given = {k for k in vars(ns) if k != "command"}
    args = argparse.Namespace(**{**DEFAULTS, **vars(ns)})
    args.given, args.argv = given, argv
    return args


def _check_name(name: str) -> None:
    """``--name`` is a plain file name: the outputs stay inside ``--out``."""
    seps = {"/", "\\", os.sep, *([os.altsep] if os.altsep else [])}
    if not name or not name.strip():
        raise UsageError("--name '' is empty; give a file stem such as 'prune_cubic'")
    if "\0" in name or any(sep in name for sep in seps) or name in (".", "..") or os.path.isabs(name):
        raise UsageError(f"--name {name!r} must be a plain file name (no folders, no '..', not absolute) so the "
                         "outputs stay inside --out; choose the folder with --out")
    if name.lower().endswith((".npz", ".json")):
        raise UsageError(f"--name {name!r} is a file stem; leave out the suffix ({Path(name).stem!r})")
    if len(f"{name}-float32.npz".encode()) > 255:
        raise UsageError(f"--name is {len(name)} characters long; file names are limited to 255 bytes")


def _check_flags(args: argparse.Namespace) -> None:
    """Every flag on its own (ranges, unused flags, --name, --out): no file is read or data loaded."""
    cmd = args.command
    allowed = _SHARED | USES[cmd]
    for dest in sorted(args.given - allowed, key=lambda d: (d != "model", d)):
        if dest == "model":
            raise UsageError(f"MODEL {args.model!r} given, but '{cmd}' trains a new model from scratch and takes no "
                             "MODEL; drop it")
        users = [c for c in COMMANDS if dest in USES[c]]
        raise UsageError(f"{_flag(dest)} is not used by '{cmd}' (only by {', '.join(users)}); drop it")
    if cmd != "sparse" and not args.model:
        raise UsageError(f"'{cmd}' needs MODEL, a training checkpoint or a compress.export file")
    check_range("--limit", args.limit, 2, None, "give N >= 2 training images, or leave it out for the default")
    check_range("--test-limit", args.test_limit, 1, None, "give N >= 1 test images, or leave it out for all")
    check_range("--batch-size", args.batch_size, 1, MAX_BATCH_SIZE, "the limit keeps a batch in memory")
    if cmd == "int8":
        check_range("--batches", args.batches, 1, None, "int8 calibrates its scales on at least one batch")
    else:
        check_range("--batches", args.batches, 0, None, "0 means no fine-tuning")
    check_range("--seed", args.seed, 0, 2**32 - 1)
    check_range("--lr", args.lr, 0, None, "give a positive learning rate such as 1e-4", lo_open=True)
    check_range("--sparsity", args.sparsity, 0, 1, "e.g. 0.9 zeroes 90% of the weights", hi_open=True)
    if args.conv_sparsity is not None and (not math.isfinite(args.conv_sparsity)
                                           or not 0.0 <= args.conv_sparsity < 1.0):
        raise UsageError(f"--conv-sparsity {args.conv_sparsity} must lie in [0, 1); e.g. 0.5 keeps half of each conv")
    check_range("--steps", args.steps, 1, MAX_STEPS, "the number of prune-retrain rounds")
    check_range("--qat-batches", args.qat_batches, 0, None, "0 means no quantization-aware fine-tuning")
    check_range("--int8-check-images", args.int8_check_images, 0, None, "0 skips the comparison")
    check_range("--bits", args.bits, 1, 8, "the index of a shared value is stored in at most 8 bits")
    check_range("--conv-density", args.conv_density, 0, 1, "the kept fraction of each kernel", lo_open=True)
    check_range("--linear-density", args.linear_density, 0, 1, "the kept fraction of the weights", lo_open=True)
    check_range("--dense-every", args.dense_every, 1, None, "every n-th kernel stays dense")
    check_range("--epochs", args.epochs, 1, MAX_EPOCHS)
    if args.name is not None:
        _check_name(args.name)
    check_out_dir("--out", args.out)


def _outputs(args: argparse.Namespace) -> list[Path]:
    """The files the command writes."""
    out, stem = Path(args.out), args.name or args.command
    data = {"float": [out / f"{stem}-float32.npz"], "report": []}.get(args.command, [out / f"{stem}.npz"])
    return [*data, out / f"{stem}.json"]


def _check_outputs(args: argparse.Namespace) -> None:
    """No output is a folder, and none would replace MODEL."""
    model = Path(args.model).resolve() if args.model else None
    for path in _outputs(args):
        if path.is_dir():
            raise UsageError(f"--out/--name: the output {str(path)!r} is a directory; give another --name")
        if model is not None and path.resolve() == model:
            raise UsageError(f"--out/--name: the output {str(path)!r} would replace MODEL; give another --name or "
                             "--out")


def _load(path: str) -> tuple[Any, list[float], str | None]:
    """A FashionCNN from a training checkpoint or an export file, its input normalisation and the data
    set it records (``None`` when it records none); every problem is a :class:`UsageError`."""
    check_input_file("MODEL", path)
    model = FashionCNN()
    with user_errors(f"MODEL {path!r}"):
        if storage.is_export_file(path):
            storage.load(path, model)
            extra = storage.read_extra(path)
            normalize, dataset = extra.get("normalize"), extra.get("dataset")
        else:
            ckpt = load_checkpoint(path)
            config = ckpt.get("config") if isinstance(ckpt.get("config"), dict) else {}
            arch = config.get("model", "cnn")
            if arch != "cnn":
                raise UsageError(f"MODEL {path!r} is a checkpoint of --model {arch}; compress works on the unit's "
                                 "CNN: train one with python -m minitorch_cnn.train --model cnn")
            if not isinstance(ckpt.get("model"), dict):
                raise UsageError(f"MODEL {path!r} has no model state dict; give a training checkpoint")
            try:
                model.load_state_dict(ckpt["model"])
            except (KeyError, RuntimeError, TypeError) as exc:
                raise UsageError(f"MODEL {path!r} does not hold the unit's CNN: {exc}") from None
            normalize, dataset = ckpt.get("normalize"), config.get("dataset")
    ok = (isinstance(normalize, (list, tuple)) and len(normalize) == 2
          and all(isinstance(v, (int, float)) and math.isfinite(v) for v in normalize) and normalize[1] > 0)
    if not ok:
        raise UsageError(f"MODEL {path!r} records no valid input normalisation (mean, std > 0), got {normalize!r}; "
                         "it was not written by this package")
    bad = checks.nonfinite_entries(model)
    if bad:
        raise UsageError(f"MODEL {path!r}: {checks.describe_nonfinite(bad)}; the model is broken (diverged "
                         "training?): compress a checkpoint with finite weights")
    if dataset is not None and dataset not in pipeline.DATASETS:
        dataset = None
    return model.eval(), [float(v) for v in normalize], dataset


def _dataset(args: argparse.Namespace, recorded: str | None) -> str:
    """``--dataset``, else the data set MODEL records, else fashion-mnist; a mismatch is refused."""
    given = args.dataset if "dataset" in args.given else None
    if given and recorded and given != recorded:
        raise UsageError(f"--dataset {given} but MODEL {args.model!r} was trained on {recorded} (its input "
                         f"normalisation and classes are {recorded}'s); drop --dataset or give {recorded}")
    dataset = given or recorded or "fashion-mnist"
    if dataset == "builtin" and args.data_dir is not None:
        raise UsageError("--data-dir is not used with the built-in data set (MODEL records --dataset builtin); "
                         "drop it" if not given else "--data-dir is not used with --dataset builtin; drop it")
    return dataset


def _save(args: argparse.Namespace, result: dict, title: str) -> dict:
    out = Path(args.out)
    result["command"] = " ".join(["python -m minitorch_cnn.compress", *args.argv])
    with user_errors(f"--out {args.out!r}"):  # e.g. a full disk: one line, and the previous file stays whole
        atomic_write_text(out / f"{args.name or args.command}.json", json.dumps(result, indent=1, default=float))
    print_report(result, title=title)
    return result


def _export_report(args: argparse.Namespace, model: Any, test: Any, normalize: list) -> dict:
    """Export ``model`` to ``--out/<name>.npz`` and report it (with the test accuracy when ``test``)."""
    path = Path(args.out) / f"{args.name or args.command}.npz"
    result = report(model, loader=test)
    with user_errors(f"--out {args.out!r}"):
        result["file_bytes"] = storage.export(model, path, extra={"normalize": normalize, "dataset": args.dataset})
    result["file"] = str(path)
    return result


def _float_reference(args: argparse.Namespace, model: Any, test: Any) -> dict:
    """The float32 state dict in np.savez's format: the size every ratio is measured against.

    Written atomically (a temporary file in ``--out``, then ``os.replace``): a full disk or Ctrl-C
    leaves the previous file intact."""
    path = Path(args.out) / f"{args.name or 'float'}-float32.npz"
    result = report(model, loader=test)
    with user_errors(f"--out {args.out!r}"), atomic_open(path, "wb") as f:
        np.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})
    result.update(file=str(path), file_bytes=path.stat().st_size)
    return result


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
            same += int((mt.backend.to_numpy(fake(x)._array) == mt.backend.to_numpy(real(x)._array)).all(axis=1).sum())
            seen += x.shape[0]
    result.update(int8_checked_images=seen, int8_identical_outputs=same)
    return result


def _compress(args: argparse.Namespace, model: Any, train: Any, on_step: pipeline.StepHook | None) -> Any:
    """The command's recipe (see ``pipeline``); int8 returns ``(fake-quant, int8)`` models."""
    if args.command == "prune":
        pipeline.prune_retrain(model, train, args.sparsity, args.steps, args.batches, args.lr, args.schedule,
                               args.conv_sparsity, args.lr_decay, on_step)
    elif args.command == "kmeans":
        pipeline.share_weights(model, train, args.bits, args.batches, args.lr, on_step, args.lr_decay)
    elif args.command == "binarize":
        pipeline.binarize_weights(model, train, args.method, args.batches, args.lr, on_step, args.lr_decay)
    elif args.command == "int8":
        return pipeline.quantize_int8(model, train, args.observer, args.batches, args.qat_batches, args.lr,
                                      on_step=on_step, lr_decay=args.lr_decay)
    elif args.command == "sparse":
        return pipeline.train_predefined_sparse(train, args.conv_density, args.linear_density, args.epochs,
                                                args.dense_every, args.lr, on_step)
    return model


def _prepare(args: argparse.Namespace) -> tuple[Any, list[float] | None]:
    """Every check that needs no data: flags, output paths, MODEL (readable, the unit's CNN, finite,
    normalised) and the data set; fills in ``args.dataset`` and ``args.lr``. Returns (model, normalize)."""
    if not hasattr(args, "given"):  # a Namespace built by hand: everything counts as given
        args.given = {k for k in DEFAULTS if getattr(args, k, DEFAULTS[k]) != DEFAULTS[k]}
        args.argv = getattr(args, "argv", sys.argv[1:])
        for k, v in DEFAULTS.items():
            if not hasattr(args, k):
                setattr(args, k, v)
    _check_flags(args)
    _check_outputs(args)
    model = normalize = recorded = None
    if args.command != "sparse":
        model, normalize, recorded = _load(args.model)
    args.dataset = _dataset(args, recorded)
    if args.lr is None:
        args.lr = {"sparse": 2e-3, "int8": 1e-5}.get(args.command, 1e-4)
    if args.command == "prune" and args.conv_sparsity is not None:
        with user_errors("--sparsity / --conv-sparsity"):
            prune._check_conv_budget(model, args.sparsity, args.conv_sparsity)
    return model, normalize


def run(args: argparse.Namespace) -> dict:
    """Carry out one command (see the module docstring); every check comes first (``UsageError``)."""
    import minitorch_cnn as mt

    model, normalize = _prepare(args)
    mt.manual_seed(args.seed)
    where = f"--dataset {args.dataset}" + (f" --data-dir {args.data_dir!r}" if args.data_dir else "")
    with user_errors(where):
        if args.command == "sparse":
            normalize = list(pipeline.normalization(args.dataset, args.data_dir, args.limit))
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
    """Entry point: 0 done, 2 a user error (one line on stderr), 130/143 interrupted."""

    def body() -> int:
        args = parse_args(argv)
        from .. import safe_load
        from ..cli import claim_out_dir

        check_range("--max-load-bytes", args.max_load_bytes, 0)
        # commands share --out (prune, then kmeans on its export): lock it, refuse no earlier files
        with safe_load.allowing(args.max_load_bytes), claim_out_dir("--out", args.out, markers=(), prog=PROG):
            run(args)
        return 0

    return run_main(PROG, body)
