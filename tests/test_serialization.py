"""mt.save / mt.load: state dicts in .npz and .safetensors, torchvision-style files, errors; transfer learning."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn.utils import skip_init

KEYS = Path(__file__).resolve().parent / "models" / "data" / "zoo_keys.json.gz"


def _small() -> nn.Module:
    return models.resnet18(num_classes=10, in_channels=1, small_input=True)


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_state_dict_round_trip(tmp_path, suffix) -> None:
    model = _small()
    path = mt.save(model.state_dict(), tmp_path / f"w{suffix}")
    loaded = mt.load(path)
    assert sorted(loaded) == sorted(model.state_dict())  # .safetensors stores names sorted
    assert all(isinstance(v, mt.Tensor) for v in loaded.values())
    assert loaded["bn1.num_batches_tracked"].shape == () and loaded["bn1.num_batches_tracked"].dtype == np.int64
    other = _small()
    other.load_state_dict(loaded)
    for (k, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_npz_holds_a_whole_checkpoint_and_plain_npz_loads(tmp_path) -> None:
    tree = {"model": {"w": mt.ones(2)}, "epoch": 3, "names": ["a", "b"]}
    back = mt.load(mt.save(tree, tmp_path / "ckpt.npz"))
    assert back["epoch"] == 3 and back["names"] == ["a", "b"] and back["model"]["w"].tolist() == [1.0, 1.0]
    np.savez(tmp_path / "plain.npz", **{"fc.weight": np.zeros((2, 3), np.float32)})
    assert mt.load(tmp_path / "plain.npz")["fc.weight"].shape == (2, 3)


def test_a_torchvision_layout_safetensors_file_loads_into_our_builder(tmp_path) -> None:
    """What tools/convert_torchvision_weights.py writes: torchvision's keys, float32 weights, int64 counters."""
    with gzip.open(KEYS, "rt") as f:
        shapes = json.load(f)["models"]["resnet18"]
    rng = np.random.default_rng(0)
    arrays = {k: (np.zeros(s, np.int64) if k.endswith("num_batches_tracked") else
                  rng.standard_normal(s).astype(np.float32)) for k, s in shapes}
    path = tmp_path / "resnet18.safetensors"
    safetensors.numpy.save_file(arrays, str(path), metadata={"source": "torchvision resnet18"})
    model = skip_init(models.resnet18)
    assert model.load_state_dict(mt.load(path)) == ([], [])
    np.testing.assert_array_equal(model.fc.weight.detach().numpy(), arrays["fc.weight"])


def test_a_file_for_another_model_names_missing_unexpected_and_misshaped_keys(tmp_path) -> None:
    path = mt.save(skip_init(models.resnet18).state_dict(), tmp_path / "r18.safetensors")
    with pytest.raises(RuntimeError) as err:
        skip_init(models.resnet34).load_state_dict(mt.load(path))
    assert 'Missing key(s) in state_dict: "layer1.2.conv1.weight"' in str(err.value)
    with pytest.raises(RuntimeError) as err:
        skip_init(models.resnet50).load_state_dict(mt.load(path))
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "layer1.0.conv3.weight"' in msg
    assert "size mismatch for layer1.0.conv1.weight: copying a param with shape (64, 64, 3, 3)" in msg
    r34 = mt.save(skip_init(models.resnet34).state_dict(), tmp_path / "r34.npz")
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "layer1.2.conv1.weight"'):
        skip_init(models.resnet18).load_state_dict(mt.load(r34))
    with pytest.raises(RuntimeError, match=r"size mismatch for fc.weight: .*\(1000, 512\).* is \(10, 512\)"):
        skip_init(models.resnet18, num_classes=10).load_state_dict(mt.load(path), strict=False)


def test_save_and_load_reject_bad_arguments(tmp_path) -> None:
    with pytest.raises(TypeError, match="expected a state dict, a checkpoint dict, a Tensor or a list"):
        mt.save(object(), tmp_path / "w.pt")  # any suffix is accepted (tests/test_pytorch_files_and_devices.py)
    with pytest.raises(TypeError, match="f must be a path"):
        mt.save({}, 42)
    with pytest.raises(TypeError, match=r"'epoch' is a int; a .safetensors file holds only tensors"):
        mt.save({"epoch": 3}, tmp_path / "w.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mt.load(tmp_path / "nothing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ValueError, match="not a readable .safetensors file"):
        mt.load(tmp_path / "bad.safetensors")
    assert not list(tmp_path.glob("w.*"))  # nothing half-written


def test_map_location_moves_tensors(tmp_path) -> None:
    path = mt.save({"w": mt.ones(3)}, tmp_path / "w.safetensors")
    assert mt.load(path, map_location="strict")["w"].device.type == "strict"


def test_transfer_learning_freezes_the_extractor_and_trains_only_the_new_head() -> None:
    model = models.resnet18(num_classes=1000, in_channels=1, small_input=True)
    model.requires_grad_(False)
    model.fc = nn.Linear(512, 10)
    frozen = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert sum(int(np.prod(p.shape)) for p in trainable) == 5_130
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)  # frozen ones are skipped
    x, y = mt.randn(4, 1, 28, 28), mt.tensor([0, 1, 2, 3])
    model.train()
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    after = model.state_dict()
    changed = sorted(k for k, v in frozen.items() if not np.array_equal(v, after[k].numpy()))
    # only the head's weights and the BatchNorm running statistics (updated in train mode, as in PyTorch)
    assert {k for k in changed if not k.startswith("fc.")} <= {k for k in frozen if "running" in k or "num_batches" in k}
    assert {"fc.weight", "fc.bias"} <= set(changed)
    assert all(p.grad is None for p in model.parameters() if not p.requires_grad)
    s = mt.summary(model, (1, 28, 28), count_bn_stats_as_params=False).to_dict()["totals"]
    # resnet18's 11,689,512 with a 1-channel 3x3 stem (-9,408 + 576) and without its 1000-class fc (-513,000)
    assert (s["trainable_params"], s["non_trainable_params"]) == (5_130, 11_689_512 - 9_408 + 576 - 513_000)
