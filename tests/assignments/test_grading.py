"""The grader's classification of failure texts (no pytest runs here; test_student_tree.py runs it)."""

from __future__ import annotations

from minitorch_cnn.assignments.grading import _import_error, classify_failures

OWN = "NotImplementedError: Task 2.3: Loop-reference N-d convolution -- see tutorials/02_convolution.py"
OTHER = "E   NotImplementedError: Task 1.5: Topological order of the graph -- see tutorials/01_x.py"


def test_classification() -> None:
    assert classify_failures("2.3", []) == ("passed", ())
    assert classify_failures("2.3", [OWN, OWN]) == ("not started", ())
    assert classify_failures("2.3", [OWN, OTHER]) == ("blocked", ("1.5",))
    assert classify_failures("2.3", [OTHER.replace("1.5", "10.2"), OTHER]) == ("blocked", ("1.5", "10.2"))
    assert classify_failures("2.3", [OWN, "AssertionError: assert 8 == 6"]) == ("failed", ())


def test_an_import_error_is_reported_with_file_and_line() -> None:
    text = ('tests/tasks/test_ch03.py:17: in <module>\n    from x import y\n'
            'E     File "/tree/minitorch_cnn/ops/pool_reference.py", line 29\n'
            "E       span = n + 2)\nE                  ^\nE   SyntaxError: unmatched ')'"
            "ERROR: found no collectors for /tree/tests/tasks/test_ch03.py::test_a")
    assert _import_error(text) == "SyntaxError: unmatched ')' (in /tree/minitorch_cnn/ops/pool_reference.py, line 29)"
