"""checkpoint.py: flattening, round trips without pickle, atomicity, corrupt files."""

import json

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend
from minitorch_cnn.checkpoint import load_checkpoint, save_checkpoint


def _tree():
    return {
        "model": {"features.0.weight": mt.randn(3, 2), "bn.num_batches_tracked": mt.tensor(np.int64(7))},
        "optim": {"state": {3: {"exp_avg": mt.zeros(2), "step": 5}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False}]},
        "rng": backend.get_rng_state(),
        "raw": np.arange(4, dtype=np.int32),
        "epoch": 2, "best": float("-inf"), "none": None, "name": "cnn",
    }


def test_round_trip_keeps_types_and_values(tmp_path):
    tree = _tree()
    path = save_checkpoint(tmp_path / "c.npz", tree)
    back = load_checkpoint(path)
    assert isinstance(back["model"]["features.0.weight"], mt.Tensor)
    np.testing.assert_array_equal(back["model"]["features.0.weight"].numpy(), tree["model"]["features.0.weight"].numpy())
    assert back["model"]["bn.num_batches_tracked"].shape == () and back["model"]["bn.num_batches_tracked"].item() == 7
    assert list(back["optim"]["state"]) == [3]  # int keys survive
    assert back["optim"]["state"][3]["step"] == 5
    assert back["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["rng"] == tree["rng"]  # 128-bit integers survive JSON
    assert isinstance(back["raw"], np.ndarray) and back["raw"].dtype == np.int32
    assert back["best"] == float("-inf") and back["none"] is None and back["name"] == "cnn"


def test_file_layout_is_flat_and_pickle_free(tmp_path):
    save_checkpoint(tmp_path / "c.npz", _tree())
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"model/features.0.weight", "model/bn.num_batches_tracked",
                                  "optim/state/3/exp_avg", "raw", "__tree__"}
        assert npz["__tree__"].dtype.kind == "U" and npz["__tree__"].shape == ()
        assert json.loads(str(npz["__tree__"][()]))["format"].startswith("minitorch_cnn.checkpoint")
        assert all(npz[k].dtype != object for k in npz.files)


def test_model_and_optimizer_state_round_trip(tmp_path):
    from minitorch_cnn import models, nn, optim

    mt.manual_seed(0)
    model = models.build_model("mlp", hidden=(8,), dropout=0.0)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = mt.randn(4, 1, 28, 28), mt.tensor(np.array([0, 1, 2, 3]))
    nn.CrossEntropyLoss()(model(x), y).backward()
    opt.step()
    save_checkpoint(tmp_path / "m.npz", {"model": model.state_dict(), "optim": opt.state_dict()})

    mt.manual_seed(1)
    model2 = models.build_model("mlp", hidden=(8,), dropout=0.0)
    opt2 = optim.Adam(model2.parameters(), lr=1e-2)
    ck = load_checkpoint(tmp_path / "m.npz")
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optim"])
    for m, o in ((model, opt), (model2, opt2)):  # one more identical step on both
        o.zero_grad()
        nn.CrossEntropyLoss()(m(x), y).backward()
        o.step()
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.npz", {"epoch": 1})

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2})
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_checkpoint(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a minitorch_cnn checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
    with pytest.raises(TypeError, match="cannot store object"):
        save_checkpoint(tmp_path / "x.npz", {"f": object()})
    with pytest.raises(TypeError, match="must be str or int"):
        save_checkpoint(tmp_path / "x.npz", {(1, 2): 3})
