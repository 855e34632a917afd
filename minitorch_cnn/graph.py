"""``python -m minitorch_cnn.graph``: draw the autograd graph (or the layer graph) of a model.

Examples::

    python -m minitorch_cnn.graph --model cnn --out graph.svg              # one box per layer (--depth 2)
    python -m minitorch_cnn.graph --model cnn --out graph.svg --depth 0    # every op, clustered by module
    python -m minitorch_cnn.graph --model cnn --out graph.svg --show-saved --loss
    python -m minitorch_cnn.graph --model resnet --out layers.svg --forward  # layers and shapes only
    python -m minitorch_cnn.graph --model mlp --out graph.dot              # DOT text, no Graphviz needed

The image formats (``.svg``, ``.png``, ``.pdf``) need the Graphviz ``dot`` program; without it the
command says how to install it and exits with status 2 (``.dot`` output always works). Every flag
is checked before the model is built; a mistake is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from collections.abc import Sequence

import numpy as np

from .cli import ArgumentParser, UsageError, check_out_file, check_range, run_main

__all__ = ["main", "build_parser", "MAX_BATCH_SIZE", "MAX_INPUT_VALUES"]

PROG = "minitorch_cnn.graph"
#: the graph is the same for every batch size; a small dummy batch is all it needs
MAX_BATCH_SIZE = 64
#: batch * C * H * W of the dummy input: 2**22 float32 values (16 MiB) before the model multiplies them
MAX_INPUT_VALUES = 2**22
_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


def build_parser() -> ArgumentParser:
    from .models import MODELS

    p = ArgumentParser(prog="python -m minitorch_cnn.graph", description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="cnn", choices=tuple(MODELS), help="a models.build_model name")
    p.add_argument("--out", default="graph.svg", help="output file; .svg/.png/.pdf need Graphviz, .dot does not")
    p.add_argument("--depth", type=int, default=2,
                   help="collapse modules at this depth into one box each (2: one box per layer of the cnn, one "
                        "per block of the resnet; 1: the model's children); 0: no collapsing, every op")
    p.add_argument("--show-saved", action="store_true", help="show what each op saves for backward")
    p.add_argument("--loss", action="store_true", help="graph the cross-entropy loss instead of the logits")
    p.add_argument("--forward", action="store_true", help="draw the layer graph (layers and shapes) instead")
    p.add_argument("--rankdir", default="TB", choices=("TB", "LR", "BT", "RL"), help="direction of the layout")
    p.add_argument("--batch-size", type=int, default=2, help=f"batch size of the dummy input, 1 to {MAX_BATCH_SIZE}")
    p.add_argument("--input-size", type=int, nargs=3, default=(1, 28, 28), metavar=("C", "H", "W"),
                   help="input shape without the batch dim")
    return p


def _check(args: object) -> None:
    """Every flag, the output path and Graphviz, before a model is built."""
    check_range("--batch-size", args.batch_size, 1, MAX_BATCH_SIZE, "the graph does not depend on the batch size")
    check_range("--depth", args.depth, 0, None, "0 draws every op, 1 the model's children")
    for name, v in zip("CHW", args.input_size):
        check_range(f"--input-size {name}", v, 1, 4096)
    values = args.batch_size * int(np.prod(args.input_size))
    if values > MAX_INPUT_VALUES:
        raise UsageError(f"--batch-size {args.batch_size} x --input-size {' '.join(map(str, args.input_size))} is "
                         f"{values:,} input values, above the limit of {MAX_INPUT_VALUES:,}; use a smaller input")
    out = check_out_file("--out", args.out, _SUFFIXES)
    if importlib.util.find_spec("graphviz") is None:
        raise UsageError("the graphviz Python package is not installed: .venv/bin/pip install graphviz")
    if out.suffix.lower() in (".svg", ".png", ".pdf") and shutil.which("dot") is None:
        from .viz.graph import _install_hint

        raise UsageError(f"--out {args.out!r}: {_install_hint(out.suffix.lstrip('.'))}")


def _graph(args: object) -> object:
    import minitorch_cnn as mt
    from minitorch_cnn.models import build_model
    from minitorch_cnn.viz import draw_graph, forward_graph, trace

    model = build_model(args.model)
    if args.forward:
        return forward_graph(model, args.input_size, depth=args.depth or None, rankdir=args.rankdir)
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((args.batch_size, *args.input_size)).astype(np.float32))
    tr = trace(model, x)
    root = tr.output
    if args.loss:
        labels = mt.tensor(rng.integers(0, root.shape[-1], size=args.batch_size))
        root = mt.nn.functional.cross_entropy(root, labels)
    return draw_graph(root, params=model, trace=tr, depth=args.depth or None, show_saved=args.show_saved,
                      rankdir=args.rankdir)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    from minitorch_cnn.viz import render

    try:
        graph = _graph(args)
    except (ValueError, RuntimeError) as exc:
        if tuple(args.input_size) == (1, 28, 28):
            raise  # the unit's input size: a failure is a bug, keep its traceback
        raise UsageError(f"--model {args.model} on --input-size {' '.join(map(str, args.input_size))}: {exc}") from exc
    print(f"wrote {render(graph, args.out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m minitorch_cnn.graph``: 0 written, 2 bad usage (one line on stderr)."""
    return run_main(PROG, lambda: _main(argv))


if __name__ == "__main__":
    sys.exit(main())
