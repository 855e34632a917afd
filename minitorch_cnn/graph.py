"""``python -m minitorch_cnn.graph``: draw the autograd graph (or the layer graph) of a model.

Examples::

    python -m minitorch_cnn.graph --model cnn --out graph.svg              # one box per layer (--depth 2)
    python -m minitorch_cnn.graph --model cnn --out graph.svg --depth 0    # every op, clustered by module
    python -m minitorch_cnn.graph --model cnn --out graph.svg --show-saved --loss
    python -m minitorch_cnn.graph --model resnet --out layers.svg --forward  # layers and shapes only
    python -m minitorch_cnn.graph --model mlp --out graph.dot              # DOT text, no Graphviz needed
    python -m minitorch_cnn.graph --model resnet18 --out r18.svg --depth 1  # the ImageNet model, 3x224x224
    python -m minitorch_cnn.graph --model resnet18 --input-size 1 28 28 --out r18.svg  # as the trainer builds it

Each model is drawn on the input it is built for unless ``--input-size`` says otherwise: 1x28x28
for the unit's small models (cnn, mlp, resnet, resnet_gap, vgg), 3x224x224 for the ImageNet zoo
(3x299x299 for inception_v3). A zoo model given another ``--input-size C H W`` is built with ``C``
input channels, and, for images of at most 64x64, with ``small_input=True`` as the train CLI builds
it (see ``models.build_for_images``).

The image formats (``.svg``, ``.png``, ``.pdf``) need the Graphviz ``dot`` program; without it the
command says how to install it and exits with status 2 (``.dot`` output always works). Every flag
is checked before the model is built; a mistake is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .cli import ArgumentParser, UsageError, check_out_file, check_range, run_main

__all__ = ["main", "build_parser", "natural_input_size", "build_graph_model", "MAX_BATCH_SIZE",
           "MAX_INPUT_VALUES", "SMALL_INPUT_MAX"]

PROG = "minitorch_cnn.graph"
#: the graph is the same for every batch size; a small dummy batch is all it needs
MAX_BATCH_SIZE = 64
#: batch * C * H * W of the dummy input: 2**22 float32 values (16 MiB) before the model multiplies them
MAX_INPUT_VALUES = 2**22
_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")
#: a zoo model drawn on images up to this size (height and width) gets the train CLI's small-image stem
SMALL_INPUT_MAX = 64


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
    p.add_argument("--input-size", type=int, nargs=3, default=None, metavar=("C", "H", "W"),
                   help="input shape without the batch dim (default: the model's own, 1 28 28 for the small "
                        "models, 3 224 224 for the zoo, 3 299 299 for inception_v3)")
    return p


def natural_input_size(name: str) -> tuple[int, int, int]:
    """The input (C, H, W) model ``name`` is built for by ``models.build_model(name)``.

    The unit's small models take Fashion-MNIST's 1x28x28 images; the ImageNet zoo takes 3x224x224
    RGB images (inception_v3 3x299x299, as in its paper and torchvision).
    """
    from .models import SMALL_MODELS

    if name in SMALL_MODELS:
        return (1, 28, 28)
    return (3, 299, 299) if name == "inception_v3" else (3, 224, 224)


def build_graph_model(name: str, input_size: Sequence[int]) -> Any:
    """The model to draw on ``input_size``: a small model as it is; a zoo model with ``C`` input
    channels, ``small_input`` for images of at most :data:`SMALL_INPUT_MAX` pixels a side, and no
    auxiliary heads (googlenet, inception_v3: the graph has one output)."""
    from .models import SMALL_MODELS, build_model

    if name in SMALL_MODELS:
        return build_model(name)
    c, h, w = input_size
    kwargs: dict[str, Any] = {"in_channels": c, "small_input": max(h, w) <= SMALL_INPUT_MAX}
    if name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
    return build_model(name, **kwargs)


def _check(args: object) -> None:
    """Every flag, the output path and Graphviz, before a model is built."""
    check_range("--batch-size", args.batch_size, 1, MAX_BATCH_SIZE, "the graph does not depend on the batch size")
    check_range("--depth", args.depth, 0, None, "0 draws every op, 1 the model's children")
    args.input_size = tuple(args.input_size or natural_input_size(args.model))
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
    from minitorch_cnn.viz import draw_graph, forward_graph, trace

    model = build_graph_model(args.model, args.input_size)
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


def _render_atomically(graph: Any, out: str) -> Path:
    """Render into a hidden file next to ``out``, then ``os.replace`` it over ``out``: a failed or
    interrupted render never leaves half a file, and an earlier ``out`` stays whole until then."""
    from minitorch_cnn.viz import render

    path = Path(out)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        written = render(graph, tmp)
        os.replace(written, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    try:
        graph = _graph(args)
    except (ValueError, RuntimeError) as exc:
        if args.input_size == natural_input_size(args.model):
            raise  # the model's own input size: a failure is a bug, keep its traceback
        need = " ".join(map(str, natural_input_size(args.model)))
        raise UsageError(f"--model {args.model} on --input-size {' '.join(map(str, args.input_size))}: {exc}; "
                         f"its own input size is --input-size {need}") from exc
    print(f"wrote {_render_atomically(graph, args.out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m minitorch_cnn.graph``: 0 written, 2 bad usage (one line on stderr)."""
    return run_main(PROG, lambda: _main(argv))


if __name__ == "__main__":
    sys.exit(main())
