"""``pack_submission``: a student tree packs into a zip of exactly ``graded_files()``, the same
bytes every time; symbolic links, oversized files and overwriting are refused."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from minitorch_cnn.assignments.student import make_student_tree
from minitorch_cnn.assignments.submit import MAX_FILE_BYTES, graded_files, pack_submission
from minitorch_cnn.assignments.tasks import TASKS, get_task

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("submit") / "tree"
    make_student_tree(REPO_ROOT, tree, [get_task("2.2"), get_task("8.3")])
    return tree


def _graded_copy(student: Path, dst: Path) -> Path:
    """Only the graded files of ``student``, enough for pack_submission."""
    for rel in graded_files():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(student / rel, dst / rel)
    return dst


def test_graded_files_are_the_registry_covers() -> None:
    files = graded_files()
    assert files == sorted(set(files)) and "minitorch_cnn/ops/windows.py" in files
    assert set(files) == {c.split("::")[0] for t in TASKS for c in t.covers}
    assert all(f.startswith("minitorch_cnn/") and f.endswith(".py") for f in files)


def test_a_student_tree_packs_exactly_the_graded_files(student: Path, tmp_path: Path) -> None:
    report = pack_submission(student, tmp_path / "s.zip")
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert zf.namelist() == graded_files()
        assert all(zf.read(rel) == (student / rel).read_bytes() for rel in graded_files())
    assert [rel for rel, _ in report.files] == graded_files()
    assert all(size == (student / rel).stat().st_size for rel, size in report.files)
    assert report.tasks == tuple(t.id for t in TASKS) and report.assigned == ("2.2", "8.3")
    text = "\n".join(report.summary_lines())
    assert f"packed {len(graded_files())} files" in text and "your assignment: tasks 2.2, 8.3" in text


def test_the_default_out_is_in_the_tree_and_is_not_overwritten_without_force(student: Path, tmp_path: Path) -> None:
    tree = _graded_copy(student, tmp_path / "tree")
    assert pack_submission(tree).out == tree / "submission.zip"
    before = (tree / "submission.zip").read_bytes()
    with pytest.raises(ValueError, match="submission.zip already exists; pass --force"):
        pack_submission(tree)
    (tree / graded_files()[0]).write_text("# changed\n")
    pack_submission(tree, force=True)
    assert (tree / "submission.zip").read_bytes() != before


def test_packing_is_deterministic(student: Path, tmp_path: Path) -> None:
    pack_submission(student, tmp_path / "a.zip")
    other = _graded_copy(student, tmp_path / "elsewhere")
    for rel in graded_files():
        os.utime(other / rel, (1_700_000_000, 1_700_000_000))  # other timestamps, same content
    pack_submission(other, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_symlink_is_refused_by_name(student: Path, tmp_path: Path) -> None:
    tree = _graded_copy(student, tmp_path / "tree")
    rel = "minitorch_cnn/models/beyond.py"
    (tree / rel).unlink()
    (tree / rel).symlink_to(student / rel)
    with pytest.raises(ValueError, match=f"{rel} is a symbolic link"):
        pack_submission(tree)
    assert not (tree / "submission.zip").exists()


def test_an_oversized_file_is_refused_with_the_limit(student: Path, tmp_path: Path) -> None:
    tree = _graded_copy(student, tmp_path / "tree")
    rel = "minitorch_cnn/ops/windows.py"
    with open(tree / rel, "a") as f:
        f.write("#" * MAX_FILE_BYTES + "\n")
    with pytest.raises(ValueError, match=f"{rel} is [0-9,]+ bytes, over the 1,048,576-byte limit"):
        pack_submission(tree)
    assert not (tree / "submission.zip").exists()


def test_a_missing_file_is_named(student: Path, tmp_path: Path) -> None:
    tree = _graded_copy(student, tmp_path / "tree")
    (tree / "minitorch_cnn/ops/pad.py").unlink()
    with pytest.raises(ValueError, match="minitorch_cnn/ops/pad.py is missing"):
        pack_submission(tree)
