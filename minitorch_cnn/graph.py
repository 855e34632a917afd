"""``python -m minitorch_cnn.graph``: draw the autograd graph (or the layer graph) of a model.

Examples::

    python -m minitorch_cnn.graph --model cnn --out graph.svg              # every op, clustered by module
    python -m minitorch_cnn.graph --model cnn --out graph.svg --depth 2    # one box per layer
    python -m minitorch_cnn.graph --model cnn --out graph.svg --show-saved --loss
    python -m minitorch_cnn.graph --model resnet --out layers.svg --forward  # layers and shapes only
    python -m minitorch_cnn.graph --model mlp --out graph.dot              # DOT text, no Graphviz needed

The image formats (``.svg``, ``.png``, ``.pdf``) need the Graphviz ``dot`` program; without it the
command says how to install it and exits with status 2 (``.dot`` output always works).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn.graph", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="cnn", help="a models.build_model name: cnn, mlp, resnet, vgg")
    p.add_argument("--out", default="graph.svg", help="output file; .svg/.png/.pdf need Graphviz, .dot does not")
    p.add_argument("--depth", type=int, default=None, help="collapse modules at this depth into one box each")
    p.add_argument("--show-saved", action="store_true", help="show what each op saves for backward")
    p.add_argument("--loss", action="store_true", help="graph the cross-entropy loss instead of the logits")
    p.add_argument("--forward", action="store_true", help="draw the layer graph (layers and shapes) instead")
    p.add_argument("--rankdir", default="TB", choices=("TB", "LR", "BT", "RL"), help="direction of the layout")
    p.add_argument("--batch-size", type=int, default=2, help="batch size of the dummy input")
    p.add_argument("--input-size", type=int, nargs=3, default=(1, 28, 28), metavar=("C", "H", "W"),
                   help="input shape without the batch dim")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import minitorch_cnn as mt
    from minitorch_cnn.models import build_model
    from minitorch_cnn.viz import GraphvizNotFoundError, draw_graph, forward_graph, render, trace

    try:
        model = build_model(args.model)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.forward:
        graph = forward_graph(model, args.input_size, depth=args.depth, rankdir=args.rankdir)
    else:
        rng = np.random.default_rng(0)
        x = mt.tensor(rng.standard_normal((args.batch_size, *args.input_size)).astype(np.float32))
        tr = trace(model, x)
        root = tr.output
        if args.loss:
            labels = mt.tensor(rng.integers(0, root.shape[-1], size=args.batch_size))
            root = mt.nn.functional.cross_entropy(root, labels)
        graph = draw_graph(root, params=model, trace=tr, depth=args.depth, show_saved=args.show_saved,
                           rankdir=args.rankdir)
    try:
        path = render(graph, args.out)
    except (GraphvizNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
