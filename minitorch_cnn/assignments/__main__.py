"""``python -m minitorch_cnn.assignments {make,autograder,submit,notebooks,list,exercises}``; bad input:
one line, exit 2.

    make --out DIR [--tasks 2.1,2.3 | --chapter 2] [--include PATTERN ...]   # instructor: a student tree
    autograder --out DIR                                                    # instructor: Gradescope's zip
    submit [--out FILE]                                                     # student: the zip to upload
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cli import ArgumentParser, UsageError, run_main, user_errors
from .markers import MarkerError
from .tasks import TASKS, select_tasks

REPO_ROOT = Path(__file__).resolve().parents[2]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m minitorch_cnn.assignments", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make", help="write a student tree with the selected tasks stubbed out")
    make.add_argument("--out", required=True, type=Path, help="folder to write (must be empty, or use --force)")
    pick = make.add_mutually_exclusive_group()
    pick.add_argument("--tasks", help="comma-separated task ids, e.g. 2.1,2.3 (default: every task)")
    pick.add_argument("--chapter", type=int, help="every task of one chapter, e.g. 2")
    make.add_argument("--force", action="store_true", help="replace the contents of a non-empty --out")
    make.add_argument("--include", action="append", metavar="PATTERN",
                      help="files to take from a reference that is not a git checkout (repeatable; paths or globs)")
    make.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    grader = sub.add_parser("autograder", help="write Gradescope's autograder.zip (setup.sh, run_autograder, source)")
    grader.add_argument("--out", required=True, type=Path, help="folder for autograder.zip")
    grader.add_argument("--force", action="store_true", help="replace an existing autograder.zip")
    pack = sub.add_parser("submit", help="pack the files the grader takes into a zip to upload")
    pack.add_argument("--out", type=Path, help="the zip to write (default: submission.zip in this tree)")
    pack.add_argument("--force", action="store_true", help="replace an existing zip")
    nb = sub.add_parser("notebooks", help="write every tutorial chapter as a Jupyter notebook (.ipynb)")
    nb.add_argument("--out", type=Path, default=REPO_ROOT / "tutorials" / "out" / "notebooks",
                    help="folder for the notebooks (default: tutorials/out/notebooks)")
    nb.add_argument("--execute", action="store_true", help="also run each notebook so it holds its outputs")
    nb.add_argument("--chapters", help="comma-separated chapter numbers (default: all)")
    sub.add_parser("list", help="print the task registry")
    sub.add_parser("exercises", help="rewrite each chapter's exercise cell from the registry (after editing it)")
    return parser


def _make(args: argparse.Namespace) -> int:
    tasks = select_tasks(args.tasks, args.chapter)
    from .student import build_student_tree

    report = build_student_tree(args.root, args.out, tasks, force=args.force, include=args.include)
    for line in report.summary_lines():
        print(line)
    points = sum(t.points for t in tasks)
    print(f"{len(tasks)} tasks stubbed ({points} points). Next: cd {args.out} && python -m minitorch_cnn.grade")
    return 0


def _autograder(args: argparse.Namespace) -> int:
    from .gradescope import build_autograder_zip

    out, members = build_autograder_zip(REPO_ROOT, args.out, force=args.force)
    print(f"wrote {out}: setup.sh, run_autograder and {len(members)} source files (the reference package, "
          "the hidden checks, pyproject.toml, the tutorials). Upload it as the assignment's autograder; "
          "students never see it.")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from .submit import pack_submission

    report = pack_submission(Path.cwd(), args.out, force=args.force)
    for line in report.summary_lines():
        print(line)
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from .notebooks import write_notebooks

    chapters = None if args.chapters is None else [int(c) for c in args.chapters.split(",")]
    for path in write_notebooks(REPO_ROOT / "tutorials", args.out, chapters=chapters, execute=args.execute):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """0 done, 2 a user error (one line on stderr; a bug keeps its traceback)."""
    return run_main("minitorch_cnn.assignments", lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"make": _make, "autograder": _autograder, "submit": _submit, "notebooks": _notebooks,
                "exercises": _exercises, "list": _list}
    try:
        with user_errors(args.command):
            return commands[args.command](args)
    except (MarkerError, KeyError, ImportError) as exc:  # a malformed marker, an unknown task, a missing extra
        raise UsageError(f"{args.command}: {exc.args[0] if exc.args else exc}") from exc


def _exercises(args: argparse.Namespace) -> int:
    from .readme import refresh_exercise_cells

    for path in refresh_exercise_cells(REPO_ROOT):
        print("updated", path)
    return 0


def _list(args: argparse.Namespace) -> int:
    for t in TASKS:
        print(f"{t.id:>4}  {t.points} pt  {t.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
