"""What reaches Gradescope and the student: ``results.json`` against Gradescope's published format
(``tests/data/gradescope_results.schema.json``), hidden results kept out of everything a student
sees before grades are published, the console outputs, and the autograder zip."""

from __future__ import annotations

import copy
import json
import re
import stat
import zipfile
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from minitorch_cnn.assignments.gradescope import RUN_AUTOGRADER, SETUP_SH, build_autograder_zip
from minitorch_cnn.assignments.grading import TaskResult
from minitorch_cnn.assignments.report import feedback, gradescope_results, results_table, summary_lines
from minitorch_cnn.assignments.tasks import get_task

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO_ROOT / "tests/data/gradescope_results.schema.json").read_text(encoding="utf-8"))
SECRET = "SECRET-HIDDEN-DETAIL at (3, 1) expected 0.731 got 0.5"
VISIBLE_FAIL = "1.3/known: y differs in 2 of 6 element(s): at (0, 1) expected 1.0 got 2.0"


def _results() -> list[TaskResult]:
    t11, t21, t31, t12, t13, t42 = (get_task(i) for i in ("1.1", "2.1", "3.1", "1.2", "1.3", "4.2"))
    assert all(t.hidden_points for t in (t11, t21, t31, t42))
    passed = TaskResult(t11, "passed", 2, 2)
    passed.hidden = TaskResult(t11, "failed", 0, 1, SECRET)
    both = TaskResult(t21, "passed", 1, 1)
    both.hidden = TaskResult(t21, "passed", 1, 1)
    not_started = TaskResult(t31, "not started", 0, 1, "the stub still raises NotImplementedError")
    not_started.hidden = TaskResult(t31, "not started", 0, 1, "SECRET-HIDDEN-DETAIL stub")
    blocked = TaskResult(t12, "blocked", 0, 1, "its checks stop at the stub of task 1.1", ("1.1",))
    failed = TaskResult(t13, "failed", 1, 2, VISIBLE_FAIL)
    hidden_blocked = TaskResult(t42, "failed", 0, 1, "4.2/known: wrong")
    hidden_blocked.hidden = TaskResult(t42, "blocked", 0, 1, "SECRET-HIDDEN-DETAIL blocked", ("4.1",))
    return [passed, both, not_started, blocked, failed, hidden_blocked]


def _validate(payload: dict) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(payload)


def _errors(payload: dict) -> list[str]:
    return [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(payload)]


# --- the schema itself -----------------------------------------------------------------------------

def test_the_schema_is_a_valid_draft7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"].startswith("http://json-schema.org/draft-07/")


def test_the_schema_accepts_gradescopes_own_example() -> None:
    example = {
        "score": 44.0, "execution_time": 136, "output": "Text relevant to the entire submission",
        "output_format": "simple_format", "test_output_format": "text", "test_name_format": "text",
        "visibility": "after_due_date", "stdout_visibility": "visible", "extra_data": {},
        "tests": [{"score": 2.0, "max_score": 2.0, "status": "passed", "name": "Your name here",
                   "name_format": "text", "number": "1.1", "output": "Giant multiline string",
                   "output_format": "text", "tags": ["tag1", "tag2"], "visibility": "visible",
                   "extra_data": {}},
                  {"score": 3.0}],
        "leaderboard": [{"name": "Accuracy", "value": 0.926}, {"name": "Time", "value": 15.1, "order": "asc"},
                        {"name": "Stars", "value": "*****"}],
    }
    assert _errors(example) == []


@pytest.mark.parametrize("change", [
    lambda p: p.update(grade=3),                                   # an unknown top-level field
    lambda p: p.update(visibility="students"),
    lambda p: p.update(stdout_visibility="public"),
    lambda p: p.update(output_format="rtf"),
    lambda p: p.update(execution_time="3 s"),
    lambda p: p["tests"][0].update(status="maybe"),
    lambda p: p["tests"][0].update(visibility="later"),
    lambda p: p["tests"][0].update(tags="chapter 1"),
    lambda p: p["tests"][0].update(tags=[1]),
    lambda p: p["tests"][0].update(max_points=2),                 # an unknown test field
    lambda p: p["tests"][0].update(number=1.1),
    lambda p: [p["tests"][0].pop(k) for k in ("score", "max_score")],
    lambda p: p.update(leaderboard=[{"name": "x", "value": 1, "order": "up"}]),
    lambda p: p.pop("tests"),                                      # neither score nor tests
])
def test_the_schema_rejects_what_gradescope_would(change) -> None:
    payload = gradescope_results(_results(), 1.0)
    _validate(payload)
    bad = copy.deepcopy(payload)
    change(bad)
    assert _errors(bad), bad


# --- results.json ----------------------------------------------------------------------------------

def test_results_json_matches_gradescopes_format() -> None:
    payload = gradescope_results(_results(), 12.3456, {"submission_sha256": "ab" * 32, "sandbox": "root"})
    _validate(payload)
    _validate(json.loads(json.dumps(payload)))  # and as it is written
    assert payload["execution_time"] == 12.346 and payload["extra_data"]["sandbox"] == "root"
    _validate(gradescope_results([], 0.0))
    assert gradescope_results([], 0.0)["tests"] == []


def test_no_top_level_score_so_gradescope_sums_what_each_student_may_see() -> None:
    payload = gradescope_results(_results(), 1.0)
    assert "score" not in payload
    assert all("score" in t and "max_score" in t for t in payload["tests"])


def test_one_test_per_task_and_one_after_published_test_per_hidden_result() -> None:
    results = _results()
    tests = gradescope_results(results, 1.0)["tests"]
    visible = [t for t in tests if t["visibility"] == "visible"]
    hidden = [t for t in tests if t["visibility"] != "visible"]
    assert [t["number"] for t in visible] == [r.task.id for r in results]
    assert [t["number"] for t in hidden] == [f"{r.task.id}.h" for r in results if r.hidden is not None]
    assert {t["visibility"] for t in hidden} == {"after_published"}
    for r, t in zip(results, visible):
        assert (t["score"], t["max_score"]) == (r.score, r.task.points)
        assert t["status"] == ("passed" if r.status == "passed" else "failed")
        assert t["name"].startswith(f"Task {r.task.id}: ") and t["tags"] == [f"chapter {r.task.chapter}"]
        assert t["output"] == feedback(r)
    by_number = {t["number"]: t for t in hidden}
    assert (by_number["1.1.h"]["score"], by_number["1.1.h"]["max_score"], by_number["1.1.h"]["status"]) == \
        (0, 1, "failed")
    assert (by_number["2.1.h"]["score"], by_number["2.1.h"]["status"]) == (1, "passed")
    assert SECRET in by_number["1.1.h"]["output"]  # the instructor reads it once grades are published


def test_nothing_a_student_sees_holds_hidden_detail() -> None:
    payload = gradescope_results(_results(), 1.0)
    assert payload["stdout_visibility"] == "hidden"
    assert payload["visibility"] == "visible"
    seen = [payload["output"]] + [t["output"] + t["name"] for t in payload["tests"] if t["visibility"] == "visible"]
    for text in seen:
        assert "SECRET" not in text and "hidden points" not in text.lower() and "Hidden checks:" not in text
    # the only "a / b" count in the top-level output is the visible total
    counts = re.findall(r"\d+\s*/\s*\d+", payload["output"])
    visible_total = sum(r.score for r in _results()), sum(r.task.points for r in _results())
    assert counts == [f"{visible_total[0]} / {visible_total[1]}"]


def test_feedback_is_the_whole_first_failure_and_the_hint() -> None:
    r = _results()[4]
    text = feedback(r)
    assert text.startswith(f"failed: {VISIBLE_FAIL}")
    assert r.task.hint_line in text
    assert feedback(_results()[1]) == "passed"
    assert feedback(_results()[3]).startswith("blocked by task 1.1: ")


# --- the console -----------------------------------------------------------------------------------

def test_summary_lines_without_hidden_mention_no_hidden_points() -> None:
    results = _results()
    lines = summary_lines(results, show_hidden=False)
    total, maximum = sum(r.score for r in results), sum(r.task.points for r in results)
    assert lines[0] == f"Total: {total} / {maximum} points (2 of 6 tasks passed)."
    assert not any("Hidden checks:" in line or "hidden points" in line for line in lines)
    assert not any(re.search(r"\d", line) for line in lines[1:])
    shown = summary_lines(_results(), show_hidden=True)
    assert "Hidden checks: 1 / 4 hidden points." in shown  # the instructor's view does count them


def _render(table) -> str:
    console = Console(record=True, width=200)
    console.print(table)
    return console.export_text()


def test_results_table_without_hidden_has_no_hidden_row() -> None:
    text = _render(results_table(_results(), show_hidden=False))
    assert "hidden" not in text.lower() and "SECRET" not in text
    total, maximum = sum(r.score for r in _results()), sum(r.task.points for r in _results())
    assert VISIBLE_FAIL in text and f"{total}/{maximum}" in text and "blocked by task 1.1" in text
    shown = _render(results_table(_results(), show_hidden=True))
    assert shown.count("hidden checks") == 1 + 4 and SECRET in shown  # the title and one row per hidden result


# --- the autograder zip ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    return build_autograder_zip(REPO_ROOT, tmp_path_factory.mktemp("autograder"))


def test_the_zip_has_executable_scripts_at_its_root(autograder_zip: tuple[Path, list[str]]) -> None:
    out, _ = autograder_zip
    assert out.name == "autograder.zip"
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zf.getinfo(name)
            mode = info.external_attr >> 16
            assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o755, (name, oct(mode))
            data = zf.read(name)
            assert data.startswith(b"#!") and data.decode() == text
        assert zf.read("run_autograder").startswith(b"#!/usr/bin/env bash\n")


def test_the_zip_holds_the_package_and_hidden_checks_and_nothing_private(
        autograder_zip: tuple[Path, list[str]]) -> None:
    out, members = autograder_zip
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert len(names) == len(set(names))
        assert sorted(set(names) - {"setup.sh", "run_autograder"}) == sorted(members)
        assert "minitorch_cnn/__init__.py" in names and "minitorch_cnn/ops/elementwise.py" in names
        assert "minitorch_cnn/assignments/runner.py" in names
        assert "tests/tasks/hidden/hidden_probes.py" in names
        assert zf.read("tests/tasks/hidden/hidden_probes.py") == \
            (REPO_ROOT / "tests/tasks/hidden/hidden_probes.py").read_bytes()
        assert b"# BEGIN SOLUTION" in zf.read("minitorch_cnn/ops/elementwise.py")  # the reference, whole
        for name in names:
            parts = name.split("/")
            assert not {".git", ".venv", "__pycache__", ".pytest_cache"} & set(parts), name
            assert not name.endswith((".env", ".pyc")) and ".env" not in parts[-1].split("."), name
            assert not name.startswith("tests/") or name.startswith("tests/tasks/hidden/"), name
            assert not name.startswith("/") and ".." not in parts, name
            assert stat.S_IMODE(zf.getinfo(name).external_attr >> 16) in (0o644, 0o755), name


def test_a_second_zip_needs_force(autograder_zip: tuple[Path, list[str]]) -> None:
    out, _ = autograder_zip
    before = out.read_bytes()
    with pytest.raises(ValueError, match="--force"):
        build_autograder_zip(REPO_ROOT, out.parent)
    assert out.read_bytes() == before
    again, _ = build_autograder_zip(REPO_ROOT, out.parent, force=True)
    assert again == out and out.read_bytes() == before  # deterministic: same files, same bytes
