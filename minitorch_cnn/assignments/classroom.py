"""Grade a whole class: every submission in a folder into one grade sheet.

``python -m minitorch_cnn.grade --class DIR --csv grades.csv [--jobs N]`` grades each entry of
``DIR`` (a folder or a ``.zip`` per student; the name is the student's id) through the same
sandboxed path as one submission, ``jobs`` at a time. For each student it writes a Gradescope
``results.json`` into the results folder (default: ``<csv stem>-results/`` beside the CSV) and
then rewrites the CSV -- student, points per task, hidden points, total, status, seconds -- so an
interrupted run keeps every row so far. A rerun skips a student whose results file was made from
the same submission bytes (its SHA-256 is stored in it). A crashing, hanging or hostile
submission costs only its own row.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..data.fileio import atomic_write_text
from .instructor import check_reference, grade_submission
from .intake import Submission, read_submission
from .report import gradescope_results, write_results_json
from .sandbox import DEFAULT_LIMITS, SandboxLimits
from .tasks import Task

__all__ = ["grade_class", "class_entries", "csv_rows"]

_SAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def class_entries(folder: Path) -> list[tuple[str, Path]]:
    """``(student id, path)`` per folder or ``.zip`` in ``folder``, sorted; symlinks are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--class {folder} is not a folder of submissions")
    entries, seen = [], set()
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not (path.is_dir() or path.suffix == ".zip") or path.name.startswith("."):
            continue
        name = _SAFE.sub("_", path.name.removesuffix(".zip")) or "_"
        name = name if name not in seen else _SAFE.sub("_", path.name)
        seen.add(name)
        entries.append((name, path))
    if not entries:
        raise ValueError(f"--class {folder} holds no submission (a folder or .zip per student)")
    return entries


def _previous(path: Path, sub: Submission, tasks: Sequence[Task]) -> dict | None:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        extra = old.get("extra_data", {})
        same = extra.get("submission_sha256") == sub.sha256 and extra.get("tasks") == [t.id for t in tasks]
        return old if same and extra.get("status") == "graded" else None
    except (OSError, ValueError, AttributeError):
        return None


def _grade_one(reference: Path, name: str, path: Path, out: Path, tasks: Sequence[Task], limits: SandboxLimits,
               cache: Path) -> tuple[dict, bool]:
    """The results payload of one student, and whether it was graded now (not reused)."""
    sub = read_submission(path, name)
    target = out / f"{name}.json"
    if (old := _previous(target, sub, tasks)) is not None:
        return old, False
    extra = {"student": name, "submission_sha256": sub.sha256, "tasks": [t.id for t in tasks], "notes": sub.notes}
    try:
        graded = grade_submission(reference, path, tasks, student=name, limits=limits, cache=cache, submission=sub)
        payload = gradescope_results(graded.results, graded.seconds,
                                     {**extra, "status": "graded", "sandbox": graded.sandbox})
    except Exception as exc:  # noqa: BLE001 - one broken row must not stop the class
        payload = {"tests": [], "execution_time": 0.0, "output": "", "extra_data": {**extra, "status": f"error: {exc}"}}
    write_results_json(target, payload)
    return payload, True


def csv_rows(payloads: dict[str, dict], tasks: Sequence[Task]) -> list[list[str]]:
    """The grade sheet: a header, then one row per student."""
    rows = [["student", *[t.id for t in tasks], "hidden", "total", "max", "status", "seconds"]]
    maximum = sum(t.points + t.hidden_points for t in tasks)
    for name in sorted(payloads):
        p = payloads[name]
        scores = {t["number"]: t["score"] for t in p.get("tests", [])}
        visible = [scores.get(t.id, 0) for t in tasks]
        hidden = sum(scores.get(f"{t.id}.h", 0) for t in tasks)
        rows.append([name, *map(str, visible), str(hidden), str(sum(visible) + hidden), str(maximum),
                     str(p.get("extra_data", {}).get("status", "?")), f"{p.get('execution_time', 0):.1f}"])
    return rows


def _write_csv(path: Path, payloads: dict[str, dict], tasks: Sequence[Task]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(csv_rows(payloads, tasks))
    atomic_write_text(path, buf.getvalue())


def grade_class(reference: Path, folder: Path, csv_path: Path, results: Path | None, tasks: Sequence[Task],
                jobs: int = 2, limits: SandboxLimits = DEFAULT_LIMITS) -> int:
    """Grade every submission in ``folder``; 0 when every one was graded, 1 when some row is an error."""
    from rich.progress import Progress

    check_reference(reference)
    entries = class_entries(folder)
    out = Path(results) if results is not None else csv_path.with_name(csv_path.stem + "-results")
    out.mkdir(parents=True, exist_ok=True)
    payloads: dict[str, dict] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="minitorch-class-") as tmp, Progress() as progress:
        from .intake import build_graded_tree

        build_graded_tree(reference, Submission("pristine"), Path(tmp) / "unused", cache=Path(tmp) / "pristine")
        bar = progress.add_task(f"grading {len(entries)} submissions", total=len(entries))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_grade_one, reference, name, path, out, tasks, limits, Path(tmp) / "pristine"):
                       name for name, path in entries}
            for future in as_completed(futures):
                payload, fresh = future.result()
                with lock:
                    payloads[futures[future]] = payload
                    _write_csv(csv_path, payloads, tasks)
                progress.advance(bar)
                status = payload["extra_data"]["status"] + ("" if fresh else " (unchanged, kept)")
                progress.console.print(f"{futures[future]}: {status}", markup=False, highlight=False)
    errors = sum(not p["extra_data"]["status"].startswith("graded") for p in payloads.values())
    print(f"wrote {csv_path} ({len(payloads)} students, {errors} error(s)); results in {out}/")
    return 0 if errors == 0 else 1
