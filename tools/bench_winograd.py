"""The fast 3x3 convolution kernels side by side: forward + backward of one stride-1 convolution.

    .venv/bin/python tools/bench_winograd.py            # both BLAS kernels: as the environment has it,
                                                        # then with OPENBLAS_CORETYPE/L2_SIZE unset
    .venv/bin/python tools/bench_winograd.py --child    # one table, this process's environment only

Each shape (float32, padding 1, bias, gradients to input, weight and bias) runs through
``F.conv2d`` three ways, alternating in one process after one warm-up each: the shifted-slice kernel
with its grids channel-major (``MINITORCH_CNN_CONV_LAYOUT=channels``) and positions-major
(``=positions``), both with ``MINITORCH_CNN_WINOGRAD=0``, and Winograd (``MINITORCH_CNN_WINOGRAD=1``).
The table gives the median of ``--reps`` runs in ms and two ratios: channel-major / positions-major
(> 1: the positions-major layout is faster) and the faster shifted layout / Winograd (> 1: Winograd
is faster). ``conv_shifted.positions_major_layout`` and ``winograd.winograd_pays`` were chosen from
these numbers (BENCHMARKS.md, "Which kernel").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import KERNEL_OVERRIDES

ROOT = Path(__file__).resolve().parents[1]

SHAPES = [  # (N, C_in, C_out, H = W)
    (128, 32, 32, 28),
    (128, 32, 64, 14),
    (128, 64, 64, 14),
    (32, 64, 64, 56),
    (8, 128, 128, 56),
    (8, 256, 256, 28),
]


KERNELS = {"channels": ("0", "channels"), "positions": ("0", "positions"), "winograd": ("1", "channels")}


def time_step(x: object, w: object, b: object, gy: object, kernel: str) -> float:
    """Seconds for ``conv2d`` forward + backward with the kernel as given (``KERNELS``)."""
    from minitorch_cnn.nn import functional as F

    os.environ["MINITORCH_CNN_WINOGRAD"], os.environ["MINITORCH_CNN_CONV_LAYOUT"] = KERNELS[kernel]
    for t in (x, w, b):
        t.grad = None
    start = time.perf_counter()
    y = F.conv2d(x, w, b, padding=1)
    y.backward(gy)
    return time.perf_counter() - start


def child(reps: int) -> None:
    """Time every shape in this process and print one table row per shape."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import minitorch_cnn as mt

    assert mt.__file__.startswith(str(ROOT)), mt.__file__
    rng = np.random.default_rng(0)
    blas = os.environ.get("OPENBLAS_CORETYPE", "OpenBLAS's own")
    print(f"| shape (N, C_in->C_out, HxW) | shifted, channel-major ms | shifted, positions-major ms | Winograd ms "
          f"| channel/positions | best shifted/Winograd | BLAS kernel: {blas}")
    for n, ci, co, s in SHAPES:
        x = mt.tensor(rng.standard_normal((n, ci, s, s), dtype=np.float32), requires_grad=True)
        w = mt.tensor(rng.standard_normal((co, ci, 3, 3), dtype=np.float32) * 0.05, requires_grad=True)
        b = mt.tensor(np.zeros(co, dtype=np.float32), requires_grad=True)
        gy = mt.tensor(rng.standard_normal((n, co, s, s), dtype=np.float32))
        times: dict[str, list[float]] = {k: [] for k in KERNELS}
        for r in range(reps + 1):
            for kernel in list(KERNELS)[r % 3:] + list(KERNELS)[:r % 3]:  # rotate the order each round
                t = time_step(x, w, b, gy, kernel)
                if r:  # round 0 warms up
                    times[kernel].append(t)
        ch, po, wi = (statistics.median(times[k]) * 1e3 for k in KERNELS)
        print(f"| {n}, {ci}->{co}, {s}x{s} | {ch:.0f} | {po:.0f} | {wi:.0f} | {ch / po:.2f} | {min(ch, po) / wi:.2f} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help="one table in this process's environment")
    parser.add_argument("--reps", type=int, default=5, help="timed runs per kernel and shape (median)")
    args = parser.parse_args()
    if args.child:
        child(args.reps)
        return
    for unset in ((), KERNEL_OVERRIDES):
        env = {k: v for k, v in os.environ.items() if k not in unset}
        subprocess.run([sys.executable, __file__, "--child", "--reps", str(args.reps)], env=env, check=True, timeout=300)


if __name__ == "__main__":
    main()
