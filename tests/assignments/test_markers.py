"""The solution-marker grammar: well-formed regions are found and replaced, anything else is an
error naming the file and the line."""

from __future__ import annotations

import pytest

from minitorch_cnn.assignments.markers import MarkerError, parse_regions, replace_regions, stub_lines

GOOD = """def f(x):
    \"\"\"Docstring stays.\"\"\"
    y = 1
    # BEGIN SOLUTION 2.3
    y = x * 2
    return y
    # END SOLUTION


def g():
        # BEGIN SOLUTION 10.12
        return 3
        # END SOLUTION
"""


def test_regions_are_found_with_their_lines_and_indentation() -> None:
    regions = parse_regions(GOOD, "pkg/mod.py")
    assert [(r.task, r.begin, r.end, r.indent) for r in regions] == [("2.3", 3, 6, "    "), ("10.12", 10, 12, " " * 8)]
    assert regions[0].body_range == (5, 6)


def test_replace_keeps_signature_docstring_and_indentation() -> None:
    stub = stub_lines("", "2.3", "Double it", "tutorials/02_x.py")
    out = replace_regions(GOOD, "pkg/mod.py", {"2.3": stub})
    assert '    """Docstring stays."""' in out and "    y = 1" in out
    assert "    raise NotImplementedError('Task 2.3: Double it -- see tutorials/02_x.py')" in out
    assert "x * 2" not in out and "SOLUTION" not in out
    assert "        return 3" in out, "an unselected task keeps its code and loses only its markers"
    compile(out, "pkg/mod.py", "exec")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("x = 1\n# BEGIN SOLUTION\ny = 2\n# END SOLUTION\n", 2, "needs a task id"),
        ("# BEGIN SOLUTION two\ny = 2\n# END SOLUTION\n", 1, "needs a task id"),
        ("# BEGIN SOLUTION 1.1\n# BEGIN SOLUTION 1.2\n# END SOLUTION\n", 2, "inside the region of task 1.1"),
        ("y = 2\n# END SOLUTION\n", 2, "without a matching"),
        ("a = 1\n# BEGIN SOLUTION 1.1\ny = 2\n", 2, "never closed"),
        ("def f():\n    # BEGIN SOLUTION 1.1\n    y = 2\n# END SOLUTION\n", 4, "align them"),
        ("# BEGIN SOLUTION 1.1\n\n# END SOLUTION\n", 1, "is empty"),
        ("# BEGIN SOLUTION 1.1\ny = 2\n# END SOLUTION 1.1\n", 3, "takes nothing after it"),
        ("#BEGIN SOLUTION 1.1\ny = 2\n", 1, "looks like a solution marker"),
    ],
)
def test_malformed_markers_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(MarkerError) as info:
        parse_regions(text, "minitorch_cnn/ops/x.py")
    assert str(info.value).startswith(f"minitorch_cnn/ops/x.py:{line}: ")
    assert words in str(info.value)
