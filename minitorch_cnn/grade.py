"""``python -m minitorch_cnn.grade``: grade the assignment tasks -- your own tree, one submission,
or a whole class. Every grade is decided in this process from data a sandboxed child sends back;
no submitted code runs here (see README, "What the grader guarantees").

    python -m minitorch_cnn.grade                       # self-check: the tasks of this tree
    python -m minitorch_cnn.grade --task 2.3            # one task (a comma-separated list works too)
    python -m minitorch_cnn.grade --json results.json   # also write Gradescope's results.json
    python -m minitorch_cnn.grade --submission DIR      # instructor: one submission, hidden checks too
    python -m minitorch_cnn.grade --class DIR --csv grades.csv [--jobs N]   # instructor: every submission

Exit status: 0 when every graded task passed (a class: when every submission was graded), 1
otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .assignments.grading import FROZEN_EXPECTED, FrozenExpected, ReferenceExpected, TaskResult, grade_tree
from .assignments.report import gradescope_results, results_table, summary_lines, write_results_json
from .assignments.sandbox import SandboxError, SandboxLimits, isolation
from .assignments.student import MANIFEST
from .assignments.tasks import TASKS, Task, select_tasks
from .cli import ArgumentParser, UsageError, run_main, user_errors

REPO_ROOT = Path(__file__).resolve().parents[1]


PROG = "minitorch_cnn.grade"


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m minitorch_cnn.grade", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", help="task id(s) to grade, e.g. 2.3 or 2.1,2.3 (default: every task)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write a Gradescope-compatible results.json here")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--submission", type=Path, metavar="PATH",
                      help="instructor: grade one submission (folder or .zip) with the hidden checks")
    mode.add_argument("--class", dest="klass", type=Path, metavar="DIR",
                      help="instructor: grade every submission (a folder or .zip per student) in DIR")
    mode.add_argument("--autograder", action="store_true",
                      help="Gradescope: grade $MINITORCH_AUTOGRADER_ROOT/submission (default root /autograder)")
    p.add_argument("--student", help="with --submission: the student id that seeds the hidden inputs "
                                     "(default: the submission's name)")
    p.add_argument("--csv", type=Path, metavar="PATH", help="with --class: the grade sheet to write")
    p.add_argument("--results", type=Path, metavar="DIR",
                   help="with --class: folder for one results.json per student (default: next to --csv)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="with --class: submissions graded in parallel (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per task before it fails (default: 60)")
    return p


def _tasks_of(root: Path, ids: str | None, own_manifest: bool) -> list[Task]:
    if ids is not None:
        return select_tasks(ids)
    manifest = root / MANIFEST
    if own_manifest and manifest.is_file():  # a student's own tree; an instructor never reads a submission's
        ids = json.loads(manifest.read_text(encoding="utf-8"))["tasks"]
        return select_tasks(",".join(ids)) if ids else list(TASKS)  # a tree with nothing stubbed: every task
    return list(TASKS)


def _print(results: list[TaskResult], show_hidden: bool, notes: Sequence[str] = ()) -> None:
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 120)
    for line in [*isolation().lines(), *notes]:
        console.print(line, highlight=False, markup=False)
    console.print(results_table(results, show_hidden))
    for line in summary_lines(results, show_hidden):
        console.print(line, highlight=False)


def _status(results: list[TaskResult]) -> int:
    ok = all(r.status == "passed" and (r.hidden is None or r.hidden.status == "passed") for r in results)
    return 0 if ok else 1


def _self_check(args: argparse.Namespace, limits: SandboxLimits) -> int:
    """A student's (or the instructor's) own tree, visible checks only."""
    tasks = _tasks_of(REPO_ROOT, args.task, own_manifest=True)
    student_tree = (REPO_ROOT / MANIFEST).is_file()
    expected = FrozenExpected(REPO_ROOT / FROZEN_EXPECTED) if student_tree else ReferenceExpected()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="minitorch-grade-") as tmp:
        shutil.copytree(REPO_ROOT / "minitorch_cnn", Path(tmp) / "tree" / "minitorch_cnn",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        results = grade_tree(Path(tmp) / "tree", tasks, expected, Path(tmp), limits=limits)
    _print(results, show_hidden=False)
    if args.json is not None:
        write_results_json(args.json, gradescope_results(results, time.monotonic() - start))
        print(f"wrote {args.json}")
    return _status(results)


def _one_submission(args: argparse.Namespace, limits: SandboxLimits) -> int:
    from .assignments.instructor import grade_submission

    tasks = _tasks_of(REPO_ROOT, args.task, own_manifest=False)
    graded = grade_submission(REPO_ROOT, args.submission, tasks, student=args.student, limits=limits)
    _print(graded.results, show_hidden=True, notes=graded.submission.notes)
    if args.json is not None:
        extra = {"student": args.student or graded.submission.name, "submission_sha256": graded.submission.sha256,
                 "sandbox": graded.sandbox}
        write_results_json(args.json, gradescope_results(graded.results, graded.seconds, extra))
        print(f"wrote {args.json}")
    return _status(graded.results)


def _check_flags(args: argparse.Namespace) -> None:
    """Every flag, before any work; a mistake is a :class:`UsageError` (one line, exit status 2)."""
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if not 0 < args.timeout <= 3600:
        raise UsageError(f"--timeout must be in (0, 3600] seconds, got {args.timeout}")
    if args.klass is None and (args.csv is not None or args.results is not None):
        raise UsageError("--csv and --results go with --class DIR")
    if args.klass is not None and args.csv is None:
        raise UsageError("--class needs --csv PATH (the grade sheet to write)")
    if args.student is not None and args.submission is None:
        raise UsageError("--student goes with --submission")
    if args.submission is not None and not args.submission.exists():
        raise UsageError(f"--submission {args.submission} does not exist")


def main(argv: Sequence[str] | None = None) -> int:
    """0 when every graded task passed, 1 otherwise, 2 for a user error (one line; a bug keeps its traceback)."""
    return run_main(PROG, lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check_flags(args)
    limits = SandboxLimits(task_timeout_s=args.timeout)
    # the user's mistakes (a missing reference, an unreadable folder, a sandbox this machine cannot build)
    with user_errors("grade"), _sandbox_errors():
        if args.autograder:
            from .assignments.gradescope import run_autograder

            return run_autograder(limits=limits)
        if args.klass is not None:
            from .assignments.classroom import grade_class

            return grade_class(REPO_ROOT, args.klass, args.csv, args.results, _tasks_of(REPO_ROOT, args.task, False),
                               jobs=args.jobs, limits=limits)
        if args.submission is not None:
            return _one_submission(args, limits)
        return _self_check(args, limits)


@contextlib.contextmanager
def _sandbox_errors() -> Iterator[None]:
    try:
        yield
    except SandboxError as exc:
        raise UsageError(f"the sandbox cannot run here: {exc}") from exc


if __name__ == "__main__":
    sys.exit(main())
