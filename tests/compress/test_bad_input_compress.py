"""Bad input to ``python -m minitorch_cnn.compress`` and to the compression API: refused before any
work, one line naming the flag / argument / tensor, exit status 2 (CLI) or ``ValueError`` (API), and
no file written earlier is changed."""

from __future__ import annotations

import errno
import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.checkpoint import load_checkpoint, save_checkpoint
from minitorch_cnn.compress import cli
from minitorch_cnn.compress.cli import main
from minitorch_cnn.models import FashionCNN
from minitorch_cnn.train import main as train_main

PREFIX = "minitorch_cnn.compress: error: "
FAST = ["--limit", "32", "--batch-size", "16", "--batches", "1", "--test-limit", "4", "--no-progress"]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real built-in training run (the unit's CNN), its float reference, and broken variants."""
    root = tmp_path_factory.mktemp("compress_bad")
    run = root / "run"
    assert train_main(["--epochs", "1", "--limit", "32", "--batch-size", "16", "--out", str(run),
                       "--no-progress"]) == 0
    ckpt = run / "last.npz"
    out = root / "out"
    assert main(["float", str(ckpt), "--out", str(out), "--limit", "32", "--test-limit", "4"]) == 0  # builtin, from config
    tree = load_checkpoint(ckpt)
    state = {k: v.numpy().copy() for k, v in tree["model"].items()}
    state["features.0.weight"].reshape(-1)[:12] = np.nan
    state["classifier.1.bias"][0] = np.inf
    nan = root / "nan.npz"
    save_checkpoint(nan, {"model": {k: mt.tensor(v) for k, v in state.items()}, "normalize": tree["normalize"],
                          "config": tree["config"]})
    mlp = root / "mlp.npz"
    save_checkpoint(mlp, {"model": {}, "normalize": [0.1, 0.2], "config": {**tree["config"], "model": "mlp"}})
    nonorm = root / "nonorm.npz"
    save_checkpoint(nonorm, {"model": FashionCNN().state_dict(), "config": tree["config"]})
    garbage = root / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    afile = root / "afile.txt"
    afile.write_text("x")
    return {"root": root, "run": run, "ckpt": ckpt, "out": out, "nan": nan, "mlp": mlp, "nonorm": nonorm,
            "garbage": garbage, "afile": afile}


# (argv with {placeholders}, words the one-line message must contain)
CLI_CASES = [
    (["float", "{ckpt}", "--out", "{afile}"], ["--out", "is a file"]),
    (["float", "{ckpt}", "--out", "{afile}/sub"], ["--out"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", "../../x"], ["--name", "'../../x'"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", "/tmp/evil"], ["--name", "plain file name"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", "a/b"], ["--name", "'a/b'"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", ".."], ["--name"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", ""], ["--name", "empty"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", "x.npz"], ["--name", "suffix"]),
    (["prune", "{ckpt}", "--out", "{out}", "--name", "x" * 300], ["--name", "255"]),
    (["prune", "{run}/last.npz", "--out", "{run}", "--name", "last"], ["would replace MODEL"]),
    (["float", "{ckpt}", "--out", "{root}", "--name", "run"], []),  # placeholder, replaced below
    (["prune", "{nan}", "--out", "{out}"], ["features.0.weight has 12 NaN values", "classifier.1.bias has 1 inf"]),
    (["kmeans", "{nan}", "--out", "{out}"], ["features.0.weight has 12 NaN values"]),
    (["float", "{nan}", "--out", "{out}"], ["features.0.weight has 12 NaN values"]),
    (["int8", "{nan}", "--out", "{out}"], ["NaN"]),
    (["report", "{nan}", "--out", "{out}"], ["NaN"]),
    (["float", "{ckpt}", "--out", "{out}", "--test-limit", "-1"], ["--test-limit -1"]),
    (["float", "{ckpt}", "--out", "{out}", "--test-limit", "0"], ["--test-limit 0"]),
    (["float", "{ckpt}", "--out", "{out}", "--limit", "0"], ["--limit 0"]),
    (["prune", "{ckpt}", "--out", "{out}", "--limit", "-3"], ["--limit -3"]),
    (["prune", "{ckpt}", "--out", "{out}", "--limit", "1"], ["--limit 1"]),
    (["prune", "{ckpt}", "--out", "{out}", "--batches", "-5"], ["--batches -5"]),
    (["int8", "{ckpt}", "--out", "{out}", "--batches", "0"], ["--batches 0", "calibrates"]),
    (["int8", "{ckpt}", "--out", "{out}", "--qat-batches", "-1"], ["--qat-batches -1"]),
    (["int8", "{ckpt}", "--out", "{out}", "--int8-check-images", "-1"], ["--int8-check-images -1"]),
    (["prune", "{ckpt}", "--out", "{out}", "--batch-size", "0"], ["--batch-size 0"]),
    (["prune", "{ckpt}", "--out", "{out}", "--batch-size", "5000"], ["--batch-size 5000"]),
    (["prune", "{ckpt}", "--out", "{out}", "--steps", "0"], ["--steps 0"]),
    (["prune", "{ckpt}", "--out", "{out}", "--steps", "1001"], ["--steps 1001"]),
    (["prune", "{ckpt}", "--out", "{out}", "--sparsity", "1.0"], ["--sparsity 1.0"]),
    (["prune", "{ckpt}", "--out", "{out}", "--sparsity", "-0.1"], ["--sparsity -0.1"]),
    (["prune", "{ckpt}", "--out", "{out}", "--sparsity", "nan"], ["--sparsity nan", "finite"]),
    (["prune", "{ckpt}", "--out", "{out}", "--conv-sparsity", "1.2"], ["--conv-sparsity 1.2 must lie in [0, 1)"]),
    (["prune", "{ckpt}", "--out", "{out}", "--sparsity", "0.99", "--conv-sparsity", "0.1"], ["--conv-sparsity"]),
    (["kmeans", "{ckpt}", "--out", "{out}", "--bits", "0"], ["--bits 0"]),
    (["kmeans", "{ckpt}", "--out", "{out}", "--bits", "9"], ["--bits 9"]),
    (["prune", "{ckpt}", "--out", "{out}", "--lr", "0"], ["--lr 0"]),
    (["prune", "{ckpt}", "--out", "{out}", "--lr", "-1"], ["--lr -1"]),
    (["prune", "{ckpt}", "--out", "{out}", "--lr", "inf"], ["--lr inf"]),
    (["prune", "{ckpt}", "--out", "{out}", "--seed", "-1"], ["--seed -1"]),
    (["sparse", "{ckpt}", "--out", "{out}"], ["MODEL", "'sparse'"]),
    (["sparse", "--out", "{out}", "--dataset", "builtin", "--epochs", "0"], ["--epochs 0"]),
    (["sparse", "--out", "{out}", "--dataset", "builtin", "--conv-density", "0"], ["--conv-density 0"]),
    (["sparse", "--out", "{out}", "--dataset", "builtin", "--linear-density", "1.5"], ["--linear-density 1.5"]),
    (["sparse", "--out", "{out}", "--dataset", "builtin", "--dense-every", "0"], ["--dense-every 0"]),
    (["sparse", "--out", "{out}", "--dataset", "builtin", "--lr-decay", "cosine"], ["--lr-decay", "'sparse'"]),
    (["prune", "{ckpt}", "--out", "{out}", "--bits", "4"], ["--bits", "'prune'", "kmeans"]),
    (["prune", "{ckpt}", "--out", "{out}", "--epochs", "2"], ["--epochs", "'prune'", "sparse"]),
    (["float", "{ckpt}", "--out", "{out}", "--sparsity", "0.5"], ["--sparsity", "'float'"]),
    (["int8", "{ckpt}", "--out", "{out}", "--method", "xnor"], ["--method", "'int8'"]),
    (["int8", "{ckpt}", "--out", "{out}", "--schedule", "cubic"], ["--schedule", "'int8'"]),
    (["report", "{ckpt}", "--out", "{out}", "--augment"], ["--augment", "'report'"]),
    (["kmeans", "{ckpt}", "--out", "{out}", "--dense-every", "2"], ["--dense-every", "'kmeans'"]),
    (["prune", "--out", "{out}"], ["needs MODEL"]),
    (["prune", "{root}/missing.npz", "--out", "{out}"], ["MODEL", "does not exist"]),
    (["prune", "{run}", "--out", "{out}"], ["MODEL", "directory"]),
    (["prune", "{garbage}", "--out", "{out}"], ["MODEL", "garbage.npz"]),
    (["prune", "{mlp}", "--out", "{out}"], ["MODEL", "--model mlp"]),
    (["prune", "{nonorm}", "--out", "{out}"], ["MODEL", "normalisation"]),
    (["float", "{ckpt}", "--out", "{out}", "--dataset", "fashion-mnist"], ["--dataset fashion-mnist", "builtin"]),
    (["float", "{ckpt}", "--out", "{out}", "--data-dir", "{root}"], ["--data-dir", "built-in"]),
    (["frobnicate", "{ckpt}", "--out", "{out}"], ["frobnicate"]),
    (["int8", "{ckpt}", "--out", "{out}", "--observer", "bogus"], ["--observer", "bogus"]),
    (["prune", "{ckpt}", "--out", "{out}", "--batches", "two"], ["--batches", "two"]),
]
CLI_CASES = [c for c in CLI_CASES if c[1]]  # drop the placeholder


@pytest.mark.parametrize(("argv", "words"), CLI_CASES, ids=[f"{i:02d}-{' '.join(c[0][:1] + c[0][2:])[:60]}"
                                                          for i, c in enumerate(CLI_CASES)])
def test_cli_refuses_before_any_work(files: dict[str, Path], argv: list[str], words: list[str],
                                     capsys: pytest.CaptureFixture) -> None:
    before = _digest(files["root"])
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    assert main([*args, *FAST[-1:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(PREFIX) and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    assert _digest(files["root"]) == before  # the float reference, the checkpoints: byte-identical, nothing new


def test_output_that_is_a_directory_is_refused(files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    (files["root"] / "dirs" / "prune.json").mkdir(parents=True)
    before = _digest(files["root"])
    assert main(["prune", str(files["ckpt"]), "--out", str(files["root"] / "dirs"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "prune.json" in err and "is a directory" in err and "--name" in err
    assert _digest(files["root"]) == before


def test_float_reads_the_data_set_from_the_checkpoint_and_rewrites_atomically(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    argv = ["float", str(files["ckpt"]), "--out", str(out), "--limit", "32", "--test-limit", "4"]
    assert main(argv) == 0  # no --dataset: the checkpoint says builtin (no Fashion-MNIST needed)
    path = out / "float-float32.npz"
    good = path.read_bytes()
    assert set(np.load(path).files) == set(FashionCNN().state_dict())

    def full_disk(file: object, **arrays: object) -> None:
        file.write(b"PK\x03\x04 half a file")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli.np, "savez", full_disk)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(PREFIX) and "--out" in err and "No space left" in err
    assert path.read_bytes() == good and sorted(p.name for p in out.iterdir()) == ["float-float32.npz", "float.json"]


# ----------------------------------------------------------------------------------------------------------
# The API
# ----------------------------------------------------------------------------------------------------------
def _state(model: mt.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def _nan_cnn() -> FashionCNN:
    model = FashionCNN(image_size=8)
    model.features[0].weight._array.reshape(-1)[:3] = np.nan
    return model


def _kmeans(**kw: object) -> None:
    from minitorch_cnn.compress.kmeans import kmeans_1d

    kmeans_1d(**{"values": np.arange(5.0), "k": 2, **kw})


def _fq(zp: int, lo: int = 0, hi: int = 255) -> None:
    from minitorch_cnn.compress.quantize import fake_quantize_per_tensor_affine

    fake_quantize_per_tensor_affine(mt.tensor(np.ones(3, dtype=np.float32)), 0.1, zp, lo, hi)


def _fq_channel(zp: list[int]) -> None:
    from minitorch_cnn.compress.quantize import fake_quantize_per_channel_affine

    fake_quantize_per_channel_affine(mt.tensor(np.ones((2, 3), dtype=np.float32)), mt.tensor(np.full(2, 0.1, "float32")),
                                     mt.tensor(np.array(zp, dtype=np.int32)), 0, -128, 127)


def _inq(**kw: object) -> FashionCNN:
    from minitorch_cnn.compress.inq import inq_schedule

    model = FashionCNN(image_size=8)
    inq_schedule(model, **kw)
    return model


def _ln(n: object) -> None:
    from minitorch_cnn.compress.prune import ln_structured

    ln_structured(mt.nn.Conv2d(2, 4, 3), "weight", 1, n=n, dim=0)


def _loaders(**kw: object) -> None:
    from minitorch_cnn.compress.pipeline import loaders

    loaders("builtin", None, (0.1, 0.2), **{"limit": 16, **kw})


API_CASES = [
    ("kmeans k=0", lambda: _kmeans(k=0), "k=0"),
    ("kmeans k<0", lambda: _kmeans(k=-2), "k=-2"),
    ("kmeans k>n", lambda: _kmeans(k=6), "k=6"),
    ("kmeans k float", lambda: _kmeans(k=2.5), "k=2.5"),
    ("kmeans NaN values", lambda: _kmeans(values=np.array([1.0, np.nan, 2.0])), "non-finite"),
    ("kmeans iterations<0", lambda: _kmeans(iterations=-1), "iterations=-1"),
    ("share_weights bits=0", lambda: __import__("minitorch_cnn.compress.kmeans").compress.kmeans.share_weights(
        FashionCNN(image_size=8), bits=0), "bits=0"),
    ("share_weights NaN", lambda: __import__("minitorch_cnn.compress.kmeans").compress.kmeans.share_weights(
        _nan_cnn()), "features.0.weight has 3 NaN values"),
    ("inq bits=0", lambda: _inq(bits=0), "bits=0"),
    ("inq bits=1", lambda: _inq(bits=1), "bits=1"),
    ("inq decreasing", lambda: _inq(fractions=(0.5, 0.25, 1.0)), "fractions[1]=0.25"),
    ("inq repeated", lambda: _inq(fractions=(0.5, 0.5)), "fractions[1]=0.5"),
    ("inq zero fraction", lambda: _inq(fractions=(0.0, 1.0)), "fractions[0]=0.0"),
    ("inq fraction > 1", lambda: _inq(fractions=(0.5, 1.5)), "fractions[1]=1.5"),
    ("inq empty", lambda: _inq(fractions=()), "fractions is empty"),
    ("fake quant zp > max", lambda: _fq(256), "zero_point"),
    ("fake quant zp < min", lambda: _fq(-1), "zero_point=-1"),
    ("fake quant qint8 zp", lambda: _fq(200, -128, 127), "zero_point=200"),
    ("fake quant per channel", lambda: _fq_channel([0, 128]), "zero_point=128"),
    ("ln_structured n=nan", lambda: _ln(math.nan), "n=nan"),
    ("loaders limit=0", lambda: _loaders(limit=0), "limit=0"),
    ("loaders test_limit=0", lambda: _loaders(test_limit=0), "test_limit=0"),
    ("loaders test_limit<0", lambda: _loaders(test_limit=-1), "test_limit=-1"),
]


@pytest.mark.parametrize(("call", "words"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_refuses_with_value_error(call: object, words: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        call()  # type: ignore[operator]
    assert words in str(info.value), str(info.value)


def test_iterative_prune_refuses_nan_weights_and_changes_nothing() -> None:
    from minitorch_cnn.compress import is_pruned, iterative_prune

    model = _nan_cnn()
    before = _state(model)
    with pytest.raises(ValueError, match=r"features\.0\.weight has 3 NaN values"):
        iterative_prune(model, 0.5, 1, lambda m, r: None)
    assert _same(_state(model), before) and not is_pruned(model)


def test_prune_filters_refuses_every_filter_naming_the_layer() -> None:
    from minitorch_cnn.compress import is_pruned, prune_filters

    for amount in (1.0, 32):
        model = FashionCNN(image_size=8)
        with pytest.raises(ValueError, match=r"all 32 remaining filters of features\.0"):
            prune_filters(model, amount)
        assert not is_pruned(model)  # refused before the first layer was touched


def test_shrink_refuses_a_layer_with_every_channel_dead() -> None:
    from minitorch_cnn.compress import masks, shrink
    from minitorch_cnn.compress.prune import ln_structured

    model = FashionCNN(image_size=8)
    ln_structured(model.features[3], "weight", 1.0, n=1, dim=0)
    for name in ("weight", "bias"):
        masks.apply_mask(model.features[5], name, np.zeros(32, dtype=bool))
    masks.apply_mask(model.features[3], "bias", np.zeros(32, dtype=bool))
    with pytest.raises(ValueError, match=r"shrink: every one of the 32 output channels of features\.3 is dead"):
        shrink(model)


def test_ln_structured_n0_is_pytorchs_count_of_nonzeros() -> None:
    from minitorch_cnn.compress.prune import ln_structured

    conv = mt.nn.Conv2d(1, 3, 1, bias=False)
    conv.weight._array[...] = np.array([5.0, 0.0, 1.0], dtype=np.float32).reshape(3, 1, 1, 1)
    ln_structured(conv, "weight", 1, n=0, dim=0)  # norm 0 for filter 1 (no non-zero entry)
    assert conv.weight.detach().numpy().reshape(-1).tolist() == [5.0, 0.0, 1.0]
    ln_structured(conv, "weight", 1, n=0, dim=0)  # a tie of count 1: the first alive one goes
    assert conv.weight.detach().numpy().reshape(-1).tolist() == [0.0, 0.0, 1.0]


def test_prune_filters_and_shrink_on_resnet18_keep_residual_sums_consistent() -> None:
    from minitorch_cnn.compress import prune_filters, shrink
    from minitorch_cnn.models import build_model

    model = build_model("resnet18", num_classes=10, in_channels=1, small_input=True).eval()
    x = mt.randn(2, 1, 8, 8)
    prune_filters(model, 0.5)
    expected = model(x).detach().numpy()
    small = shrink(model)
    convs = {p: m for p, m in small.named_modules() if isinstance(m, mt.nn.Conv2d)}
    assert convs["layer1.0.conv1"].out_channels == 32 and convs["layer1.0.conv2"].in_channels == 32
    assert convs["layer1.0.conv2"].out_channels == 64 and convs["conv1"].out_channels == 64  # residual widths kept
    np.testing.assert_allclose(small(x).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_pipeline_refuses_bad_counts() -> None:
    from minitorch_cnn.compress import pipeline

    train, _ = pipeline.loaders("builtin", None, (0.1, 0.2), 8, 16)
    model = FashionCNN()
    before = _state(model)
    with pytest.raises(ValueError, match=r"batches=-1"):
        pipeline.fine_tune(model, train, -1)
    with pytest.raises(ValueError, match=r"batches=0 calibration"):
        pipeline.quantize_int8(model, train, "minmax", 0)
    with pytest.raises(ValueError, match=r"qat_batches=-1"):
        pipeline.quantize_int8(model, train, "minmax", 1, -1)
    assert _same(_state(model), before)
