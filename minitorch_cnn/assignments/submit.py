"""Pack a student's work into the zip the grader takes.

    python -m minitorch_cnn.assignments submit          # in the student tree: writes submission.zip

The grader takes exactly ``graded_files()`` from a submission: every package file that holds a
task region in the reference (the paths before ``::`` in each ``Task.covers``) plus the extra
files in ``STUDENT_WRITABLE``. Everything else in the student tree (tests, tutorials, notes) is
the reference's, so it is not packed and cannot change a grade.

The zip is deterministic: members in sorted order, a fixed timestamp and fixed permissions, so
the same files always give the same bytes (and the same checksum). Only regular files of at most
``MAX_FILE_BYTES`` are packed; a symbolic link or an oversized file is refused by name.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..data.fileio import atomic_open
from .tasks import TASKS

__all__ = ["STUDENT_WRITABLE", "MAX_FILE_BYTES", "SubmissionReport", "graded_files", "pack_submission"]

STUDENT_WRITABLE: tuple[str, ...] = ()  # files beyond the task files that a submission may change
MAX_FILE_BYTES = 1 << 20  # 1 MiB: a task file is a few KiB; more is a mistake (data, a checkpoint)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store: fixed, so packing is deterministic


def graded_files() -> list[str]:
    """The relative paths the grader takes from a submission, sorted: each file that ``covers``
    names in the registry, plus ``STUDENT_WRITABLE``."""
    return sorted({c.split("::")[0] for t in TASKS for c in t.covers} | set(STUDENT_WRITABLE))


@dataclass(frozen=True)
class SubmissionReport:
    """``out``: the zip; ``files``: ``(relative path, size in bytes)`` per packed file;
    ``tasks``: the ids of the tasks whose code those files hold; ``assigned``: the tasks the
    tree's ``.assignment.json`` asks for (empty if it has none)."""

    out: Path
    files: tuple[tuple[str, int], ...]
    tasks: tuple[str, ...]
    assigned: tuple[str, ...] = ()

    def summary_lines(self) -> list[str]:
        total = sum(size for _, size in self.files)
        lines = [f"packed {len(self.files)} files ({total:,} bytes) into {self.out}"]
        lines += [f"  {rel} ({size:,} bytes)" for rel, size in self.files]
        lines.append(f"covers tasks {', '.join(self.tasks)}")
        if self.assigned:
            lines.append(f"your assignment: tasks {', '.join(self.assigned)}")
        return lines


def _check_member(tree: Path, rel: str) -> int:
    """The size of ``tree/rel``; ``ValueError`` naming the file if it is missing, a symbolic link
    (itself or a folder on its way) or larger than ``MAX_FILE_BYTES``."""
    path = tree / rel
    for part in [path, *path.parents]:
        if part == tree:
            break
        if part.is_symlink():
            raise ValueError(f"{part.relative_to(tree)} is a symbolic link; a submission holds regular files only: "
                             f"replace it by the file itself")
    if not path.is_file():
        raise ValueError(f"{rel} is missing from {tree} (or is not a regular file); is this a student tree made by "
                         "'python -m minitorch_cnn.assignments make'?")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{rel} is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit per submitted file; "
                         "a task file holds code only: remove the data from it")
    return size


def _assigned(tree: Path) -> tuple[str, ...]:
    manifest = tree / ".assignment.json"  # student.MANIFEST, spelled out to keep this module light
    try:
        return tuple(json.loads(manifest.read_text(encoding="utf-8")).get("tasks", ()))
    except (OSError, ValueError, AttributeError):
        return ()


def pack_submission(tree: Path, out: Path | None = None, force: bool = False) -> SubmissionReport:
    """Zip ``graded_files()`` of the student tree ``tree`` into ``out`` (default
    ``<tree>/submission.zip``), atomically: an interrupted run leaves no half-written zip.
    ``ValueError`` (before writing) for a missing file, a symbolic link, a file over
    ``MAX_FILE_BYTES``, or an existing ``out`` without ``force=True``."""
    tree = Path(tree)
    out = tree / "submission.zip" if out is None else Path(out)
    if not tree.is_dir():
        raise ValueError(f"the student tree {tree} is not a folder; pass the folder 'make' wrote")
    if out.exists() and not force:
        raise ValueError(f"{out} already exists; pass --force (force=True) to replace it, or choose another --out")
    files = tuple((rel, _check_member(tree, rel)) for rel in graded_files())
    with atomic_open(out, "wb") as f, zipfile.ZipFile(f, "w") as zf:
        for rel, _ in files:
            info = zipfile.ZipInfo(rel, date_time=_ZIP_TIME)
            info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 3  # 3: Unix, whatever packs it
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            zf.writestr(info, (tree / rel).read_bytes())
    packed = {rel for rel, _ in files}
    tasks = tuple(t.id for t in TASKS if any(c.split("::")[0] in packed for c in t.covers))
    return SubmissionReport(out, files, tasks, _assigned(tree))
