"""A generated student tree, end to end: it holds no solution and no hidden test, every stubbed
task fails with its own NotImplementedError and nothing else fails; and what ``make`` refuses to
copy: untracked files, instructor-only files, secrets, a reference that is not a git checkout
(unless ``include`` names the files) and a reference that does not parse.

Kept fast: the tree stubs three tasks and pytest runs inside it once, for the task tests plus a
few non-task test files. The grader's own tests live with the grader. The all-task checks are
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
from minitorch_cnn.assignments.markers import parse_regions
from minitorch_cnn.assignments.student import MANIFEST, build_student_tree, left_out_reason, source_files
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


# ---- what make copies: tracked files only, never instructor-only files or secrets ----------------

INCLUDE = ["minitorch_cnn", "tests", "tutorials", "README.md", "pyproject.toml"]


def _tracked_copy(dst: Path) -> Path:
    """A copy of the files git tracks in this project (no .git): a reference without git."""
    for rel in subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
                              ).stdout.decode().split("\0"):
        if rel and (REPO_ROOT / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / rel, dst / rel)
    return dst


@pytest.fixture(scope="module")
def plain_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ref = _tracked_copy(tmp_path_factory.mktemp("plain") / "ref")
    (ref / "notes.md").write_text("instructor's notes: the answer to 2.2 is ...\n")
    return ref


@pytest.fixture(scope="module")
def git_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git checkout of the project plus a tracked ``deploy.env`` and ``INSTRUCTOR_NOTES.md``, and
    an untracked ``secret.env`` and ``notes.md``."""
    ref = _tracked_copy(tmp_path_factory.mktemp("git") / "ref")
    (ref / "deploy.env").write_text("TOKEN=tracked-by-mistake\n")
    (ref / "INSTRUCTOR_NOTES.md").write_text("grading notes\n")
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "reference"]):
        subprocess.run(git + cmd, cwd=ref, check=True, capture_output=True)
    (ref / "secret.env").write_text("TOKEN=untracked\n")
    (ref / "notes.md").write_text("untracked notes\n")
    return ref


def test_only_tracked_files_are_copied_and_the_report_says_what_was_left_out(git_reference: Path,
                                                                            tmp_path: Path) -> None:
    report = build_student_tree(git_reference, tmp_path / "tree", [get_task("8.3")])
    written = set(report.written)
    for rel in ("secret.env", "notes.md", "deploy.env", "INSTRUCTOR_NOTES.md"):
        assert rel not in written and not (tmp_path / "tree" / rel).exists(), rel
    assert report.left_out["deploy.env"].startswith("looks like a secret")
    assert report.left_out["INSTRUCTOR_NOTES.md"].startswith("instructor-only")
    assert report.left_out[HIDDEN_TESTS_DIR + "/test_hidden_tasks.py"].startswith("instructor-only")
    assert "secret.env" not in report.left_out, "untracked files are not project files: never even considered"
    assert report.stubbed == {"minitorch_cnn/models/beyond.py": ["8.3"]}
    assert sum(report.per_folder().values()) == len(report.written) and report.per_folder()["minitorch_cnn"] > 50
    text = "\n".join(report.summary_lines())
    assert f"wrote {len(report.written)} files" in text and "deploy.env: looks like a secret" in text
    assert "stubbed minitorch_cnn/models/beyond.py: task 8.3" in text


def test_never_copied_patterns() -> None:
    for rel in ("tests/tasks/hidden/test_x.py", "tests/assignments/test_y.py", "docs/grading.instructor.md",
                "INSTRUCTOR_NOTES.md", "notes/week1.md", "a/.env", ".env.local", "deploy.env", "tls/server.pem",
                "id.key"):
        assert left_out_reason(rel) is not None, rel
    for rel in ("tests/tasks/test_ch01_autograd.py", "minitorch_cnn/ops/pad.py", "docs/environment.md",
                "tools/keys.py", "README.md"):
        assert left_out_reason(rel) is None, rel
    leaked = [f for f in source_files(REPO_ROOT) if left_out_reason(f)]
    assert not leaked


def test_a_reference_without_git_needs_include(plain_reference: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a git checkout") as info:
        build_student_tree(plain_reference, tmp_path / "tree", [get_task("8.3")])
    assert str(plain_reference) in str(info.value) and "--include" in str(info.value)
    assert not (tmp_path / "tree").exists()
    report = build_student_tree(plain_reference, tmp_path / "tree", [get_task("8.3")], include=INCLUDE)
    assert "notes.md" not in report.written and "tests/tasks/test_ch08_beyond.py" in report.written
    assert not (tmp_path / "tree" / HIDDEN_TESTS_DIR).exists(), "include does not override INSTRUCTOR_ONLY"
    with pytest.raises(ValueError, match="'nope/\\*' matches no file"):
        build_student_tree(plain_reference, tmp_path / "t2", [get_task("8.3")], include=[*INCLUDE, "nope/*"])


def test_a_reference_that_does_not_parse_is_refused_before_writing(plain_reference: Path, tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    shutil.copytree(plain_reference, ref)
    rel = "minitorch_cnn/ops/pad.py"
    lines = (ref / rel).read_text().splitlines()
    lines.append("def broken(:")
    (ref / rel).write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=f"{rel}:{len(lines)}: the reference does not parse"):
        build_student_tree(ref, tmp_path / "tree", [get_task("8.3")], include=INCLUDE)
    assert not (tmp_path / "tree").exists()


def test_a_stub_that_would_not_parse_is_refused(plain_reference: Path, tmp_path: Path) -> None:
    """A region that cuts an expression in two parses in the reference but not once stubbed."""
    ref = tmp_path / "ref"
    shutil.copytree(plain_reference, ref)
    rel = "minitorch_cnn/models/beyond.py"
    text = (ref / rel).read_text()
    text += "\n\ndef _cut():\n    x = (1 +\n    # BEGIN SOLUTION 8.3\n    2 +\n    # END SOLUTION\n    3)\n"
    (ref / rel).write_text(text)
    with pytest.raises(ValueError, match=f"{rel}:\\d+: the student version \\(tasks 8.3 stubbed\\) does not parse"):
        build_student_tree(ref, tmp_path / "tree", [get_task("8.3")], include=INCLUDE)
    assert not (tmp_path / "tree").exists()
