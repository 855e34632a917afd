"""The optimizer step alone, fused (``fast/optim.py``) vs the textbook loop, in one process.

    .venv/bin/python tools/bench_optim.py                 # Adam on build_model("cnn"), 50 steps each
    .venv/bin/python tools/bench_optim.py --opt adamw --steps 30 --chunk 16384 --per-parameter

The parameters of the unit's CNN (22 tensors, 1.68 M floats) get random gradients once; then the
fast and the textbook step alternate, one step each, ``--steps`` times, so that drift of the machine
(other jobs) hits both. Prints the median and min-max of each in milliseconds, and their ratio.
A few seconds in all; nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from minitorch_cnn import fast, optim
from minitorch_cnn.fast import optim as fast_optim
from minitorch_cnn.models import build_model

OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW}


def timed_step(opt: optim.Optimizer, on: bool) -> float:
    """One ``opt.step()`` with the fast kernels on or off; its wall time in ms."""
    with fast.enabled(on):
        start = time.perf_counter()
        opt.step()
        return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opt", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=fast_optim.CHUNK_ELEMENTS, help="elements per fused chunk")
    parser.add_argument("--per-parameter", action="store_true",
                        help="never merge small parameters into one piece (fast_optim.MERGE_SMALL off)")
    args = parser.parse_args()
    fast_optim.CHUNK_ELEMENTS = args.chunk
    fast_optim.MERGE_SMALL = not args.per_parameter
    rng = np.random.default_rng(0)
    opts = {}
    for on in (True, False):  # one model per path, so neither's state is touched by the other
        params = list(build_model("cnn").parameters())
        for p in params:
            p.grad = type(p)(rng.standard_normal(p.shape).astype(p.dtype.name))
        opts[on] = OPTIMIZERS[args.opt](params, lr=1e-3)
        timed_step(opts[on], on)  # warm-up: state allocated
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.steps):
        for on in (True, False):
            times[on].append(timed_step(opts[on], on))
    n = sum(p.numel() for p in opts[True].param_groups[0]["params"])
    print(f"{args.opt} step on build_model('cnn') ({n / 1e6:.2f} M parameters), chunk {args.chunk}, "
          f"median of {args.steps} (min-max):")
    for on, name in ((True, "fused"), (False, "textbook")):
        print(f"  {name:9s} {statistics.median(times[on]):6.2f} ms  ({min(times[on]):.2f}-{max(times[on]):.2f})")
    print(f"  speed-up  {statistics.median(times[False]) / statistics.median(times[True]):.2f}x")


if __name__ == "__main__":
    main()
