"""GPU benchmark: a training step of the unit's CNN and the conv shapes, ours (CuPy) vs PyTorch CUDA.

    python tools/gpu_bench.py --device cuda --json out.json       # on a machine with a GPU
    python tools/gpu_bench.py --device strict --batch 4 --steps 1 --rounds 1 --conv small   # CPU dry run

One step = forward, cross-entropy loss, backward, Adam step on a batch of random 1x28x28 float32
images, the model in train mode, exactly as ``tools/bench_train.py`` does on the CPU. GPU work is
asynchronous, so every timed region ends with a device synchronisation (``cupy``'s
``Device().synchronize()``, ``torch.cuda.synchronize()``); the loss is read back to the host once per
round, not per step, as a training loop that logs every few batches does.

Each framework runs in its own child process (``--only NAME``), the children alternate round by
round (A B A B ...) so drift hits both, and the reported figure is the median over rounds.
PyTorch's twin of the model is built layer by layer from our ``build_model("cnn")`` so the two
cannot drift apart. The ``strict`` device (the CPU stand-in for CuPy) exists to test this script's
code path without a GPU; its timings mean nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONV_SHAPES = {  # (N, C_in, H, W) -> C_out, 3x3, padding 1: the unit's CNN layers and two larger ones
    "small": [(4, 1, 28, 28, 8)],
    "unit": [(128, 1, 28, 28, 32), (128, 32, 28, 28, 32), (128, 32, 14, 14, 64), (128, 64, 14, 14, 64),
             (128, 128, 56, 56, 128)],
}


def _synchronizer(device: str) -> Callable[[], None]:
    """A function that waits until the device has finished its queued work."""
    if device == "cuda":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def adam_step(model: Any, criterion: Any, optimizer: Any, x: Any, y: Any) -> Callable[[], Any]:
    """The training step, written once: both frameworks share the API, so one closure serves both."""

    def step() -> Any:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def minitorch_train_step(device: str, batch: int) -> Callable[[], Any]:
    """One Adam training step of the unit's CNN on ``device``; returns the loss Tensor (not read back)."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn, optim
    from minitorch_cnn.models import build_model

    mt.manual_seed(0)
    model = build_model("cnn").to(device).train()
    criterion, optimizer = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3)
    x = mt.randn(batch, 1, 28, 28, device=device)
    y = mt.randint(0, 10, (batch,), device=device)

    return adam_step(model, criterion, optimizer, x, y)


def minitorch_conv_step(device: str, shape: tuple[int, ...]) -> Callable[[], Any]:
    """conv2d forward + backward (input and weight gradients) for one benchmark shape."""
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F

    n, c, h, w, c_out = shape
    x = mt.randn(n, c, h, w, device=device, requires_grad=True)
    weight = mt.randn(c_out, c, 3, 3, device=device, requires_grad=True)

    def step() -> Any:
        out = F.conv2d(x, weight, padding=1)
        out.sum().backward()
        return out

    return step


def torch_twin(torch: Any, model: Any) -> Any:
    """PyTorch's copy of a Sequential-of-Sequentials built from our layers (same types, same sizes)."""
    tnn, layers = torch.nn, []
    for layer in model.modules():
        kind = type(layer).__name__
        if kind == "Conv2d":
            layers.append(tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                     stride=layer.stride, padding=layer.padding))
        elif kind == "Linear":
            layers.append(tnn.Linear(layer.in_features, layer.out_features))
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            layers.append(getattr(tnn, kind)(layer.num_features))
        elif kind == "MaxPool2d":
            layers.append(tnn.MaxPool2d(layer.kernel_size))
        elif kind == "Dropout":
            layers.append(tnn.Dropout(layer.p))
        elif kind in ("ReLU", "Flatten"):
            layers.append(getattr(tnn, kind)())
    return tnn.Sequential(*layers)


def torch_train_step(batch: int) -> Callable[[], Any]:
    import torch

    from minitorch_cnn.models import build_model

    torch.manual_seed(0)
    model = torch_twin(torch, build_model("cnn")).cuda().train()
    criterion, optimizer = torch.nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")

    return adam_step(model, criterion, optimizer, x, y)


def torch_conv_step(shape: tuple[int, ...]) -> Callable[[], Any]:
    import torch

    n, c, h, w, c_out = shape
    x = torch.randn(n, c, h, w, device="cuda", requires_grad=True)
    weight = torch.randn(c_out, c, 3, 3, device="cuda", requires_grad=True)

    def step() -> Any:
        out = torch.nn.functional.conv2d(x, weight, padding=1)
        out.sum().backward()
        return out

    return step


def time_rounds(step: Callable[[], Any], sync: Callable[[], None], rounds: int, steps: int) -> list[float]:
    """Seconds per step for each round, after a warm-up that also compiles any kernels."""
    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            out = step()
        sync()
        float(out.sum().item() if hasattr(out, "sum") else out)  # one read-back per round
        times.append((time.perf_counter() - t0) / steps)
    return times


def run_child(args: argparse.Namespace) -> dict:
    """Measure one framework (``args.only``) for one case (``args.case``) in this process."""
    kind, _, param = args.case.partition(":")
    if args.only == "torch":
        import torch

        sync = torch.cuda.synchronize
        step = torch_train_step(int(param)) if kind == "train" else torch_conv_step(tuple(map(int, param.split("x"))))
    else:
        sync = _synchronizer(args.device)
        step = (minitorch_train_step(args.device, int(param)) if kind == "train"
                else minitorch_conv_step(args.device, tuple(map(int, param.split("x")))))
    return {"framework": args.only, "case": args.case, "seconds": time_rounds(step, sync, args.rounds, args.steps)}


def torch_cuda_available() -> bool:
    probe = "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def measure(case: str, frameworks: list[str], args: argparse.Namespace) -> dict:
    """Alternate fresh child processes per round (A B A B ...); median seconds per step per framework."""
    per_round: dict[str, list[float]] = {name: [] for name in frameworks}
    for _ in range(args.rounds):
        for name in frameworks:
            cmd = [sys.executable, __file__, "--only", name, "--case", case, "--device", args.device,
                   "--rounds", "1", "--steps", str(args.steps)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            per_round[name] += json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return {name: {"median_s": statistics.median(t), "min_s": min(t), "max_s": max(t)} for name, t in per_round.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cuda", "strict", "cpu"], default="cuda")
    parser.add_argument("--batch", type=int, nargs="+", default=[128, 512], help="training-step batch sizes")
    parser.add_argument("--conv", choices=sorted(CONV_SHAPES), default="unit", help="which conv shapes to time")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed round")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--only", choices=["minitorch", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(b < 1 for b in args.batch) or args.rounds < 1 or args.steps < 1:
        parser.error("--batch, --rounds and --steps must be positive integers")
    if args.only:
        print(json.dumps(run_child(args)))
        return 0
    frameworks = ["minitorch"] + (["torch"] if args.device == "cuda" and torch_cuda_available() else [])
    cases = [f"train:{b}" for b in args.batch] + ["conv:" + "x".join(map(str, s)) for s in CONV_SHAPES[args.conv]]
    results = {}
    for case in cases:
        results[case] = measure(case, frameworks, args)
        row = results[case]
        batch = int(case.split(":")[1]) if case.startswith("train") else None
        text = "  ".join(f"{n} {r['median_s'] * 1e3:8.2f} ms" + (f" ({batch / r['median_s']:,.0f} img/s)" if batch else "")
                         for n, r in row.items())
        ratio = f"  ratio {row['minitorch']['median_s'] / row['torch']['median_s']:.2f}x" if "torch" in row else ""
        print(f"{case:<24} {text}{ratio}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "frameworks": frameworks, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
