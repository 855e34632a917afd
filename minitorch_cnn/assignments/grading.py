"""Grade a tree: run each task's probes in the sandbox, decide here.

No student code ever runs in this process. For each task the grader

1. draws the inputs of its checks (:func:`.checks.rng_for`: fixed for visible checks, from the
   student's id for hidden ones),
2. sends probes and inputs to a sandboxed child (:mod:`.sandbox`) that runs them on the
   submission's package and returns named arrays, read back as data,
3. computes the expected answers itself -- by running the same probes on the instructor's
   reference package in this process, or from the values frozen into a student tree -- and
4. compares (:func:`.checks.compare`) and classifies the task:

* passed       -- every check's answers equal the reference's;
* not started  -- every failure is this task's own ``NotImplementedError("Task <id>: ...")``;
* blocked by X -- a check stopped at another task's stub (write task X first);
* failed       -- anything else, with the first failing check's whole message.

Grading is all or nothing per task. With ``hidden=True`` (the instructor's mode) the hidden
checks run in a child of their own, so nothing a visible check returns can carry hidden inputs.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.fileio import atomic_write_bytes
from .checks import Check, compare, load_checks, rng_for
from .sandbox import DEFAULT_LIMITS, Outcome, ProbeItem, SandboxLimits, run_probes
from .tasks import HIDDEN_TESTS_DIR, TASKS, Task

__all__ = ["TASKS", "TaskResult", "Expected", "ReferenceExpected", "FrozenExpected", "classify", "grade_tree",
           "visible_checks", "hidden_checks", "freeze_visible_expected", "FROZEN_EXPECTED",
           "VISIBLE_PROBES", "HIDDEN_PROBES"]

_STUB = re.compile(r"^Task (\d+\.\d+):")
VISIBLE_PROBES = Path(__file__).with_name("probes.py")
HIDDEN_PROBES = HIDDEN_TESTS_DIR + "/hidden_probes.py"  # relative to the instructor's reference root
FROZEN_EXPECTED = ".assignment-expected.npz"  # a student tree's visible expected answers (from `make`)


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
    def hidden_score(self) -> int:
        return self.task.hidden_points if self.hidden is not None and self.hidden.status == "passed" else 0

    @property
    def label(self) -> str:
        return f"blocked by task {', '.join(self.blocked_by)}" if self.status == "blocked" else self.status


def visible_checks() -> list[Check]:
    return load_checks(VISIBLE_PROBES, hidden=False)


def hidden_checks(reference: Path) -> list[Check]:
    path = Path(reference) / HIDDEN_PROBES
    if not path.is_file():
        raise ValueError(f"the hidden checks {path} are missing: grade from the instructor's reference checkout")
    return load_checks(path, hidden=True)


class Expected:
    """Where the expected answers come from."""

    def answers(self, check: Check, inputs: dict) -> dict[str, np.ndarray]:
        raise NotImplementedError


class ReferenceExpected(Expected):
    """Run the probe on this process's own package: the instructor's reference, trusted code."""

    _lock = threading.Lock()  # the reference's global state (grad mode, RNG) is not thread-safe

    def answers(self, check: Check, inputs: dict) -> dict[str, np.ndarray]:
        from .checks import answers_as_arrays

        with self._lock:
            return answers_as_arrays(check.probe({k: v.copy() for k, v in inputs.items()}))


class FrozenExpected(Expected):
    """The visible answers frozen into a student tree by ``assignments make`` (no reference there)."""

    def __init__(self, path: Path) -> None:
        if not Path(path).is_file():
            raise ValueError(f"{path} is missing: this tree was not made by `python -m minitorch_cnn.assignments "
                             "make`, so the grader has no expected values to compare with")
        with np.load(path, allow_pickle=False) as data:
            self._data = {name: data[name] for name in data.files}

    def answers(self, check: Check, inputs: dict) -> dict[str, np.ndarray]:
        prefix = check.key + "::"
        found = {k[len(prefix):]: v for k, v in self._data.items() if k.startswith(prefix)}
        if not found:
            raise ValueError(f"no frozen expected values for check {check.key}; remake the tree")
        return found


def freeze_visible_expected(tree: Path, tasks: Sequence[Task]) -> Path:
    """Write the reference's answers to the visible checks of ``tasks`` into ``tree``."""
    ids = {t.id for t in tasks}
    ref, arrays = ReferenceExpected(), {}
    for check in visible_checks():
        if check.task in ids:
            inputs = check.inputs(rng_for(check)) if check.inputs else {}
            arrays.update({f"{check.key}::{name}": a for name, a in ref.answers(check, inputs).items()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # np.savez stamps the current time: this file is reproducible
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(name + ".npy", (1980, 1, 1, 0, 0, 0)), member.getvalue())
    atomic_write_bytes(Path(tree) / FROZEN_EXPECTED, buf.getvalue())
    return Path(tree) / FROZEN_EXPECTED


def _stub_task(outcome: Outcome) -> str | None:
    m = _STUB.match(outcome.message) if outcome.error == "NotImplementedError" else None
    return m.group(1) if m else None


def _error_text(key: str, outcome: Outcome) -> str:
    where = f" (at {outcome.where})" if outcome.where else ""
    return f"{key}: {outcome.error}: {outcome.message}{where}"


def classify(task: Task, verdicts: Sequence[tuple[str, Outcome, bool, str]]) -> TaskResult:
    """One task's result from ``(key, outcome, passed, message)`` per check."""
    total, passed = len(verdicts), sum(ok for _, _, ok, _ in verdicts)
    if total == 0:
        return TaskResult(task, "failed", 0, 0, "this task has no checks (an instructor's setup error)")
    failures = [(key, o, msg) for key, o, ok, msg in verdicts if not ok]
    if not failures:
        return TaskResult(task, "passed", passed, total)
    stubs = [_stub_task(o) for _, o, _ in failures]
    others = sorted({s for s in stubs if s and s != task.id}, key=lambda s: tuple(int(p) for p in s.split(".")))
    if others:
        return TaskResult(task, "blocked", passed, total,
                          f"its checks stop at the stub of task {others[0]}: write that one first", tuple(others))
    if all(s == task.id for s in stubs):
        return TaskResult(task, "not started", passed, total,
                          f"the stub still raises NotImplementedError (write the '{task.id}' regions)")
    return TaskResult(task, "failed", passed, total, failures[0][2])


def _verdict(check: Check, outcome: Outcome, expected: Expected, inputs: dict) -> tuple[bool, str]:
    if outcome.answers is None:
        return False, _error_text(check.key, outcome)
    return compare(check, outcome.answers, expected.answers(check, inputs))


def _run_batch(tree: Path, checks: Sequence[Check], student: str, expected: Expected, work: Path,
               limits: SandboxLimits) -> dict[str, list[tuple[str, Outcome, bool, str]]]:
    """Run ``checks`` in one sandboxed child and judge each; verdicts grouped by task."""
    modules = {"hidden" if c.hidden else "visible": _module_source(c) for c in checks}
    inputs = {c.key: (c.inputs(rng_for(c, student)) if c.inputs else {}) for c in checks}
    items = [ProbeItem(c.key, c.task, "hidden" if c.hidden else "visible", c.probe_name, inputs[c.key])
             for c in checks]
    outcomes = run_probes(tree, modules, items, work, limits)
    by_task: dict[str, list] = {}
    for c in checks:
        outcome = outcomes.get(c.key, Outcome(error="Missing", message="no answer came back"))
        ok, msg = _verdict(c, outcome, expected, inputs[c.key])
        by_task.setdefault(c.task, []).append((c.key, outcome, ok, msg))
    return by_task


_SOURCES: dict[str, str] = {}


def _module_source(check: Check) -> str:
    path = check.probe.__code__.co_filename
    if path not in _SOURCES:
        _SOURCES[path] = Path(path).read_text(encoding="utf-8")
    return _SOURCES[path]


def grade_tree(tree: Path, tasks: Sequence[Task], expected: Expected, work: Path, *, student: str = "",
               hidden: Iterable[Check] = (), limits: SandboxLimits = DEFAULT_LIMITS) -> list[TaskResult]:
    """Grade ``tasks`` on the package in ``tree`` (a prepared copy); with ``hidden`` checks too."""
    ids = {t.id for t in tasks}
    visible = [c for c in visible_checks() if c.task in ids]
    verdicts = _run_batch(tree, visible, student, expected, work, limits)
    hidden = [c for c in hidden if c.task in ids]
    hidden_verdicts = _run_batch(tree, hidden, student, ReferenceExpected(), work, limits) if hidden else {}
    results = []
    for task in tasks:
        result = classify(task, verdicts.get(task.id, []))
        if task.id in hidden_verdicts:
            result.hidden = classify(task, hidden_verdicts[task.id])
        results.append(result)
    return results
