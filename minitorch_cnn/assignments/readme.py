"""The README a student tree starts with: setup, the tasks, how grading works."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..data.fileio import atomic_write_text
from .tasks import TASKS, Task

__all__ = ["student_readme", "task_table_markdown", "exercise_cell", "refresh_exercise_cells", "SIGNATURE"]

# the first line of every generated exercise cell: how ``refresh_exercise_cells`` finds them
SIGNATURE = "Make your own copy of the project with this chapter's tasks stubbed out, write each one,"


def task_table_markdown(tasks: Sequence[Task], tutorial_of: dict[int, str]) -> str:
    rows = ["| task | what to write | points | where | read first |", "|---|---|---|---|---|"]
    for t in tasks:
        where = "<br>".join(f"`{c}`" for c in t.covers)
        rows.append(f"| {t.id} | {t.title} | {t.points} | {where} | `{tutorial_of[t.chapter]}` |")
    return "\n".join(rows)


def student_readme(root: Path, tasks: Sequence[Task]) -> str:
    from .student import tutorial_for

    tutorial_of = {t.chapter: tutorial_for(root, t.chapter) for t in TASKS}
    visible = sum(t.points for t in tasks)
    first = tasks[0] if tasks else TASKS[0]
    hidden = [t for t in tasks if t.hidden]
    hidden_pts = sum(t.hidden_points for t in hidden)
    have = "task has" if len(hidden) == 1 else "tasks have"
    hidden_note = (
        f"{len(hidden)} of these {have} ({', '.join(t.id for t in hidden)}) hidden tests as well, worth "
        f"{hidden_pts} more point{'s' if hidden_pts != 1 else ''}, that only your instructor runs: they check the same functions on "
        "inputs you have not seen. Passing every visible test does not guarantee those points; a "
        "solution that follows the formula, not the examples, gets them."
        if hidden else "None of these tasks has hidden tests: what the grader shows you is your grade."
    )
    return f"""# minitorch_cnn: your assignment

This is the minitorch_cnn project with {len(tasks)} pieces taken out. Each piece is a function body
(or a few lines of one) that now raises `NotImplementedError("Task N.M: ...")`; your job is to write
it. The rest is the complete project, but code that calls a piece you have not written yet
stops at its stub. The tests that grade each task are in `tests/tasks/`; the project's own README
is in `PROJECT_README.md`.

## Set up

```bash
python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]"
```

## Check your work

```bash
.venv/bin/python -m minitorch_cnn.grade              # every task: a table and your total
.venv/bin/python -m minitorch_cnn.grade --task {first.id}   # one task, with its whole failure message and a hint
.venv/bin/python -m pytest -q -m {first.marker}              # the task's pytest tests (the quick loop)
```

A task is *not started* while its stub still raises, *blocked by task X* when its checks stop at
another task's stub (do X first), *failed* with the first failing check's message (expected vs
got, with the first differing indices), or *passed*. Tasks are graded all or nothing. The grader
runs your code in a sandbox and compares what it returns with the expected values, the same
checks your instructor runs; `pytest -m <task>` runs the task's tests, which judge the same way.
The tutorials (`tutorials/NN_*.py`) explain what each piece computes; a chapter that uses a piece
you have not written stops at its stub.

## Hand in

```bash
.venv/bin/python -m minitorch_cnn.assignments submit   # writes submission.zip: upload that file
```

It packs exactly the files the grader takes (the files with task regions); everything else is
the instructor's copy, so changes elsewhere do not count.

## The tasks ({visible} points)

{task_table_markdown(tasks, tutorial_of)}

## Hidden tests

{hidden_note}

## Rules of thumb

* Keep the signatures and docstrings as they are; the tests call the functions directly.
* Do not edit `tests/tasks/`: the instructor grades with the original copies.
* Keep your solutions in a private repository: a public fork or pull request publishes them.
"""


def exercise_cell(chapter: int) -> str:
    """The jupytext markdown cell that ends chapter ``chapter``: its tasks, where, how to check.

    Generated from the registry, and the chapters hold it verbatim (a test compares), so a chapter
    never lists a task the grader does not know."""
    tasks = [t for t in TASKS if t.chapter == chapter]
    lines = [
        "## Graded exercises",
        "",
        SIGNATURE,
        "and let the grader check it (each task's tests are in `tests/tasks/`):",
        "",
        f"    python -m minitorch_cnn.assignments make --out ../my-course --chapter {chapter}",
        f"    cd ../my-course && python -m minitorch_cnn.grade --task {tasks[0].id}",
        "",
        "| task | write | where | points | check |",
        "|---|---|---|---|---|",
    ]
    for t in tasks:
        where = ", ".join(f"`{c.split('::')[1]}` in `{c.split('::')[0]}`" for c in t.covers)
        lines.append(f"| {t.id} | {t.title} | {where} | {t.points} | `python -m minitorch_cnn.grade --task {t.id}` |")
    return "# %% [markdown]\n" + "\n".join(("# " + ln).rstrip() for ln in lines) + "\n"


def refresh_exercise_cells(root: Path) -> list[Path]:
    """Rewrite, in place, the exercise cell of every chapter that has one (after the registry
    changed); returns the chapters that changed."""
    from .student import tutorial_for

    changed = []
    for chapter in sorted({t.chapter for t in TASKS}):
        path = root / tutorial_for(root, chapter)
        text = path.read_text(encoding="utf-8")
        mark = text.find("# " + SIGNATURE)
        if mark < 0:
            continue
        start = text.rfind("# %% [markdown]\n", 0, mark)
        end = text.find("\n# %%", start + 1)
        end = len(text) if end < 0 else end + 1
        body = text[start:end]
        new = exercise_cell(chapter) + ("\n" if body.endswith("\n\n") else "")
        if new != body:
            atomic_write_text(path, text[:start] + new + text[end:])
            changed.append(path)
    return changed
