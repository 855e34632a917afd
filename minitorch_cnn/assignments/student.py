"""Turn the reference project into a student's starting tree.

``make_student_tree(root, out, tasks)`` copies the project's files into ``out`` and, in each
package file with solution markers, replaces the regions of the selected tasks by a stub that
raises ``NotImplementedError("Task 2.3: <title> -- see tutorials/02_...")``; regions of other
tasks keep their code (only the marker lines go). The output depends only on the input files and
the task selection, so making it twice gives identical trees.

What is copied, and what never is:

* Only the files git *tracks*. An instructor's untracked ``notes.md`` or ``secret.env`` stays
  behind. A reference that is not a git checkout is refused, unless ``include`` names the files
  (relative paths or glob patterns, e.g. ``["minitorch_cnn/**", "tests/**", "tutorials/*.py"]``;
  the command line spells it ``make --include PATTERN`` -- see ``INCLUDE_FLAG``).
* Never the files matching ``INSTRUCTOR_ONLY`` (the hidden tests, the tests of this machinery,
  instructor notes) or ``SECRETS`` (``*.env``, ``.env*``, ``*.pem``, ``*.key``), tracked or not,
  and never a symbolic link. ``build_student_tree`` returns a ``TreeReport`` that lists each file
  left out and why.
* Nothing is written unless every marked package file parses, before and after stubbing: a
  syntax error is a ``ValueError`` naming the file and line.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..data.fileio import atomic_write_bytes, atomic_write_text
from .markers import MarkerError, Region, parse_regions, replace_regions, stub_lines
from .tasks import HIDDEN_TESTS_DIR, TASKS_BY_ID, Task

__all__ = ["MANIFEST", "INSTRUCTOR_ONLY", "SECRETS", "INCLUDE_FLAG", "TreeReport", "source_files",
           "left_out_reason", "scan_markers", "tutorial_for", "build_student_tree", "make_student_tree"]

MANIFEST = ".assignment.json"  # which tasks this student tree asks for (read by the grader)
# The command-line flag that passes ``include`` (wired in __main__.py): ``make --include PATTERN``, repeatable.
INCLUDE_FLAG = "--include"

# Path patterns, the one place that says what never reaches a student. A pattern ending in "/" is
# a folder relative to the project root (everything below it matches); a pattern without "/" is
# matched against every part of the path (a file name or a folder name at any depth).
INSTRUCTOR_ONLY: tuple[str, ...] = (
    HIDDEN_TESTS_DIR + "/",  # the hidden tests
    "tests/assignments/",  # the tests of this machinery (they read the reference solutions)
    "instructor/", "notes/",  # instructor folders
    "*.instructor.*", "INSTRUCTOR*",  # e.g. grading.instructor.md, INSTRUCTOR_NOTES.md
)
SECRETS: tuple[str, ...] = ("*.env", ".env*", "*.pem", "*.key")  # never copied, even if tracked

_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist",
              "runs", "out"}


def _matches(rel: str, pattern: str) -> bool:
    if pattern.endswith("/"):
        return rel.startswith(pattern)
    return any(fnmatch.fnmatchcase(part, pattern) for part in rel.split("/"))


def left_out_reason(rel: str) -> str | None:
    """Why the project file ``rel`` (relative, ``/``-separated) is never copied, or ``None``."""
    for pattern in INSTRUCTOR_ONLY:
        if _matches(rel, pattern):
            return f"instructor-only ({pattern})"
    for pattern in SECRETS:
        if _matches(rel, pattern):
            return f"looks like a secret ({pattern})"
    if rel == MANIFEST:
        return "written fresh for the student tree"
    return None


def _git_tracked(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "-z"], cwd=root, capture_output=True, check=True)
    return [f for f in listed.stdout.decode().split("\0") if f]


def _walk(root: Path) -> list[str]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        rel_dir = Path(dirpath).relative_to(root)
        files += [(rel_dir / f).as_posix() for f in filenames if not f.endswith(".pyc")]
    return files


def _included(root: Path, include: Sequence[str]) -> list[str]:
    """The files under ``root`` that ``include`` names: a path, a folder (every file below it) or
    a glob on the whole relative path (``*`` also crosses ``/``, as in ``fnmatch``). ``ValueError``
    for a pattern that matches nothing."""
    every = _walk(root)
    chosen: set[str] = set()
    for pattern in include:
        pattern = pattern.strip("/")
        hits = {f for f in every if f == pattern or f.startswith(pattern + "/") or fnmatch.fnmatchcase(f, pattern)}
        if not hits:
            raise ValueError(f"include pattern {pattern!r} matches no file under {root}; patterns are relative to "
                             "the project root, e.g. 'minitorch_cnn/**' or 'tutorials/*.py'")
        chosen |= hits
    return sorted(chosen)


def _candidates(root: Path, include: Sequence[str] | None) -> list[str]:
    if include is not None:
        return _included(root, include)
    if not (root / ".git").exists():
        raise ValueError(f"the reference {root} is not a git checkout, so there is no list of the files meant for "
                         f"students (untracked notes or secrets would be copied); run make from a git clone, or "
                         f"name the files with {INCLUDE_FLAG} PATTERN (include=[...] in Python)")
    return _git_tracked(root)


def _select(root: Path, include: Sequence[str] | None) -> tuple[list[str], dict[str, str]]:
    """``(files to copy, {file left out: why})``, both relative and sorted."""
    files, left_out = [], {}
    for rel in _candidates(root, include):
        path = root / rel
        reason = left_out_reason(rel)
        if reason is None and path.is_symlink():
            reason = "a symbolic link (its target may lie outside the project)"
        if reason is not None:
            left_out[rel] = reason
        elif path.is_file():
            files.append(rel)
    return sorted(files), dict(sorted(left_out.items()))


def source_files(root: Path, include: Sequence[str] | None = None) -> list[str]:
    """The project's files that may reach a student, relative and sorted: the files git tracks
    (or, with ``include``, the files it names), less everything ``left_out_reason`` refuses.
    ``ValueError`` for a reference that is not a git checkout when ``include`` is not given."""
    return _select(Path(root), include)[0]


def scan_markers(root: Path, files: Iterable[str] | None = None) -> dict[str, list[Region]]:
    """Regions per package file (``minitorch_cnn/**.py``); ``MarkerError`` for a malformed marker or
    a task id missing from the registry, and when a registered task has no region at all."""
    files = source_files(root) if files is None else files
    found: dict[str, list[Region]] = {}
    for rel in files:
        if not (rel.startswith("minitorch_cnn/") and rel.endswith(".py")):
            continue
        regions = parse_regions((root / rel).read_text(encoding="utf-8"), rel)
        for r in regions:
            if r.task not in TASKS_BY_ID:
                raise MarkerError(f"{rel}:{r.begin + 1}: task {r.task} is not in the registry "
                                  "(minitorch_cnn/assignments/tasks.py); add it there or fix the id")
        if regions:
            found[rel] = regions
    marked = {r.task for regions in found.values() for r in regions}
    missing = [t for t in TASKS_BY_ID if t not in marked]
    if missing:
        raise MarkerError(f"tasks {', '.join(missing)} are registered but no '# BEGIN SOLUTION <id>' region in "
                          "minitorch_cnn/ marks their code")
    return found


def tutorial_for(root: Path, chapter: int) -> str:
    """``tutorials/02_convolution.py`` for chapter 2 (``tutorials/`` if the chapter has no file)."""
    hits = sorted((root / "tutorials").glob(f"{chapter:02d}_*.py"))
    return hits[0].relative_to(root).as_posix() if hits else "tutorials/"


def _parse_or_refuse(text: str, rel: str, what: str, fix: str) -> None:
    try:
        ast.parse(text, filename=rel)
    except SyntaxError as exc:
        raise ValueError(f"{rel}:{exc.lineno}: {what} does not parse ({exc.msg}); {fix}. "
                         "Nothing was written") from None


def _stubbed_texts(root: Path, regions: dict[str, list[Region]], tasks: Sequence[Task]) -> dict[str, str]:
    """The student version of every marked file; ``ValueError`` (file:line) if either version of
    a file is not valid Python, so a broken reference never becomes a broken student tree."""
    stubs = {t.id: stub_lines("", t.id, t.title, tutorial_for(root, t.chapter)) for t in tasks}
    texts = {}
    for rel, file_regions in regions.items():
        reference = (root / rel).read_text(encoding="utf-8")
        _parse_or_refuse(reference, rel, "the reference", "fix the reference before running make")
        texts[rel] = replace_regions(reference, rel, stubs)
        stubbed = sorted({r.task for r in file_regions} & stubs.keys())
        _parse_or_refuse(texts[rel], rel, f"the student version (tasks {', '.join(stubbed) or 'none'} stubbed)",
                         "check that each region's markers sit at the indentation of the code they replace")
    return texts


def _prepare_out(out: Path, root: Path, force: bool) -> None:
    out_r, root_r = out.resolve(), root.resolve()
    if out_r.is_relative_to(root_r) or root_r.is_relative_to(out_r):
        raise ValueError(f"--out {out} is inside (or holds) the reference project {root}; choose a folder outside it")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ValueError(f"--out {out} is not empty; pass --force to replace its contents")
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)


@dataclass
class TreeReport:
    """What ``build_student_tree`` wrote: ``written`` (relative paths, sorted), ``stubbed``
    (package file -> the task ids stubbed in it) and ``left_out`` (project file -> why it was not
    copied). ``summary_lines()`` is the text the ``make`` command prints."""

    out: Path
    written: list[str] = field(default_factory=list)
    stubbed: dict[str, list[str]] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)

    def per_folder(self) -> dict[str, int]:
        """Files written per top-level folder (``"."`` for files at the top), sorted by folder."""
        counts = Counter(rel.split("/")[0] if "/" in rel else "." for rel in self.written)
        return dict(sorted(counts.items()))

    def summary_lines(self) -> list[str]:
        folders = ", ".join(f"{d}: {n}" for d, n in self.per_folder().items())
        lines = [f"wrote {len(self.written)} files to {self.out} ({folders})"]
        lines += [f"  stubbed {rel}: task{'s' if len(ids) > 1 else ''} {', '.join(ids)}"
                  for rel, ids in self.stubbed.items()]
        lines.append(f"left out {len(self.left_out)} project file(s):" if self.left_out else "left out no project file")
        lines += [f"  {rel}: {why}" for rel, why in self.left_out.items()]
        return lines


def _copy(root: Path, out: Path, rel: str, texts: dict[str, str]) -> str:
    """Copy one file (the stubbed text for marked files); returns the name it got in ``out``."""
    src, dst = root / rel, out / rel
    if rel == "README.md":  # the student tree gets its own README; the project's keeps its content
        atomic_write_bytes(out / "PROJECT_README.md", src.read_bytes())
        return "PROJECT_README.md"
    dst.parent.mkdir(parents=True, exist_ok=True)
    if rel in texts:
        atomic_write_text(dst, texts[rel])
    else:
        shutil.copyfile(src, dst)
    return rel


def build_student_tree(root: Path, out: Path, tasks: Sequence[Task], force: bool = False,
                       include: Sequence[str] | None = None) -> TreeReport:
    """Write the student tree for ``tasks`` into ``out`` and report what went where.

    ``include`` (relative paths or globs) replaces git's list of tracked files; it is required
    when ``root`` is not a git checkout. Everything is checked (markers, syntax, ``out``) before
    the first file is written."""
    root, out = Path(root), Path(out)
    files, left_out = _select(root, include)
    regions = scan_markers(root, files)
    texts = _stubbed_texts(root, regions, tasks)
    _prepare_out(out, root, force)
    written = [_copy(root, out, rel, texts) for rel in files]
    from .readme import student_readme

    atomic_write_text(out / "README.md", student_readme(root, tasks))
    manifest = {"tasks": [t.id for t in tasks], "hidden_tests_removed": True}
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    from .grading import TASKS, freeze_visible_expected

    written.append(freeze_visible_expected(out, TASKS).name)  # the self-check's expected values
    chosen = {t.id for t in tasks}
    stubbed = {rel: ids for rel, rs in regions.items() if (ids := sorted({r.task for r in rs} & chosen))}
    return TreeReport(out, sorted(written + ["README.md", MANIFEST]), stubbed, left_out)


def make_student_tree(root: Path, out: Path, tasks: Sequence[Task], force: bool = False,
                      include: Sequence[str] | None = None) -> list[str]:
    """Write the student tree for ``tasks`` into ``out``; returns the files written (relative).
    ``build_student_tree`` does the same and also says what was stubbed and what was left out."""
    return build_student_tree(root, out, tasks, force=force, include=include).written
