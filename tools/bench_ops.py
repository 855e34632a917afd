"""Benchmark the CNN primitives: conv2d and max_pool2d, forward and forward+backward.

    python tools/bench_ops.py                 # prints the table, rewrites BENCHMARKS.md's section
    python tools/bench_ops.py --no-write      # only print
    /path/to/python-with-torch tools/bench_ops.py   # adds PyTorch CPU side by side, and the ratio

Shapes (the unit's Fashion-MNIST CNN and a VGG-like block): conv2d 3x3, padding 1, on batch 128 with
(C_in, C_out, HxW) = (1, 32, 28), (32, 32, 28), (32, 64, 14), (64, 64, 14), and batch 32 64->64 56x56;
max_pool2d(2) on (128, 32, 28, 28). The roofline is this machine's NumPy float32 GEMM rate.

Timing: the best of several runs (after a warm-up), ours and PyTorch's interleaved so that both see
the same machine load. GFLOP/s counts 2*N*C_out*H_out*W_out*C_in*k*k for a forward pass and three
times that for forward+backward (input gradient + weight gradient each cost one forward).
Only NumPy is needed; ``rich`` and ``torch`` are used when importable.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import (
    blas_description,
    cpu_model,
    md_table,
    pin_blas_threads,
    print_table,
    threads_from_argv,
    write_section,
)

THREADS = threads_from_argv()
if THREADS is not None:
    pin_blas_threads(THREADS)

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import minitorch_cnn as mt  # noqa: E402
from minitorch_cnn.nn import functional as F  # noqa: E402
from minitorch_cnn.ops import conv as conv_ops  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None
if torch is not None and THREADS is not None:
    torch.set_num_threads(THREADS)

SECTION = "## CNN primitives (tools/bench_ops.py)"
CONV_SHAPES = [(128, 1, 32, 28), (128, 32, 32, 28), (128, 32, 64, 14), (128, 64, 64, 14), (32, 64, 64, 56)]
POOL_SHAPE = (128, 32, 28, 28)


def best_of(fns: list[Callable[[], Any]], repeats: int, budget_s: float) -> list[float]:
    """Run each fn once to warm up, then interleave them ``repeats`` times (or until ``budget_s``);
    return each one's best time in seconds."""
    for fn in fns:
        fn()
    best = [math.inf] * len(fns)
    start = time.perf_counter()
    for r in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
        if r >= 2 and time.perf_counter() - start > budget_s:
            break
    return best


def gemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    (t,) = best_of([lambda: a @ b], repeats, 10.0)
    return 2 * n**3 / t / 1e9


def conv_fns(n: int, cin: int, cout: int, hw: int) -> tuple[list[Callable[[], Any]], Callable[[], None]]:
    """Forward and forward+backward closures, ours then PyTorch's (same numbers) when available."""
    mt.manual_seed(0)
    x = mt.randn(n, cin, hw, hw, requires_grad=True)
    w = mt.randn(cout, cin, 3, 3, requires_grad=True)
    b = mt.randn(cout, requires_grad=True)
    ones = mt.ones(n, cout, hw, hw)

    def ours_fwd() -> None:
        with mt.no_grad():
            F.conv2d(x, w, b, padding=1)

    def ours_fb() -> None:
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).backward(ones)

    fns: list[Callable[[], Any]] = [ours_fwd, ours_fb]
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(v.detach().numpy().copy()).requires_grad_() for v in (x, w, b))
        tones = torch.ones(n, cout, hw, hw)

        def torch_fwd() -> None:
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tw, tb, padding=1)

        def torch_fb() -> None:
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tones)

        fns += [torch_fwd, torch_fb]
    return fns, ours_fb


def conv_cases(repeats: int, budget_s: float) -> list[dict]:
    rows = []
    for n, cin, cout, hw in CONV_SHAPES:
        fns, ours_fb = conv_fns(n, cin, cout, hw)
        times = best_of(fns, repeats, budget_s)
        flops = 2 * n * cout * hw * hw * cin * 9
        # column buffers: forward / weight-gradient im2col (C_in*9 rows), and the input gradient's:
        # C_out*9 rows in gather form, C_in*9 in scatter form (ops/conv.py picks the smaller)
        fwd_cols = min(cin * 9 * n * hw * hw * 4, conv_ops.IM2COL_LIMIT_BYTES)
        bwd_cols = min(min(cin, cout) * 9 * n * hw * hw * 4, conv_ops.IM2COL_LIMIT_BYTES)
        tracemalloc.start()
        ours_fb()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(dict(name=f"conv2d N={n} {cin}->{cout} {hw}x{hw}", flops=flops, fwd=times[0], fb=times[1],
                         t_fwd=times[2] if torch is not None else None, t_fb=times[3] if torch is not None else None,
                         cols_mb=max(fwd_cols, bwd_cols) / 2**20, peak_mb=peak / 2**20))
        del fns, ours_fb
    return rows


def pool_case(repeats: int, budget_s: float) -> dict:
    mt.manual_seed(0)
    x = mt.randn(*POOL_SHAPE, requires_grad=True)
    n, c, h, w = POOL_SHAPE
    ones = mt.ones(n, c, h // 2, w // 2)

    def ours_fwd() -> None:
        with mt.no_grad():
            F.max_pool2d(x, 2)

    def ours_fb() -> None:
        x.grad = None
        F.max_pool2d(x, 2).backward(ones)

    fns: list[Callable[[], Any]] = [ours_fwd, ours_fb]
    if torch is not None:
        tx = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
        tones = torch.ones(n, c, h // 2, w // 2)

        def torch_fwd() -> None:
            with torch.no_grad():
                torch.nn.functional.max_pool2d(tx, 2)

        def torch_fb() -> None:
            tx.grad = None
            torch.nn.functional.max_pool2d(tx, 2).backward(tones)

        fns += [torch_fwd, torch_fb]
    times = best_of(fns, repeats, budget_s)
    return dict(name=f"max_pool2d(2) {POOL_SHAPE}", flops=None, fwd=times[0], fb=times[1],
                t_fwd=times[2] if torch is not None else None, t_fb=times[3] if torch is not None else None,
                cols_mb=None, peak_mb=None)


def machine() -> str:
    cpu = cpu_model()
    blas = blas_description(np)
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                    if k in os.environ) or "no BLAS environment overrides"
    torch_s = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)" if torch is not None else "no PyTorch"
    load = f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {os.cpu_count()} cores ({load} when measured); Python {platform.python_version()}, "
            f"NumPy {np.__version__} ({blas}; {env}); {torch_s}")


def fmt_rows(rows: list[dict], gemm: float) -> tuple[list[str], list[list[str]]]:
    header = ["op", "fwd ms", "fwd GFLOP/s", "fwd+bwd ms", "fwd+bwd GFLOP/s", "% of GEMM"]
    if torch is not None:
        header += ["torch fwd ms", "torch fwd+bwd ms", "ratio fwd+bwd (ours/torch)"]
    header += ["largest im2col MiB", "peak alloc MiB (fwd+bwd)"]
    body = []
    for r in rows:
        fl = r["flops"]
        line = [r["name"], f"{r['fwd'] * 1e3:.1f}", f"{fl / r['fwd'] / 1e9:.0f}" if fl else "-",
                f"{r['fb'] * 1e3:.1f}", f"{3 * fl / r['fb'] / 1e9:.0f}" if fl else "-",
                f"{100 * 3 * fl / r['fb'] / 1e9 / gemm:.0f}%" if fl else "-"]
        if torch is not None:
            line += [f"{r['t_fwd'] * 1e3:.1f}", f"{r['t_fb'] * 1e3:.1f}", f"{r['fb'] / r['t_fb']:.2f}x"]
        line += [f"{r['cols_mb']:.0f}" if r["cols_mb"] is not None else "-",
                 f"{r['peak_mb']:.0f}" if r["peak_mb"] is not None else "-"]
        body.append(line)
    return header, body


def markdown(header: list[str], body: list[list[str]], gemm: float, notes: str, extra: str = "") -> str:
    lines = [SECTION, "", f"Machine: {machine()}.", "",
             f"Roofline: NumPy float32 GEMM (2048x2048) = **{gemm:.0f} GFLOP/s**.", ""]
    lines += md_table(header, body)
    if extra:
        lines += ["", extra.strip()]
    lines += ["", notes.strip(), ""]
    return "\n".join(lines)


def single_thread_table(args: argparse.Namespace, native_blas: bool = False) -> str:
    """Rerun this script with one thread for both libraries (in a fresh process, as OpenBLAS's
    thread count is fixed at import) and return its table as markdown. ``native_blas`` also drops
    OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, so that OpenBLAS picks this CPU's own kernels."""
    cmd = [sys.executable, __file__, "--threads", "1", "--no-write", "--markdown-only",
           "--repeats", str(args.repeats), "--budget", str(args.budget)]
    env = dict(os.environ)
    if native_blas:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    table = out[out.index("Roofline"):] if "Roofline" in out else out
    if native_blas:
        title = ("Single-threaded, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for this run only "
                 "(OpenBLAS then runs its AVX-512 kernels, as PyTorch's oneDNN does):")
    else:
        title = ("Single-threaded (`--threads 1`: both libraries on one core; much less sensitive to the "
                 "other jobs on this shared machine than the 2-thread run above):")
    return title + "\n\n" + table.strip()


NOTES = """
How it is computed (`minitorch_cnn/ops/conv.py`): forward = zero-pad, one `as_strided` window view
copied into an im2col matrix `(C_in*9, N*H*W)`, one float32 GEMM per group. Backward = the weight
gradient as one GEMM `cols @ grad_y^T` (a layer keeps its forward columns for this when they take
at most 64 MiB, `SAVE_COLS_LIMIT_BYTES`, else rebuilds them from the saved input) and the input
gradient as a transposed convolution: the unit's gather form (grad_y padded by k-1-p, correlated
with the reflected kernel: im2col + GEMM) when `C_in >= C_out`, else the equivalent scatter form
(`W^T @ grad_y`, then 9 strided adds), whichever moves fewer numbers. Every column buffer is capped
at 256 MiB (`IM2COL_LIMIT_BYTES`; bigger batches run in chunks). "largest im2col MiB" is the biggest
single column buffer of forward+backward; "peak alloc" is tracemalloc's peak of NumPy allocations
during one forward+backward (inputs excluded; output, gradients, kept columns and temporaries
included).

What limits it: three GEMMs per forward+backward at the BLAS rate are the floor (the GEMMs are
skinny, M = C_out = 32..64); the rest, roughly a third to a half of the time, is memory traffic --
building the im2col matrix (9x the input), the transposes between the GEMM's `(C_out, N*H*W)`
layout and NCHW, the col2im adds and the padding copies. With C_in = 1 the GEMM has K = 9 and both
libraries are bound by memory bandwidth, so "% of GEMM" means little there. PyTorch uses oneDNN
direct/Winograd kernels with AVX-512 and no im2col copy.

Measurement caveats: this is a shared 2-core machine (the load average is in the machine line);
when other jobs run, absolute times swing by 2x between runs and the 2-thread PyTorch numbers
suffer most (its OpenMP threads spin against the other jobs), so then read the single-threaded
tables as the fair comparison. Ours and PyTorch's runs are interleaved. By default NumPy's OpenBLAS
runs with `OPENBLAS_CORETYPE=Haswell`, as this machine's environment sets it (AVX2 kernels, about
half of the AVX-512 GEMM rate that PyTorch's oneDNN uses); the last table drops that override for
its run only. Multi-threaded OpenBLAS on the oversubscribed machine stalled for ~2.5 s on some GEMM
orientations with a huge inner dimension and a small result (the weight gradient);
`conv_weight_grad_array` uses the orientation that never stalled (larger side as M).
Regenerate with `tools/bench_ops.py --single-thread-too` (with PyTorch importable for the ratios).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (best is kept)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per case before stopping early")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/OpenMP threads for NumPy and PyTorch (default: the libraries' own)")
    parser.add_argument("--single-thread-too", action="store_true",
                        help="also measure with --threads 1 in a subprocess (and, where OPENBLAS_CORETYPE is "
                             "set, once more without it) and add those tables")
    parser.add_argument("--markdown-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    gemm = gemm_gflops()
    rows = conv_cases(args.repeats, args.budget) + [pool_case(args.repeats, args.budget)]
    header, body = fmt_rows(rows, gemm)
    if args.markdown_only:  # used by --single-thread-too
        print(f"Roofline with these threads: NumPy float32 GEMM = **{gemm:.0f} GFLOP/s**.\n")
        print("\n".join(md_table(header, body)))
        return
    print_table(header, body, min_width=200, title=f"CNN primitives -- NumPy float32 GEMM roofline {gemm:.0f} GFLOP/s")
    print(machine())
    extra = ""
    if args.single_thread_too:
        extra = single_thread_table(args)
        if os.environ.get("OPENBLAS_CORETYPE"):
            extra += "\n\n" + single_thread_table(args, native_blas=True)
        print(extra)
    if not args.no_write:
        write_section(args.output, SECTION, markdown(header, body, gemm, NOTES, extra))
        print(f"wrote the section {SECTION!r} of {args.output}")


if __name__ == "__main__":
    main()
