"""The grader under attack: real hostile submissions graded in instructor mode, through the
entry points instructors use (``grade --class``, ``grade --submission``, Gradescope's
``run_autograder``), next to honest, partial and broken ones.

Each attack (``grader_attacks.py``) leaves the graded tasks unsolved and tries to get their marks, to
read the hidden checks or the reference, to write into the instructor's checkout, to outlive the
grading, to rewrite the results, to kill the grader or to reach the network. The assertions: every
attack scores 0 on its unsolved tasks, the instructor's tree is byte-identical afterwards, the
grade sheet and every results.json get written (and stay as written), no canary file appears in
the host's /tmp, no process outlives grading. Honest solutions get full marks on every path.

The walls that need namespaces (root in CI, or user namespaces) are skipped, with the reason,
where the OS does not give them: README's "What the grader guarantees" says what holds then.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from grader_attacks import ATTACKED_FILE, ATTACKS

from minitorch_cnn.assignments.sandbox import UID_BASE, isolation
from minitorch_cnn.assignments.student import build_student_tree
from minitorch_cnn.assignments.tasks import TASKS, get_task

REPO = Path(__file__).resolve().parents[2]
GRADED = ("1.1", "1.2", "2.1", "3.1")  # 1.1, 2.1 and 3.1 have hidden checks; 1.2 has none
POINTS = {t: get_task(t).points for t in GRADED}
HIDDEN_POINTS = sum(get_task(t).hidden_points for t in GRADED)
NAMESPACES = pytest.mark.skipif(isolation().mode == "plain",
                                reason="needs namespaces (root, as in CI, or user namespaces); the plain sandbox "
                                       "does not promise this (README: What the grader guarantees)")
ROOT_ONLY = pytest.mark.skipif(isolation().mode != "root", reason="a separate sandbox user needs root (CI runs as root)")


def tree_digest(root: Path) -> str:
    """SHA-256 over every file of the instructor's checkout (caches and build output aside)."""
    skip = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", ".venv", "out", "runs"}
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() if path.is_file() and not path.is_symlink() else b"<link>")
    return h.hexdigest()


class Listener:
    """A TCP server on the host's loopback that records every connection (the network attack)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def _trees(tmp: Path) -> tuple[Path, Path]:
    """A tree with the graded tasks stubbed (an unsolved submission) and one with all solved."""
    stub, honest = tmp / "stub", tmp / "honest"
    build_student_tree(REPO, stub, [get_task(t) for t in GRADED])
    build_student_tree(REPO, honest, [])
    return stub, honest


def _submission(dest: Path, base: Path, files: dict[str, str] = {}, code: str = "", fmt: dict = {}) -> Path:  # noqa: B006
    shutil.copytree(base, dest, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    for rel, text in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text.format(**fmt))
    if code:
        with open(dest / ATTACKED_FILE, "a") as f:
            f.write("\n" + code.format(**fmt))
    return dest


def _zip(folder: Path) -> Path:
    out = folder.with_suffix(".zip")
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(folder.rglob("*.py")):
            zf.write(path, "work/" + path.relative_to(folder).as_posix())
    shutil.rmtree(folder)
    return out


def _grade(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minitorch_cnn.grade", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _sandbox_processes() -> list[int]:
    """Live processes of a sandbox uid (a zombie, already dead and waiting to be reaped, does not count)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and UID_BASE <= entry.stat().st_uid < UID_BASE + 100:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    pids.append(int(entry.name))
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """21 submissions (honest, partial, broken, hostile) graded with ``grade --class``, then left
    alone for 5 s so that a surviving daemon would have done its work."""
    tmp = tmp_path_factory.mktemp("class")
    stub, honest = _trees(tmp / "trees")
    listener = Listener()
    canary = f"/tmp/mt-canary-{uuid.uuid4().hex}"
    subs, csv_path = tmp / "subs", tmp / "grades.csv"
    results = tmp / "grades-results"
    fmt = {"canary": canary, "repo": str(REPO), "port": listener.port,
           "results": [str(csv_path), *(str(results / f"{n}.json") for n in ("honest1", "daemon", "kill_grader"))]}
    for name, (files, code) in ATTACKS.items():
        _submission(subs / name, stub, files, code, fmt)
    for i in (1, 2, 3):
        _submission(subs / f"honest{i}", honest)
    _zip(subs / "honest3")
    partial = _submission(subs / "partial1", honest)
    shutil.copyfile(stub / ATTACKED_FILE, partial / ATTACKED_FILE)  # 1.1 and 1.2 left as stubs
    partial = _submission(subs / "partial2", stub)
    shutil.copyfile(honest / "minitorch_cnn/ops/conv_reference.py", partial / "minitorch_cnn/ops/conv_reference.py")
    _submission(subs / "broken_syntax", honest, code="def broken(:\n")
    _submission(subs / "broken_import", honest, code="raise RuntimeError('my package does not import')\n")
    (subs / "empty").mkdir()
    (subs / "not_a_zip.zip").write_bytes(b"this is not a zip file")
    assert len(list(subs.iterdir())) == 21
    before = tree_digest(REPO)
    start = time.monotonic()
    plugin_env = {**os.environ, "PYTEST_PLUGINS": "evil_plugin", "PYTEST_ADDOPTS": "-p evil_plugin",
                  "PYTHONSTARTUP": str(subs / "sitecustomize" / "sitecustomize.py")}
    proc = _grade("--class", str(subs), "--csv", str(csv_path), "--task", ",".join(GRADED), "--jobs", "2",
                  "--timeout", "20", env=plugin_env)
    seconds = time.monotonic() - start
    sheet_right_after = csv_path.read_text() if csv_path.exists() else ""
    time.sleep(5)
    return {"proc": proc, "csv": csv_path, "results": results, "canary": canary, "before": before,
            "seconds": seconds, "listener": listener, "subs": subs, "sheet": sheet_right_after, "tmp": tmp,
            "rows": {r["student"]: r for r in csv.DictReader(csv_path.open())} if csv_path.exists() else {}}


def test_every_submission_gets_a_row(klass: dict) -> None:
    assert klass["proc"].returncode == 0, klass["proc"].stderr[-2000:]
    assert len(klass["rows"]) == 21, klass["proc"].stdout[-3000:]
    assert all(row["status"] == "graded" for row in klass["rows"].values()), klass["rows"]
    print(f"\ngrade --class: 21 submissions x {len(GRADED)} tasks in {klass['seconds']:.1f} s (--jobs 2)")


def test_honest_solutions_get_full_marks(klass: dict) -> None:
    full = sum(POINTS.values()) + HIDDEN_POINTS
    for name in ("honest1", "honest2", "honest3"):  # 3 was a zip
        row = klass["rows"][name]
        assert int(row["total"]) == full and int(row["hidden"]) == HIDDEN_POINTS, row


def test_partial_and_broken_submissions(klass: dict) -> None:
    rows = klass["rows"]
    assert (rows["partial1"]["1.1"], rows["partial1"]["1.2"], rows["partial1"]["2.1"]) == ("0", "0", "2")
    assert (rows["partial2"]["1.1"], rows["partial2"]["2.1"]) == ("0", "2")
    for name in ("broken_syntax", "broken_import", "empty", "not_a_zip"):
        assert rows[name]["total"] == "0", rows[name]
    feedback = json.loads((klass["results"] / "broken_syntax.json").read_text())["tests"][0]["output"]
    assert "SyntaxError" in feedback and "elementwise.py" in feedback


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_scores_zero_on_its_unsolved_tasks(klass: dict, attack: str) -> None:
    row = klass["rows"][attack]
    assert row["total"] == "0" and row["hidden"] == "0", row
    graded = [t["number"] for t in json.loads((klass["results"] / f"{attack}.json").read_text())["tests"]]
    assert graded[:2] == ["1.1", "1.1.h"] and len([n for n in graded if not n.endswith(".h")]) == len(GRADED)


@NAMESPACES
def test_instructor_tree_is_byte_identical(klass: dict) -> None:
    assert tree_digest(REPO) == klass["before"]
    assert not (REPO / "minitorch_cnn" / "pwned.py").exists()


@NAMESPACES
def test_nothing_escaped_to_the_host(klass: dict) -> None:
    escaped = sorted(p.name for p in Path("/tmp").glob(Path(klass["canary"]).name + "*"))
    assert escaped == [], f"attacks escaped the sandbox: {escaped}"
    assert klass["listener"].connections == 0


@NAMESPACES
def test_results_stay_as_written(klass: dict) -> None:
    assert klass["csv"].read_text() == klass["sheet"]  # the daemon's rewrite, 3 s after exit, never landed
    for path in klass["results"].glob("*.json"):
        assert "tests" in json.loads(path.read_text()), path


@ROOT_ONLY
def test_no_process_outlives_grading(klass: dict) -> None:
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in _sandbox_processes()}
    assert left == {}


@NAMESPACES
def test_hidden_checks_and_reference_never_reach_a_visible_field(klass: dict) -> None:
    payload = json.loads((klass["results"] / "steal_hidden.json").read_text())
    visible = payload["output"] + "".join(t["output"] for t in payload["tests"] if t["visibility"] == "visible")
    assert "STOLEN" not in visible and "probe_1_1__" not in visible
    assert "hidden" not in payload["output"].split("Some tasks also have hidden checks")[0]


def test_rerun_skips_unchanged_and_regrades_changed(klass: dict) -> None:
    subs = klass["subs"]
    shutil.copyfile(REPO / "minitorch_cnn/ops/elementwise.py", subs / "partial1" / ATTACKED_FILE)
    proc = _grade("--class", str(subs), "--csv", str(klass["csv"]), "--task", ",".join(GRADED), "--timeout", "20")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("(unchanged, kept)") == 20, proc.stdout
    rows = {r["student"]: r for r in csv.DictReader(klass["csv"].open())}
    assert rows["partial1"]["1.1"] == str(POINTS["1.1"])  # the reference file (markers and all) now solves it


@NAMESPACES
def test_one_submission_survives_a_grader_killer(tmp_path: Path) -> None:
    stub, _ = _trees(tmp_path / "trees")
    canary = f"/tmp/mt-canary-{uuid.uuid4().hex}"
    files, code = ATTACKS["kill_grader"]
    sub = _submission(tmp_path / "s", stub, files, code, {"canary": canary})
    out = tmp_path / "r.json"
    proc = _grade("--submission", str(sub), "--task", "1.1,1.2", "--json", str(out))
    assert proc.returncode == 1 and out.exists(), proc.stderr
    assert sum(t["score"] for t in json.loads(out.read_text())["tests"]) == 0
    assert "Total: 0 / 3 points (0 of 2 tasks passed)." in proc.stdout


def _autograder_layout(tmp: Path, submission: Path) -> Path:
    root = tmp / "autograder"
    (root / "results").mkdir(parents=True)
    shutil.copytree(submission, root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "student@example.edu"}]}))
    proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.assignments", "autograder", "--out", str(tmp)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp / "autograder.zip") as zf:
        zf.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    return root


def test_run_autograder_on_an_honest_and_a_hostile_submission(tmp_path: Path) -> None:
    """The real ``run_autograder`` script from the zip, on a temporary ``/autograder``."""
    import jsonschema

    stub, honest = _trees(tmp_path / "trees")
    schema = json.loads((REPO / "tests" / "data" / "gradescope_results.schema.json").read_text())
    for name, base, code in (("honest", honest, ""), ("hostile", stub, ATTACKS["steal_hidden"][1])):
        sub = _submission(tmp_path / name, base, code=code,
                          fmt={"canary": f"/tmp/mt-canary-{uuid.uuid4().hex}", "repo": str(REPO)})
        root = _autograder_layout(tmp_path / f"ag-{name}", sub)
        env = {**os.environ, "MINITORCH_AUTOGRADER_ROOT": str(root), "MINITORCH_AUTOGRADER_PYTHON": sys.executable}
        proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        payload = json.loads((root / "results" / "results.json").read_text())
        jsonschema.validate(payload, schema)
        total = sum(t["score"] for t in payload["tests"])
        hidden = [t for t in payload["tests"] if t["visibility"] != "visible"]
        assert hidden and all(t["visibility"] == "after_published" for t in hidden)
        assert "score" not in payload and payload["stdout_visibility"] == "hidden"
        # no hidden row or hidden total in the (instructor-only) stdout either
        assert "Hidden checks:" not in proc.stdout and not re.search(r"│\s+│\s+hidden checks", proc.stdout)
        if name == "honest":
            assert total == 74 + sum(t["max_score"] for t in hidden)
        else:
            # the attacked tasks (and those whose checks need them) get nothing, the rest full marks
            unsolved = set(GRADED) | {t.id for t in TASKS if set(t.needs) & set(GRADED)}
            for test in payload["tests"]:
                task = test["number"].removesuffix(".h")
                want = 0 if task in unsolved else test["max_score"]
                assert test["score"] == want, test
