"""Turn the reference project into a student's starting tree.

``make_student_tree(root, out, tasks)`` copies the project's files (those git tracks, or every
file when ``root`` is not a git checkout) into ``out`` and, in each package file with solution
markers, replaces the regions of the selected tasks by a stub that raises
``NotImplementedError("Task 2.3: <title> -- see tutorials/02_...")``; regions of other tasks keep
their code (only the marker lines go). Instructor-only files (the hidden tests, the tests of this
machinery) are left out. The output depends only on the input files and the task selection, so
making it twice gives identical trees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..data.fileio import atomic_write_bytes, atomic_write_text
from .markers import MarkerError, Region, parse_regions, replace_regions, stub_lines
from .tasks import HIDDEN_TESTS_DIR, TASKS_BY_ID, Task

__all__ = ["MANIFEST", "INSTRUCTOR_ONLY", "source_files", "scan_markers", "tutorial_for", "make_student_tree"]

MANIFEST = ".assignment.json"  # which tasks this student tree asks for (read by the grader)
INSTRUCTOR_ONLY = (HIDDEN_TESTS_DIR, "tests/assignments")
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist",
              "runs", "out"}


def _instructor_only(rel: str) -> bool:
    return any(rel == d or rel.startswith(d + "/") for d in INSTRUCTOR_ONLY)


def source_files(root: Path) -> list[str]:
    """The project's files, relative and sorted: git's tracked and not-ignored files when
    ``root`` is a checkout, else every file outside caches, virtual envs and build output."""
    if (root / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                                capture_output=True, check=True).stdout.decode().split("\0")
        files = [f for f in listed if f and (root / f).is_file()]
    else:
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
            rel_dir = Path(dirpath).relative_to(root)
            files += [(rel_dir / f).as_posix() for f in filenames if not f.endswith(".pyc")]
    return sorted(f for f in files if not _instructor_only(f) and f != MANIFEST)


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


def make_student_tree(root: Path, out: Path, tasks: Sequence[Task], force: bool = False) -> list[str]:
    """Write the student tree for ``tasks`` into ``out``; returns the files written (relative)."""
    root, out = Path(root), Path(out)
    files = source_files(root)
    regions = scan_markers(root, files)  # validates every marker before anything is written
    _prepare_out(out, root, force)
    stubs = {t.id: stub_lines("", t.id, t.title, tutorial_for(root, t.chapter)) for t in tasks}
    written = []
    for rel in files:
        src, dst = root / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if rel in regions:
            atomic_write_text(dst, replace_regions(src.read_text(encoding="utf-8"), rel, stubs))
        elif rel == "README.md":
            atomic_write_bytes(out / "PROJECT_README.md", src.read_bytes())
            written.append("PROJECT_README.md")
            continue
        else:
            shutil.copyfile(src, dst)
        written.append(rel)
    from .readme import student_readme

    atomic_write_text(out / "README.md", student_readme(root, tasks))
    manifest = {"tasks": [t.id for t in tasks], "hidden_tests_removed": True}
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return sorted(written + ["README.md", MANIFEST])
