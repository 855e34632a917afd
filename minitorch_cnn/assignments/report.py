"""The grader's outputs: a rich table for people, a Gradescope ``results.json`` for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.fileio import atomic_write_text
from .grading import TaskResult
from .tasks import Task

__all__ = ["results_table", "summary_lines", "gradescope_results", "write_results_json"]

_STYLE = {"passed": "green", "not started": "yellow", "blocked": "magenta", "failed": "red"}


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def results_table(results: Sequence[TaskResult], instructor: bool) -> Any:
    from rich.table import Table

    table = Table(title="minitorch_cnn assignment" + (" (instructor mode: hidden tests included)" if instructor
                                                      else ""), show_footer=True)
    total, maximum = sum(r.score for r in results), sum(r.task.points for r in results)
    table.add_column("task", footer="total")
    table.add_column("title")
    table.add_column("points", justify="right", footer=f"{total}/{maximum}")
    table.add_column("status")
    table.add_column("tests", justify="right")
    table.add_column("first failure", max_width=44, overflow="fold")
    for r in results:
        style = _STYLE[r.status]
        table.add_row(r.task.id, r.task.title, f"{r.score}/{r.task.points}", f"[{style}]{r.label}[/{style}]",
                      f"{r.passed}/{r.total}", _clip(r.message, 140) if r.status == "failed" else "")
        if r.hidden is not None:
            h = r.hidden
            hs = _STYLE[h.status]
            table.add_row("", "  hidden tests", f"{h.task.hidden_points if h.status == 'passed' else 0}/"
                          f"{h.task.hidden_points}", f"[{hs}]{h.label}[/{hs}]", f"{h.passed}/{h.total}",
                          _clip(h.message, 140) if h.status == "failed" else "")
    return table


def summary_lines(results: Sequence[TaskResult], all_graded: Sequence[Task], instructor: bool) -> list[str]:
    total, maximum = sum(r.score for r in results), sum(r.task.points for r in results)
    done = sum(r.status == "passed" for r in results)
    lines = [f"Total: {total} / {maximum} points ({done} of {len(results)} tasks passed)."]
    with_hidden = [t for t in all_graded if t.hidden]
    hidden_pts = sum(t.hidden_points for t in with_hidden)
    if instructor:
        got = sum(r.task.hidden_points for r in results if r.hidden is not None and r.hidden.status == "passed")
        lines.append(f"Hidden tests were run (instructor mode): {got} / {hidden_pts} hidden points.")
    elif with_hidden:
        which = ("task " if len(with_hidden) == 1 else "tasks ") + ", ".join(t.id for t in with_hidden)
        lines.append(f"Hidden tests exist and were not run: {which} {'has' if len(with_hidden) == 1 else 'have'} instructor-only tests worth "
                     f"{hidden_pts} more point{'s' if hidden_pts != 1 else ''}. The total above counts the "
                     "visible tests only.")
    return lines


def _entry(name: str, number: str, score: int, max_score: int, r: TaskResult, visibility: str) -> dict:
    output = "passed" if r.status == "passed" else f"{r.label}: {r.message}".strip()
    return {"name": name, "number": number, "score": score, "max_score": max_score,
            "status": "passed" if r.status == "passed" else "failed", "output": output[:4000],
            "visibility": visibility}


def gradescope_results(results: Sequence[TaskResult], all_graded: Sequence[Task], instructor: bool) -> dict:
    """Gradescope's autograder format: ``score`` and one ``tests`` entry per task (and per task's
    hidden tests, visible to students only after grades are published)."""
    tests = []
    for r in results:
        tests.append(_entry(f"Task {r.task.id}: {r.task.title}", r.task.id, r.score, r.task.points, r, "visible"))
        if r.hidden is not None:
            pts = r.task.hidden_points
            tests.append(_entry(f"Task {r.task.id}: hidden tests", r.task.id + "h",
                                pts if r.hidden.status == "passed" else 0, pts, r.hidden, "after_published"))
    score = sum(t["score"] for t in tests)
    return {"score": score, "output": "\n".join(summary_lines(results, all_graded, instructor)),
            "visibility": "visible", "stdout_visibility": "visible", "tests": tests}


def write_results_json(path: Path, payload: dict) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
