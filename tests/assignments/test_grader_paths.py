"""Every way to a grade agrees: an honest solution gets full marks through the student's pytest,
the self-check ``grade`` in the student's tree and the instructor's ``grade --submission`` (the
class and Gradescope paths: ``test_integrity.py``); the reference gets full marks, hidden checks
included; a fresh student tree gets 0, each task "not started" or "blocked by" what it needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minitorch_cnn.assignments.student import build_student_tree
from minitorch_cnn.assignments.tasks import TASKS

REPO = Path(__file__).resolve().parents[2]
VISIBLE = sum(t.points for t in TASKS)
HIDDEN = sum(t.hidden_points for t in TASKS)


def _grade(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = cwd.parent / f"{cwd.name}-results.json"
    proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.grade", "--json", str(out), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    return proc, json.loads(out.read_text()) if out.exists() else {}


def _points(payload: dict, visibility: str = "visible") -> int:
    return sum(t["score"] for t in payload["tests"] if t["visibility"] == visibility)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("paths")
    build_student_tree(REPO, tmp / "fresh", list(TASKS))
    build_student_tree(REPO, tmp / "honest", [])
    return {"fresh": tmp / "fresh", "honest": tmp / "honest"}


def test_reference_self_check_and_instructor_mode_give_full_marks() -> None:
    proc, payload = _grade(REPO)
    assert proc.returncode == 0 and _points(payload) == VISIBLE, proc.stdout[-2000:]
    proc, payload = _grade(REPO, "--submission", str(REPO))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert (_points(payload), _points(payload, "after_published")) == (VISIBLE, HIDDEN)


def test_honest_solution_full_marks_in_its_own_tree_and_from_the_instructor(trees: dict[str, Path]) -> None:
    honest = trees["honest"]
    proc, payload = _grade(honest)
    assert proc.returncode == 0 and _points(payload) == VISIBLE, proc.stdout[-3000:]
    proc, payload = _grade(REPO, "--submission", str(honest), "--student", "s123")
    assert (_points(payload), _points(payload, "after_published")) == (VISIBLE, HIDDEN), proc.stdout[-3000:]


def test_honest_solution_passes_the_students_pytest(trees: dict[str, Path]) -> None:
    markers = " or ".join(t.marker for t in TASKS if t.chapter in (1, 2, 3))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", markers,
                           "tests/tasks"], cwd=trees["honest"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and " passed" in proc.stdout, proc.stdout[-3000:]


def test_fresh_student_tree_gets_zero_with_reasons(trees: dict[str, Path]) -> None:
    fresh = trees["fresh"]
    proc, payload = _grade(fresh)
    assert proc.returncode == 1 and _points(payload) == 0, proc.stdout[-3000:]
    outputs = {t["number"]: t["output"] for t in payload["tests"]}
    assert outputs["1.1"].startswith("not started") and "Task 1.1 hint: tutorials/01_" in outputs["1.1"]
    assert outputs["5.2"].startswith("blocked by task ")
    proc, payload = _grade(REPO, "--submission", str(fresh))
    assert (_points(payload), _points(payload, "after_published")) == (0, 0)


def test_one_task_solved_in_the_student_tree_gets_exactly_its_points(trees: dict[str, Path], tmp_path: Path) -> None:
    """Put task 2.2's solution back into the fresh tree: the self-check and the instructor agree."""
    import shutil

    tree = tmp_path / "one"
    shutil.copytree(trees["fresh"], tree)
    rel = "minitorch_cnn/ops/windows.py"
    text = (tree / rel).read_text()
    honest = (trees["honest"] / rel).read_text()
    fresh_2_2 = text[text.index("def out_size"):text.index("def ", text.index("def out_size") + 4)]
    honest_2_2 = honest[honest.index("def out_size"):honest.index("def ", honest.index("def out_size") + 4)]
    (tree / rel).write_text(text.replace(fresh_2_2, honest_2_2))
    for proc, payload in (_grade(tree, "--task", "2.2,2.3"), _grade(REPO, "--submission", str(tree), "--task", "2.2")):
        scores = {t["number"]: t["score"] for t in payload["tests"]}
        assert scores["2.2"] == 1, proc.stdout[-2000:]
    assert scores == {"2.2": 1}
