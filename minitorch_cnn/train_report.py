"""What ``python -m minitorch_cnn.train`` shows and writes: console, progress bar, metrics, curves, tables.

Kept apart from the training loop (``train.py``) so that the loop reads as the algorithm it is.

* The console is as wide as the terminal, or :data:`LOG_WIDTH` columns when the output goes to a
  file or a pipe (rich's default there is 80, which splits numbers and class names across lines).
* ``metrics.json`` is strict JSON: a non-finite number (a diverged loss) is written as ``null``,
  never as the ``NaN`` / ``Infinity`` that Python's ``json`` emits by default and other readers
  refuse.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .data.fileio import atomic_write_text

__all__ = ["LOG_WIDTH", "make_console", "progress_bar", "strict_json", "write_metrics", "plot_curves",
           "final_table"]

#: console width when stdout is not a terminal (log files, CI): wide enough for every line we print
LOG_WIDTH = 160

#: what the running train figures are, printed once in the header
RUNNING_NOTE = ("train loss/acc: running average over the epoch's batches so far, measured in training mode "
                "(dropout on, batch statistics); test: after the epoch, in eval mode")


def make_console(file: Any = None) -> Any:
    """A rich Console: the terminal's width on a tty, :data:`LOG_WIDTH` (or ``$COLUMNS``) otherwise."""
    from rich.console import Console

    stream = file if file is not None else sys.stdout
    if hasattr(stream, "isatty") and stream.isatty():
        return Console(file=file)
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else LOG_WIDTH
    return Console(file=file, width=width)


def progress_bar(console: Any, enabled: bool) -> Any:
    """The live bar of one epoch: batches, running loss/accuracy, images/s, elapsed and remaining time."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("running loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.2%}  {task.fields[ips]:.0f} img/s"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON ``null``), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def write_metrics(out: Path, config: dict, history: list[dict], extra: dict) -> None:
    """``metrics.csv`` (one row per epoch) and ``metrics.json`` (config, history, ``extra``), atomically."""
    if history:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(history[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        atomic_write_text(out / "metrics.csv", buf.getvalue())
    doc = strict_json({"config": config, "history": history, **extra})
    atomic_write_text(out / "metrics.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")


def plot_curves(out: Path, history: list[dict], title: str = "") -> Path | None:
    """``curves.png``, drawn by ``viz.plotting.plot_curves`` (None, with nothing written, without matplotlib)."""
    from .viz import plotting

    if not plotting.have_matplotlib():
        return None
    path = out / "curves.png"
    plotting.plot_curves(history, path, title=f"{title}: loss and accuracy per epoch" if title else
                         "Loss and accuracy per epoch")
    return path


def final_table(console: Any, result: dict, classes: Sequence[str], title: str) -> None:
    """The confusion matrix (rows: true class, columns: predicted) with each class's recall."""
    from rich.table import Table

    conf = np.asarray(result["confusion"])
    table = Table(title=f"{title}: test accuracy {100 * result['accuracy']:.2f}%  (loss {result['loss']:.4f})")
    table.add_column("true \\ pred", style="bold")
    for j in range(len(classes)):
        table.add_column(str(j), justify="right")
    table.add_column("recall", justify="right", style="cyan")
    for i, name in enumerate(classes):
        row_total = max(int(conf[i].sum()), 1)
        cells = [f"[green]{v}[/]" if i == j else (str(v) if v else "[dim]0[/]") for j, v in enumerate(conf[i])]
        table.add_row(f"{i} {name}", *cells, f"{100 * conf[i, i] / row_total:.1f}%")
    console.print(table)
