"""A generated student tree, end to end: it holds no solution and no hidden test, every stubbed
task fails with its own NotImplementedError and nothing else fails, the grader reports it, and
putting one solution back turns exactly that task green.

Kept fast: the tree stubs three tasks; pytest runs inside it once for the task tests plus a few
non-task test files, and the grader runs on two or three tasks at a time. The all-task checks are
the static ones in test_registry.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from minitorch_cnn.assignments.__main__ import main as assignments_main
from minitorch_cnn.assignments.grading import grade_tasks
from minitorch_cnn.assignments.markers import parse_regions, stub_lines
from minitorch_cnn.assignments.student import MANIFEST, tutorial_for
from minitorch_cnn.assignments.tasks import HIDDEN_TESTS_DIR, TASKS, get_task

REPO_ROOT = Path(__file__).resolve().parents[2]
STUBBED = ("2.1", "3.6", "8.3")  # 2.1 has hidden tests; 3.6 (padding modes) is also used by non-task code
NON_TASK_TESTS = ["tests/ops/test_pad.py", "tests/viz/test_viz_cnn.py"]  # test_pad.py meets the 3.6 stub


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("student") / "tree"
    assert assignments_main(["make", "--out", str(out), "--tasks", ",".join(STUBBED)]) == 0
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env["MPLBACKEND"] = "Agg"
    return env


def test_make_is_deterministic(student: Path, tmp_path: Path) -> None:
    assert assignments_main(["make", "--out", str(tmp_path / "again"), "--tasks", ",".join(STUBBED)]) == 0
    assert _files(tmp_path / "again") == _files(student)


def test_tree_holds_no_solution_and_no_hidden_test(student: Path) -> None:
    assert not (student / HIDDEN_TESTS_DIR).exists() and not (student / "tests" / "assignments").exists()
    assert (student / "tests" / "tasks" / "test_ch02_convolution.py").is_file(), "the visible task tests are there"
    assert json.loads((student / MANIFEST).read_text())["tasks"] == list(STUBBED)
    for path in (student / "minitorch_cnn").rglob("*.py"):
        assert not parse_regions(path.read_text(), path), f"{path}: a marker reached the student tree"
    for rel in ("minitorch_cnn/ops/conv_reference.py", "minitorch_cnn/ops/pad.py", "minitorch_cnn/models/beyond.py"):
        ref = (REPO_ROOT / rel).read_text().splitlines()
        text = (student / rel).read_text()
        for r in parse_regions("\n".join(ref), rel):
            whole = "\n".join(ref)  # lines that occur once in the reference: only the solution holds them
            body = [ln.strip() for ln in ref[r.begin + 1 : r.end] if len(ln.strip()) > 12 and whole.count(ln.strip()) == 1]
            if r.task in STUBBED:
                assert not any(ln in text for ln in body), f"{rel}: solution of task {r.task} leaked"
                assert f"NotImplementedError('Task {r.task}: " in text
    readme = (student / "README.md").read_text()
    assert "python -m minitorch_cnn.grade" in readme and "hidden tests" in readme
    assert (student / "PROJECT_README.md").read_bytes() == (REPO_ROOT / "README.md").read_bytes()


def test_make_refuses_bad_input_with_one_line(student: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for argv, words in [(["make", "--out", str(student)], "not empty; pass --force"),
                        (["make", "--out", str(tmp_path / "x"), "--tasks", "9.9"], "unknown task id"),
                        (["make", "--out", str(tmp_path / "x"), "--chapter", "9"], "chapter 9 has no tasks"),
                        (["make", "--out", str(REPO_ROOT / "tutorials")], "inside (or holds) the reference")]:
        assert assignments_main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1 and words in captured.err, captured.err
    assert not (tmp_path / "x").exists()


def test_stubbed_tasks_fail_with_their_own_error_and_nothing_else(student: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                    f"--junitxml={report}", "tests/tasks", *NON_TASK_TESTS], cwd=student, env=_env(student),
                   capture_output=True, text=True, timeout=300)
    marker_of = {n.split("::")[1]: t.id for t in TASKS for n in t.tests}
    outcomes = {"pass": 0, "own stub": 0}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name", "").split("[")[0]
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        task = marker_of.get(name)
        if bad is None:
            assert task not in STUBBED, f"{name} passed although task {task} is a stub"
            outcomes["pass"] += 1
            continue
        text = bad.get("message", "") + (bad.text or "")
        stubs_hit = [t for t in STUBBED if f"NotImplementedError: Task {t}:" in text]
        assert stubs_hit, f"{name} failed for another reason than a stub:\n{text[-1500:]}"
        assert task is None or stubs_hit == [task], f"{name} (task {task}) stopped at the stub of {stubs_hit}"
        outcomes["own stub"] += 1
    stubbed_tests = sum(len(get_task(t).tests) for t in STUBBED)
    assert outcomes["own stub"] >= stubbed_tests and outcomes["pass"] > 50


def test_grader_in_the_student_tree(student: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.grade", "--json", str(out)], cwd=student,
                          env=_env(student), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Hidden tests exist and were not run: task 2.1" in proc.stdout
    results = json.loads(out.read_text())
    assert [t["number"] for t in results["tests"]] == list(STUBBED)
    assert results["score"] == 0 and all(t["output"].startswith("not started") for t in results["tests"])
    assert all(t["visibility"] == "visible" and t["max_score"] > 0 for t in results["tests"])


def test_putting_one_solution_back_turns_exactly_that_task_green(student: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(student, tree)
    rel = "minitorch_cnn/ops/conv_reference.py"
    ref = (REPO_ROOT / rel).read_text().splitlines()
    (region,) = [r for r in parse_regions("\n".join(ref), rel) if r.task == "2.1"]
    task = get_task("2.1")
    stub = "\n".join(region.indent + ln for ln in stub_lines("", "2.1", task.title, tutorial_for(REPO_ROOT, 2)))
    text = (tree / rel).read_text()
    assert text.count(stub) == 1
    (tree / rel).write_text(text.replace(stub, "\n".join(ref[region.begin + 1 : region.end])))
    results = grade_tasks(tree, [get_task(t) for t in STUBBED], jobs=2)
    assert [r.status for r in results] == ["passed", "not started", "not started"]


def test_instructor_mode_adds_the_hidden_tests(student: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.grade", "--submission", str(student), "--task",
                           "2.1", "--json", str(out)], cwd=REPO_ROOT, env=_env(REPO_ROOT), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    tests = json.loads(out.read_text())["tests"]
    assert [(t["number"], t["visibility"], t["score"]) for t in tests] == [("2.1", "visible", 0),
                                                                          ("2.1h", "after_published", 0)]
    assert "hidden tests" in tests[1]["name"] and tests[1]["output"].startswith("not started")


def test_instructor_mode_refuses_an_incomplete_submission(student: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    from minitorch_cnn.grade import main as grade_main

    tree = tmp_path / "tree"
    shutil.copytree(student, tree)
    (tree / "minitorch_cnn" / "models" / "beyond.py").unlink()  # the reference's module must not stand in
    assert grade_main(["--submission", str(tree), "--task", "8.3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lacks 1 package file(s)" in err and "minitorch_cnn/models/beyond.py" in err
