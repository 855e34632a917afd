"""Helpers shared by the benchmark scripts in tools/: child processes, the machine line, tables.

The method, and why (each of these once made a published figure wrong in our favour or against us):

* **Each framework runs alone in its own fresh child process.** Interleaving NumPy and PyTorch in
  one process slowed PyTorch's convolution 2.7x: OpenBLAS's worker threads keep spinning after a
  GEMM and take the cores PyTorch's OpenMP threads need. A child imports one library only.
* **The children alternate, A B A B ...**, so slow drift of the machine (other jobs, thermal or
  frequency changes) hits both; every figure is the median over rounds, with min and max shown,
  and each ratio is given per pair of neighbouring children as well as of the medians.
* **The machine is described** (CPU model and the flags that matter, BLAS and the kernel it really
  runs, threads, load) and **BENCHMARKS.md is not written when the machine is busy**: other
  processes' CPU use is sampled before the run and measured during it (``/proc/stat`` minus our own
  ``getrusage``); above ``BUSY_LIMIT`` of the CPUs the tables are printed but never written. There is
  deliberately no flag to override this.

Imports nothing heavy: the parent process never loads NumPy, OpenBLAS or PyTorch.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

BUSY_LIMIT = 0.15
"""Largest share of all CPUs that *other* processes may use, before or during a run that writes."""

CPU_FLAGS_THAT_MATTER = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "MINITORCH_CNN_THREADS")
KERNEL_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
"""Variables some machines set so that *old* OpenBLAS builds pick a safe kernel; a current NumPy then
runs slower kernels than the CPU has (AVX2 instead of AVX-512). ``--native-blas`` removes both
together for the children (never one alone), the way a user's machine without them runs."""
NATIVE_FLAG = {False: "", True: " --native-blas"}
"""What a section's "Regenerate with" command adds, by whether ``--native-blas`` was given."""
NATIVE_SUFFIX = ", OpenBLAS's own kernel"
"""Appended to a section's heading when its figures were measured with ``--native-blas``."""


# --------------------------------------------------------------------------------------------------
# Children: one framework per fresh process
# --------------------------------------------------------------------------------------------------
def pin_threads_env(threads: int, env: dict | None = None, native_blas: bool = False) -> dict:
    """An environment asking every BLAS/OpenMP runtime (and our thread pool) for ``threads``;
    with ``native_blas`` also without ``KERNEL_OVERRIDES``, so OpenBLAS chooses its kernel itself."""
    env = dict(os.environ if env is None else env)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MINITORCH_CNN_THREADS"):
        env[var] = str(threads)
    if native_blas:
        for var in KERNEL_OVERRIDES:
            env.pop(var, None)
    return env


def section_heading(base: str, native_blas: bool) -> str:
    """``base``, or ``base`` + ``NATIVE_SUFFIX``: the two kinds of run keep separate sections."""
    return base + NATIVE_SUFFIX if native_blas else base


def torch_python(given: str | None) -> str | None:
    """The Python with PyTorch: ``given``, else ``$MINITORCH_BENCH_TORCH_PYTHON``, else the shared
    oracle venv (``../shared/tools/oracle-venv.sh`` prints its interpreter), else None."""
    if given:
        return given
    if os.environ.get("MINITORCH_BENCH_TORCH_PYTHON"):
        return os.environ["MINITORCH_BENCH_TORCH_PYTHON"]
    script = ROOT.parent / "shared" / "tools" / "oracle-venv.sh"
    if script.exists():
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
        path = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        if proc.returncode == 0 and Path(path).exists():
            return path
    return None


def add_common_args(parser: Any, rounds: int,
                    torch_help: str = "a Python with PyTorch (default: the shared oracle venv)") -> None:
    """The flags every benchmark script shares: rounds, threads, the PyTorch interpreter, --write, --output."""
    parser.add_argument("--rounds", type=int, default=rounds, help="alternating rounds of child processes")
    parser.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP/pool threads of every child")
    parser.add_argument("--torch-python", help=torch_help)
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md's section (only if quiet)")
    parser.add_argument("--native-blas", action="store_true",
                        help="children run without " + " and ".join(KERNEL_OVERRIDES) + " (OpenBLAS picks "
                             "its own kernel); written to a section of its own")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")


def run_child(cmd: Sequence[str], env: dict) -> dict:
    """Run one child; it prints its result as the last line of stdout, in JSON."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({' '.join(cmd)}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def alternate(children: dict[str, tuple[list[str], dict]], rounds: int) -> dict[str, list[dict]]:
    """Run the children A B A B ... ``rounds`` times; each name's results in order."""
    results: dict[str, list[dict]] = {name: [] for name in children}
    for r in range(rounds):
        for name, (cmd, env) in children.items():
            t0 = time.perf_counter()
            results[name].append(run_child(cmd, env))
            print(f"  round {r + 1}/{rounds}: {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return results


def median_time(fn, repeats: int, warmup: int = 1) -> list[float]:  # type: ignore[no-untyped-def]
    """Warm ``fn`` up, then time it ``repeats`` times (seconds each); used inside a child."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """``(min, median, max)``."""
    return min(values), statistics.median(values), max(values)


def pair_ratios(ours: Sequence[float], theirs: Sequence[float]) -> tuple[float, float, float]:
    """``ours[i] / theirs[i]`` for each alternating pair: (min, median, max)."""
    return spread([a / b for a, b in zip(ours, theirs)])


# --------------------------------------------------------------------------------------------------
# Is the machine quiet?
# --------------------------------------------------------------------------------------------------
def _cpu_seconds_all() -> tuple[float, float]:
    """(busy, steal) CPU-seconds of the whole machine since boot, from ``/proc/stat``."""
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0.0
    busy = sum(fields[:8]) - idle  # user nice system irq softirq steal (guest is inside user)
    return busy / tick, steal / tick


def _own_cpu_seconds() -> float:
    """CPU-seconds used by this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class LoadMonitor:
    """Other processes' share of all CPUs: sampled for ``idle_s`` before the run, then over the run."""

    def __init__(self, idle_s: float = 3.0) -> None:
        self.cpus = os.cpu_count() or 1
        self.load_before = os.getloadavg()[0]
        self.before = self._foreign_share(idle_s)
        self._busy0, self._steal0 = _cpu_seconds_all()
        self._own0, self._t0 = _own_cpu_seconds(), time.perf_counter()
        self.during = self.load_after = self.steal = None

    def _foreign_share(self, seconds: float) -> float:
        busy0, own0, t0 = _cpu_seconds_all()[0], _own_cpu_seconds(), time.perf_counter()
        time.sleep(seconds)
        busy1, own1, t1 = _cpu_seconds_all()[0], _own_cpu_seconds(), time.perf_counter()
        return max(0.0, (busy1 - busy0) - (own1 - own0)) / ((t1 - t0) * self.cpus)

    def stop(self) -> None:
        busy, steal = _cpu_seconds_all()
        wall = (time.perf_counter() - self._t0) * self.cpus
        self.during = max(0.0, (busy - self._busy0) - (_own_cpu_seconds() - self._own0)) / wall
        self.steal = (steal - self._steal0) / wall
        self.load_after = os.getloadavg()[0]

    def describe(self) -> str:
        text = (f"other processes used {100 * self.before:.0f}% of the CPUs just before the run"
                f" and {100 * (self.during or 0):.0f}% during it (steal {100 * (self.steal or 0):.0f}%); "
                f"1-min load average {self.load_before:.2f} before, {self.load_after or 0:.2f} after")
        return text

    def busy_reason(self) -> str | None:
        """Why the figures must not be published, or None when the machine was quiet."""
        worst = max(self.before, self.during or 0.0)
        if worst > BUSY_LIMIT:
            return (f"the machine was busy: other processes used {100 * worst:.0f}% of the CPUs "
                    f"(limit {100 * BUSY_LIMIT:.0f}%), so BENCHMARKS.md was NOT written; rerun when it is quiet")
        return None


# --------------------------------------------------------------------------------------------------
# The machine line
# --------------------------------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's processor string elsewhere)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def cpu_flags() -> str:
    """Which of the vector/matrix extensions that decide GEMM speed the CPU has."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "flags unknown"
    match = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    have = set(match.group(1).split()) if match else set()
    return " ".join(f for f in CPU_FLAGS_THAT_MATTER if f in have) or "none of " + " ".join(CPU_FLAGS_THAT_MATTER)


def blas_info_json() -> dict:
    """Inside a child that imported NumPy: NumPy's BLAS, the kernel OpenBLAS runs and its threads
    (threadpoolctl, when installed; ``OPENBLAS_CORETYPE`` can force an older kernel)."""
    import numpy as np

    info: dict = {"numpy": np.__version__, "blas": "?", "kernel": None, "blas_threads": None}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:
        pass
    try:
        import threadpoolctl
    except ImportError:
        return info
    for pool in threadpoolctl.threadpool_info():
        if pool.get("user_api") == "blas":
            info["kernel"] = pool.get("architecture")
            info["blas_threads"] = pool.get("num_threads")
            break
    return info


def machine_line(children: dict[str, dict], monitor: LoadMonitor, env: dict | None = None) -> str:
    """CPU, flags, each child's libraries and threads, the BLAS environment the children got
    (``env``, default this process's), the load."""
    env = os.environ if env is None else env
    parts = [f"{cpu_model()}, {os.cpu_count()} cores (flags: {cpu_flags()})"]
    for name, result in children.items():
        parts.append(f"{name}: {result.get('libraries', '?')}")
    blas_env = ", ".join(f"{k}={env[k]}" for k in BLAS_ENV if k in env)
    parts.append(f"environment: {blas_env or 'no BLAS overrides'}")
    parts.append(monitor.describe())
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------------
# Tables and BENCHMARKS.md
# --------------------------------------------------------------------------------------------------
def print_table(header: list[str], body: list[list[str]], title: str, min_width: int = 120) -> None:
    """A rich table, or aligned plain text where rich is not installed."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(wd) for h, wd in zip(header, widths)))
        for r in body:
            print("  ".join(c.ljust(wd) for c, wd in zip(r, widths)))
        return
    table = Table(title=title)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in body:
        table.add_row(*r)
    Console(width=max(min_width, Console().width)).print(table)


def md_table(header: list[str], body: list[list[str]]) -> list[str]:
    """The rows of a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in body]


def fmt_spread(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> str:
    """``median (min-max)`` of ``values * scale``."""
    lo, mid, hi = spread([v * scale for v in values])
    return f"{mid:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace the ``heading`` section of ``path`` (up to the next ``## ``) with ``text``, or append it.

    Written atomically (temp file, then rename) so an interrupted run never leaves half a file.
    """
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _: text + "\n", old)
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(new.rstrip("\n") + "\n")
    os.replace(tmp, path)


def publish(path: Path, heading: str, text: str, monitor: LoadMonitor, write: bool) -> int:
    """Write the section only when asked and the machine was quiet; return the exit status.

    ``text`` must open with ``heading`` itself: a text under another heading would be appended on
    every run instead of replacing its section."""
    if not text.startswith(heading + "\n"):
        raise ValueError(f"the section text must start with its heading {heading!r}, not {text.splitlines()[:1]}")
    if not write:
        return 0
    reason = monitor.busy_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 3
    write_section(path, heading, text)
    print(f"wrote the section {heading!r} of {path}")
    return 0
