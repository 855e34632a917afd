"""Where the command-line tools write: the output-folder claim (``cli.claim_out_dir`` and its lock),
names that must stay inside ``--out``, ``graph`` on every model's own input size, ``visualize``
refusing to replace earlier files, and ``compress`` taking the same lock.

Each case asserts the exit status (or the exception), that the message names the flag or the
file, and that no earlier file was changed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from minitorch_cnn import graph, train, visualize
from minitorch_cnn.checkpoint import save_checkpoint
from minitorch_cnn.cli import (
    LOCK_NAME,
    UsageError,
    acquire_lock,
    check_name_in_dir,
    claim_out_dir,
    read_lock,
    release_lock,
)
from minitorch_cnn.models import build_model

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_line(capsys, prog: str, rc: int, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _live_lock(folder: Path) -> Path:
    """A lock held by a live process of this host (the one that started pytest)."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": "now"}))
    return lock


# --------------------------------------------------------------------------------------------------
# cli: the lock, the claim, names inside --out
# --------------------------------------------------------------------------------------------------
def test_lock_holds_pid_host_and_start_and_refuses_a_second_holder(tmp_path):
    lock = acquire_lock("--out", tmp_path, "prog")
    info = read_lock(lock)
    assert info["pid"] == os.getpid() and info["host"] == socket.gethostname() and info["started"]
    with pytest.raises(UsageError, match=rf"--out .* is in use by another run: .* pid {os.getpid()}"):
        acquire_lock("--out", tmp_path, "prog")  # held by a live process (this one)
    release_lock(lock)
    assert not lock.exists()


def test_release_leaves_a_lock_of_another_process_alone(tmp_path):
    lock = _live_lock(tmp_path)
    before = lock.read_bytes()
    release_lock(lock)
    assert lock.read_bytes() == before


def test_of_processes_racing_for_one_lock_exactly_one_wins(tmp_path):
    code = ("import sys, time; from minitorch_cnn.cli import acquire_lock, UsageError\n"
            "try:\n    acquire_lock('--out', sys.argv[1]); print('won'); time.sleep(1.5)\n"
            "except UsageError as e:\n    print('lost', e)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              env=env) for _ in range(4)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert sum(o.startswith("won") for o in outs) == 1, outs
    assert all("is in use by another run" in o for o in outs if o.startswith("lost"))


@pytest.mark.parametrize("name", ["..", "../escape.npy", "a/b.npy", "/tmp/abs.npy", "", ".", "nul\0.npy"])
def test_a_name_cannot_leave_its_folder(tmp_path, name):
    with pytest.raises(UsageError, match=r"^--layer .* is not a plain file name.*give a name without '/' or '\.\.'"):
        check_name_in_dir("--layer", tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_a_plain_name_stays_inside(tmp_path):
    assert check_name_in_dir("--layer", tmp_path, "gradcam_features.11.npy") == tmp_path / "gradcam_features.11.npy"


def test_a_refusal_inside_the_claim_removes_the_lock_and_the_folders_it_made(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(UsageError), claim_out_dir("--out", out) as folder:
        assert (folder / LOCK_NAME).exists()
        raise UsageError("--layer 'x' is not in the model")
    assert not (tmp_path / "a").exists()


def test_a_failure_while_working_keeps_the_folder_but_not_the_lock(tmp_path):
    out = tmp_path / "a"
    with pytest.raises(RuntimeError), claim_out_dir("--out", out):
        raise RuntimeError("a bug")
    assert out.is_dir() and _files(out) == {}


def test_claim_keeps_what_was_written(tmp_path):
    out = tmp_path / "a"
    with claim_out_dir("--out", out) as folder:
        (folder / "result.json").write_text("{}")
    assert _files(out) == {"result.json": b"{}"}


def test_claim_turns_sigterm_into_an_interrupt_that_removes_the_lock(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as exc, claim_out_dir("--out", tmp_path / "o") as folder:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10**6):  # the handler runs between two bytecodes
            pass
    assert exc.value.signum == signal.SIGTERM
    assert not (folder / LOCK_NAME).exists() and signal.getsignal(signal.SIGTERM) == before


def test_claim_refuses_the_listed_files_unless_overwrite(tmp_path):
    (tmp_path / "last.npz").write_bytes(b"old")
    with pytest.raises(UsageError, match=r"already holds an earlier run \(last\.npz\); give another --out, or pass "
                                         r"--overwrite"), claim_out_dir("--out", tmp_path):
        pytest.fail("the block ran")
    assert _files(tmp_path) == {"last.npz": b"old"}


# --------------------------------------------------------------------------------------------------
# graph: each model on its own input size; the output written whole or not at all
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def workdir(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_graph_of_resnet18_is_no_traceback_as_a_real_process(workdir):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.graph", "--model", "resnet18", "--out", "r18.dot",
                           "--depth", "1"], cwd=workdir, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "wrote r18.dot" in proc.stdout and "digraph" in (workdir / "r18.dot").read_text()
    assert set(_files(workdir)) == {"r18.dot"}  # no temporary file left


@pytest.mark.parametrize("model, size", [("cnn", (1, 28, 28)), ("resnet18", (3, 224, 224)),
                                         ("inception_v3", (3, 299, 299)), ("mobilenet_v2", (3, 224, 224))])
def test_each_model_has_its_own_input_size(model, size):
    assert graph.natural_input_size(model) == size


@pytest.mark.parametrize("argv", [["--model", "resnet18", "--input-size", "1", "28", "28"],
                                  ["--model", "googlenet", "--input-size", "1", "28", "28", "--forward"],
                                  ["--model", "squeezenet1_0"]], ids=["resnet18-28", "googlenet-28", "squeezenet"])
def test_graph_of_zoo_models_works(workdir, capsys, argv):
    assert graph.main([*argv, "--out", "g.dot"]) == 0, capsys.readouterr().err
    assert "digraph" in (workdir / "g.dot").read_text()


def test_graph_on_a_size_the_model_cannot_take_names_the_flag_and_its_size(workdir, capsys):
    (workdir / "g.dot").write_text("an earlier graph")
    rc = graph.main(["--model", "inception_v3", "--input-size", "3", "70", "70", "--out", "g.dot"])
    _one_error_line(capsys, "minitorch_cnn.graph", rc, "--model inception_v3 on --input-size 3 70 70",
                    "its own input size is --input-size 3 299 299")
    assert _files(workdir) == {"g.dot": b"an earlier graph"}


def test_graph_refuses_an_out_path_before_building_a_model(workdir, capsys, monkeypatch):
    (workdir / "adir").mkdir()
    monkeypatch.setattr(graph, "_graph", lambda args: pytest.fail("model built before the --out check"))
    rc = graph.main(["--model", "resnet18", "--out", "adir"])
    _one_error_line(capsys, "minitorch_cnn.graph", rc, "--out 'adir' is a directory")


def test_graph_replaces_its_file_whole(workdir, capsys):
    (workdir / "g.dot").write_text("an earlier graph")
    assert graph.main(["--model", "mlp", "--out", "g.dot"]) == 0
    assert "digraph" in (workdir / "g.dot").read_text()
    assert set(_files(workdir)) == {"g.dot"}


# --------------------------------------------------------------------------------------------------
# visualize: earlier files in --out are refused unless --overwrite; the lock
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def ckpt(tmp_path):
    model = build_model("cnn")
    return str(save_checkpoint(tmp_path / "cnn.npz", {"model": model.state_dict(), "normalize": [0.2, 0.3],
                                                      "config": train.TrainConfig().to_dict()}))


def _vis(ckpt: str, out: Path, *extra: str) -> int:
    return visualize.main(["--checkpoint", ckpt, "--what", "filters", "--out", str(out), *extra])


def test_visualize_refuses_to_replace_its_earlier_files(ckpt, tmp_path, capsys):
    out = tmp_path / "viz"
    assert _vis(ckpt, out) == 0
    before = _files(out)
    capsys.readouterr()
    rc = _vis(ckpt, out)
    _one_error_line(capsys, "minitorch_cnn.visualize", rc, f"--out {str(out)!r} already holds earlier results",
                    "filters_features.0.npy", "--overwrite")
    assert _files(out) == before and LOCK_NAME not in before


def test_visualize_overwrite_replaces_them(ckpt, tmp_path, capsys):
    out = tmp_path / "viz"
    assert _vis(ckpt, out) == 0
    (out / "filters_features.0.npy").write_bytes(b"stale")
    assert _vis(ckpt, out, "--overwrite") == 0
    assert (out / "filters_features.0.npy").read_bytes() != b"stale"
    assert not (out / LOCK_NAME).exists()


def test_visualize_adds_other_pictures_to_the_same_folder(ckpt, tmp_path, capsys):
    out = tmp_path / "viz"
    assert _vis(ckpt, out) == 0
    before = _files(out)
    assert _vis(ckpt, out, "--layer", "features.11") == 0
    after = _files(out)
    assert {k: after[k] for k in before} == before and "filters_features.11.npy" in after


def test_visualize_into_a_locked_folder_is_refused(ckpt, tmp_path, capsys):
    out = tmp_path / "viz"
    lock = _live_lock(out)
    before = _files(out)
    rc = _vis(ckpt, out)
    _one_error_line(capsys, "minitorch_cnn.visualize", rc, "is in use by another run", f"pid {os.getppid()}")
    assert _files(out) == before and lock.exists()


def test_visualize_error_after_the_claim_leaves_no_folder(ckpt, tmp_path, capsys):
    out = tmp_path / "viz"
    rc = _vis(ckpt, out, "--layer", "nope")
    _one_error_line(capsys, "minitorch_cnn.visualize", rc, "--layer 'nope' is not in the model")
    assert not out.exists()


def test_visualize_overwrite_is_in_help(capsys):
    with pytest.raises(SystemExit):
        visualize.build_parser().parse_args(["--help"])
    assert "--overwrite" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------------
# compress: the same lock on its --out
# --------------------------------------------------------------------------------------------------
def test_compress_into_a_locked_out_is_refused(tmp_path, capsys):
    from minitorch_cnn.compress.cli import main as compress_main

    out = tmp_path / "c"
    lock = _live_lock(out)
    before = _files(out)
    rc = compress_main(["report", str(tmp_path / "missing.npz"), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "--out" in err and "is in use by another run" in err and "Traceback" not in err
    assert _files(out) == before and lock.exists()


def test_compress_leaves_no_lock_or_new_folder_after_an_error(tmp_path, capsys):
    from minitorch_cnn.compress.cli import main as compress_main

    out = tmp_path / "c"
    rc = compress_main(["report", str(tmp_path / "missing.npz"), "--out", str(out)])
    assert rc == 2 and "missing.npz" in capsys.readouterr().err
    assert not out.exists()
