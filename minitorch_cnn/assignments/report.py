"""The grader's outputs: a rich table for people, a Gradescope ``results.json`` for machines.

Hidden results are the instructor's until grades are published: ``show_hidden=False`` (the
autograder's stdout, a class run's console) leaves them out of the table and the summary, and in
``results.json`` they appear only as tests with ``visibility: after_published``; the top-level
``output`` never names them, and there is no top-level ``score`` (Gradescope then sums the
tests, showing each student only the tests they may see).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.fileio import atomic_write_text
from .grading import TaskResult
from .tasks import Task

__all__ = ["results_table", "summary_lines", "gradescope_results", "write_results_json", "feedback"]

_STYLE = {"passed": "green", "not started": "yellow", "blocked": "magenta", "failed": "red"}


def _hint(task: Task) -> str:
    line = getattr(task, "hint_line", None) or getattr(task, "hint", "")
    return line if isinstance(line, str) else ""


def feedback(r: TaskResult) -> str:
    """What a student reads for one task: the status, the whole first failure, the task's hint."""
    if r.status == "passed":
        return "passed"
    parts = [f"{r.label}: {r.message}".strip()]
    if _hint(r.task):
        parts.append(_hint(r.task))
    return "\n".join(parts)


def results_table(results: Sequence[TaskResult], show_hidden: bool) -> Any:
    from rich.table import Table

    title = "minitorch_cnn assignment" + (" (hidden checks included)" if show_hidden else "")
    table = Table(title=title, show_footer=True)
    total, maximum = sum(r.score for r in results), sum(r.task.points for r in results)
    table.add_column("task", footer="total")
    table.add_column("title")
    table.add_column("points", justify="right", footer=f"{total}/{maximum}")
    table.add_column("status")
    table.add_column("checks", justify="right")
    table.add_column("first failure", overflow="fold")
    for r in results:
        style = _STYLE[r.status]
        table.add_row(r.task.id, r.task.title, f"{r.score}/{r.task.points}", f"[{style}]{r.label}[/{style}]",
                      f"{r.passed}/{r.total}", r.message if r.status == "failed" else "")
        if show_hidden and r.hidden is not None:
            h, hs = r.hidden, _STYLE[r.hidden.status]
            table.add_row("", "  hidden checks", f"{r.hidden_score}/{r.task.hidden_points}",
                          f"[{hs}]{h.label}[/{hs}]", f"{h.passed}/{h.total}", h.message if h.status == "failed" else "")
    return table


def summary_lines(results: Sequence[TaskResult], show_hidden: bool) -> list[str]:
    total, maximum = sum(r.score for r in results), sum(r.task.points for r in results)
    done = sum(r.status == "passed" for r in results)
    lines = [f"Total: {total} / {maximum} points ({done} of {len(results)} tasks passed)."]
    with_hidden = [r.task for r in results if r.task.hidden_points]
    if show_hidden and any(r.hidden is not None for r in results):
        got = sum(r.hidden_score for r in results)
        lines.append(f"Hidden checks: {got} / {sum(t.hidden_points for t in with_hidden)} hidden points.")
    elif with_hidden:
        lines.append("Some tasks also have hidden checks, graded by your instructor; their results are not shown "
                     "here.")
    return lines


def _entry(name: str, number: str, score: int, max_score: int, r: TaskResult, visibility: str) -> dict:
    return {"name": name, "number": number, "score": score, "max_score": max_score,
            "status": "passed" if r.status == "passed" else "failed", "output": feedback(r),
            "output_format": "text", "visibility": visibility, "tags": [f"chapter {r.task.chapter}"]}


def gradescope_results(results: Sequence[TaskResult], execution_time: float, extra: dict | None = None) -> dict:
    """Gradescope's autograder format: one test per task, and per task's hidden checks one test
    visible only once grades are published."""
    tests = []
    for r in results:
        tests.append(_entry(f"Task {r.task.id}: {r.task.title}", r.task.id, r.score, r.task.points, r, "visible"))
        if r.hidden is not None:
            tests.append(_entry(f"Task {r.task.id}: hidden checks", f"{r.task.id}.h", r.hidden_score,
                                r.task.hidden_points, r.hidden, "after_published"))
    return {"execution_time": round(execution_time, 3), "output": "\n".join(summary_lines(results, False)),
            "output_format": "text", "test_output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "extra_data": extra or {}, "tests": tests}


def write_results_json(path: Path, payload: dict) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
