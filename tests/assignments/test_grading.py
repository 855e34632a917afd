"""The grader's verdict side, no sandbox: ``classify`` (passed / not started / blocked / failed),
``compare`` (the messages a student reads), ``answers_as_arrays`` (what a probe may return),
``rng_for`` (visible inputs shared, hidden inputs per student) and the frozen expected values of a
student tree (``freeze_visible_expected`` + ``FrozenExpected``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from minitorch_cnn.assignments.checks import Check, answers_as_arrays, compare, rng_for
from minitorch_cnn.assignments.grading import (
    FROZEN_EXPECTED,
    FrozenExpected,
    ReferenceExpected,
    TaskResult,
    classify,
    freeze_visible_expected,
    visible_checks,
)
from minitorch_cnn.assignments.sandbox import Outcome
from minitorch_cnn.assignments.tasks import get_task

TASK = get_task("2.3")


def _stub(task_id: str) -> Outcome:
    return Outcome(error="NotImplementedError", message=f"Task {task_id}: some title -- see tutorials/0x.py",
                   where="minitorch_cnn/ops/conv_reference.py, line 12")


def _err(key: str, o: Outcome) -> tuple[str, Outcome, bool, str]:
    return key, o, False, f"{key}: {o.error}: {o.message}"


def _ok(key: str) -> tuple[str, Outcome, bool, str]:
    return key, Outcome(answers={"y": np.zeros(2)}), True, ""


def _check(name: str = "known", hidden: bool = False, task: str = "2.1", rtol: float = 1e-6,
           atol: float = 1e-9) -> Check:
    return Check(task, name, hidden, lambda x: x, None, rtol, atol)


# --- classify ------------------------------------------------------------------------------------

def test_every_check_passing_is_passed() -> None:
    r = classify(TASK, [_ok("2.3/a"), _ok("2.3/b")])
    assert (r.status, r.passed, r.total, r.message, r.blocked_by) == ("passed", 2, 2, "", ())
    assert r.score == TASK.points and r.label == "passed"


def test_only_its_own_stub_is_not_started() -> None:
    r = classify(TASK, [_err("2.3/a", _stub("2.3")), _err("2.3/b", _stub("2.3"))])
    assert (r.status, r.passed, r.total, r.blocked_by) == ("not started", 0, 2, ())
    assert "NotImplementedError" in r.message and "'2.3'" in r.message
    assert r.score == 0


def test_a_partial_start_with_its_own_stub_left_is_still_not_started() -> None:
    r = classify(TASK, [_ok("2.3/a"), _err("2.3/b", _stub("2.3"))])
    assert (r.status, r.passed, r.total) == ("not started", 1, 2) and r.score == 0


def test_another_tasks_stub_blocks_with_ids_sorted_numerically() -> None:
    verdicts = [_err("2.3/a", _stub("10.2")), _err("2.3/b", _stub("1.5")), _err("2.3/c", _stub("2.3")),
                _err("2.3/d", _stub("1.5"))]
    r = classify(TASK, verdicts)
    assert r.status == "blocked"
    assert r.blocked_by == ("1.5", "10.2")  # numeric order: a string sort would put "10.2" first
    assert r.label == "blocked by task 1.5, 10.2"
    assert "1.5" in r.message and "10.2" not in r.message  # the first one to write
    assert r.score == 0


def test_a_not_implemented_error_without_a_task_id_is_a_failure() -> None:
    o = Outcome(error="NotImplementedError", message="mode 'wrap' is not supported")
    r = classify(TASK, [_err("2.3/a", o)])
    assert r.status == "failed" and r.message == "2.3/a: NotImplementedError: mode 'wrap' is not supported"


def test_a_stub_message_of_another_error_type_is_a_failure() -> None:
    o = Outcome(error="RuntimeError", message="Task 1.5: not a stub, just a message that looks like one")
    r = classify(TASK, [_err("2.3/a", o)])
    assert r.status == "failed" and r.blocked_by == ()


def test_failed_keeps_the_first_failing_checks_whole_message() -> None:
    long = "2.3/b: y differs in 7 of 9 element(s): " + "at (0, 1) expected 1.0 got 2.0; " * 400
    assert len(long) > 10_000
    verdicts = [_ok("2.3/a"), ("2.3/b", Outcome(answers={}), False, long),
                ("2.3/c", Outcome(answers={}), False, "2.3/c: the second failure"),
                _err("2.3/d", _stub("2.3"))]
    r = classify(TASK, verdicts)
    assert r.status == "failed" and (r.passed, r.total) == (1, 4)
    assert r.message == long  # whole, not clipped
    assert r.score == 0 and r.blocked_by == ()


def test_no_checks_is_a_setup_error_not_a_pass() -> None:
    r = classify(TASK, [])
    assert r.status == "failed" and r.total == 0 and "no checks" in r.message


def test_hidden_score_counts_only_a_passed_hidden_result() -> None:
    task = get_task("1.1")
    assert task.hidden_points > 0
    r = TaskResult(task, "passed", 2, 2)
    assert r.hidden_score == 0
    r.hidden = TaskResult(task, "failed", 0, 1, "wrong")
    assert r.hidden_score == 0
    r.hidden = TaskResult(task, "passed", 1, 1)
    assert r.hidden_score == task.hidden_points and r.score == task.points


# --- compare -------------------------------------------------------------------------------------

def test_equal_answers_pass() -> None:
    want = {"y": np.arange(6.0).reshape(2, 3), "n": np.array(3)}
    assert compare(_check(), {"y": want["y"].copy(), "n": np.array(3)}, want) == (True, "")


def test_shape_mismatch_names_both_shapes() -> None:
    ok, msg = compare(_check(), {"y": np.zeros((3, 2))}, {"y": np.zeros((2, 3))})
    assert not ok
    assert msg.startswith("2.1/known:") and "y" in msg and "(3, 2)" in msg and "(2, 3)" in msg


def test_value_mismatch_names_answer_count_indices_expected_and_got() -> None:
    want = np.arange(6.0).reshape(2, 3)
    got = want.copy()
    got[0, 1], got[1, 2] = 10.0, -7.5
    ok, msg = compare(_check(), {"y": got}, {"y": want})
    assert not ok
    assert "answer 'y' differs in 2 of 6 element(s)" in msg
    first, second = re.findall(r"at (\(.*?\)) expected (.*?) got ([^;]*)", msg)
    assert first[0] == "(0, 1)" and "1.0" in first[1] and "10.0" in first[2]
    assert second[0] == "(1, 2)" and "5.0" in second[1] and "-7.5" in second[2]


def test_differences_print_plain_numbers_not_numpy_reprs() -> None:
    """A student reads ``expected 1.0 got 10.0``, not NumPy 2's ``np.float64(1.0)``."""
    ok, msg = compare(_check(), {"y": np.array([10.0]), "b": np.array(False)}, {"y": np.array([1.0])})
    assert not ok and msg.endswith("at (0,) expected 1.0 got 10.0"), msg
    ok, msg = compare(_check(), {"b": np.array(False)}, {"b": np.array(True)})
    assert not ok and msg.endswith("at () expected True got False"), msg
    ok, msg = compare(_check(), {"n": np.array([3], dtype=np.int32)}, {"n": np.array([4], dtype=np.int32)})
    assert not ok and msg.endswith("at (0,) expected 4 got 3"), msg


def test_only_the_first_three_differences_are_listed() -> None:
    ok, msg = compare(_check(), {"y": np.ones(10)}, {"y": np.zeros(10)})
    assert not ok and "10 of 10" in msg
    assert msg.count(" expected ") == 3 and "at (3,)" not in msg


def test_floats_compare_within_the_checks_tolerance() -> None:
    want = {"y": np.array([1.0, 1e6])}
    assert compare(_check(), {"y": np.array([1.0 + 1e-8, 1e6 + 0.5])}, want)[0]
    assert not compare(_check(), {"y": np.array([1.0 + 1e-3, 1e6])}, want)[0]
    assert compare(_check(rtol=1e-2), {"y": np.array([1.0 + 1e-3, 1e6])}, want)[0]
    assert compare(_check(), {"y": np.array([1.0, 1e6], dtype=np.float32)}, want)[0]


def test_ints_are_exact() -> None:
    big = np.array([10**12, 5], dtype=np.int64)
    ok, msg = compare(_check(), {"n": big + np.array([1, 0])}, {"n": big})
    assert not ok  # np.isclose would accept a relative error of 1e-12
    assert "at (0,) expected" in msg and str(10**12 + 1) in msg
    assert compare(_check(), {"n": big.copy()}, {"n": big})[0]


def test_bools_compare_as_truth_values() -> None:
    want = {"raised": np.array(True)}
    assert compare(_check(), {"raised": np.array(True)}, want)[0]
    ok, msg = compare(_check(), {"raised": np.array(False)}, want)
    assert not ok and "answer 'raised' differs in 1 of 1" in msg and re.search(r"expected \S*True\S* got \S*False", msg)
    assert compare(_check(), {"raised": np.array(1)}, want)[0]
    assert not compare(_check(), {"mask": np.array([1, 0])}, {"mask": np.array([True, True])})[0]


def test_nan_equals_nan_but_not_a_number() -> None:
    want = {"y": np.array([np.nan, 1.0])}
    assert compare(_check(), {"y": np.array([np.nan, 1.0])}, want)[0]
    ok, msg = compare(_check(), {"y": np.array([0.0, 1.0])}, want)
    assert not ok and "1 of 2" in msg and "at (0,)" in msg
    assert not compare(_check(), {"y": np.array([np.nan, np.nan])}, want)[0]
    assert not compare(_check(), {"y": np.array([np.inf])}, {"y": np.array([-np.inf])})[0]


def test_a_missing_answer_is_named() -> None:
    ok, msg = compare(_check(), {"y": np.zeros(2)}, {"y": np.zeros(2), "grad": np.zeros(2)})
    assert not ok and "'grad'" in msg and "2.1/known" in msg


def test_an_extra_answer_is_ignored() -> None:
    assert compare(_check(), {"y": np.zeros(2), "debug": np.ones(3)}, {"y": np.zeros(2)}) == (True, "")


# --- answers_as_arrays ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [[np.zeros(2)], (1, 2), None, np.zeros(3), "y", {1: np.zeros(2)}])
def test_answers_must_be_a_dict_of_named_values(bad: object) -> None:
    with pytest.raises(TypeError, match="dict of named arrays"):
        answers_as_arrays(bad)


@pytest.mark.parametrize("value", [np.array([object(), 1], dtype=object), np.array(["a", "b"]), "text",
                                   [1, "a"], np.array([1 + 2j]), np.array(["2020-01-01"], dtype="datetime64[D]")])
def test_answers_of_a_non_numeric_dtype_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="'y' has dtype"):
        answers_as_arrays({"y": value})


def test_answers_become_arrays_and_keep_their_shape() -> None:
    class FakeTensor:
        def numpy(self) -> np.ndarray:
            return np.ones((2, 2), dtype=np.float32)

    out = answers_as_arrays({"s": 2.5, "flag": True, "l": [[1, 2], [3, 4]], "t": FakeTensor(),
                             "u": np.arange(3, dtype=np.uint8)})
    assert out["s"].shape == () and out["s"].dtype.kind == "f" and float(out["s"]) == 2.5
    assert out["flag"].dtype == np.bool_ and out["flag"].shape == ()
    assert out["l"].tolist() == [[1, 2], [3, 4]] and out["l"].dtype.kind == "i"
    assert out["t"].dtype == np.float32 and out["t"].shape == (2, 2)
    assert out["u"].dtype == np.uint8
    assert answers_as_arrays({}) == {}


# --- rng_for -------------------------------------------------------------------------------------

def _draw(check: Check, student: str) -> np.ndarray:
    return rng_for(check, student).random(8)


def test_hidden_inputs_differ_per_student_and_per_check() -> None:
    a, b = _check("a", hidden=True), _check("b", hidden=True)
    assert np.array_equal(_draw(a, "alice"), _draw(a, "alice"))  # reproducible
    assert not np.array_equal(_draw(a, "alice"), _draw(a, "bob"))
    assert not np.array_equal(_draw(a, "alice"), _draw(b, "alice"))
    assert not np.array_equal(_draw(a, "alice"), _draw(_check("a", hidden=True, task="2.2"), "alice"))


def test_visible_inputs_are_the_same_for_every_student() -> None:
    c = _check("a")
    assert np.array_equal(_draw(c, "alice"), _draw(c, "bob"))
    assert np.array_equal(_draw(c, "alice"), _draw(c, ""))
    assert not np.array_equal(_draw(c, ""), _draw(_check("b"), ""))
    # a visible check never shares its stream with the hidden check of the same key
    assert not np.array_equal(_draw(c, ""), _draw(_check("a", hidden=True), ""))


# --- frozen expected values ----------------------------------------------------------------------

def test_frozen_expected_on_a_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        FrozenExpected(tmp_path / FROZEN_EXPECTED)
    msg = str(info.value)
    assert FROZEN_EXPECTED in msg and "python -m minitorch_cnn.assignments make" in msg


def test_frozen_round_trip_equals_the_reference(tmp_path: Path) -> None:
    ids = ("1.1", "1.3", "2.1", "3.6")
    path = freeze_visible_expected(tmp_path, [get_task(i) for i in ids])
    assert path == tmp_path / FROZEN_EXPECTED and path.is_file()
    frozen, ref = FrozenExpected(path), ReferenceExpected()
    checks = [c for c in visible_checks() if c.task in ids]
    assert {c.task for c in checks} == set(ids)
    for check in checks:
        inputs = check.inputs(rng_for(check)) if check.inputs else {}
        want, got = ref.answers(check, inputs), frozen.answers(check, inputs)
        assert set(got) == set(want) and want, check.key
        for name in want:
            assert got[name].dtype == want[name].dtype and got[name].shape == want[name].shape, (check.key, name)
            np.testing.assert_array_equal(got[name], want[name], err_msg=f"{check.key} {name}")
        assert compare(check, got, want) == (True, "")


def test_frozen_expected_of_a_check_not_frozen_asks_to_remake(tmp_path: Path) -> None:
    path = freeze_visible_expected(tmp_path, [get_task("1.1")])
    other = next(c for c in visible_checks() if c.task == "1.2")
    with pytest.raises(ValueError, match="remake"):
        FrozenExpected(path).answers(other, {})
