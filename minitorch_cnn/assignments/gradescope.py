"""Gradescope: the autograder zip, and what its ``run_autograder`` does for each submission.

Gradescope's specification: the zip holds ``setup.sh`` (run once, as root, when the image is
built) and ``run_autograder`` (run for every submission, as root, in ``/autograder``) at its
root; the zip's contents land in ``/autograder/source``, the student's files in
``/autograder/submission``, and ``/autograder/results/results.json`` is the grade.

``python -m minitorch_cnn.assignments autograder --out DIR`` writes ``DIR/autograder.zip`` with
the reference package (solutions included: it is the source of the expected values), the hidden
checks and the task tutorials' names, from git-tracked files only. Students never see the zip;
the sandbox keeps ``/autograder/source`` and ``/autograder/results`` out of the child's view.
``MINITORCH_AUTOGRADER_ROOT`` replaces ``/autograder`` (the tests run the real script that way).
"""

from __future__ import annotations

import json
import os
import sys
import time
import zipfile
from pathlib import Path

from ..data.fileio import atomic_open
from .report import gradescope_results, results_table, summary_lines, write_results_json
from .sandbox import DEFAULT_LIMITS, SandboxError, SandboxLimits, isolation
from .student import source_files
from .tasks import HIDDEN_TESTS_DIR, TASKS

__all__ = ["SETUP_SH", "RUN_AUTOGRADER", "build_autograder_zip", "run_autograder", "ROOT_ENV"]

ROOT_ENV = "MINITORCH_AUTOGRADER_ROOT"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu).
set -euo pipefail
apt-get install -y -qq python3 python3-venv python3-pip util-linux >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q -e /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root. The grade is decided in this process from
# data a sandboxed child returns (python -m minitorch_cnn.grade --autograder); see README,
# "What the grader guarantees".
set -uo pipefail
export MINITORCH_AUTOGRADER_ROOT="${MINITORCH_AUTOGRADER_ROOT:-/autograder}"
PY="${MINITORCH_AUTOGRADER_PYTHON:-$MINITORCH_AUTOGRADER_ROOT/venv/bin/python}"
cd "$MINITORCH_AUTOGRADER_ROOT/source"
exec "$PY" -m minitorch_cnn.grade --autograder
"""


def _zip_members(reference: Path) -> list[str]:
    """What the autograder needs: the package, the hidden checks, pyproject and the tutorials'
    names (stub messages point at them); tracked files only, never secrets."""
    wanted = ("minitorch_cnn/", HIDDEN_TESTS_DIR + "/", "tutorials/")
    git = (reference / ".git").exists()
    files = source_files(reference, include=None if git else ["minitorch_cnn", "tutorials", "pyproject.toml"])
    hidden = sorted(p.relative_to(reference).as_posix() for p in (reference / HIDDEN_TESTS_DIR).glob("*.py"))
    return sorted({f for f in files if f.startswith(wanted) or f == "pyproject.toml"} | set(hidden))


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_autograder_zip(reference: Path, out_dir: Path, force: bool = False) -> tuple[Path, list[str]]:
    """Write ``out_dir/autograder.zip``; returns its path and the source files it holds."""
    from .instructor import check_reference

    reference = Path(reference).resolve()
    check_reference(reference)
    out = Path(out_dir) / "autograder.zip"
    if out.exists() and not force:
        raise ValueError(f"{out} exists; pass --force to replace it")
    members = _zip_members(reference)
    with atomic_open(out, "wb") as f, zipfile.ZipFile(f, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), 0o755)
        _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), 0o755)
        for rel in members:
            _add(zf, rel, (reference / rel).read_bytes(), 0o644)
    return out, members


def _student_id(root: Path) -> str:
    """The submitter from Gradescope's ``submission_metadata.json`` (seeds the hidden inputs)."""
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        user = (meta.get("users") or [{}])[0]
        return str(user.get("email") or user.get("id") or meta.get("id") or "submission")
    except (OSError, ValueError, AttributeError, IndexError):
        return "submission"


def run_autograder(root: Path | None = None, limits: SandboxLimits = DEFAULT_LIMITS) -> int:
    """Grade ``root/submission`` into ``root/results/results.json`` (hidden checks after publishing)."""
    from rich.console import Console

    from .instructor import REFERENCE_ROOT, grade_submission

    root = Path(root or os.environ.get(ROOT_ENV, "/autograder"))
    results_path = root / "results" / "results.json"
    start = time.monotonic()
    console = Console(width=120)
    try:
        graded = grade_submission(REFERENCE_ROOT, root / "submission", list(TASKS), student=_student_id(root),
                                  limits=limits)
    except (ValueError, OSError, SandboxError) as exc:
        write_results_json(results_path, {"score": 0, "execution_time": round(time.monotonic() - start, 3),
                                          "output": f"The autograder could not grade this submission: {exc}. "
                                                    "Please tell your instructor.", "tests": []})
        print(f"autograder error: {exc}", file=sys.stderr)
        return 1
    extra = {"submission_sha256": graded.submission.sha256, "sandbox": graded.sandbox}
    payload = gradescope_results(graded.results, graded.seconds, extra)
    if graded.submission.notes:
        payload["output"] += "\n" + "\n".join(graded.submission.notes)
    write_results_json(results_path, payload)
    for line in [*isolation().lines(), *summary_lines(graded.results, False)]:  # stdout: no hidden rows either
        console.print(line, highlight=False, markup=False)
    console.print(results_table(graded.results, show_hidden=False))
    return 0
