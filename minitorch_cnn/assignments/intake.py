"""What the grader takes from a submission, and the tree it grades.

The instructor decides what is graded: from a submission (a folder or a ``.zip``) only the
package files that hold task regions are read -- as bytes, at most 1 MiB each, regular files
only (a symlink could point at anything on the grader's machine). Every other file of the graded
tree is the instructor's pristine copy, with every task region stubbed; a graded file the
submission lacks keeps its stub, so that task is "not started". The submission's own
``.assignment.json``, ``conftest.py``, ``sitecustomize.py`` or extra modules are never read.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .markers import replace_regions, stub_lines
from .student import source_files, tutorial_for
from .submit import MAX_FILE_BYTES, graded_files
from .tasks import TASKS

__all__ = ["Submission", "read_submission", "graded_files", "build_graded_tree", "MAX_FILE_BYTES"]

_MAX_ZIP_ENTRIES = 2000
_PACKAGE = "minitorch_cnn"


@dataclass
class Submission:
    """The graded files of one submission (``files``: relative path -> bytes) and what was refused."""

    name: str
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        h = hashlib.sha256()
        for rel in sorted(self.files):
            h.update(rel.encode() + b"\0" + hashlib.sha256(self.files[rel]).digest())
        return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _graded_set() -> frozenset[str]:
    return frozenset(graded_files())


@functools.lru_cache(maxsize=1)
def _by_basename() -> dict[str, str]:
    names: dict[str, list[str]] = {}
    for rel in graded_files():
        names.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    return {base: rels[0] for base, rels in names.items() if len(rels) == 1}


def _match(name: str) -> str | None:
    """The graded path a submitted path stands for: ``minitorch_cnn/...`` under any folder, or a
    graded file's unique base name (a flat upload)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    if _PACKAGE in parts:
        rel = "/".join(parts[parts.index(_PACKAGE):])
        return rel if rel in _graded_set() else None
    return _by_basename().get(parts[-1]) if len(parts) == 1 else None


def _from_folder(folder: Path, sub: Submission) -> None:
    zips = sorted(folder.glob("*.zip"))
    if not (folder / _PACKAGE).is_dir() and len(zips) == 1:  # Gradescope keeps an uploaded zip as it is
        _from_zip(zips[0], sub)
        return
    for dirpath, dirnames, filenames in os.walk(folder):  # never follows symlinked folders
        dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "__pycache__", "node_modules")]
        for fname in filenames:
            path = Path(dirpath) / fname
            rel = _match(path.relative_to(folder).as_posix())
            if rel is None or rel in sub.files:
                continue
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                sub.notes.append(f"{rel}: not a regular file (a symlink?), not taken")
            elif info.st_size > MAX_FILE_BYTES:
                sub.notes.append(f"{rel}: {info.st_size} bytes, over the {MAX_FILE_BYTES} limit, not taken")
            else:
                sub.files[rel] = path.read_bytes()


def _zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, rel: str, sub: Submission) -> None:
    """Take one member, or say why not; a bad member never costs the others."""
    if stat.S_ISLNK(info.external_attr >> 16):
        sub.notes.append(f"{rel}: a symlink in the zip, not taken")
    elif info.file_size > MAX_FILE_BYTES:
        sub.notes.append(f"{rel}: {info.file_size} bytes, over the {MAX_FILE_BYTES} limit, not taken")
    else:
        try:
            with zf.open(info) as f:
                data = f.read(MAX_FILE_BYTES + 1)  # the declared size can lie: read at most the limit
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            sub.notes.append(f"{rel}: unreadable in the zip ({exc}), not taken")
            return
        if len(data) > MAX_FILE_BYTES:
            sub.notes.append(f"{rel}: inflates past the {MAX_FILE_BYTES}-byte limit, not taken")
        else:
            sub.files[rel] = data


def _from_zip(path: Path, sub: Submission) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_ZIP_ENTRIES:
                sub.notes.append(f"{path.name}: {len(infos)} entries, over {_MAX_ZIP_ENTRIES}; nothing taken")
                return
            for info in infos:
                rel = _match(info.filename)
                if rel is not None and not info.is_dir() and rel not in sub.files:
                    _zip_member(zf, info, rel, sub)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        sub.notes.append(f"{path.name}: not a readable zip ({exc}); nothing taken")


def read_submission(path: Path, name: str | None = None) -> Submission:
    """The graded files of the submission at ``path`` (a folder or a ``.zip``)."""
    path = Path(path)
    sub = Submission(name or path.name.removesuffix(".zip"))
    if path.is_dir():
        _from_folder(path, sub)
    elif path.is_file() and path.suffix == ".zip":
        _from_zip(path, sub)
    else:
        raise ValueError(f"submission {path} is neither a folder nor a .zip file")
    missing = [rel for rel in graded_files() if rel not in sub.files]
    if missing:
        sub.notes.append(f"{len(missing)} graded file(s) not in the submission, graded as stubs: "
                         + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
    return sub


def _pristine_package(reference: Path, dest: Path) -> None:
    """The reference package with every task region stubbed: the base of every graded tree."""
    stubs = {t.id: stub_lines("", t.id, t.title, tutorial_for(reference, t.chapter)) for t in TASKS}
    git = (Path(reference) / ".git").exists()
    for rel in source_files(reference, include=None if git else [_PACKAGE]):  # tracked, never instructor-only
        src = Path(reference) / rel
        if not rel.startswith(_PACKAGE + "/"):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_text(encoding="utf-8") if src.suffix == ".py" else None
        if text is not None and "# BEGIN SOLUTION" in text:
            out.write_text(replace_regions(text, rel, stubs), encoding="utf-8")
        else:
            shutil.copyfile(src, out)


def build_graded_tree(reference: Path, submission: Submission, dest: Path, cache: Path | None = None) -> Path:
    """``dest`` = the stubbed reference package with the submission's graded files laid over it."""
    if cache is not None and not (cache / _PACKAGE).is_dir():
        _pristine_package(reference, cache)
    if cache is not None:
        shutil.copytree(cache / _PACKAGE, dest / _PACKAGE)
    else:
        _pristine_package(reference, dest)
    for rel, data in submission.files.items():
        (dest / rel).write_bytes(data)
    for dirpath, _, filenames in os.walk(dest):  # readable by the sandbox's own uid, writable by none
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    return dest
