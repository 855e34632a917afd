"""The training CLI: end to end, checkpoints, bit-identical resume, Ctrl-C, and CNN vs MLP.

Runs use the built-in data set with --limit, so nothing is downloaded and each takes seconds.
"""

import io
import json
import os
import signal

import numpy as np
import pytest
from rich.console import Console

from minitorch_cnn.checkpoint import load_checkpoint
from minitorch_cnn.train import TrainConfig, config_from_args, main, train


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def _params(model) -> dict:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _cfg(tmp_path, name, **kw) -> TrainConfig:
    base = dict(limit=160, batch_size=32, epochs=2, model="mlp", out=str(tmp_path / name), progress=False)
    base.update(kw)
    return TrainConfig(**base)


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["--limit", "128", "--epochs", "2", "--batch-size", "32", "--out", str(out), "--no-progress",
               "--scheduler", "cosine", "--optimizer", "sgd", "--lr", "0.05"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "Conv2d" in printed and "test accuracy" in printed and "recall" in printed  # summary + final table
    assert "running average over the epoch's batches" in printed and "dropout on" in printed  # what "train" means
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,train_loss,train_acc,test_loss,test_acc,lr") and len(rows) == 3
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["config"]["scheduler"] == "cosine" and len(doc["history"]) == 2
    walls = [h["wall_s"] for h in doc["history"]]  # the run's wall clock at each epoch's end: time to accuracy
    assert 0 < walls[0] <= walls[1] and walls[1] >= sum(h["epoch_time_s"] for h in doc["history"]) - 0.1
    assert np.array(doc["confusion"]).sum() == 128 // 5
    for name in ("last.npz", "best.npz"):
        ck = load_checkpoint(out / name)
        assert {"model", "optim", "scheduler", "rng", "loader", "config", "epoch"} <= set(ck)
        assert "features.0.weight" in ck["model"]
    assert load_checkpoint(out / "last.npz")["epoch"] == 2
    pytest.importorskip("matplotlib")
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_same_seed_same_run_and_eval_only(tmp_path):
    a = train(_cfg(tmp_path, "a", augment=True), console=_quiet())
    b = train(_cfg(tmp_path, "b", augment=True), console=_quiet())
    _assert_same(_params(a["model"]), _params(b["model"]))
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr"):
        assert [h[key] for h in a["history"]] == [h[key] for h in b["history"]], key
    c = train(_cfg(tmp_path, "c", seed=1), console=_quiet())
    assert not np.array_equal(_params(a["model"])["fc1.weight"], _params(c["model"])["fc1.weight"])
    ev = train(TrainConfig(**dict(_cfg(tmp_path, "a").to_dict(), resume=str(tmp_path / "a" / "last.npz"),
                                  eval_only=True)), console=_quiet())
    assert ev["test"]["accuracy"] == a["history"][-1]["test_acc"]


def test_resume_after_one_epoch_is_bit_identical(tmp_path):
    """2 epochs straight == 1 epoch, then --resume with --epochs 2 (CNN: dropout, batch norm, Adam)."""
    kw = dict(model="cnn", limit=64, batch_size=32)
    straight = train(_cfg(tmp_path, "straight", **kw), console=_quiet())
    train(_cfg(tmp_path, "first", **dict(kw, epochs=1)), console=_quiet())
    cfg = config_from_args(["--resume", str(tmp_path / "first" / "last.npz"), "--epochs", "2", "--no-progress"])
    assert cfg.model == "cnn" and cfg.limit == 64 and cfg.epochs == 2  # config comes from the checkpoint
    resumed = train(cfg, console=_quiet())
    _assert_same(_params(straight["model"]), _params(resumed["model"]))
    assert [h["test_acc"] for h in resumed["history"]] == [h["test_acc"] for h in straight["history"]]


@pytest.mark.parametrize("how", ["callback", "sigint"])
def test_interrupt_mid_epoch_then_resume_is_bit_identical(tmp_path, how):
    """Ctrl-C after batch 3 of epoch 2: the batch completes, last.npz is saved, and resuming from it
    reproduces the uninterrupted run exactly (one-cycle schedule stepped per batch, augmentation on)."""
    kw = dict(scheduler="onecycle", augment=True)
    straight = train(_cfg(tmp_path, "straight", **kw), console=_quiet())

    def stop_after_8(state):  # 5 batches per epoch: batch 3 of epoch 2
        if state.step == 8:
            if how == "sigint":
                os.kill(os.getpid(), signal.SIGINT)  # the handler turns it into "stop after this batch"
            else:
                raise KeyboardInterrupt

    console = _quiet()
    cut = train(_cfg(tmp_path, "cut", **kw), callbacks=[stop_after_8], console=console)
    assert cut["interrupted"]
    text = console.file.getvalue()
    assert "Resume with" in text and f"--resume {tmp_path / 'cut' / 'last.npz'}" in text
    ck = load_checkpoint(tmp_path / "cut" / "last.npz")
    assert ck["epoch"] == 1 and ck["loader"]["batches_done"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored

    resumed = train(TrainConfig(**dict(_cfg(tmp_path, "cut", **kw).to_dict(),
                                       resume=str(tmp_path / "cut" / "last.npz"))), console=_quiet())
    assert not resumed["interrupted"]
    _assert_same(_params(straight["model"]), _params(resumed["model"]))
    timing = ("epoch_time_s", "images_per_s", "wall_s")
    strip = [{k: v for k, v in h.items() if k not in timing} for h in straight["history"]]
    again = [{k: v for k, v in h.items() if k not in timing} for h in resumed["history"]]
    assert strip == again
    assert resumed["history"][-1]["wall_s"] >= cut["history"][-1]["wall_s"]  # the resumed run's clock continues


def test_main_returns_130_and_prints_resume_command(tmp_path, capsys, monkeypatch):
    import minitorch_cnn.train as train_mod

    original = train_mod.train

    def interrupted_train(cfg, **kw):
        def stop(state):
            raise KeyboardInterrupt
        return original(cfg, callbacks=[stop], **kw)

    monkeypatch.setattr(train_mod, "train", interrupted_train)
    out = tmp_path / "run"
    assert main(["--model", "mlp", "--limit", "64", "--out", str(out), "--no-progress"]) == 130
    assert f"python -m minitorch_cnn.train --resume {out / 'last.npz'}" in capsys.readouterr().out


def test_cli_errors(tmp_path, capsys, monkeypatch):
    from minitorch_cnn.data import FashionMNIST

    monkeypatch.setattr(FashionMNIST, "mirrors", ("file:///no/such/mirror/",))  # offline, never the network
    assert main(["--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz" in err and str(tmp_path / "none") in err
    assert not (tmp_path / "o").exists()  # the --out check left nothing behind
    assert main(["--optimizer", "lbfgs"]) == 2
    assert "argument --optimizer: invalid choice: 'lbfgs'" in capsys.readouterr().err
    assert main(["--limit", "0"]) == 2
    assert "--limit 0 is outside [2, inf)" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--eval-only needs --resume"):
        train(_cfg(tmp_path, "e", eval_only=True), console=_quiet())


@pytest.mark.slow
def test_cnn_clearly_beats_mlp_on_builtin(tmp_path):
    """376 steps (6000 built-in images, batch 32, 2 epochs, Adam 1e-3, seed 0), tested on 1200 images.

    README's built-in data section states the figures (the CNN inside a band that holds seeds 0-4 on
    two BLAS kernels, MLP 17.1%; chance is 10%); the CNN must land in the band, the MLP within 1
    point. (The default CLI run: tests/test_readme_figures.py.)
    """
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    m = re.search(r"the CNN reaches between (\d+)% and (\d+)%\s+after 376 steps of batch 32 \(seeds 0-4, both "
                  r"OpenBLAS kernels: (\d+\.\d)-(\d+\.\d)%.*?the MLP (\d+\.\d)%", readme, re.S)
    lo, hi, seen_lo, seen_hi, want_mlp = (float(v) for v in m.groups())
    assert lo <= seen_lo and seen_hi <= hi  # the band holds what was measured
    kw = dict(limit=6000, batch_size=32, epochs=2, seed=0)
    cnn = train(_cfg(tmp_path, "cnn", model="cnn", **kw), console=_quiet())
    mlp = train(_cfg(tmp_path, "mlp", model="mlp", **kw), console=_quiet())
    cnn_acc, mlp_acc = cnn["test"]["accuracy"], mlp["test"]["accuracy"]
    assert lo <= 100 * cnn_acc <= hi and abs(100 * mlp_acc - want_mlp) <= 1.0, (cnn_acc, mlp_acc)
    assert cnn_acc >= 0.70, cnn_acc
    assert mlp_acc <= 0.35, mlp_acc
    assert cnn_acc - mlp_acc >= 0.45, (cnn_acc, mlp_acc)


def test_train_one_epoch_and_evaluate_are_the_loop_a_student_writes():
    """The two functions of the algorithm work on their own: any model, loader, loss and optimizer."""
    import minitorch_cnn as mt
    from minitorch_cnn import models, nn, optim
    from minitorch_cnn.data import DataLoader, GlyphsInClutter
    from minitorch_cnn.train import RunningStats, evaluate, train_one_epoch

    mt.manual_seed(0)
    data = GlyphsInClutter(train=True, size=96, seed=0)
    loader = DataLoader(data, batch_size=32, shuffle=True, seed=1)
    model = models.build_model("mlp")
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    seen = []
    stats = train_one_epoch(model, loader, criterion, opt, after_batch=lambda s: seen.append(s.seen) or False)
    assert isinstance(stats, RunningStats) and stats.seen == 96 and seen == [32, 64, 96]
    assert 0 <= stats.accuracy <= 1 and np.isfinite(stats.loss)
    stopped = train_one_epoch(model, loader, criterion, opt, after_batch=lambda s: True)  # stop after batch 1
    assert stopped.seen == 32
    res = evaluate(model, DataLoader(data, batch_size=1000), criterion)
    assert res["confusion"].sum() == 96 and not model.training
