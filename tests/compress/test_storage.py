"""export / load: smaller files, and the loaded model computes what the exported one did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.compress import binarize, int8, kmeans, prune, qat, storage
from minitorch_cnn.models import FashionCNN


def _model() -> nn.Module:
    mt.manual_seed(0)
    model = FashionCNN(image_size=8)
    model.train()
    model(mt.randn(16, 1, 8, 8))
    return model.eval()


def _round_trip(model: nn.Module, tmp_path: Path, name: str) -> tuple[int, nn.Module]:
    size = storage.export(model, tmp_path / f"{name}.npz")
    assert size == (tmp_path / f"{name}.npz").stat().st_size
    loaded = storage.load(tmp_path / f"{name}.npz", FashionCNN(image_size=8)).eval()
    x = mt.randn(4, 1, 8, 8)
    with mt.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    return size, loaded


def _float_size(tmp_path: Path) -> int:
    np.savez(tmp_path / "float.npz", **{k: v.numpy() for k, v in _model().state_dict().items()})
    return (tmp_path / "float.npz").stat().st_size


def test_plain_pruned_and_shared_models_round_trip(tmp_path: Path) -> None:
    size_plain, _ = _round_trip(_model(), tmp_path, "plain")
    pruned = _model()
    prune.global_unstructured(pruned, amount=0.9)
    size_pruned, loaded = _round_trip(pruned, tmp_path, "pruned")
    assert prune.is_pruned(loaded)  # sparse layers come back with their masks
    kmeans.share_weights(pruned, bits=4)
    size_shared, _ = _round_trip(pruned, tmp_path, "shared")
    float_size = _float_size(tmp_path)
    assert size_plain < 1.05 * float_size
    assert size_pruned < float_size / 4 and size_shared < size_pruned / 2


def test_binary_and_xnor_round_trip(tmp_path: Path) -> None:
    for method in ("bwn", "binaryconnect", "xnor"):
        model = binarize.binarize(_model(), method)
        size, loaded = _round_trip(model, tmp_path, method)
        assert size < _float_size(tmp_path) / 8
    assert isinstance(loaded.features[3], binarize.XNORConv2d)


def test_int8_round_trip(tmp_path: Path) -> None:
    model = qat.prepare_qat(_model())
    qat.calibrate(model, [mt.randn(8, 1, 8, 8) for _ in range(2)])
    real = int8.convert(qat.freeze(model))
    size, loaded = _round_trip(real, tmp_path, "int8")
    assert isinstance(loaded.classifier[1], int8.Int8Linear)
    assert size < _float_size(tmp_path) / 3


def test_load_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="write it with compress.export"):
        storage.load(tmp_path / "missing.npz", FashionCNN(image_size=8))
    storage.export(_model(), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="same architecture"):
        storage.load(tmp_path / "m.npz", FashionCNN(image_size=12))
    with pytest.raises(ValueError, match="must end in .npz"):
        storage.export(_model(), tmp_path / "m.bin")
