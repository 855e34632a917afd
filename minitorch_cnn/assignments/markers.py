"""Solution markers: the regions of the reference code that a student writes.

A region is a block of whole lines between two comment lines at the same indentation::

    <indent># BEGIN SOLUTION 2.3
    <indent>...reference code...
    <indent># END SOLUTION

The reference stays complete (the markers are plain comments). ``make`` replaces each selected
region, markers included, by a stub at the same indentation that raises
``NotImplementedError("Task 2.3: <title> -- see tutorials/02_...")``.

Any marker that does not fit this grammar (no task id, a nested or unclosed region, an END
without a BEGIN, an END at another indentation, an empty region) is a ``MarkerError`` that names
the file and line, so a typo in the reference never produces a silently wrong student tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MarkerError", "Region", "parse_regions", "stub_lines", "replace_regions"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
TASK_ID = re.compile(r"^\d+\.\d+$")
_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?P<rest>.*)$")
_END_LINE = re.compile(r"^(?P<indent>[ \t]*)# END SOLUTION(?P<rest>.*)$")


class MarkerError(ValueError):
    """A malformed or unbalanced solution marker; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Region:
    """One marked region: ``lines[begin]`` is the BEGIN marker, ``lines[end]`` the END marker
    (0-based line indices into the file), ``indent`` the markers' leading whitespace."""

    path: str
    task: str
    begin: int
    end: int
    indent: str

    @property
    def body_range(self) -> tuple[int, int]:
        """1-based first and last line of the solution code between the markers."""
        return self.begin + 2, self.end


def parse_regions(text: str, path: str | Path = "<string>") -> list[Region]:
    """All regions of ``text`` in file order; ``MarkerError`` for anything malformed."""
    regions: list[Region] = []
    open_: tuple[int, str, str] | None = None  # (line index, task id, indent) of the open BEGIN
    lines = text.splitlines()
    for i, line in enumerate(lines):
        begin, end = _BEGIN_LINE.match(line), _END_LINE.match(line)
        if begin:
            task = begin["rest"].strip()
            if open_ is not None:
                raise MarkerError(f"{path}:{i + 1}: '{BEGIN} {task}' inside the region of task {open_[1]} "
                                  f"opened at line {open_[0] + 1}; close it with '{END}' first")
            if not TASK_ID.match(task):
                raise MarkerError(f"{path}:{i + 1}: '{line.strip()}' needs a task id like '{BEGIN} 2.3' "
                                  f"(chapter.number), got {task!r}")
            open_ = (i, task, begin["indent"])
        elif end:
            if end["rest"].strip():
                raise MarkerError(f"{path}:{i + 1}: '{END}' takes nothing after it, got {line.strip()!r}")
            if open_ is None:
                raise MarkerError(f"{path}:{i + 1}: '{END}' without a matching '{BEGIN} <task id>' above it")
            start, task, indent = open_
            if end["indent"] != indent:
                raise MarkerError(f"{path}:{i + 1}: '{END}' is indented {len(end['indent'])} columns but its "
                                  f"'{BEGIN} {task}' (line {start + 1}) is indented {len(indent)}; align them")
            if not any(ln.strip() for ln in lines[start + 1:i]):
                raise MarkerError(f"{path}:{start + 1}: the region of task {task} is empty")
            regions.append(Region(str(path), task, start, i, indent))
            open_ = None
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            if line.lstrip().startswith("#"):
                raise MarkerError(f"{path}:{i + 1}: {line.strip()!r} looks like a solution marker but is not "
                                  f"spelled '{BEGIN} <task id>' / '{END}'")
    if open_ is not None:
        raise MarkerError(f"{path}:{open_[0] + 1}: '{BEGIN} {open_[1]}' is never closed with '{END}'")
    return regions


def stub_lines(indent: str, task: str, title: str, tutorial: str) -> list[str]:
    """The two lines that replace a region in the student tree (``indent`` prefixes both)."""
    message = f"Task {task}: {title} -- see {tutorial}"
    return [
        f"{indent}# TODO Task {task}: replace this line and the next with your code (see the docstring).",
        f"{indent}raise NotImplementedError({message!r})",
    ]


def replace_regions(text: str, path: str | Path, stubs: dict[str, list[str]]) -> str:
    """``text`` with the region of every task in ``stubs`` replaced by ``stubs[task]`` (lines
    without indentation; each region's own indentation is added). Regions of other tasks keep
    their code and lose only their two marker lines, so no marker reaches a student."""
    lines = text.splitlines()
    out: list[str] = []
    last = 0
    for r in parse_regions(text, path):
        out.extend(lines[last:r.begin])
        replacement = stubs.get(r.task)
        if replacement is None:
            out.extend(lines[r.begin + 1:r.end])
        else:
            out.extend(r.indent + ln if ln else ln for ln in replacement)
        last = r.end + 1
    out.extend(lines[last:])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
