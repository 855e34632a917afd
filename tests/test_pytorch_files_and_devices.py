"""PyTorch's file and device idioms: ``torch.save`` / ``torch.load`` with any file name or a file
object, checkpoints with an optimizer, what is refused and why; ``mt.cuda`` / ``mt.accelerator`` /
``mt.backends`` answering truthfully on this (CPU) machine; ``set_num_threads``; ``.to(non_blocking=)``."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim, runtime
from minitorch_cnn.safe_load import CorruptFileError, SizeLimitError

needs_no_gpu = pytest.mark.skipif(mt.cuda.is_available(), reason="checks what a machine without a GPU reports")


def _model() -> nn.Module:
    mt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def _trained():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = mt.randn(2, 1, 8, 8)
    for _ in range(2):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    return model, opt


def _assert_same_state(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["model.pt", "ckpt.pth", "weights", "w.npz", "w.bin"])
def test_a_checkpoint_round_trips_under_any_name(tmp_path, name) -> None:
    model, opt = _trained()
    ckpt = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(), "losses": [0.9, 0.5],
            "best": {"acc": 0.75, "epoch": 2}, "note": None}
    assert mt.save(ckpt, tmp_path / name) == tmp_path / name
    assert (tmp_path / name).read_bytes()[:2] == b"PK"  # the .npz container whatever the suffix
    back = mt.load(tmp_path / name, weights_only=True)
    assert back["epoch"] == 3 and back["losses"] == [0.9, 0.5] and back["best"] == {"acc": 0.75, "epoch": 2}
    assert back["note"] is None
    _assert_same_state(model.state_dict(), back["model"])
    fresh_model, _ = _trained()
    fresh_model.load_state_dict(back["model"])
    fresh_opt = optim.Adam(fresh_model.parameters(), lr=0.5)
    fresh_opt.load_state_dict(back["optimizer"])
    want, got = opt.state_dict(), fresh_opt.state_dict()
    assert got["param_groups"] == want["param_groups"]
    for i, entry in want["state"].items():
        for k, v in entry.items():
            np.testing.assert_array_equal(got["state"][i][k], v)


def test_a_flat_state_dict_saved_as_pt_is_a_plain_npz(tmp_path) -> None:
    sd = _model().state_dict()
    mt.save(sd, tmp_path / "model.pt")
    assert sorted(np.load(tmp_path / "model.pt").files) == sorted(sd)
    _assert_same_state(sd, mt.load(tmp_path / "model.pt"))


def test_format_is_read_from_content_not_name(tmp_path) -> None:
    sd = _model().state_dict()
    st = mt.save(sd, tmp_path / "w.safetensors")
    (tmp_path / "w.pt").write_bytes(st.read_bytes())  # a safetensors file under torch's name
    _assert_same_state(dict(sorted(sd.items())), mt.load(tmp_path / "w.pt"))
    (tmp_path / "w2.safetensors").write_bytes(mt.save(sd, tmp_path / "w.npz").read_bytes())
    _assert_same_state(sd, mt.load(tmp_path / "w2.safetensors"))


def test_bytesio_round_trip() -> None:
    model, opt = _trained()
    buf = io.BytesIO()
    assert mt.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, buf) is None
    buf.seek(0)
    back = mt.load(buf, map_location="cpu")
    _assert_same_state(model.state_dict(), back["model"])
    buf = io.BytesIO()
    mt.save(model.state_dict(), buf)
    _assert_same_state(model.state_dict(), mt.load(io.BytesIO(buf.getvalue())))


def test_a_tensor_and_a_list_round_trip(tmp_path) -> None:
    t = mt.arange(6.0).reshape(2, 3)
    mt.save(t, tmp_path / "t.pt")
    back = mt.load(tmp_path / "t.pt")
    assert isinstance(back, mt.Tensor)
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    mt.save([t, 3, "x"], tmp_path / "l.pt")
    back = mt.load(tmp_path / "l.pt")
    assert back[1:] == [3, "x"] and np.array_equal(back[0].numpy(), t.numpy())


def test_saving_a_whole_module_is_refused_saying_why_and_what_to_do(tmp_path) -> None:
    with pytest.raises(TypeError) as err:
        mt.save(_model(), tmp_path / "model.pt")
    msg = str(err.value)
    assert "pickle" in msg and "model.state_dict()" in msg and "load_state_dict" in msg, msg
    _, opt = _trained()
    with pytest.raises(TypeError, match=r"whole Adam object.*state_dict\(\)"):
        mt.save(opt, io.BytesIO())
    assert not (tmp_path / "model.pt").exists()


def test_load_refuses_pickle_options(tmp_path) -> None:
    path = mt.save({"w": mt.zeros(2)}, tmp_path / "w.pt")
    with pytest.raises(ValueError, match="weights_only=False .* never does .*drop weights_only"):
        mt.load(path, weights_only=False)
    with pytest.raises(TypeError, match="weights_only must be None or True"):
        mt.load(path, weights_only="yes")
    with pytest.raises(ValueError, match="pickle_module is not supported"):
        mt.load(path, pickle_module=json)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['encoding'\]"):
        mt.load(path, encoding="latin1")
    assert list(mt.load(path, mmap=True)) == ["w"]


def test_map_location_is_mapped_honestly(tmp_path) -> None:
    path = mt.save({"w": mt.ones(2)}, tmp_path / "w.pth")
    for loc in ["cpu", mt.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"}]:
        assert mt.load(path, map_location=loc)["w"].device == "cpu"
    with pytest.raises(ValueError, match="addresses one GPU"):
        mt.load(path, map_location="cuda:1")
    with pytest.raises(ValueError, match="not a device minitorch_cnn computes on"):
        mt.load(path, map_location="mps")
    with pytest.raises(TypeError, match="map_location as a function"):
        mt.load(path, map_location=lambda storage, loc: storage)
    if not mt.cuda.is_available():
        for loc in ["cuda", "cuda:0", mt.device("cuda"), {"cpu": "cuda"}]:
            with pytest.raises(RuntimeError, match="asks for the GPU, but it is not available.*CuPy"):
                mt.load(path, map_location=loc)


def test_pytorch_pickles_are_refused_with_how_to_convert(tmp_path) -> None:
    import zipfile

    zpath = tmp_path / "torch_model.pt"
    with zipfile.ZipFile(zpath, "w") as zf:  # the layout of torch.save's zip format
        zf.writestr("torch_model/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("torch_model/data/0", bytes(16))
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.")
    for path, what in [(zpath, "is a PyTorch file"), (legacy, "is a pickle")]:
        with pytest.raises(CorruptFileError) as err:
            mt.load(path)
        msg = str(err.value)
        assert what in msg and "never unpickles" in msg and "convert_torchvision_weights" in msg, msg


def test_guards_still_apply_to_any_name_and_to_file_objects(tmp_path) -> None:
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        mt.load(empty)
    with pytest.raises(CorruptFileError, match=r"load: <BytesIO> is not a \.npz: it is a text file"):
        mt.load(io.BytesIO(b"epoch,loss\n1,0.5\n"))
    path = mt.save({"a": mt.zeros(1024)}, tmp_path / "a.pt")
    with pytest.raises(SizeLimitError):
        mt.load(path, max_bytes=100)
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 99]}}).encode()
    lying = tmp_path / "lying.pt"
    lying.write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))
    with pytest.raises(CorruptFileError, match="safetensors"):
        mt.load(lying)
    with pytest.raises(TypeError, match="binary mode"):
        mt.load(io.StringIO("text"))
    with pytest.raises(FileNotFoundError):
        mt.load(tmp_path / "missing.pt")


# --------------------------------------------------------------------------------------------------
# Devices and runtime
# --------------------------------------------------------------------------------------------------
@needs_no_gpu
def test_device_shims_tell_the_truth_without_a_gpu() -> None:
    assert mt.cuda.is_available() is False and mt.cuda.device_count() == 0
    assert mt.accelerator.is_available() is False and mt.accelerator.current_accelerator() is None
    assert mt.accelerator.device_count() == 0
    assert mt.backends.mps.is_available() is False and mt.backends.mps.is_built() is False
    assert mt.backends.cudnn.is_available() is False
    for fn in (mt.cuda.current_device, mt.cuda.get_device_name, mt.cuda.synchronize):
        with pytest.raises(RuntimeError, match="no GPU is usable: CuPy"):
            fn()
    mt.cuda.manual_seed(1)  # no-ops without a GPU
    mt.cuda.manual_seed_all(1)
    mt.cuda.empty_cache()
    with pytest.raises(TypeError, match="seed must be an int"):
        mt.cuda.manual_seed(1.5)


def test_cudnn_flags_are_settable_no_ops() -> None:
    cudnn = mt.backends.cudnn
    saved = cudnn.benchmark, cudnn.deterministic, cudnn.enabled
    try:
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = True, True, False
        assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (True, True, False)
        assert mt.ones(2).sum().item() == 2.0
    finally:
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = saved


def test_set_num_threads_drives_the_pool_and_blas() -> None:
    from minitorch_cnn.fast import threads

    before = mt.get_num_threads()
    try:
        mt.set_num_threads(1)
        assert mt.get_num_threads() == 1 and threads.pool_size() == 1
        threadpoolctl = pytest.importorskip("threadpoolctl")
        blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        assert all(n == 1 for n in blas), blas
        with pytest.raises(ValueError, match="n must be a positive int"):
            mt.set_num_threads(0)
    finally:
        runtime.reset_num_threads()
    assert mt.get_num_threads() == before


def test_to_accepts_non_blocking() -> None:
    t = mt.ones(2, 3)
    assert t.to("cpu", non_blocking=True).device == "cpu"
    assert t.to("cpu", mt.float64, True).dtype == mt.float64  # torch's positional non_blocking
    assert t.to(device="cpu", dtype=mt.float64, non_blocking=False).dtype == mt.float64
    model = nn.Linear(2, 2).to("cpu", non_blocking=True)
    assert model.weight.device == "cpu"
    with pytest.raises(TypeError, match="non_blocking must be True or False"):
        t.to("cpu", non_blocking="yes")
