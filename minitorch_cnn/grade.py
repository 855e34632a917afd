"""``python -m minitorch_cnn.grade``: grade the assignment tasks of this tree (or, for the
instructor, of a submitted tree with the hidden tests added).

    python -m minitorch_cnn.grade                       # the tasks of this tree, a table and the total
    python -m minitorch_cnn.grade --task 2.3            # one task (a comma-separated list works too)
    python -m minitorch_cnn.grade --json results.json   # also write Gradescope's results.json
    python -m minitorch_cnn.grade --submission DIR      # instructor: grade DIR with the hidden tests

Exit status: 0 when every graded task passed, 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .assignments.grading import grade_tasks
from .assignments.report import gradescope_results, results_table, summary_lines, write_results_json
from .assignments.student import MANIFEST
from .assignments.tasks import HIDDEN_TESTS_DIR, TASKS, Task, select_tasks

REPO_ROOT = Path(__file__).resolve().parents[1]
_COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", "*.egg-info", "out")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn.grade", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", help="task id(s) to grade, e.g. 2.3 or 2.1,2.3 (default: this tree's tasks)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write a Gradescope-compatible results.json here")
    p.add_argument("--submission", type=Path, metavar="DIR",
                   help="instructor mode: grade a copy of DIR with this tree's tests and hidden tests")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="tasks graded in parallel (default: %(default)s)")
    p.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    return p


def _tasks_of(root: Path, ids: str | None) -> list[Task]:
    if ids is not None:
        return select_tasks(ids)
    manifest = root / MANIFEST
    if manifest.is_file():
        return select_tasks(",".join(json.loads(manifest.read_text(encoding="utf-8"))["tasks"]))
    return list(TASKS)


def _instructor_copy(reference: Path, submission: Path, dest: Path) -> Path:
    """``submission`` with the reference's task tests (pristine and hidden), conftest and pyproject."""
    if not (reference / HIDDEN_TESTS_DIR).is_dir():
        raise ValueError(f"--submission needs the instructor's reference project, with {HIDDEN_TESTS_DIR}/; "
                         f"{reference} has none (run the grader from the reference checkout)")
    if not (submission / "minitorch_cnn").is_dir():
        raise ValueError(f"--submission {submission} has no minitorch_cnn/ package; pass a student tree's root")
    missing = sorted(p.relative_to(reference).as_posix() for p in (reference / "minitorch_cnn").rglob("*.py")
                     if "__pycache__" not in p.parts and not (submission / p.relative_to(reference)).is_file())
    if missing:  # else Python could import the instructor's own (complete) module in its place
        raise ValueError(f"--submission {submission} lacks {len(missing)} package file(s) of the project, "
                         f"e.g. {missing[0]}; grade a complete student tree")
    tree = dest / "submission"
    shutil.copytree(submission, tree, ignore=_COPY_IGNORE)
    shutil.rmtree(tree / "tests" / "tasks", ignore_errors=True)
    shutil.copytree(reference / "tests" / "tasks", tree / "tests" / "tasks", ignore=_COPY_IGNORE)
    for name in ("tests/conftest.py", "pyproject.toml"):
        shutil.copyfile(reference / name, tree / name)
    return tree


def _grade(root: Path, tasks: list[Task], instructor: bool, args: argparse.Namespace) -> int:
    from rich.console import Console

    results = grade_tasks(root, tasks, hidden=instructor, jobs=args.jobs)
    console = Console(width=None if sys.stdout.isatty() else 110)
    console.print(results_table(results, instructor))
    for line in summary_lines(results, tasks, instructor):
        console.print(line, highlight=False)
    if args.json is not None:
        write_results_json(args.json, gradescope_results(results, tasks, instructor))
        console.print(f"wrote {args.json}", highlight=False)
    ok = all(r.status == "passed" and (r.hidden is None or r.hidden.status == "passed") for r in results)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.jobs < 1:
            raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
        if args.submission is None:
            return _grade(args.root, _tasks_of(args.root, args.task), False, args)
        with tempfile.TemporaryDirectory(prefix="minitorch-grade-") as tmp:
            tree = _instructor_copy(args.root, args.submission, Path(tmp))
            return _grade(tree, _tasks_of(tree, args.task), True, args)
    except (ValueError, KeyError, OSError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
