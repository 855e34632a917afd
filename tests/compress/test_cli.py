"""python -m minitorch_cnn.compress on the built-in data: every command, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minitorch_cnn.checkpoint import save_checkpoint
from minitorch_cnn.compress.cli import main
from minitorch_cnn.models import FashionCNN

FAST = ["--dataset", "builtin", "--limit", "64", "--batch-size", "16", "--batches", "2"]


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "best.npz"
    save_checkpoint(path, {"model": FashionCNN().state_dict(), "normalize": [0.1, 0.2]})
    return path


def _result(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


def test_every_command_writes_its_file_and_report(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    common = [*FAST, "--out", str(out)]
    assert main(["float", str(checkpoint), *common]) == 0
    assert main(["prune", str(checkpoint), *common, "--steps", "1", "--sparsity", "0.9"]) == 0
    assert main(["kmeans", str(out / "prune.npz"), *common, "--bits", "4"]) == 0
    assert main(["int8", str(checkpoint), *common, "--int8-check-images", "16"]) == 0
    assert main(["binarize", str(checkpoint), *common, "--batches", "1"]) == 0
    assert main(["report", str(out / "kmeans.npz"), *common, "--test-limit", "5", "--name", "five"]) == 0
    float_bytes = _result(out, "float")["file_bytes"]
    pruned, shared, q = _result(out, "prune"), _result(out, "kmeans"), _result(out, "int8")
    assert pruned["total"]["nonzeros"] <= 0.11 * pruned["total"]["params"]
    assert shared["file_bytes"] < pruned["file_bytes"] < float_bytes / 5
    assert q["int8_identical_outputs"] == q["int8_checked_images"] == 12  # the whole test split (64 // 5)
    assert all(0.0 <= _result(out, n)["accuracy"] <= 1.0 for n in ("float", "prune", "kmeans", "int8", "binarize"))
    assert _result(out, "five")["accuracy"] * 5 == round(_result(out, "five")["accuracy"] * 5)  # 5 test images


def test_sparse_trains_from_scratch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["sparse", *FAST, "--out", str(out), "--limit", "32"]) == 0
    layers = {r["layer"]: r for r in _result(out, "sparse")["layers"]}
    assert layers["features.0"]["nonzeros"] == 288  # the first layer stays dense
    assert abs(layers["features.3"]["nonzeros"] / 9216 - 4 / 9) < 1e-9


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    for argv in (["prune", str(tmp_path / "missing.npz")], ["frobnicate"], ["prune"]):
        proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.compress", *argv, "--dataset", "builtin"],
                              capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_prune_options_cubic_conv_sparsity_augment_cosine(checkpoint: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    argv = ["prune", str(checkpoint), *FAST, "--out", str(out), "--steps", "2", "--sparsity", "0.9",
            "--schedule", "cubic", "--conv-sparsity", "0.5", "--augment", "--lr-decay", "cosine"]
    assert main(argv) == 0
    assert "prune: fine-tuning steps" in capsys.readouterr().out  # the progress bar, 2 rounds x 2 batches
    layers = {r["layer"]: r for r in _result(out, "prune")["layers"]}
    assert layers["features.3"]["nonzeros"] == 9216 // 2  # half of the kernel (nonzeros count weights only)
    total = _result(out, "prune")["total"]
    assert total["nonzeros"] <= 0.11 * total["params"]
    assert main([*argv, "--name", "again", "--no-progress"]) == 0
    assert "fine-tuning steps" not in capsys.readouterr().out  # --seed fixes shuffling, dropout and augmentation
    assert _result(out, "again")["accuracy"] == _result(out, "prune")["accuracy"]


def test_bad_conv_sparsity_is_one_line_exit_2(checkpoint: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["prune", str(checkpoint), *FAST, "--conv-sparsity", "1.2"]) == 2
    assert "--conv-sparsity 1.2 must lie in [0, 1)" in capsys.readouterr().err
