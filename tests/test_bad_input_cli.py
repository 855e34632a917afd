"""Bad input to the three CLIs, their files and signals: every user error is one line and exit status 2.

Each case asserts the exit status, that stderr is exactly one line naming the flag, that there is no
traceback, and that no file was left behind or damaged. Most run ``main(argv)`` in-process (the
same code path as ``python -m``, without a second of interpreter start-up each); a representative
few run as real subprocesses, and so do the real SIGINT / SIGTERM cases.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from minitorch_cnn import backend, graph, train, visualize
from minitorch_cnn.checkpoint import FORMAT, load_checkpoint, save_checkpoint, state_dict_mismatch
from minitorch_cnn.data import FashionMNIST
from minitorch_cnn.data.idx import read_idx, write_idx
from minitorch_cnn.models import build_model

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--model", "mlp", "--limit", "64", "--batch-size", "32", "--no-progress"]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty current directory with a file ``afile``, a directory ``adir`` and junk checkpoints."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a directory")
    (tmp_path / "adir").mkdir()
    rng = np.random.default_rng(0)
    (tmp_path / "random.npz").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "array.npy", np.zeros(3))
    np.savez(tmp_path / "foreign.npz", a=np.zeros(2))
    save_checkpoint(tmp_path / "plain.npz", {"epoch": 1})
    return tmp_path


def _assert_usage_error(capsys, prog: str, rc: int, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _no_cuda(monkeypatch):
    monkeypatch.setattr(backend, "cuda_is_available", lambda: False)
    monkeypatch.setattr(backend, "cuda_unavailable_reason", lambda: "CuPy is not importable (test).")


# --------------------------------------------------------------------------------------------------
# train: flags, paths, devices -- all refused before any data is loaded
# --------------------------------------------------------------------------------------------------
TRAIN_CASES = [
    (["--lr", "inf"], "--lr inf is not a finite number"),
    (["--lr", "nan"], "--lr nan"),
    (["--lr", "-1"], "--lr -1.0 is outside (0, inf)"),
    (["--lr", "0"], "--lr 0.0"),
    (["--lr", "fast"], "argument --lr: invalid float value"),
    (["--batch-size", "0"], "--batch-size 0 is outside [1, 4096]"),
    (["--batch-size", "100000"], "--batch-size 100000 is outside [1, 4096]"),
    (["--batch-size", "1.5"], "argument --batch-size: invalid int value"),
    (["--eval-batch-size", "0"], "--eval-batch-size 0"),
    (["--eval-batch-size", "1000000"], "--eval-batch-size 1000000 is outside [1, 4096]"),
    (["--epochs", "0"], "--epochs 0 is outside [1, 10000]"),
    (["--epochs", "-3"], "--epochs -3"),
    (["--epochs", "1000000"], "--epochs 1000000"),
    (["--limit", "0"], "--limit 0 is outside [2, inf)"),
    (["--limit", "1"], "BatchNorm needs a batch of 2"),
    (["--seed", "-1"], "--seed -1 is outside [0, 4294967295]"),
    (["--seed", str(2**40)], "--seed"),
    (["--weight-decay", "-0.1"], "--weight-decay -0.1"),
    (["--weight-decay", "inf"], "--weight-decay inf is not a finite number"),
    (["--optimizer", "sgd", "--momentum", "1.0"], "--momentum 1.0 is outside [0, 1)"),
    (["--optimizer", "sgd", "--momentum", "-0.5"], "--momentum -0.5"),
    (["--momentum", "0.5"], "--momentum applies to --optimizer sgd only"),
    (["--label-smoothing", "1.5"], "--label-smoothing 1.5 is outside [0, 1]"),
    (["--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["--scheduler", "linear"], "argument --scheduler: invalid choice"),
    (["--dataset", "cifar10"], "argument --dataset: invalid choice"),
    (["--model", "lenet5"], "argument --model: invalid choice"),
    (["--device", "tpu"], "argument --device: invalid choice"),
    (["--eval-only"], "--eval-only needs --resume"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["--out", "afile"], "--out 'afile' is a file; give a directory"),
    (["--out", "afile/run"], "'afile' is a file, so no directory can be made below it"),
    (["--out", "x" * 300], "cannot be written"),
    (["--dataset", "fashion-mnist", "--data-dir", "afile"], "--data-dir 'afile' is a file"),
    (["--resume", "missing.npz"], "--resume 'missing.npz' does not exist"),
    (["--resume", "adir"], "--resume 'adir' is a directory"),
    (["--resume", "random.npz"], "is not a checkpoint: it does not start with a zip signature"),
    (["--resume", "empty.npz"], "is not a checkpoint: it is empty"),
    (["--resume", "array.npy"], "is a single .npy array, not a checkpoint"),
    (["--resume", "foreign.npz"], "not a minitorch_cnn checkpoint"),
    (["--resume", "plain.npz"], "not one written by minitorch_cnn.train"),
]


@pytest.mark.parametrize("argv, needle", TRAIN_CASES, ids=[" ".join(a)[:40] for a, _ in TRAIN_CASES])
def test_train_flag_errors_are_one_line(workdir, capsys, argv, needle):
    before = _tree(workdir)
    rc = train.main(argv)
    line = _assert_usage_error(capsys, "minitorch_cnn.train", rc, needle)
    assert "allow_pickle" not in line  # never NumPy's advice to unpickle
    assert _tree(workdir) == before  # nothing created (no runs/ folder, no temporary file)


def test_train_cuda_without_cupy_is_refused_before_data(workdir, capsys, monkeypatch):
    _no_cuda(monkeypatch)
    monkeypatch.setattr(train, "_datasets", lambda *a: pytest.fail("data loaded before the device check"))
    rc = train.main(["--device", "cuda"])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "--device cuda", "CuPy", "--device cpu")


def test_train_unwritable_out_is_found_before_data(workdir, capsys, monkeypatch):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux /proc, a directory nobody (not even root) can write into")
    monkeypatch.setattr(train, "_datasets", lambda *a: pytest.fail("data loaded before the --out check"))
    rc = train.main(["--out", "/proc/minitorch_cnn_out"])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "--out '/proc/minitorch_cnn_out' cannot be written")


def test_train_missing_data_set_is_one_line(workdir, capsys, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "mirrors", ("file:///no/such/mirror/",))  # offline, never the network
    rc = train.main(["--dataset", "fashion-mnist", "--data-dir", "adir", "--out", "run"])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "--dataset fashion-mnist", "t10k-labels-idx1-ubyte.gz")
    assert not (workdir / "run").exists()


def test_internal_errors_keep_their_traceback(workdir, monkeypatch):
    def bug(*args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(train, "_datasets", bug)
    with pytest.raises(ZeroDivisionError):
        train.main(FAST + ["--out", "run"])


# --------------------------------------------------------------------------------------------------
# train --resume: changed flags are applied (and reported) or refused, never silently ignored
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished 1-epoch MLP run (adam) and one stopped after batch 1 of epoch 1."""
    root = tmp_path_factory.mktemp("runs")
    assert train.main(FAST + ["--epochs", "1", "--out", str(root / "done")]) == 0

    def stop(state):
        raise KeyboardInterrupt

    cfg = train.config_from_args(FAST + ["--epochs", "2", "--out", str(root / "mid")])
    assert train.train(cfg, callbacks=[stop], console=_quiet())["interrupted"]
    return root


def _quiet():
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=200)


def _crafted(runs: Path, tmp_path: Path, **config) -> str:
    """The finished run's checkpoint with some config entries changed (what another run would hold)."""
    ck = load_checkpoint(runs / "done" / "last.npz")
    ck["config"].update(config)
    return str(save_checkpoint(tmp_path / "crafted.npz", ck))


RESUME_REFUSED = [
    ([], "already finished 1 of 1 epochs; give --epochs N with N > 1"),
    (["--epochs", "2", "--optimizer", "sgd"], "--optimizer 'sgd' differs from the checkpoint's 'adam'"),
    (["--epochs", "2", "--scheduler", "cosine"], "--scheduler 'cosine' differs"),
    (["--epochs", "2", "--model", "cnn"], "--model 'cnn' differs"),
    (["--epochs", "2", "--seed", "5"], "--seed 5 differs"),
    (["--epochs", "2", "--limit", "96"], "--limit 96 differs"),
    (["--epochs", "2", "--momentum", "0.5"], "--momentum applies to --optimizer sgd only"),
]


@pytest.mark.parametrize("extra, needle", RESUME_REFUSED, ids=[" ".join(e) or "finished" for e, _ in RESUME_REFUSED])
def test_resume_refuses_changes_it_cannot_honour(runs, capsys, extra, needle):
    last = runs / "done" / "last.npz"
    before = last.read_bytes()
    rc = train.main(["--resume", str(last), "--no-progress", *extra])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, needle)
    assert last.read_bytes() == before


def test_resume_with_fewer_epochs_than_done_is_refused(runs, tmp_path, capsys):
    ck = load_checkpoint(runs / "done" / "last.npz")
    ck["epoch"], ck["config"]["epochs"] = 3, 3
    path = save_checkpoint(tmp_path / "three.npz", ck)
    rc = train.main(["--resume", str(path), "--epochs", "2"])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "--epochs 2 leaves nothing to train",
                        "the checkpoint has done 3 epochs; give --epochs 4 or more")


def test_resume_refuses_batch_size_change_mid_epoch(runs, capsys):
    rc = train.main(["--resume", str(runs / "mid" / "last.npz"), "--batch-size", "16"])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "--batch-size cannot change", "after batch 1 of size 32")


def test_resume_refuses_lr_or_epochs_change_under_a_schedule(runs, tmp_path, capsys):
    ckpt = _crafted(runs, tmp_path, scheduler="cosine")
    rc = train.main(["--resume", ckpt, "--epochs", "3"])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "--epochs cannot change on --resume with --scheduler cosine")


def test_resume_refuses_a_checkpoint_of_another_architecture(runs, tmp_path, capsys):
    ck = load_checkpoint(runs / "done" / "last.npz")
    first = next(iter(ck["model"]))
    ck["model"][first + "_extra"] = ck["model"].pop(first)
    path = save_checkpoint(tmp_path / "other.npz", ck)
    rc = train.main(["--resume", str(path), "--epochs", "2", "--out", str(tmp_path / "o")])
    _assert_usage_error(capsys, "minitorch_cnn.train", rc, "does not fit --model mlp", f"missing keys {first}",
                        f"unexpected keys {first}_extra")


def test_resume_applies_changed_hyperparameters_and_says_so(runs, tmp_path, capsys):
    out = tmp_path / "more"
    rc = train.main(["--resume", str(runs / "done" / "last.npz"), "--out", str(out), "--no-progress", "--epochs", "2",
                     "--lr", "0.01", "--weight-decay", "0.0001", "--batch-size", "16"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "applied on resume: --lr 0.001 -> 0.01, --weight-decay 0.0 -> 0.0001, --batch-size 32 -> 16, " \
           "--epochs 1 -> 2" in printed
    assert "4 batches of 16, adam lr 0.01" in printed  # the header states what is trained
    ck = load_checkpoint(out / "last.npz")
    assert ck["optim"]["param_groups"][0]["lr"] == 0.01 and ck["optim"]["param_groups"][0]["weight_decay"] == 1e-4
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["config"]["lr"] == 0.01 and doc["config"]["batch_size"] == 16
    assert doc["resume_log"] == [{"epoch": 2, "batch": 0, "changes": {"lr": [0.001, 0.01], "weight_decay": [0.0, 1e-4],
                                                                      "batch_size": [32, 16], "epochs": [1, 2]}}]


def test_momentum_flag_trains_sgd_and_applies_on_resume(tmp_path, capsys):
    out = tmp_path / "sgd"
    assert train.main(FAST + ["--epochs", "1", "--optimizer", "sgd", "--momentum", "0.8", "--out", str(out)]) == 0
    assert load_checkpoint(out / "last.npz")["optim"]["param_groups"][0]["momentum"] == 0.8
    assert "momentum 0.8" in capsys.readouterr().out
    assert train.main(["--resume", str(out / "last.npz"), "--epochs", "2", "--momentum", "0.5", "--no-progress"]) == 0
    assert "--momentum 0.8 -> 0.5" in capsys.readouterr().out
    assert load_checkpoint(out / "last.npz")["optim"]["param_groups"][0]["momentum"] == 0.5


# --------------------------------------------------------------------------------------------------
# Nothing lost: NaN loss, the short last batch, strict JSON, SIGTERM
# --------------------------------------------------------------------------------------------------
def test_nonfinite_loss_stops_with_one_line_and_exit_1(workdir, capsys):
    rc = train.main(FAST + ["--lr", "1e30", "--out", "run"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1, err
    assert err[0].startswith("minitorch_cnn.train: stopped: loss is nan at epoch 1, batch 2 (--lr 1e+30)")
    assert "no checkpoint had been written yet" in err[0] and "--skip-nonfinite" in err[0]
    assert not (workdir / "run" / "last.npz").exists()
    assert not [p for p in (workdir / "run").iterdir() if p.name.endswith(".tmp")]


def test_nonfinite_loss_keeps_the_last_good_checkpoint(runs, tmp_path, capsys):
    out = tmp_path / "diverge"
    out.mkdir()
    good = (runs / "done" / "last.npz").read_bytes()
    (out / "last.npz").write_bytes(good)
    rc = train.main(["--resume", str(out / "last.npz"), "--epochs", "2", "--lr", "1e30"])
    err = capsys.readouterr().err
    assert rc == 1 and "is kept" in err and "(after epoch 1)" in err
    assert (out / "last.npz").read_bytes() == good


def test_skip_nonfinite_finishes_with_strict_json(tmp_path, capsys):
    out = tmp_path / "skip"
    assert train.main(FAST + ["--epochs", "1", "--lr", "1e30", "--skip-nonfinite", "--out", str(out)]) == 0
    assert "batches skipped (non-finite loss)" in capsys.readouterr().out

    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    doc = json.loads((out / "metrics.json").read_text(), parse_constant=refuse)
    row = doc["history"][0]
    assert row["skipped_batches"] == 1 and row["test_loss"] is None  # the diverged loss is null, not NaN


def test_last_batch_of_one_image_is_dropped_with_a_note(tmp_path, capsys):
    out = tmp_path / "short"
    assert train.main(["--limit", "129", "--batch-size", "128", "--epochs", "1", "--out", str(out),
                       "--no-progress"]) == 0
    assert "would leave a last batch of 1 image" in capsys.readouterr().out
    assert load_checkpoint(out / "last.npz")["loader"]["batches_done"] == 0


def test_sigterm_in_process_finishes_the_batch_and_saves(tmp_path):
    def term_after_2(state):
        if state.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    cfg = train.config_from_args(FAST + ["--limit", "96", "--epochs", "2", "--out", str(tmp_path / "t")])
    result = train.train(cfg, callbacks=[term_after_2], console=_quiet())
    assert result["interrupted"] and result["signal"] == signal.SIGTERM
    assert load_checkpoint(tmp_path / "t" / "last.npz")["loader"]["batches_done"] == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["last.npz"]


def test_device_generator_seed_is_checkpointed_and_resumes(tmp_path, monkeypatch):
    """The GPU generator's path (reseeded from the CPU generator each batch, its seed in every checkpoint),
    exercised on the strict device with a stand-in seed hook: the resumed run draws the same seeds."""
    seeds: list[int] = []

    def reseed(dev):
        seed = int(backend.random_state("cpu").integers(0, 2**63 - 1))
        backend._device_seed = seed
        seeds.append(seed)
        return seed

    monkeypatch.setattr(backend, "reseed_device_generator", reseed)
    monkeypatch.setattr(backend, "_device_seed", None)
    base = dict(model="mlp", limit=64, batch_size=32, epochs=2, progress=False, device="strict")
    straight = train.train(train.TrainConfig(**base, out=str(tmp_path / "a")), console=_quiet())
    all_seeds, seeds[:] = list(seeds), []

    def stop(state):
        if state.step == 3:  # batch 1 of epoch 2
            raise KeyboardInterrupt

    train.train(train.TrainConfig(**base, out=str(tmp_path / "b")), callbacks=[stop], console=_quiet())
    ck = load_checkpoint(tmp_path / "b" / "last.npz")
    assert ck["device_rng_seed"] == seeds[-1] == all_seeds[len(seeds) - 1]
    seeds[:] = []
    resumed = train.train(train.TrainConfig(**base, out=str(tmp_path / "b"), resume=str(tmp_path / "b" / "last.npz")),
                          console=_quiet())
    assert seeds == all_seeds[-len(seeds):]
    for k, v in straight["model"].state_dict().items():
        np.testing.assert_array_equal(v.numpy(), resumed["model"].state_dict()[k].numpy(), err_msg=k)


# --------------------------------------------------------------------------------------------------
# Real signals to a training process
# --------------------------------------------------------------------------------------------------
def _start_training(out: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "minitorch_cnn.train", "--model", "mlp", "--limit", "640", "--batch-size", "16",
            "--epochs", "2", "--out", str(out), "--no-progress"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # the progress lines arrive as they are printed
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_real_signal_saves_a_checkpoint_that_resumes(tmp_path, signum, status):
    out = tmp_path / "run"
    proc = _start_training(out)
    try:
        for line in proc.stdout:  # wait until training is under way: the first progress line
            if "batch" in line and "running loss" in line:
                break
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr
    assert f"--resume {out / 'last.npz'}" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["last.npz"]  # no temporary file survives
    ck = load_checkpoint(out / "last.npz")
    done = ck["loader"]["batches_done"]
    assert ck["epoch"] == 0 and 0 < done < 40

    def one_batch(state):  # resuming works: it continues with the next batch (then stops again)
        assert (state.epoch, state.batch) == (0, done + 1)
        raise KeyboardInterrupt

    cfg = train.config_from_args(["--resume", str(out / "last.npz"), "--no-progress"])
    assert train.train(cfg, callbacks=[one_batch], console=_quiet())["interrupted"]
    assert load_checkpoint(out / "last.npz")["loader"]["batches_done"] == done + 1


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_second_signal_aborts_with_one_line_and_no_traceback(capsys, signum, status):
    # the first signal asks for "stop after this batch"; a second one (the user insists) stops at once
    stop = train._StopRequest()
    stop._handle(signum, None)
    assert stop.requested and stop.signum == signum

    def insist() -> int:
        stop._handle(signum, None)
        return 0

    from minitorch_cnn.cli import run_main

    assert run_main("prog", insist) == status
    err = capsys.readouterr().err
    assert err == f"prog: aborted by {signal.Signals(signum).name}; files already written are kept\n"


# --------------------------------------------------------------------------------------------------
# Representative subprocess runs: the real `python -m` entry points
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module, argv, needle", [
    ("minitorch_cnn.train", ["--out", "afile"], "--out 'afile' is a file; give a directory"),
    ("minitorch_cnn.graph", ["--batch-size", "100000", "--out", "g.dot"], "--batch-size 100000 is outside [1, 64]"),
    ("minitorch_cnn.visualize", ["--checkpoint", "plain.npz", "--what", "gradcam", "--out", "viz", "--index",
                                 "100000000"], "--index 100000000 is outside [0, 9999]"),
], ids=["train", "graph", "visualize"])
def test_subprocess_user_error_is_one_line_exit_2(workdir, module, argv, needle):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", module, *argv], cwd=workdir, capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"{module}: error: " + proc.stderr.split(": error: ", 1)[1].strip()]
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (workdir / "viz").exists() and not (workdir / "g.dot").exists()


# --------------------------------------------------------------------------------------------------
# graph and visualize
# --------------------------------------------------------------------------------------------------
GRAPH_CASES = [
    (["--batch-size", "0"], "--batch-size 0 is outside [1, 64]"),
    (["--batch-size", "100000"], "--batch-size 100000"),
    (["--depth", "-1"], "--depth -1 is outside [0, inf)"),  # 0 is valid: every op, no collapsing
    (["--input-size", "0", "28", "28"], "--input-size C 0"),
    (["--input-size", "64", "512", "512"], "input values, above the limit"),
    (["--input-size", "1", "28"], "argument --input-size: expected 3 arguments"),
    (["--model", "lenet5"], "argument --model: invalid choice"),
    (["--rankdir", "UP"], "argument --rankdir: invalid choice"),
    (["--out", "adir"], "--out 'adir' is a directory; give a file name such as 'adir/out.svg'"),
    (["--out", "g.jpg"], "--out 'g.jpg' has suffix '.jpg'; use one of .svg, .png, .pdf, .dot, .gv"),
    (["--out", "afile/g.dot"], "'afile' is a file"),
    (["--input-size", "3", "32", "32", "--out", "g.dot"], "--model cnn on --input-size 3 32 32"),
]


@pytest.mark.parametrize("argv, needle", GRAPH_CASES, ids=[" ".join(a)[:40] for a, _ in GRAPH_CASES])
def test_graph_flag_errors_are_one_line(workdir, capsys, argv, needle):
    pytest.importorskip("graphviz")
    before = _tree(workdir)
    rc = graph.main(argv)
    _assert_usage_error(capsys, "minitorch_cnn.graph", rc, needle)
    assert _tree(workdir) == before


def test_graph_without_graphviz_dot_is_refused_before_the_model(workdir, capsys, monkeypatch):
    pytest.importorskip("graphviz")
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(graph, "_graph", lambda args: pytest.fail("model built before the Graphviz check"))
    rc = graph.main(["--out", "g.svg"])
    _assert_usage_error(capsys, "minitorch_cnn.graph", rc, "--out 'g.svg'", "Graphviz 'dot' program", "graph.dot")


@pytest.fixture
def cnn_checkpoint(workdir):
    """A checkpoint as the trainer writes it (untrained CNN weights; no training needed to test flags)."""
    model = build_model("cnn")
    config = train.TrainConfig().to_dict()
    return str(save_checkpoint(workdir / "cnn.npz", {"model": model.state_dict(), "config": config,
                                                     "normalize": [0.2, 0.3]}))


VIS_CASES = [
    (["--index", "100000000"], "--index 100000000 is outside [0, 9999]"),
    (["--index", "-1"], "--index -1"),
    (["--target", "10"], "--target 10 is outside [0, 9]"),
    (["--steps", "0"], "--steps 0"),
    (["--patch-sizes", "0"], "--patch-sizes 0 is outside [1, 28]"),
    (["--patch-sizes", "4", "29"], "--patch-sizes 29"),
    (["--stride", "0"], "--stride 0"),
    (["--channel", "-2"], "--channel -2"),
    (["--data-dir", "afile"], "--data-dir 'afile' is not a directory"),
    (["--out", "afile"], "--out 'afile' is a file; give a directory"),
    (["--what", "colours"], "argument --what: invalid choice"),
    (["--layer", "nope"], "--layer 'nope' is not in the model; its layers: features"),
    (["--what", "max-response", "--channel", "99"], "--channel 99 is outside [0, 63]: the layer has 64 channels"),
    (["--checkpoint", "missing.npz"], "--checkpoint 'missing.npz' does not exist"),
    (["--checkpoint", "random.npz"], "is not a checkpoint"),
    (["--checkpoint", "plain.npz"], "not a training checkpoint"),
]


@pytest.mark.parametrize("argv, needle", VIS_CASES, ids=[" ".join(a)[:40] for a, _ in VIS_CASES])
def test_visualize_flag_errors_are_one_line(cnn_checkpoint, workdir, capsys, argv, needle):
    base = {"--checkpoint": cnn_checkpoint, "--what": "gradcam", "--out": "viz"}
    base = {flag: value for flag, value in base.items() if flag not in argv}
    before = _tree(workdir)
    rc = visualize.main([x for kv in base.items() for x in kv] + argv)
    _assert_usage_error(capsys, "minitorch_cnn.visualize", rc, needle)
    assert _tree(workdir) == before


def test_visualize_checkpoint_of_another_model_lists_the_keys(workdir, capsys):
    ck = {"model": build_model("mlp").state_dict(), "config": train.TrainConfig().to_dict()}  # says cnn
    save_checkpoint(workdir / "wrong.npz", ck)
    rc = visualize.main(["--checkpoint", "wrong.npz", "--what", "filters", "--out", "viz"])
    _assert_usage_error(capsys, "minitorch_cnn.visualize", rc, "do not fit the model 'cnn'", "missing keys features.0")


# --------------------------------------------------------------------------------------------------
# Files: checkpoints and IDX
# --------------------------------------------------------------------------------------------------
def test_save_refuses_object_arrays_naming_the_key(tmp_path):
    with pytest.raises(TypeError, match=r"'opt/extra' has dtype object"):
        save_checkpoint(tmp_path / "c.npz", {"opt": {"extra": np.array([{"a": 1}], dtype=object)}})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, needle", [
    ("random.npz", "does not start with a zip signature"),
    ("empty.npz", "is empty"),
    ("array.npy", "single .npy array"),
    ("foreign.npz", "no '__tree__' entry; members: a"),
    ("adir", "is a directory"),
])
def test_load_errors_name_the_file(workdir, name, needle):
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        load_checkpoint(workdir / name)
    assert needle in str(info.value) and name in str(info.value)
    assert "allow_pickle" not in str(info.value)


def test_load_refuses_pickled_members_and_other_versions(tmp_path):
    tree = json.dumps({"format": FORMAT, "tree": {"__dict__": [["x", {"__array__": "x", "tensor": False}]]}})
    np.savez(tmp_path / "pickled.npz", x=np.array([{"a": 1}], dtype=object), __tree__=np.array(tree))
    with pytest.raises(ValueError, match=r"member 'x' of .*pickled.npz' holds pickled objects"):
        load_checkpoint(tmp_path / "pickled.npz")
    future = json.dumps({"format": "minitorch_cnn.checkpoint/9", "tree": {"__dict__": []}})
    np.savez(tmp_path / "future.npz", __tree__=np.array(future))
    with pytest.raises(ValueError, match=r"future.npz' has format 'minitorch_cnn.checkpoint/9'.*reads "):
        load_checkpoint(tmp_path / "future.npz")


def test_truncated_checkpoint_names_the_file(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", {"w": np.zeros((64, 64), np.float32)})
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"c.npz' is corrupt or truncated"):
        load_checkpoint(path)


def test_state_dict_mismatch_lists_keys_and_shapes():
    cnn, mlp = build_model("cnn").state_dict(), build_model("mlp").state_dict()
    text = state_dict_mismatch(cnn, mlp)
    assert "missing keys features.0.weight" in text and "unexpected keys fc1.weight" in text
    other = dict(cnn, **{"features.0.weight": np.zeros((8, 1, 3, 3))})
    assert "features.0.weight (8, 1, 3, 3) vs (32, 1, 3, 3)" in state_dict_mismatch(cnn, other)
    assert state_dict_mismatch(cnn, cnn) == ""


def test_large_checkpoint_loads_member_by_member(tmp_path):
    """Peak memory of a load is about one copy of the arrays, not two (all read, then all copied)."""
    arrays = {f"w{i}": np.ones((1024, 1024), np.float32) for i in range(8)}  # 8 x 4 MiB
    path = save_checkpoint(tmp_path / "big.npz", arrays)
    tracemalloc.start()
    back = load_checkpoint(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sorted(back) == sorted(arrays)
    assert peak < 1.5 * 32 * 2**20, peak


def test_idx_size_arithmetic_cannot_overflow(tmp_path):
    header = bytes([0, 0, 0x08, 4]) + np.array([2**32 - 1] * 4, dtype=">u4").tobytes()
    (tmp_path / "huge-idx").write_bytes(header + b"\0" * 16)
    with pytest.raises(ValueError, match=r"is truncated: header shape \(4294967295, 4294967295"):
        read_idx(tmp_path / "huge-idx")


@pytest.mark.parametrize("which, array, needle", [
    ("labels", np.zeros(4, np.float32), "holds float32 values"),
    ("labels", np.zeros(4, np.int32), "holds int32 values"),
    ("images", np.zeros((4, 32, 32), np.uint8), "are 32x32, expected 28x28"),
])
def test_mnist_refuses_wrong_label_dtype_and_image_size(tmp_path, which, array, needle):
    files = {"images": np.zeros((4, 28, 28), np.uint8), "labels": np.zeros(4, np.uint8), which: array}
    for split in ("train", "t10k"):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", files["images"])
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte", files["labels"])
    with pytest.raises(ValueError, match=needle):
        FashionMNIST(tmp_path, train=True, download=False)


def test_metrics_json_of_a_normal_run_is_strict(runs):
    text = (runs / "done" / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["best_accuracy"] is not None


def test_console_is_wide_when_not_a_terminal(monkeypatch):
    import io

    from minitorch_cnn.train_report import LOG_WIDTH, make_console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert make_console(io.StringIO()).width == LOG_WIDTH
    monkeypatch.setenv("COLUMNS", "133")
    assert make_console(io.StringIO()).width == 133
