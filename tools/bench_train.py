"""Benchmark the unit's Fashion-MNIST CNN: a training step and evaluation, ours vs PyTorch CPU (and Chainer).

    .venv/bin/python tools/bench_train.py                 # prints the table (PyTorch found automatically)
    .venv/bin/python tools/bench_train.py --write         # ... and rewrites BENCHMARKS.md's section
    .venv/bin/python tools/bench_train.py --chainer-python ~/.cache/minitorch-chainer/bin/python

Training step = forward, cross-entropy, backward, Adam step on a batch of 128 random 1x28x28
float32 images with random labels, the model in train mode (dropout and batch statistics on).
Evaluation = forward only, eval mode, no graph (``no_grad``), on batches of ``EVAL_BATCH`` images.
The model is ``minitorch_cnn.models.build_model("cnn")``; PyTorch (and Chainer) get the identical
layer stack.

Method (see tools/benchlib.py): every round starts one fresh child process per framework
(minitorch, PyTorch, Chainer, alternating), each importing only its own library; a child warms up,
times ``--steps`` training steps and ``--eval-batches`` evaluation batches and reports the medians
and its peak resident memory (``ru_maxrss``) after training. Cells are medians over rounds (min-max).

Chainer (7.8.1, NumPy < 2, im2col + BLAS like us) is a peer reference; it needs its own venv:
``python3 -m venv ~/.cache/minitorch-chainer && ~/.cache/minitorch-chainer/bin/pip install "setuptools<70"
wheel && ~/.cache/minitorch-chainer/bin/pip install --no-build-isolation chainer==7.8.1 "numpy<2"``
(Chainer's sdist imports ``pkg_resources``, which newer setuptools no longer ship); the row is skipped when that venv is absent.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import (
    NATIVE_FLAG,
    ROOT,
    LoadMonitor,
    add_common_args,
    alternate,
    blas_info_json,
    fmt_spread,
    machine_line,
    md_table,
    median_time,
    pair_ratios,
    pin_threads_env,
    print_table,
    publish,
    section_heading,
    torch_python,
)

SECTION = "## Training step and evaluation (tools/bench_train.py)"
BATCH = 128
EVAL_BATCH = 1000
EPOCH_IMAGES = 60_000
WARMUP = 3
TARGET_FRACTION = 0.8
TARGET_RSS_BYTES = 1e9
CHAINER_PYTHON = Path.home() / ".cache" / "minitorch-chainer" / "bin" / "python"


# --------------------------------------------------------------------------------------------------
# The three frameworks' step and evaluation closures (each child builds only its own)
# --------------------------------------------------------------------------------------------------
def minitorch_fns() -> tuple[Any, Any, str]:
    sys.path.insert(0, str(ROOT))
    import minitorch_cnn as mt
    from minitorch_cnn import nn, optim
    from minitorch_cnn.fast import threads
    from minitorch_cnn.models import build_model

    mt.manual_seed(0)
    model = build_model("cnn")
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    x, y = mt.randn(BATCH, 1, 28, 28), mt.randint(0, 10, (BATCH,))
    xe = mt.randn(EVAL_BATCH, 1, 28, 28)

    def step() -> None:
        model.train()
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

    def evaluate() -> None:
        model.eval()
        with mt.no_grad():
            model(xe).argmax(1)

    info = blas_info_json()
    libs = (f"minitorch_cnn, NumPy {info['numpy']} ({info['blas']}, {info['kernel']} kernels, "
            f"{info['blas_threads']} BLAS threads; thread pool {threads.pool_size()})")
    return step, evaluate, libs


def torch_fns() -> tuple[Any, Any, str]:
    import torch

    tnn = torch.nn
    torch.manual_seed(0)
    model = tnn.Sequential(
        tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.BatchNorm2d(32),
        tnn.Conv2d(32, 32, 3, padding=1), tnn.ReLU(), tnn.BatchNorm2d(32),
        tnn.MaxPool2d(2), tnn.Dropout(0.25),
        tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.BatchNorm2d(64),
        tnn.Conv2d(64, 64, 3, padding=1), tnn.ReLU(), tnn.BatchNorm2d(64),
        tnn.MaxPool2d(2), tnn.Dropout(0.25),
        tnn.Flatten(), tnn.Linear(3136, 512), tnn.ReLU(), tnn.BatchNorm1d(512), tnn.Dropout(0.5),
        tnn.Linear(512, 10),
    )
    criterion = tnn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    xe = torch.randn(EVAL_BATCH, 1, 28, 28)

    def step() -> None:
        model.train()
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

    def evaluate() -> None:
        model.eval()
        with torch.no_grad():
            model(xe).argmax(1)

    return step, evaluate, f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"


def chainer_fns() -> tuple[Any, Any, str]:
    import chainer
    import chainer.functions as F
    import chainer.links as L
    import numpy as np

    class Net(chainer.Chain):
        def __init__(self) -> None:
            super().__init__()
            with self.init_scope():
                self.c = chainer.ChainList(*(L.Convolution2D(i, o, 3, pad=1)
                                             for i, o in ((1, 32), (32, 32), (32, 64), (64, 64))))
                self.b = chainer.ChainList(*(L.BatchNormalization(o) for o in (32, 32, 64, 64, 512)))
                self.fc1, self.fc2 = L.Linear(3136, 512), L.Linear(512, 10)

        def forward(self, x: Any) -> Any:
            for block in (0, 2):
                for i in (block, block + 1):
                    x = self.b[i](F.relu(self.c[i](x)))
                x = F.dropout(F.max_pooling_2d(x, 2), 0.25)
            return self.fc2(F.dropout(self.b[4](F.relu(self.fc1(x))), 0.5))

    model = Net()
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(model)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int32)
    xe = rng.standard_normal((EVAL_BATCH, 1, 28, 28), dtype=np.float32)

    def step() -> None:
        with chainer.using_config("train", True):
            model.cleargrads()
            F.softmax_cross_entropy(model(x), y).backward()
            optimizer.update()

    def evaluate() -> None:
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            model(xe).array.argmax(1)

    info = blas_info_json()
    return step, evaluate, (f"Chainer {chainer.__version__}, NumPy {info['numpy']} ({info['blas']}, "
                            f"{info['kernel']} kernels)")


def child_main(framework: str, steps: int, eval_batches: int) -> dict:
    step, evaluate, libs = {"minitorch": minitorch_fns, "torch": torch_fns, "chainer": chainer_fns}[framework]()
    train_s = statistics.median(median_time(step, steps, warmup=WARMUP))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    eval_s = statistics.median(median_time(evaluate, eval_batches, warmup=1))
    return {"libraries": libs, "train_rate": BATCH / train_s, "eval_rate": EVAL_BATCH / eval_s,
            "train_rss": rss, "rss_after_eval": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------
def table(results: dict[str, list[dict]]) -> tuple[list[str], list[list[str]], dict]:
    header = ["framework", f"train images/s (batch {BATCH})", "ms/step", "ours/this: of medians; median of pairs (range)",
              f"eval images/s (batch {EVAL_BATCH})", "ours/this eval", "s per epoch (60k)", "peak RSS MiB (train)"]
    ours = results["minitorch"]
    ours_train = [r["train_rate"] for r in ours]
    ours_eval = [r["eval_rate"] for r in ours]
    body, ratios = [], {}
    for name, rs in results.items():
        train = [r["train_rate"] for r in rs]
        ev = [r["eval_rate"] for r in rs]
        med = statistics.median(train)
        if name == "minitorch":
            ratio = ratio_eval = "-"
        else:
            lo, mid, hi = pair_ratios(ours_train, train)
            ratios[name] = statistics.median(ours_train) / med
            ratios[name + "_pairs"] = mid  # the target is judged on the median of the per-round ratios
            ratios[name + "_eval"] = statistics.median(ours_eval) / statistics.median(ev)
            ratio = f"{ratios[name]:.2f}x; {mid:.2f}x ({lo:.2f}-{hi:.2f})"
            ratio_eval = f"{ratios[name + '_eval']:.2f}x"
        body.append([name, fmt_spread(train, digits=0), f"{1e3 * BATCH / med:.0f}", ratio,
                     fmt_spread(ev, digits=0), ratio_eval, f"{EPOCH_IMAGES / med:.0f}",
                     f"{max(r['train_rss'] for r in rs) / 2**20:.0f}"])
    ratios["rss"] = max(r["train_rss"] for r in ours)
    return header, body, ratios


def targets_text(ratios: dict) -> str:
    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    parts = []
    if "torch" in ratios:
        parts.append(f"Training step at least {TARGET_FRACTION}x PyTorch CPU's images/s (median of the per-round "
                     f"ratios): {met(ratios['torch_pairs'] >= TARGET_FRACTION)} ({ratios['torch_pairs']:.2f}x; ratio "
                     f"of the medians {ratios['torch']:.2f}x; evaluation {ratios['torch_eval']:.2f}x).")
    else:
        parts.append("PyTorch was not available in this run, so the speed target cannot be judged.")
    parts.append(f"Peak resident memory of the training loop under 1 GB: {met(ratios['rss'] < TARGET_RSS_BYTES)} "
                 f"({ratios['rss'] / 2**20:.0f} MiB).")
    return " ".join(parts)


def markdown(machine: str, header: list[str], body: list[list[str]], ratios: dict, args: argparse.Namespace) -> str:
    lines = [section_heading(SECTION, args.native_blas), "", f"Machine: {machine}.", "",
             f"{args.rounds} rounds, each a fresh child process per framework (in the table's order), "
             f"{args.threads} threads each; a child times {args.steps} training steps after {WARMUP} warm-up "
             f"steps and {args.eval_batches} evaluation batches, and reports the medians. Cells: median over "
             "rounds (min-max); ratios are of the medians, with the range of the per-round ratios. Peak RSS is "
             "the child's `ru_maxrss` after its training steps.", ""]
    lines += md_table(header, body)
    lines += ["", targets_text(ratios), "",
              "Regenerate with `.venv/bin/python tools/bench_train.py --write" + NATIVE_FLAG[args.native_blas] + "` (PyTorch from `--torch-python` or "
              "the shared oracle venv; Chainer from `--chainer-python`, see the script's docstring).", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, rounds=3)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per child (median kept)")
    parser.add_argument("--eval-batches", type=int, default=3, help="timed evaluation batches per child")
    parser.add_argument("--chainer-python", default=str(CHAINER_PYTHON), help="a Python with Chainer 7.8.1")
    parser.add_argument("--pool-off-row", action="store_true",
                        help="add a minitorch row with its thread pool off (MINITORCH_CNN_THREADS=1, BLAS threads kept)")
    parser.add_argument("--fast-off-row", action="store_true",
                        help="add a minitorch row with every fast kernel off (MINITORCH_CNN_FAST=0: the textbook path)")
    parser.add_argument("--child", choices=["minitorch", "torch", "chainer"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_main(args.child, args.steps, args.eval_batches)))
        return 0

    monitor = LoadMonitor()
    env = pin_threads_env(args.threads, native_blas=args.native_blas)
    tail = ["--steps", str(args.steps), "--eval-batches", str(args.eval_batches)]
    children = {"minitorch": ([sys.executable, __file__, "--child", "minitorch", *tail], env)}
    if args.pool_off_row:
        children["minitorch, pool off"] = ([sys.executable, __file__, "--child", "minitorch", *tail],
                                           env | {"MINITORCH_CNN_THREADS": "1"})
    if args.fast_off_row:
        children["minitorch, fast off"] = ([sys.executable, __file__, "--child", "minitorch", *tail],
                                           env | {"MINITORCH_CNN_FAST": "0"})
    tp = torch_python(args.torch_python)
    if tp:
        children["torch"] = ([tp, __file__, "--child", "torch", *tail], env)
    if Path(args.chainer_python).exists():
        children["chainer"] = ([args.chainer_python, __file__, "--child", "chainer", *tail], env)
    t0 = time.perf_counter()
    results = alternate(children, args.rounds)
    monitor.stop()
    header, body, ratios = table(results)
    machine = machine_line({k: v[0] for k, v in results.items()}, monitor, env)
    print_table(header, body, title=f"Fashion-MNIST CNN ({args.rounds} rounds, {time.perf_counter() - t0:.0f} s)")
    print(f"Machine: {machine}")
    print(targets_text(ratios))
    return publish(args.output, section_heading(SECTION, args.native_blas), markdown(machine, header, body, ratios, args), monitor, args.write)


if __name__ == "__main__":
    sys.exit(main())
