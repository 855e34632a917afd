"""``python -m minitorch_cnn.explore``: one self-contained HTML page to look inside a trained CNN.

Examples::

    python -m minitorch_cnn.explore --checkpoint runs/builtin-cnn-seed0/best.npz --out cnn.html
    python -m minitorch_cnn.explore --model resnet18 --images 2 --max-layers 6 --max-channels 8 --out r18.html

Every flag is checked before anything is loaded; a mistake is one line and exit status 2. The file
is written atomically and an existing one is replaced only with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cli import (
    ArgumentParser,
    UsageError,
    check_input_file,
    check_out_file,
    check_range,
    run_main,
    user_errors,
)

__all__ = ["main", "build_parser", "select_images", "write_explorer"]

PROG = "minitorch_cnn.explore"


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m minitorch_cnn.explore", description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="a .npz written by python -m minitorch_cnn.train")
    src.add_argument("--model", help="a model name of minitorch_cnn.models.MODELS (e.g. resnet18)")
    p.add_argument("--weights", help="with --model: a state dict saved with mt.save (default: random weights)")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"),
                   help="with --model: the input (default 3 224 224 for the zoo, 1 28 28 for the small models)")
    p.add_argument("--out", required=True, help="the .html file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--images", type=int, default=16, help="test images to bundle (1 to 256), covering the classes")
    p.add_argument("--max-layers", type=int, default=32, help="spatial layers whose feature maps are shown")
    p.add_argument("--max-channels", type=int, default=16, help="channels shown per layer (the most active)")
    p.add_argument("--max-classes", type=int, default=10, help="classes with Grad-CAM / saliency / occlusion")
    p.add_argument("--no-graph", action="store_true", help="leave the autograd graph out")
    p.add_argument("--data-dir", default=None, help="directory of the IDX files (fashion-mnist / mnist)")
    p.add_argument("--max-load-bytes", type=int, metavar="N", help="let a loaded file decode to up to N bytes")
    return p


def _check(args: argparse.Namespace) -> None:
    """Every flag and path, before any file is read or model built."""
    from ..models import MODELS

    if args.model is not None and args.model not in MODELS:
        raise UsageError(f"--model {args.model!r} is unknown; choose one of {', '.join(MODELS)}")
    if args.checkpoint is not None:
        check_input_file("--checkpoint", args.checkpoint)
        for flag, v in (("--weights", args.weights), ("--input-size", args.input_size)):
            if v is not None:
                raise UsageError(f"{flag} goes with --model; a --checkpoint brings its own weights and input size")
    if args.weights is not None:
        check_input_file("--weights", args.weights)
    if args.input_size is not None:
        for v in args.input_size:
            check_range("--input-size", v, 1, 4096)
    check_range("--images", args.images, 1, 256, "bundle at least one image")
    check_range("--max-layers", args.max_layers, 1, None, "show at least one layer")
    check_range("--max-channels", args.max_channels, 1, 4096, "show at least one channel per layer")
    check_range("--max-classes", args.max_classes, 1, None, "explain at least one class")
    check_range("--max-load-bytes", args.max_load_bytes, 0)
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        raise UsageError(f"--data-dir {args.data_dir!r} is not a directory")
    out = check_out_file("--out", args.out, (".html", ".htm"))
    if out.exists() and not args.overwrite:
        raise UsageError(f"--out {str(out)!r} already exists; give another --out, or pass --overwrite to replace it")


def select_images(labels: np.ndarray, n: int) -> list[int]:
    """``n`` indices into ``labels`` that cover the classes: round-robin over the classes in order."""
    by_class: dict[int, list[int]] = {}
    for i, lab in enumerate(np.asarray(labels).tolist()):
        by_class.setdefault(int(lab), []).append(i)
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n and any(depth < len(v) for v in by_class.values()):
        for c in sorted(by_class):
            if depth < len(by_class[c]) and len(chosen) < n:
                chosen.append(by_class[c][depth])
        depth += 1
    return sorted(chosen)


def _test_split(dataset: str, data_dir: str | None, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from ..data import MNIST, FashionMNIST, GlyphsInClutter

    if dataset == "builtin":
        ds = GlyphsInClutter(train=False, size=max(100, 10 * n), seed=0)
    else:
        ds = (FashionMNIST if dataset == "fashion-mnist" else MNIST)(data_dir, train=False)
    return np.asarray(ds.data), np.asarray(ds.targets), [str(c) for c in ds.classes]


def _from_checkpoint(args: argparse.Namespace) -> tuple[Any, np.ndarray, list[int], list[int], list[str], dict]:
    from ..data import transforms as T
    from ..visualize import load_model

    with user_errors(f"--checkpoint {args.checkpoint!r}"):
        model, cfg, ckpt = load_model(args.checkpoint)
    dataset = cfg.get("dataset", "builtin")
    with user_errors(f"the {dataset} test split"):
        data, targets, classes = _test_split(dataset, args.data_dir or cfg.get("data_dir"), args.images)
    ids = select_images(targets, args.images)
    mean, std = ckpt.get("normalize") or (0.0, 1.0)
    x = np.asarray(T.Normalize((mean,), (std,))(T.ToTensor()(data[ids])), dtype=np.float32)
    meta = {"title": f"Explorer: {cfg['model']} ({Path(args.checkpoint).name})",
            "source": f"checkpoint {args.checkpoint} (model {cfg['model']}, {dataset} test split, images "
                      f"normalised with mean {mean:.4g}, std {std:.4g})", "notes": []}
    return model, x, [int(targets[i]) for i in ids], ids, classes, meta


def _from_zoo(args: argparse.Namespace) -> tuple[Any, np.ndarray, list[int], list[int], list[str], dict]:
    import minitorch_cnn as mt

    from ..checkpoint import state_dict_mismatch
    from ..models import ZOO, build_for_images, build_model

    size = tuple(args.input_size) if args.input_size else ((3, 224, 224) if args.model in ZOO else (1, 28, 28))
    model = build_model(args.model) if args.model in ZOO else build_for_images(args.model, in_channels=size[0])
    notes = []
    if args.weights is not None:
        with user_errors(f"--weights {args.weights!r}"):
            state = mt.load(args.weights)
            mismatch = state_dict_mismatch(model.state_dict(), state)
            if mismatch:
                raise UsageError(f"--weights {args.weights!r} do not fit --model {args.model}: {mismatch}")
            model.load_state_dict(state)
    else:
        notes.append("random weights (no --weights): the maps show an untrained network")
    model.eval()
    data, targets, _ = _test_split("builtin", None, args.images)
    ids = select_images(targets, args.images)
    C, H, W = size
    rows = (np.arange(H) * 28 // H)
    cols = (np.arange(W) * 28 // W)
    imgs = data[ids][:, rows][:, :, cols].astype(np.float32) / 255  # nearest-neighbour resize to H x W
    x = np.repeat(((imgs - 0.5) / 0.5)[:, None], C, axis=1).astype(np.float32)
    with mt.no_grad():
        n_classes = int(model(mt.tensor(x[:1])).shape[-1])
    notes.append(f"images: the built-in glyph test images resized to {H}x{W}, {C} equal channels, (v - 0.5) / 0.5")
    meta = {"title": f"Explorer: {args.model}", "source": f"--model {args.model}"
            + (f" with --weights {args.weights}" if args.weights else ""), "notes": notes}
    return model, x, [int(targets[i]) for i in ids], ids, [f"class {k}" for k in range(n_classes)], meta


def write_explorer(args: argparse.Namespace) -> tuple[Path, dict]:
    """Build the data, the page, and write ``--out`` atomically; returns (path, data)."""
    import minitorch_cnn as mt

    from ..data.fileio import atomic_write_text
    from .export import Budget, export
    from .page import build_html, graph_svg

    model, x, labels, ids, classes, meta = (_from_checkpoint if args.checkpoint else _from_zoo)(args)
    budget = Budget(max_layers=args.max_layers, max_channels=args.max_channels, max_classes=args.max_classes)
    with user_errors("the model"):
        data = export(model, x, labels, ids, classes, budget, meta)
    if args.no_graph:
        svg, note = "", "The autograd graph was left out (--no-graph)."
    else:
        svg, note = graph_svg(model, mt.tensor(x[:1]))
    atomic_write_text(args.out, build_html(data, svg, note))
    return Path(args.out), data


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    from .. import safe_load

    t0 = time.perf_counter()
    with safe_load.allowing(args.max_load_bytes):
        path, data = write_explorer(args)
    seconds = time.perf_counter() - t0
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1e6:.2f} MB, {len(data['images'])} images, {len(data['maps'])} layers "
          f"with feature maps) in {seconds:.1f} s")
    for n in data["meta"]["notes"]:
        print(f"note: {n}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m minitorch_cnn.explore``: 0 written, 2 bad usage (one line on stderr)."""
    return run_main(PROG, lambda: _main(argv))


if __name__ == "__main__":
    sys.exit(main())
