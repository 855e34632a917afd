"""Benchmark ImageNet-sized zoo models: one training step's forward + backward, ours vs PyTorch CPU.

    .venv/bin/python tools/bench_zoo.py                 # prints the table (PyTorch found automatically)
    .venv/bin/python tools/bench_zoo.py --write         # ... and rewrites BENCHMARKS.md's section

A step is ``zero_grad``, forward in train mode, cross-entropy against random labels, ``backward``
(no optimizer update) on random 3x224x224 float32 images: ``resnet18`` at batch 8 and ``vgg16`` at
batch 2, both with 1000 classes and torchvision's layer stack (``minitorch_cnn.models`` builds the
same names and shapes). The point is memory as much as time: the convolutions cut their im2col
buffers into chunks of at most ``ops.conv.IM2COL_LIMIT_BYTES`` (256 MiB), so the peak resident
memory is the weights, their gradients and the activations saved for backward, plus one chunk.

Method (tools/benchlib.py): every round starts one fresh child process per framework and model,
alternating ours and PyTorch's; a child builds the model, runs one warm-up step, times
``--steps`` steps and reports their median and its peak resident memory (``ru_maxrss``). Cells are
medians over rounds (min-max).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
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
    pin_threads_env,
    print_table,
    publish,
    section_heading,
    torch_python,
)

SECTION = "## Zoo models at 224x224 (tools/bench_zoo.py)"
CASES = {"resnet18": 8, "vgg16": 2}
"""Model name -> batch size of the benchmarked step."""
IMAGE = 224
CLASSES = 1000


def minitorch_step(name: str, batch: int) -> tuple[Any, str]:
    sys.path.insert(0, str(ROOT))
    import minitorch_cnn as mt
    from minitorch_cnn import models, nn

    mt.manual_seed(0)
    model = models.build_model(name)
    model.train()
    criterion = nn.CrossEntropyLoss()
    x, y = mt.randn(batch, 3, IMAGE, IMAGE), mt.randint(0, CLASSES, (batch,))

    def step() -> None:
        model.zero_grad()
        criterion(model(x), y).backward()

    info = blas_info_json()
    return step, f"minitorch_cnn, NumPy {info['numpy']} ({info['blas']}, {info['kernel']} kernels)"


def torch_step(name: str, batch: int) -> tuple[Any, str]:
    import torch
    from torchvision import models

    torch.manual_seed(0)
    model = getattr(models, name)(weights=None)
    model.train()
    criterion = torch.nn.CrossEntropyLoss()
    x, y = torch.randn(batch, 3, IMAGE, IMAGE), torch.randint(0, CLASSES, (batch,))

    def step() -> None:
        model.zero_grad()
        criterion(model(x), y).backward()

    return step, f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"


def child_main(framework: str, name: str, steps: int) -> dict:
    builder = {"minitorch": minitorch_step, "torch": torch_step}[framework]
    step, libs = builder(name, CASES[name])
    times = median_time(step, steps, warmup=1)
    return {"libraries": libs, "step_s": statistics.median(times),
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}  # ru_maxrss is KiB on Linux


def table(results: dict[str, list[dict]]) -> tuple[list[str], list[list[str]]]:
    header = ["model", "batch", "ours fwd+bwd s", "ours peak RSS MiB", "PyTorch fwd+bwd s", "PyTorch peak RSS MiB",
              "ours / PyTorch time"]
    body = []
    for name, batch in CASES.items():
        ours, theirs = results.get(f"minitorch {name}", []), results.get(f"torch {name}", [])
        row = [name, str(batch), fmt_spread([r["step_s"] for r in ours], digits=2),
               f"{max(r['rss'] for r in ours) / 2**20:.0f}"]
        if theirs:
            ratio = statistics.median(r["step_s"] for r in ours) / statistics.median(r["step_s"] for r in theirs)
            row += [fmt_spread([r["step_s"] for r in theirs], digits=2),
                    f"{max(r['rss'] for r in theirs) / 2**20:.0f}", f"{ratio:.1f}x"]
        else:
            row += ["-", "-", "-"]
        body.append(row)
    return header, body


def markdown(machine: str, header: list[str], body: list[list[str]], args: argparse.Namespace) -> str:
    lines = [section_heading(SECTION, args.native_blas), "", f"Machine: {machine}.", "",
             f"{args.rounds} rounds, each a fresh child process per framework and model (ours, then PyTorch's), "
             f"{args.threads} threads each; a child times {args.steps} steps (zero_grad, forward in train mode, "
             "cross-entropy, backward; no optimizer update) after one warm-up step on random 3x224x224 images "
             "with 1000 classes, and reports the median. Peak RSS is the child's `ru_maxrss` (weights, "
             "gradients, saved activations and the largest im2col chunk, at most 256 MiB).", ""]
    lines += md_table(header, body)
    lines += ["", "Regenerate with `.venv/bin/python tools/bench_zoo.py --write" + NATIVE_FLAG[args.native_blas] + "` (PyTorch and torchvision from "
              "`--torch-python` or the shared oracle venv).", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, rounds=2, torch_help="a Python with PyTorch and torchvision (default: the shared oracle venv)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per child (median kept)")
    parser.add_argument("--models", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_main(args.child[0], args.child[1], args.steps)))
        return 0

    monitor = LoadMonitor()
    env = pin_threads_env(args.threads, native_blas=args.native_blas)
    tail = ["--steps", str(args.steps)]
    tp = torch_python(args.torch_python)
    children = {}
    for name in args.models:
        children[f"minitorch {name}"] = ([sys.executable, __file__, "--child", "minitorch", name, *tail], env)
        if tp:
            children[f"torch {name}"] = ([tp, __file__, "--child", "torch", name, *tail], env)
    t0 = time.perf_counter()
    results = alternate(children, args.rounds)
    monitor.stop()
    header, body = table(results)
    machine = machine_line({"minitorch": results[f"minitorch {args.models[0]}"][0],
                            **({"torch": results[f"torch {args.models[0]}"][0]} if tp else {})}, monitor, env)
    print_table(header, body, title=f"Zoo models, forward + backward ({args.rounds} rounds, "
                                    f"{time.perf_counter() - t0:.0f} s)")
    print(f"Machine: {machine}")
    return publish(args.output, section_heading(SECTION, args.native_blas), markdown(machine, header, body, args), monitor, args.write)


if __name__ == "__main__":
    sys.exit(main())
