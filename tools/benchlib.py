"""Helpers shared by the benchmark scripts in tools/: thread pinning, tables, BENCHMARKS.md sections.

Imports nothing heavy: ``threads_from_argv`` must run before NumPy loads OpenBLAS.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path


def threads_from_argv(default: int | None = None) -> int | None:
    """``--threads N`` must act before NumPy loads OpenBLAS, so it is read here, not by argparse."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return default


def pin_blas_threads(threads: int) -> None:
    """Ask every BLAS/OpenMP runtime for ``threads`` threads (effective only before it loads)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


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


def blas_description(np: object) -> str:
    """NumPy's BLAS library and version, plus the kernel OpenBLAS really runs (which
    ``OPENBLAS_CORETYPE`` can force to an older one) when threadpoolctl is installed."""
    blas = "?"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[attr-defined]
        blas = f"{info.get('name')} {info.get('version', '')}".strip()
    except Exception:
        pass
    try:
        import threadpoolctl
    except ImportError:
        return blas
    arch = [i.get("architecture") for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
    if arch and arch[0]:
        blas += f", {arch[0]} kernels"
    return blas
