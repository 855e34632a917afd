"""The training step with the fast kernels on and off, and against another checkout (before a change).

    .venv/bin/python tools/bench_seam.py                            # this tree: fast on vs MINITORCH_CNN_FAST=0
    .venv/bin/python tools/bench_seam.py --baseline ../old-checkout # ... and the step of another checkout

Training step = forward, cross-entropy, backward, Adam step of ``build_model("cnn")`` on a batch of
128 random 1x28x28 images (as ``tools/bench_train.py``). Every round starts one fresh child per
configuration, alternating, each importing ``minitorch_cnn`` from its tree; a child warms up 3
steps and reports images/s from the median of ``--steps`` steps. The table gives each
configuration's median over rounds (min-max) and, per round, the ratio to this tree's fast step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import statistics, sys, time
sys.path.insert(0, sys.argv[1])
import minitorch_cnn as mt
from minitorch_cnn import nn, optim
from minitorch_cnn.models import build_model
assert mt.__file__.startswith(sys.argv[1]), mt.__file__
mt.manual_seed(0)
model = build_model("cnn")
crit, opt = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3)
x, y = mt.randn(128, 1, 28, 28), mt.randint(0, 10, (128,))
def step():
    model.train(); opt.zero_grad(); crit(model(x), y).backward(); opt.step()
for _ in range(3):
    step()
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
print(128 / statistics.median(times))
"""


def child(tree: Path, steps: int, fast: bool) -> float:
    env = {**os.environ, "MINITORCH_CNN_FAST": "1" if fast else "0"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(tree.resolve()), str(steps)], env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--baseline", type=Path, help="another checkout (e.g. a git worktree of the commit before)")
    args = p.parse_args()
    configs = {"this tree, fast kernels on": (ROOT, True), "this tree, MINITORCH_CNN_FAST=0": (ROOT, False)}
    if args.baseline is not None:
        configs["baseline tree (its default)"] = (args.baseline, True)
    runs: dict[str, list[float]] = {name: [] for name in configs}
    for r in range(args.rounds):
        for name, (tree, fast) in configs.items():
            runs[name].append(child(tree, args.steps, fast))
        print(f"round {r + 1}: " + ", ".join(f"{n}: {v[-1]:.0f}" for n, v in runs.items()), file=sys.stderr)
    base = runs["this tree, fast kernels on"]
    print("| configuration | images/s, median (min-max) | ratio to fast on, median of rounds |")
    print("|---|---|---|")
    for name, values in runs.items():
        ratio = statistics.median(v / b for v, b in zip(values, base))
        print(f"| {name} | {statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f}) | {ratio:.3f} |")


if __name__ == "__main__":
    main()
