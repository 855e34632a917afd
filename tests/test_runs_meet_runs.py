"""A run never destroys another run's files: ``train`` into a used ``--out``, two runs at once, stale
locks, and signals (SIGHUP, SIGTERM, SIGINT) that must save and leave no lock behind.

The cases that depend on real processes (a concurrent run, a signal, the exit status of
``python -m``) run ``python -m minitorch_cnn.train`` as a subprocess; the rest call ``train.main``
in-process, the same code path without a second of interpreter start-up each. Every case asserts
the exit status, that the message names the flag or the file, and that no earlier file changed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minitorch_cnn import train
from minitorch_cnn.checkpoint import load_checkpoint
from minitorch_cnn.cli import LOCK_NAME, RUN_MARKERS

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--model", "mlp", "--epochs", "1", "--limit", "256", "--no-progress"]
FAST = ["--model", "mlp", "--epochs", "1", "--limit", "64", "--batch-size", "32", "--no-progress"]
#: long enough (a few seconds) for a second process or a signal to arrive while it trains
LONG = ["--model", "mlp", "--epochs", "5", "--limit", "4000", "--batch-size", "32", "--no-progress"]


def _python(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "minitorch_cnn.train", *args], cwd=cwd, env=env, text=True,
                            **kw)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = _python(*args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes: equal snapshots mean nothing was touched."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_line(rc: int, err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("minitorch_cnn.train: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _write_lock(folder: Path, pid: int, host: str | None = None) -> Path:
    lock = folder / LOCK_NAME
    lock.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "started": "2026-01-01T00:00:00",
                                "prog": "minitorch_cnn.train"}))
    return lock


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished tiny run, made once by a real ``python -m minitorch_cnn.train``."""
    out = tmp_path_factory.mktemp("finished") / "run"
    proc = _run(*TINY, "--out", str(out), cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    assert set(_files(out)) >= {"last.npz", "best.npz", "metrics.json", "metrics.csv"}
    return out


@pytest.fixture
def run_dir(finished, tmp_path) -> Path:
    """A copy of the finished run that a test may try to damage."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


# --------------------------------------------------------------------------------------------------
# An --out that holds a run
# --------------------------------------------------------------------------------------------------
def test_second_run_into_a_finished_run_is_refused_and_changes_nothing(run_dir):
    before = _files(run_dir)
    proc = _run(*TINY, "--lr", "0.01", "--out", str(run_dir), cwd=run_dir.parent)
    _one_error_line(proc.returncode, proc.stderr, f"--out {str(run_dir)!r} already holds an earlier run",
                    f"--resume {run_dir / 'last.npz'}", "another --out", "--overwrite")
    assert proc.stdout == ""  # refused before any work: no header, no summary
    assert _files(run_dir) == before


@pytest.mark.parametrize("marker", RUN_MARKERS)
def test_any_one_file_of_a_run_is_enough_to_refuse(tmp_path, capsys, marker):
    out = tmp_path / "run"
    out.mkdir()
    (out / marker).write_bytes(b"an earlier run's " + marker.encode())
    rc = train.main([*FAST, "--out", str(out)])
    line = _one_error_line(rc, capsys.readouterr().err, marker, "--overwrite")
    assert ("--resume" in line) == (marker == "last.npz")  # only a last.npz can be resumed
    assert _files(out) == {marker: b"an earlier run's " + marker.encode()}


def test_default_out_of_a_second_run_with_other_flags_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert train.main(FAST) == 0
    default = Path("runs") / "builtin-mlp-seed0"
    before = _files(default)
    capsys.readouterr()
    rc = train.main([*FAST, "--lr", "0.01"])
    _one_error_line(rc, capsys.readouterr().err, f"--out {str(default)!r}", "--resume", "--overwrite")
    assert _files(default) == before


def test_overwrite_replaces_the_earlier_run(run_dir):
    old = json.loads((run_dir / "metrics.json").read_text())
    proc = _run(*TINY, "--lr", "0.01", "--overwrite", "--out", str(run_dir), cwd=run_dir.parent)
    assert proc.returncode == 0, proc.stderr
    assert "--overwrite: removed the earlier run's" in proc.stderr and "last.npz" in proc.stderr
    new = json.loads((run_dir / "metrics.json").read_text())
    assert old["config"]["lr"] == 0.001 and new["config"]["lr"] == 0.01
    assert load_checkpoint(run_dir / "last.npz")["config"]["lr"] == 0.01
    assert not (run_dir / LOCK_NAME).exists()


def test_overwrite_is_documented_in_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        train.build_parser().parse_args(["--help"])
    assert exit_.value.code == 0
    assert "--overwrite" in capsys.readouterr().out


def test_resume_continues_in_its_own_folder(run_dir, capsys):
    rc = train.main(["--resume", str(run_dir / "last.npz"), "--epochs", "2", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert load_checkpoint(run_dir / "last.npz")["epoch"] == 2
    assert not (run_dir / LOCK_NAME).exists()


def test_resume_into_another_runs_folder_is_refused(run_dir, finished, tmp_path, capsys):
    other = Path(shutil.copytree(finished, tmp_path / "other"))
    before = _files(other)
    rc = train.main(["--resume", str(run_dir / "last.npz"), "--epochs", "2", "--out", str(other), "--no-progress"])
    _one_error_line(rc, capsys.readouterr().err, f"--out {str(other)!r} already holds an earlier run")
    assert _files(other) == before


def test_resume_does_not_inherit_overwrite(run_dir, tmp_path, capsys):
    assert train.main([*TINY, "--out", str(run_dir), "--overwrite"]) == 0
    assert load_checkpoint(run_dir / "last.npz")["config"]["overwrite"] is True
    cfg = train.config_from_args(["--resume", str(run_dir / "last.npz"), "--epochs", "2"])
    assert cfg.overwrite is False


# --------------------------------------------------------------------------------------------------
# The lock: two runs at once, stale locks, every way out
# --------------------------------------------------------------------------------------------------
def test_a_concurrent_second_run_is_refused_and_the_first_finishes(tmp_path):
    out = tmp_path / "run"
    with (tmp_path / "first.log").open("w") as log:
        first = _python(*LONG, "--out", str(out), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(lambda: (out / LOCK_NAME).exists())
            second = _run(*TINY, "--out", str(out), cwd=tmp_path)
            assert first.poll() is None, "the first run ended before the second one started"
            _one_error_line(second.returncode, second.stderr, f"--out {str(out)!r} is in use by another run",
                            f"lock {str(out / LOCK_NAME)!r}", f"pid {first.pid}")
            assert first.wait(timeout=120) == 0, (tmp_path / "first.log").read_text()
        finally:
            if first.poll() is None:
                first.kill()
    doc = json.loads((out / "metrics.json").read_text())
    assert len(doc["history"]) == 5 and doc["config"]["limit"] == 4000  # the first run's, whole
    assert load_checkpoint(out / "last.npz")["epoch"] == 5
    assert not (out / LOCK_NAME).exists()


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    pid = _dead_pid()
    _write_lock(out, pid)
    assert train.main([*FAST, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "stale lock" in line]
    assert len(notes) == 1 and f"pid {pid}" in notes[0] and "no longer runs" in notes[0], err
    assert not (out / LOCK_NAME).exists() and (out / "last.npz").is_file()


def test_a_garbled_old_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    lock = out / LOCK_NAME
    lock.write_text("")  # a crash between creating the lock and writing it
    os.utime(lock, (time.time() - 3600, time.time() - 3600))
    assert train.main([*FAST, "--out", str(out)]) == 0
    assert "took over the stale lock" in capsys.readouterr().err
    assert not lock.exists()


def test_a_live_lock_refuses_and_is_left_alone(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    lock = _write_lock(out, os.getppid())  # the process that started pytest: alive
    before = _files(out)
    rc = train.main([*FAST, "--out", str(out)])
    _one_error_line(rc, capsys.readouterr().err, "is in use by another run", f"pid {os.getppid()}")
    assert _files(out) == before and lock.exists()


def test_a_lock_from_another_host_says_how_to_clear_it(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    lock = _write_lock(out, _dead_pid(), host="some-other-host")  # its pid cannot be asked: never stale
    before = _files(out)
    rc = train.main([*FAST, "--out", str(out)])
    _one_error_line(rc, capsys.readouterr().err, "on host some-other-host", f"delete {str(lock)!r}")
    assert _files(out) == before


def test_the_lock_and_the_folder_go_when_the_run_fails_after_the_claim(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    rc = train.main(["--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "none"), "--out", str(out)])
    _one_error_line(rc, capsys.readouterr().err, "--dataset fashion-mnist")
    assert not (tmp_path / "new").exists()  # the claim made both folders and removed them again


def test_an_exception_inside_the_run_removes_the_lock(tmp_path, capsys):
    out = tmp_path / "run"

    def boom(state):
        raise RuntimeError("a bug in a callback")

    cfg = train.TrainConfig(model="mlp", epochs=1, limit=64, batch_size=32, out=str(out), progress=False)
    with pytest.raises(RuntimeError, match="a bug in a callback"):
        train.train(cfg, callbacks=[boom])
    assert not (out / LOCK_NAME).exists()


@pytest.mark.parametrize("signum, status", [(signal.SIGHUP, 129), (signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGHUP", "SIGTERM", "SIGINT"])
def test_a_signal_saves_a_loadable_checkpoint_and_removes_the_lock(tmp_path, signum, status):
    out, log_path = tmp_path / "run", tmp_path / "train.log"
    with log_path.open("w") as log:
        proc = _python(*LONG, "--out", str(out), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(lambda: "epoch 1 batch" in log_path.read_text())  # training, not still starting
            proc.send_signal(signum)
            assert proc.wait(timeout=120) == status, log_path.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log_path.read_text()
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    assert f"{name}: finishing this batch and saving a checkpoint" in text and "Traceback" not in text
    assert f"--resume {out / 'last.npz'}" in text
    ckpt = load_checkpoint(out / "last.npz")
    assert ckpt["config"]["limit"] == 4000 and ckpt["epoch"] < 5
    assert not (out / LOCK_NAME).exists()


def test_sighup_before_training_starts_still_removes_the_lock(tmp_path, monkeypatch, capsys):
    """A signal while the data is loaded (before the stop handler is up) aborts: 129, no lock left."""
    out = tmp_path / "run"
    real_build = train._build

    def build_then_hangup(*args, **kw):
        os.kill(os.getpid(), signal.SIGHUP)
        return real_build(*args, **kw)

    monkeypatch.setattr(train, "_build", build_then_hangup)
    assert train.main([*FAST, "--out", str(out)]) == 129
    assert "aborted by SIGHUP" in capsys.readouterr().err
    assert out.is_dir() and _files(out) == {}  # nothing was written, and no lock is left
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # the handler is put back
