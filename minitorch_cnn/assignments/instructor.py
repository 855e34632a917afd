"""Grade one submission against the instructor's reference: the path every grade takes.

``grade --submission``, ``grade --class`` and Gradescope's ``run_autograder`` all call
:func:`grade_submission`. The reference is the package this process runs (its answers are the
expected values) and its checkout (the hidden checks); the submission only contributes the bytes
of its graded files, run in the sandbox.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .grading import ReferenceExpected, TaskResult, grade_tree, hidden_checks
from .intake import Submission, build_graded_tree, read_submission
from .sandbox import DEFAULT_LIMITS, SandboxLimits, isolation
from .tasks import HIDDEN_TESTS_DIR, Task

__all__ = ["GradedSubmission", "check_reference", "grade_submission", "REFERENCE_ROOT"]

REFERENCE_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GradedSubmission:
    submission: Submission
    results: list[TaskResult]
    seconds: float
    sandbox: str

    @property
    def points(self) -> int:
        return sum(r.score for r in self.results)

    @property
    def hidden_points(self) -> int:
        return sum(r.hidden_score for r in self.results)


def check_reference(reference: Path) -> None:
    """``ValueError`` unless ``reference`` is the instructor's checkout this package came from."""
    reference = Path(reference).resolve()
    if not (reference / HIDDEN_TESTS_DIR).is_dir():
        raise ValueError(f"grading a submission needs the instructor's reference project with {HIDDEN_TESTS_DIR}/; "
                         f"{reference} has none (run the grader from the reference checkout)")
    if reference != REFERENCE_ROOT:
        raise ValueError(f"the reference {reference} is not the package this grader runs ({REFERENCE_ROOT}); "
                         "run `python -m minitorch_cnn.grade` from inside the reference checkout")
    marked = (REFERENCE_ROOT / "minitorch_cnn" / "ops" / "elementwise.py").read_text(encoding="utf-8")
    if "# BEGIN SOLUTION" not in marked:
        raise ValueError(f"{REFERENCE_ROOT} has no solution regions: it is a student tree, not the reference")


def grade_submission(reference: Path, path: Path, tasks: Sequence[Task], *, student: str | None = None,
                     limits: SandboxLimits = DEFAULT_LIMITS, cache: Path | None = None,
                     submission: Submission | None = None) -> GradedSubmission:
    """Grade the submission at ``path`` (folder or zip) with visible and hidden checks, sandboxed."""
    check_reference(reference)
    start = time.monotonic()
    sub = submission or read_submission(path)
    hidden = hidden_checks(reference)
    with tempfile.TemporaryDirectory(prefix="minitorch-grade-") as tmp:
        tree = build_graded_tree(reference, sub, Path(tmp) / "tree", cache)
        results = grade_tree(tree, tasks, ReferenceExpected(), Path(tmp), student=student or sub.name,
                             hidden=hidden, limits=limits)
    return GradedSubmission(sub, results, time.monotonic() - start, isolation().mode)
