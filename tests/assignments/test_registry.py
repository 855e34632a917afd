"""Static checks that keep the task registry, the solution markers in the package, the task tests,
the hints and pyproject's marker list in step, for every task; and three real runs that show a
declared dependency (``Task.needs``) is one."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from minitorch_cnn.assignments.markers import replace_regions, stub_lines
from minitorch_cnn.assignments.student import make_student_tree, scan_markers, tutorial_for
from minitorch_cnn.assignments.tasks import HIDDEN_TESTS_DIR, TASKS, TASKS_BY_ID, get_task

REPO_ROOT = Path(__file__).resolve().parents[2]
REGIONS = scan_markers(REPO_ROOT)  # raises (failing collection loudly) on any malformed marker


def _functions(tree: ast.AST) -> dict[str, tuple[int, int]]:
    """``qualified name -> (first line, last line)`` of every function and method in a module."""
    out: dict[str, tuple[int, int]] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    out[name] = (child.lineno, child.end_lineno or child.lineno)
                walk(child, name + ".")

    walk(tree, "")
    return out


def _markers_of(func: ast.FunctionDef) -> set[str]:
    return {d.attr for d in func.decorator_list
            if isinstance(d, ast.Attribute) and isinstance(d.value, ast.Attribute) and d.value.attr == "mark"}


def test_ids_are_unique_ordered_and_worth_points() -> None:
    ids = [t.id for t in TASKS]
    assert len(ids) == len(set(ids)) >= 25
    assert ids == sorted(ids, key=lambda s: tuple(int(p) for p in s.split(".")))
    assert all(t.points > 0 and t.tests for t in TASKS)
    assert all((t.hidden_points > 0) == bool(t.hidden) for t in TASKS)


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_regions_sit_in_the_functions_the_registry_names(task) -> None:
    covered: dict[str, set[str]] = {}
    for c in task.covers:
        path, qual = c.split("::")
        covered.setdefault(path, set()).add(qual)
    for path, quals in covered.items():
        spans = _functions(ast.parse((REPO_ROOT / path).read_text(encoding="utf-8")))
        missing = quals - spans.keys()
        assert not missing, f"task {task.id}: {path} has no function {sorted(missing)}"
        regions = [r for r in REGIONS.get(path, []) if r.task == task.id]
        for qual in quals:
            lo, hi = spans[qual]
            assert any(lo <= r.begin + 1 <= hi for r in regions), f"task {task.id}: no region inside {path}::{qual}"
        for r in regions:
            assert any(spans[q][0] <= r.begin + 1 <= spans[q][1] for q in quals), (
                f"{path}:{r.begin + 1}: a region of task {task.id} outside the functions the registry lists")
    elsewhere = [p for p, rs in REGIONS.items() if p not in covered and any(r.task == task.id for r in rs)]
    assert not elsewhere, f"task {task.id} has regions in {elsewhere}, which its 'covers' does not name"


def _task_tests() -> dict[str, set[str]]:
    """``node id -> task markers`` for every test function under tests/tasks/."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / "tests" / "tasks").rglob("test_*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[f"{rel}::{node.name}"] = {m for m in _markers_of(node) if m.startswith("task")}
    return found


def test_every_listed_test_exists_and_carries_its_tasks_marker() -> None:
    tests = _task_tests()
    for task in TASKS:
        for node_id in task.tests + task.hidden:
            assert node_id in tests, f"task {task.id}: {node_id} does not exist"
            assert tests[node_id] == {task.marker}, f"{node_id} is marked {tests[node_id]}, expected {task.marker}"
        assert all(n.startswith(HIDDEN_TESTS_DIR + "/") for n in task.hidden)
        assert not any(n.startswith(HIDDEN_TESTS_DIR + "/") for n in task.tests)


def test_every_task_test_is_listed_in_the_registry() -> None:
    listed = {n for t in TASKS for n in t.tests + t.hidden}
    unlisted = sorted(set(_task_tests()) - listed)
    assert not unlisted, f"tests under tests/tasks/ that no task lists (the grader would never run them): {unlisted}"


def test_pyproject_registers_exactly_the_task_markers() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]}
    task_names = {n for n in names if n.startswith("task")}
    assert task_names == {t.marker for t in TASKS}


def test_every_stub_compiles_and_names_an_existing_tutorial() -> None:
    for path, regions in REGIONS.items():
        stubs = {}
        for r in regions:
            task = TASKS_BY_ID[r.task]
            tutorial = tutorial_for(REPO_ROOT, task.chapter)
            assert tutorial != "tutorials/", f"task {task.id}: chapter {task.chapter} has no tutorials/NN_*.py"
            stubs[r.task] = stub_lines("", r.task, task.title, tutorial)
        student = replace_regions((REPO_ROOT / path).read_text(encoding="utf-8"), path, stubs)
        compile(student, path, "exec")
        assert "SOLUTION" not in student.replace("NotImplementedError", "")


@pytest.mark.parametrize("chapter", sorted({t.chapter for t in TASKS}))
def test_each_chapter_ends_with_its_exercises_summary_and_next(chapter: int) -> None:
    from minitorch_cnn.assignments.readme import exercise_cell

    text = (REPO_ROOT / tutorial_for(REPO_ROOT, chapter)).read_text(encoding="utf-8")
    assert exercise_cell(chapter) in text, (
        f"chapter {chapter}'s exercise cell is not the registry's: run python -m minitorch_cnn.assignments exercises")
    tail = text[text.index(exercise_cell(chapter)):]
    assert "# ## Summary" in text and ("# ## Next" in tail or "# Next" in text[text.index("# ## Summary"):])
    assert "# %%\n" not in tail, "the exercises come after the chapter's last code cell"


def test_exercises_command_rewrites_a_stale_cell(tmp_path: Path) -> None:
    from minitorch_cnn.assignments.readme import refresh_exercise_cells

    shutil.copytree(REPO_ROOT / "tutorials", tmp_path / "tutorials", ignore=shutil.ignore_patterns("out"))
    assert refresh_exercise_cells(tmp_path) == [], "the chapters already hold the registry's tables"
    chapter = tmp_path / tutorial_for(tmp_path, 2)
    fresh = chapter.read_text()
    chapter.write_text(fresh.replace("| 2.2 | Output size", "| 2.2 | Old title"))
    assert refresh_exercise_cells(tmp_path) == [chapter] and chapter.read_text() == fresh


# ---- hints and dependencies --------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_every_hint_names_a_real_tutorial_section(task) -> None:
    tutorial, section = task.hint_source  # ValueError for a hint that does not follow HINT_FORMAT
    path = REPO_ROOT / tutorial
    assert path.is_file(), f"task {task.id}: the hint names {tutorial}, which does not exist"
    headings = {ln.lstrip("# ").strip() for ln in path.read_text(encoding="utf-8").splitlines()
                if ln.startswith(("# ## ", "# ### "))}
    assert section in headings, f"task {task.id}: {tutorial} has no section {section!r}; it has {sorted(headings)}"
    assert task.hint_line.startswith(f"Task {task.id} hint: {tutorial}, section '{section}': ")


def test_needs_name_other_tasks_of_earlier_or_the_same_chapter() -> None:
    for task in TASKS:
        assert task.id not in task.needs and len(set(task.needs)) == len(task.needs)
        for need in task.needs:
            assert need in TASKS_BY_ID, f"task {task.id} needs unknown task {need}"
            assert TASKS_BY_ID[need].chapter <= task.chapter, f"task {task.id} needs {need}, a later chapter"
    assert get_task("1.1").hint_line.endswith("; needs task 1.4 (unbroadcast) too")
    assert "needs tasks 2.2 (out_size), 2.4 (window_view) too" in get_task("8.1").hint_line
    assert "needs" not in get_task("2.2").hint_line


# (task A, task B it needs, A's test file): one hidden and two visible dependencies, run for real
DEPENDENCIES_RUN = [("1.1", "1.4", HIDDEN_TESTS_DIR + "/test_hidden_tasks.py"),
                    ("5.3", "1.6", "tests/tasks/test_ch05_seeing_inside.py"),
                    ("8.1", "2.2", "tests/tasks/test_ch08_beyond.py")]


@pytest.mark.parametrize(("a", "b", "test_file"), DEPENDENCIES_RUN, ids=[f"{a}->{b}" for a, b, _ in DEPENDENCIES_RUN])
def test_a_declared_dependency_is_real(a: str, b: str, test_file: str, tmp_path: Path) -> None:
    """A tree that stubs only B: A's own tests stop at B's stub."""
    assert b in get_task(a).needs
    tree = tmp_path / "tree"
    make_student_tree(REPO_ROOT, tree, [get_task(b)])
    if test_file.startswith(HIDDEN_TESTS_DIR):
        (tree / test_file).parent.mkdir(parents=True)
        shutil.copyfile(REPO_ROOT / test_file, tree / test_file)
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           "-m", get_task(a).marker, test_file], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"NotImplementedError: Task {b}:" in proc.stdout, proc.stdout[-3000:]
