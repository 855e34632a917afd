"""What the grader takes from a submission (``read_submission``) and the tree it grades
(``build_graded_tree``): only ``graded_files()``, as bytes, regular files of at most 1 MiB, from a
folder, a zip, a flat upload or Gradescope's folder holding one zip; never a symlink, a path that
climbs out, the submission's own conftest/sitecustomize/manifest, or the hidden checks."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from minitorch_cnn.assignments.intake import MAX_FILE_BYTES, Submission, build_graded_tree, read_submission
from minitorch_cnn.assignments.submit import graded_files
from minitorch_cnn.assignments.tasks import TASKS

REPO_ROOT = Path(__file__).resolve().parents[2]
EW = "minitorch_cnn/ops/elementwise.py"
PAD = "minitorch_cnn/ops/pad.py"
CONV = "minitorch_cnn/ops/conv.py"
_REGION = re.compile(r"^[ \t]*# BEGIN SOLUTION \d+\.\d+", re.M)
MINE = b"# the student's elementwise.py\nVALUE = 1\n"


def _write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def _missing_note(sub: Submission) -> str:
    notes = [n for n in sub.notes if "not in the submission" in n]
    assert len(notes) == 1, sub.notes
    return notes[0]


def test_graded_files_cover_every_task() -> None:
    files = graded_files()
    assert EW in files and PAD in files and CONV in files
    assert all(c.split("::")[0] in files for t in TASKS for c in t.covers)


# --- from a folder ---------------------------------------------------------------------------------

def test_a_folder_gives_only_graded_files(tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    _write(folder, EW, MINE)
    for rel in ("conftest.py", "sitecustomize.py", "pytest.py", ".assignment.json", "usercustomize.py",
                "minitorch_cnn/conftest.py", "minitorch_cnn/sitecustomize.py", "minitorch_cnn/tensors.py",
                "minitorch_cnn/ops/evil.py", "minitorch_cnn/__init__.py", "tests/tasks/test_ch01_autograd.py",
                ".git/minitorch_cnn/ops/pad.py", "sub/deeper/elementwise.py"):
        _write(folder, rel, b"raise SystemExit('taken')\n")
    sub = read_submission(folder)
    assert sub.name == "alice"
    assert sub.files == {EW: MINE}
    assert str(len(graded_files()) - 1) in _missing_note(sub)


def test_a_symlink_named_like_a_graded_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    _write(folder, EW, MINE)
    (folder / PAD).symlink_to("/etc/passwd")
    (folder / "minitorch_cnn" / "viz").symlink_to("/etc", target_is_directory=True)  # a symlinked folder
    sub = read_submission(folder)
    assert PAD not in sub.files and sub.files == {EW: MINE}
    assert any(n.startswith(PAD) and "symlink" in n for n in sub.notes), sub.notes
    assert not any(b"root:" in data for data in sub.files.values())


def test_a_file_over_one_mib_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    _write(folder, CONV, b"#" * (MAX_FILE_BYTES + 1))
    _write(folder, PAD, b"#" * MAX_FILE_BYTES)  # exactly the limit is fine
    sub = read_submission(folder)
    assert CONV not in sub.files and len(sub.files[PAD]) == MAX_FILE_BYTES
    assert any(n.startswith(CONV) and str(MAX_FILE_BYTES + 1) in n and "limit" in n for n in sub.notes)


def test_missing_graded_files_are_noted(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    sub = read_submission(folder)
    assert sub.files == {}
    note = _missing_note(sub)
    assert f"{len(graded_files())} graded file(s)" in note and "stubs" in note and graded_files()[0] in note


def test_neither_folder_nor_zip_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "a.tar").write_bytes(b"x")
    with pytest.raises(ValueError, match="neither a folder nor a .zip"):
        read_submission(tmp_path / "a.tar")
    with pytest.raises(ValueError):
        read_submission(tmp_path / "nothing-here")


# --- from a zip ------------------------------------------------------------------------------------

def test_a_zip_with_traversal_names_writes_nothing_outside(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    evil = b"raise SystemExit('escaped')\n"
    z = _zip(inbox / "bob.zip", {"../../evil.py": evil, "../elementwise.py": evil,
                                 "minitorch_cnn/../../evil2.py": evil,
                                 "minitorch_cnn/ops/../ops/pad.py": evil,
                                 "..\\..\\minitorch_cnn\\ops\\conv.py": evil,
                                 "/abs/minitorch_cnn/ops/elementwise.py": MINE})
    assert "../../evil.py" in zipfile.ZipFile(z).namelist()
    before = sorted(p for p in tmp_path.rglob("*"))
    sub = read_submission(z)
    assert sub.name == "bob"
    assert sub.files == {EW: MINE}  # the absolute name is matched by its package path; the rest ignored
    dest = build_graded_tree(REPO_ROOT, sub, tmp_path / "graded" / "tree")
    assert (dest / EW).read_bytes() == MINE
    after = {p for p in tmp_path.rglob("*") if not p.is_relative_to(dest)}
    assert after == set(before) | {tmp_path / "graded"}
    assert not any(p.name.startswith("evil") for p in tmp_path.parent.iterdir())
    assert not any(p.name.startswith("evil") for p in dest.rglob("*"))


def test_a_zip_nested_under_a_folder_is_accepted(tmp_path: Path) -> None:
    z = _zip(tmp_path / "s.zip", {"student/minitorch_cnn/ops/elementwise.py": MINE,
                                  "student/project/minitorch_cnn/ops/pad.py": b"# pad\n",
                                  "student/conftest.py": b"x", "student/minitorch_cnn/": b""})
    assert read_submission(z).files == {EW: MINE, PAD: b"# pad\n"}


def test_a_zip_member_that_inflates_beyond_its_size_is_not_taken_whole(tmp_path: Path) -> None:
    big = b"#" * (2 * MAX_FILE_BYTES)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(EW, MINE)
        zf.writestr(PAD, big)
        zf.getinfo(PAD).file_size = 1000  # the central directory now lies about the size
    assert zipfile.ZipFile(path).getinfo(PAD).file_size == 1000
    assert path.stat().st_size < 64 << 10
    sub = read_submission(path)
    assert sub.files.get(EW) == MINE
    assert PAD not in sub.files or (len(sub.files[PAD]) <= 1000 and sub.files[PAD] != big)


def test_a_note_saying_nothing_taken_means_nothing_was_taken(tmp_path: Path) -> None:
    """A member that fails its CRC after others were read: the note and the files must agree."""
    path = tmp_path / "crc.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(EW, MINE)
        zf.writestr(PAD, b"#" * 5000)
        zf.getinfo(PAD).file_size = 100
        zf.writestr(CONV, b"# conv\n")
    sub = read_submission(path)
    assert any(n.startswith(PAD) and "unreadable" in n for n in sub.notes), sub.notes
    assert sub.files == {EW: MINE, CONV: b"# conv\n"}, "a bad member costs only itself"
    assert not any("nothing taken" in n for n in sub.notes)


def test_a_zip_member_declaring_over_one_mib_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "big.zip", {CONV: b"#" * (MAX_FILE_BYTES + 1), EW: MINE})
    sub = read_submission(z)
    assert sub.files == {EW: MINE}
    assert any(n.startswith(CONV) and "limit" in n for n in sub.notes)


def test_a_zip_symlink_entry_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "link.zip", {EW: MINE}, symlinks={PAD: "/etc/passwd"})
    sub = read_submission(z)
    assert sub.files == {EW: MINE}
    assert any(n.startswith(PAD) and "symlink" in n for n in sub.notes), sub.notes


@pytest.mark.parametrize("data", [b"PK\x03\x04 this is not a zip", b"", b"\x00" * 100])
def test_a_corrupt_zip_is_a_note_not_an_exception(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "bad.zip").write_bytes(data)
    sub = read_submission(tmp_path / "bad.zip")
    assert sub.files == {}
    assert any(n.startswith("bad.zip: not a readable zip") for n in sub.notes), sub.notes


def test_a_truncated_zip_is_a_note_not_an_exception(tmp_path: Path) -> None:
    z = _zip(tmp_path / "t.zip", {EW: MINE * 1000, PAD: b"# pad\n" * 1000})
    z.write_bytes(z.read_bytes()[:-30])
    sub = read_submission(z)
    assert any("not a readable zip" in n for n in sub.notes), sub.notes


# --- flat uploads, Gradescope's folder -------------------------------------------------------------

def test_a_flat_upload_is_mapped_by_unique_basename(tmp_path: Path) -> None:
    folder = tmp_path / "flat"
    _write(folder, "elementwise.py", MINE)
    _write(folder, "pad.py", b"# pad\n")
    _write(folder, "tensors.py", b"# not graded\n")
    _write(folder, "conftest.py", b"# never\n")
    assert read_submission(folder).files == {EW: MINE, PAD: b"# pad\n"}
    z = _zip(tmp_path / "flat.zip", {"elementwise.py": MINE, "conftest.py": b"x", "tensors.py": b"x"})
    assert read_submission(z).files == {EW: MINE}


def test_a_folder_holding_a_single_zip_is_read_through_it(tmp_path: Path) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    _zip(folder / "anything.zip", {"minitorch_cnn/ops/elementwise.py": MINE, "conftest.py": b"x"})
    sub = read_submission(folder)
    assert sub.name == "submission" and sub.files == {EW: MINE}


def test_a_folder_with_a_package_ignores_a_stray_zip(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    _write(folder, EW, MINE)
    _zip(folder / "old.zip", {PAD: b"# from the zip\n"})
    assert read_submission(folder).files == {EW: MINE}


# --- sha256 ----------------------------------------------------------------------------------------

def test_sha256_changes_iff_a_graded_files_bytes_change(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        _write(folder, EW, MINE)
        _write(folder, PAD, b"# pad\n")
    _write(b, "notes.txt", b"whatever")
    _write(b, "minitorch_cnn/tensors.py", b"# not graded\n")
    first = read_submission(a).sha256
    assert len(first) == 64 and read_submission(b).sha256 == first  # non-graded files do not count
    assert Submission("x", {PAD: b"# pad\n", EW: MINE}).sha256 == first  # neither name nor order
    _write(b, PAD, b"# pad \n")
    assert read_submission(b).sha256 != first
    _write(b, PAD, b"# pad\n")
    assert read_submission(b).sha256 == first
    (b / PAD).unlink()
    assert read_submission(b).sha256 != first
    # path and content are separated: moving bytes between files changes the checksum
    assert Submission("x", {EW: b"ab", PAD: b"c"}).sha256 != Submission("x", {EW: b"a", PAD: b"bc"}).sha256


# --- build_graded_tree -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graded_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Submission, Path]:
    sub = Submission("s", {EW: (REPO_ROOT / EW).read_bytes(), PAD: b"# the student's pad\n"})
    dest = tmp_path_factory.mktemp("graded") / "tree"
    return sub, build_graded_tree(REPO_ROOT, sub, dest)


def test_every_region_is_stubbed_except_the_submitted_files(graded_tree: tuple[Submission, Path]) -> None:
    sub, dest = graded_tree
    for rel, data in sub.files.items():
        assert (dest / rel).read_bytes() == data
    assert _REGION.search((dest / EW).read_text())  # the submission's own bytes, as they came
    for path in (dest / "minitorch_cnn").rglob("*.py"):
        rel = path.relative_to(dest).as_posix()
        if rel not in sub.files:
            assert not _REGION.search(path.read_text(encoding="utf-8")), rel
    for task in TASKS:
        for rel in {c.split("::")[0] for c in task.covers} - set(sub.files):
            text = (dest / rel).read_text(encoding="utf-8")
            assert f"NotImplementedError('Task {task.id}:" in text or f'NotImplementedError("Task {task.id}:' \
                in text, (task.id, rel)


def test_the_tree_holds_the_package_only_and_no_hidden_checks(graded_tree: tuple[Submission, Path]) -> None:
    _, dest = graded_tree
    assert [p.name for p in dest.iterdir()] == ["minitorch_cnn"]
    names = {p.name for p in dest.rglob("*")}
    assert not names & {"tests", "hidden_probes.py", "test_hidden_tasks.py", "conftest.py", ".git",
                        "__pycache__", "tutorials", "sitecustomize.py"}
    hidden = (REPO_ROOT / "tests/tasks/hidden/hidden_probes.py").read_bytes()
    assert not any(p.is_file() and p.read_bytes() == hidden for p in dest.rglob("*.py"))
    assert (dest / "minitorch_cnn/__init__.py").is_file() and (dest / "minitorch_cnn/tensors.py").is_file()


def test_the_tree_is_readable_by_all_and_writable_by_none_but_the_owner(
        graded_tree: tuple[Submission, Path]) -> None:
    _, dest = graded_tree
    for path in [dest, *dest.rglob("*")]:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        assert not path.is_symlink(), path
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
