"""Grade a tree: run each task's tests on their own with pytest and classify the outcome.

A task's tests run in a fresh ``python -m pytest`` per task, with the graded tree first on
``sys.path``, so one task's crash or hang cannot touch another's grade. From pytest's JUnit XML:

* passed       -- every test passed;
* not started  -- every failure is this task's own ``NotImplementedError("Task <id>: ...")``;
* blocked by X -- a failure stopped at another task's stub (write task X first);
* failed       -- anything else; the first failure message is kept.

Grading is all or nothing per task. ``hidden=True`` (the instructor's mode) runs the hidden tests
too and grades them as a separate entry worth ``task.hidden_points``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .tasks import Task

__all__ = ["TaskResult", "grade_task", "grade_tasks", "classify_failures"]

_STUB = re.compile(r"NotImplementedError: Task (\d+\.\d+):")
TIMEOUT_S = 120


@dataclass
class TaskResult:
    task: Task
    status: str  # "passed" | "not started" | "blocked" | "failed"
    passed: int
    total: int
    message: str = ""
    blocked_by: tuple[str, ...] = ()
    hidden: TaskResult | None = field(default=None, repr=False)

    @property
    def score(self) -> int:
        return self.task.points if self.status == "passed" else 0

    @property
    def label(self) -> str:
        return f"blocked by task {', '.join(self.blocked_by)}" if self.status == "blocked" else self.status


def classify_failures(task_id: str, failures: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """``(status, blocking task ids)`` from the failure texts of one task's tests."""
    if not failures:
        return "passed", ()
    stubs = [_STUB.search(text) for text in failures]
    others = sorted({m.group(1) for m in stubs if m and m.group(1) != task_id},
                    key=lambda s: tuple(int(p) for p in s.split(".")))
    if others:
        return "blocked", tuple(others)
    if all(m and m.group(1) == task_id for m in stubs):
        return "not started", ()
    return "failed", ()


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("E ")]
    return (errors[0][1:].strip() if errors else (lines[-1] if lines else "")).strip()


def _import_error(text: str) -> str:
    """``SyntaxError: ... (minitorch_cnn/x.py, line 29)`` from pytest's report of a collection error."""
    text = text.split("ERROR: found no collectors")[0]
    errors = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    where = next((m.group(1) for ln in errors if (m := re.search(r'File "([^"]+", line \d+)', ln))), "")
    last = errors[-1] if errors else _first_line(text)
    return f"{last} (in {where.replace(chr(34), '')})" if where else last


def _parse_junit(path: Path) -> tuple[int, int, list[str], list[str]]:
    """``(passed, total, failure texts, first-line messages)`` of a JUnit XML report."""
    cases = ET.parse(path).getroot().iter("testcase")
    passed = total = 0
    texts, messages = [], []
    for case in cases:
        total += 1
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is None:
            passed += case.find("skipped") is None
            continue
        text = f"{bad.get('message', '')}\n{bad.text or ''}"
        texts.append(text)
        name = case.get("name", "?")
        message = bad.get("message") or _first_line(text)
        if message == "collection failure":  # the test module did not import: say why and where
            message = f"the tests cannot be imported: {_import_error(bad.text or '')}"
        messages.append(f"{name}: {message}")
    return passed, total, texts, messages


def grade_task(root: Path, task: Task, hidden: bool = False, timeout: float = TIMEOUT_S) -> TaskResult:
    """Run ``task.tests`` (and, with ``hidden``, ``task.hidden`` as a second run) inside ``root``."""
    result = _run(root, task, task.tests, timeout)
    if hidden and task.hidden:
        result.hidden = _run(root, task, task.hidden, timeout)
    return result


def _run(root: Path, task: Task, node_ids: Sequence[str], timeout: float) -> TaskResult:
    missing = [n for n in node_ids if not (root / n.split("::")[0]).is_file()]
    if missing:
        return TaskResult(task, "failed", 0, len(node_ids), f"test file missing: {missing[0].split('::')[0]}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               f"--junitxml={report}", *node_ids]
        try:
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return TaskResult(task, "failed", 0, len(node_ids), f"timed out after {timeout:.0f} s (an endless loop?)")
        if not report.exists():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
            return TaskResult(task, "failed", 0, len(node_ids), f"pytest did not run: {tail[0]}")
        passed, total, texts, messages = _parse_junit(report)
    if total == 0:
        return TaskResult(task, "failed", 0, len(node_ids), "no test ran (were the tests renamed?)")
    status, blockers = classify_failures(task.id, texts)
    if status == "not started":
        message = f"the stub still raises NotImplementedError (write the '{task.id}' regions)"
    elif status == "blocked":
        message = f"its tests stop at the stub of task {blockers[0]}: write that one first"
    else:
        message = messages[0] if messages else ""
    return TaskResult(task, status, passed, total, message, blockers)


def grade_tasks(root: Path, tasks: Sequence[Task], hidden: bool = False, jobs: int = 1) -> list[TaskResult]:
    """Grade every task (``jobs`` at a time); results in the order of ``tasks``."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda t: grade_task(root, t, hidden), tasks))
