"""More bad input: empty conv batches with a bias, dropout on integer tensors, load_state_dict with
non-array values, broken IDX files and optimizer steps with a mis-shaped gradient.

Each error case asserts the exception type, that the message names the argument / file / key and
the shapes or dtype, and (where state exists) that nothing was changed by the failing call.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, nn, optim
from minitorch_cnn.data.idx import read_idx, write_idx
from minitorch_cnn.nn import functional as F


def _np(t) -> np.ndarray:
    return backend.to_numpy(t._array if isinstance(t, mt.Tensor) else t)


# --------------------------------------------------------------------------------------------------
# 1. Convolutions on an empty batch (N = 0) with a bias: empty output, zero weight/bias gradients
# --------------------------------------------------------------------------------------------------
CONV_CASES = [
    (fn, nd, c_in)
    for nd in (1, 2, 3)
    for fn in ("conv", "conv_transpose")
    for c_in in (1, 8)  # 8 input channels: the 2-d shifted-slice kernel; 1: im2col
]


@pytest.mark.parametrize("fn, nd, c_in", CONV_CASES, ids=[f"{f}{n}d-cin{c}" for f, n, c in CONV_CASES])
def test_conv_empty_batch_with_bias(device: str, fn: str, nd: int, c_in: int) -> None:
    c_out, k, size = 4, 3, 5
    rng = np.random.default_rng(0)
    x = mt.tensor(np.zeros((0, c_in) + (size,) * nd, np.float64), device=device, requires_grad=True)
    w_shape = (c_out, c_in) + (k,) * nd if fn == "conv" else (c_in, c_out) + (k,) * nd
    w = mt.tensor(rng.standard_normal(w_shape), device=device, requires_grad=True)
    b = mt.tensor(rng.standard_normal(c_out), device=device, requires_grad=True)
    op = getattr(F, f"{fn}{nd}d")
    y = op(x, w, b, padding=1)
    # padding 1 with a 3-tap kernel keeps the size, for the convolution and its transpose alike
    assert tuple(y.shape) == (0, c_out) + (size,) * nd
    y.sum().backward()
    # the math: every gradient is a sum over the (empty) batch, so it is zero, shaped like its input
    assert tuple(x.grad.shape) == tuple(x.shape)
    assert tuple(w.grad.shape) == w_shape and w.grad.dtype == w.dtype
    assert tuple(b.grad.shape) == (c_out,) and b.grad.dtype == b.dtype
    np.testing.assert_array_equal(_np(w.grad), np.zeros(w_shape))
    np.testing.assert_array_equal(_np(b.grad), np.zeros(c_out))


def test_conv2d_layer_empty_batch_bias_grad_then_nonempty_still_right() -> None:
    """An nn.Conv2d with a bias: the empty batch gives zero grads; a real batch afterwards still
    gives the bias gradient ``sum of grad_y`` (the reshape that broke on N = 0 is still right)."""
    conv = nn.Conv2d(2, 3, 3, padding=1)
    conv(mt.zeros(0, 2, 4, 4)).sum().backward()
    np.testing.assert_array_equal(_np(conv.bias.grad), np.zeros(3, np.float32))
    np.testing.assert_array_equal(_np(conv.weight.grad), np.zeros((3, 2, 3, 3), np.float32))
    conv.zero_grad()
    conv(mt.ones(2, 2, 4, 4)).sum().backward()
    np.testing.assert_allclose(_np(conv.bias.grad), np.full(3, 2 * 4 * 4, np.float32))


# --------------------------------------------------------------------------------------------------
# 2. Dropout on an integer or bool tensor: a TypeError naming the dtype and the fix
# --------------------------------------------------------------------------------------------------
DROPOUTS = {
    "dropout": (lambda x, training: F.dropout(x, 0.5, training), 2),
    "dropout1d": (lambda x, training: F.dropout1d(x, 0.5, training), 3),
    "dropout2d": (lambda x, training: F.dropout2d(x, 0.5, training), 4),
    "dropout3d": (lambda x, training: F.dropout3d(x, 0.5, training), 5),
    "nn.Dropout": (lambda x, training: nn.Dropout(0.5).train(training)(x), 2),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(DROPOUTS))
def test_dropout_rejects_integer_tensors(name: str, dtype: str) -> None:
    fn, ndim = DROPOUTS[name]
    arr = np.ones((2,) * ndim, dtype=dtype)
    x = mt.tensor(arr)
    with pytest.raises(TypeError) as info:
        fn(x, True)
    msg = str(info.value)
    assert "dropout" in msg and f"dtype {dtype}" in msg and ".float()" in msg
    assert str((2,) * ndim) in msg
    np.testing.assert_array_equal(_np(x), arr)  # the input is untouched


@pytest.mark.parametrize("name", ["dropout", "nn.Dropout"])
def test_dropout_rejects_integer_tensor_in_eval_mode_too(name: str) -> None:
    """Refused in eval mode as well, so the bug shows up at once rather than when training starts."""
    fn, ndim = DROPOUTS[name]
    with pytest.raises(TypeError, match="int64"):
        fn(mt.tensor(np.ones((2,) * ndim, np.int64)), False)


def test_dropout_float_tensors_still_work(device: str) -> None:
    for dtype in (np.float16, np.float32, np.float64):
        x = mt.tensor(np.ones((4, 5), dtype), device=device)
        y = F.dropout(x, 0.5)
        assert y.dtype == x.dtype
        assert set(np.unique(_np(y)).tolist()) <= {0.0, 2.0}


# --------------------------------------------------------------------------------------------------
# 3. load_state_dict with a non-array value: RuntimeError naming key, type and expected shape; atomic
# --------------------------------------------------------------------------------------------------
def _net() -> nn.Module:
    mt.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def _snapshot(module: nn.Module) -> dict:
    return {k: _np(v).copy() for k, v in module.state_dict().items()}


def _assert_same(module: nn.Module, before: dict) -> None:
    after = _snapshot(module)
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)


BAD_VALUES = {
    "str": ("abc", "a str ('abc')"),
    "bytes": (b"\x00\x01", "a bytes"),
    "None": (None, "got None"),
    "list": ([0.5, 0.25], "a list of 2 items"),
    "tuple": ((0.5, 0.25), "a tuple of 2 items"),
    "dict": ({"data": [1, 2]}, "a dict of 1 items"),
    "object": (object(), "an object"),
    "str_array": (np.array(["a", "b"]), "dtype <U1"),
    "object_array": (np.array([None, None], dtype=object), "dtype object"),
    "complex_array": (np.zeros(2, np.complex128), "dtype complex128"),
}


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_load_state_dict_non_array_value(kind: str) -> None:
    net = _net()
    before = _snapshot(net)
    sd = {k: v.detach() + 1 for k, v in net.state_dict().items()}  # every other entry would change
    value, described = BAD_VALUES[kind]
    sd["0.bias"] = value
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "'0.bias'" in msg and described in msg
    assert "expected a Tensor or array of shape (2,) (float32)" in msg
    _assert_same(net, before)  # atomic: the good entries were not copied either


def test_load_state_dict_non_array_value_strict_false_also_atomic() -> None:
    net = _net()
    before = _snapshot(net)
    sd = {k: v.detach() + 1 for k, v in net.state_dict().items()}
    sd["1.running_var"] = "oops"
    with pytest.raises(RuntimeError, match=r"'1\.running_var'.*a str"):
        net.load_state_dict(sd, strict=False)
    _assert_same(net, before)


def test_load_state_dict_missing_key_leaves_module_unchanged() -> None:
    """strict=True with a missing key: nothing is copied (the present entries included)."""
    net = _net()
    before = _snapshot(net)
    sd = {k: v.detach() + 1 for k, v in net.state_dict().items()}
    del sd["0.weight"]
    with pytest.raises(RuntimeError, match='Missing key.*"0.weight"'):
        net.load_state_dict(sd)
    _assert_same(net, before)


def test_load_state_dict_good_values_still_load() -> None:
    net = _net()
    sd = {k: _np(v) + 1 for k, v in net.state_dict().items()}
    sd["1.num_batches_tracked"] = 5  # a Python number for a 0-d buffer is fine
    assert net.load_state_dict(sd) == ([], [])
    np.testing.assert_array_equal(_np(net[0].weight), sd["0.weight"])
    assert int(_np(net[1].num_batches_tracked)) == 5


# --------------------------------------------------------------------------------------------------
# 4. read_idx on broken paths and files: the right exception naming the file and what is wrong
# --------------------------------------------------------------------------------------------------
def _good_gz(tmp_path) -> bytes:
    return write_idx(tmp_path / "good.gz", np.arange(600, dtype=np.uint8).reshape(6, 10, 10)).read_bytes()


def _flip_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 8]) + data[mid + 8:]


DAMAGE = {
    # kind: (bytes of the file, exception, words the message must hold)
    "empty": (lambda tp: b"", ValueError, "is empty (0 bytes)"),
    "empty_gzip": (lambda tp: gzip.compress(b""), ValueError, "is empty (0 bytes after gunzip)"),
    "short_magic": (lambda tp: b"\x00\x00\x08", ValueError, "shorter than the 4-byte magic"),
    "bad_magic": (lambda tp: b"PK\x03\x04" + b"\0" * 40, ValueError, "bad magic number 0x504b0304"),
    "bad_type_code": (lambda tp: bytes.fromhex("00000a01" "00000001") + b"\0", ValueError,
                      "unknown data type code 0x0A"),
    "cut_header": (lambda tp: bytes.fromhex("00000803" "00000002" "0000"), ValueError,
                   "truncated inside its header"),
    "truncated_payload": (lambda tp: bytes.fromhex("00000802" "00000003" "00000004") + b"\1" * 5, ValueError,
                          "is truncated: header shape (3, 4)"),
    "padded_payload": (lambda tp: bytes.fromhex("00000801" "00000002") + b"\1" * 3, ValueError,
                       "longer than its header says"),
    "cut_gzip": (lambda tp: _good_gz(tp)[:-40], ValueError, "corrupt or truncated gzip"),
    "corrupt_gzip": (lambda tp: _flip_middle(_good_gz(tp)), ValueError, "corrupt or truncated gzip"),
    "gzip_trailing_garbage": (lambda tp: _good_gz(tp) + b"garbage!", ValueError, "corrupt or truncated gzip"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_read_idx_damaged_file(tmp_path, kind: str) -> None:
    make, exc, words = DAMAGE[kind]
    path = tmp_path / f"damaged-{kind}-idx"
    path.write_bytes(make(tmp_path))
    with pytest.raises(exc) as info:
        read_idx(path)
    msg = str(info.value)
    assert f"damaged-{kind}-idx" in msg
    assert words in msg


def test_read_idx_directory(tmp_path) -> None:
    with pytest.raises(IsADirectoryError) as info:
        read_idx(tmp_path)
    msg = str(info.value)
    assert str(tmp_path) in msg and "is a directory" in msg and "one IDX file" in msg


def test_read_idx_directory_names_the_idx_files_inside(tmp_path) -> None:
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(IsADirectoryError, match="train-labels-idx1-ubyte.gz"):
        read_idx(str(tmp_path))


def test_read_idx_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no-such-idx.*does not exist; check the path"):
        read_idx(tmp_path / "no-such-idx")


@pytest.mark.parametrize("bad", [None, 3, b"\x00"], ids=["None", "int", "bytes"])
def test_read_idx_path_of_wrong_type(bad) -> None:
    with pytest.raises(TypeError, match=f"read_idx: path must be a str or os.PathLike, got {type(bad).__name__}"):
        read_idx(bad)


def test_read_idx_good_files_still_read(tmp_path) -> None:
    a = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    for name in ("a.idx", "a.idx.gz"):
        np.testing.assert_array_equal(read_idx(write_idx(tmp_path / name, a), expected_ndim=3), a)


# --------------------------------------------------------------------------------------------------
# 5. Optimizer steps with a gradient of the wrong shape / dtype / device: nothing is updated
# --------------------------------------------------------------------------------------------------
OPTIMIZERS = {
    "SGD": lambda groups: optim.SGD(groups, lr=0.1, momentum=0.9),
    "SGD-plain": lambda groups: optim.SGD(groups, lr=0.1),
    "Adam": lambda groups: optim.Adam(groups, lr=0.1, amsgrad=True),
    "AdamW": lambda groups: optim.AdamW(groups, lr=0.1),
    "RMSprop": lambda groups: optim.RMSprop(groups, lr=0.1, momentum=0.5, centered=True),
}

BAD_GRADS = {
    # kind: (the bad .grad for a (3, 4) float32 parameter, exception, words the message must hold)
    "wrong_shape": (lambda: mt.ones(2, 4), RuntimeError, "its .grad has shape (2, 4)"),
    "transposed": (lambda: mt.ones(4, 3), RuntimeError, "its .grad has shape (4, 3)"),
    "broadcastable": (lambda: mt.ones(1, 4), RuntimeError, "its .grad has shape (1, 4)"),
    "float64": (lambda: mt.ones(3, 4, dtype=mt.float64), RuntimeError, "its .grad has dtype float64"),
    "int64": (lambda: mt.tensor(np.ones((3, 4), np.int64)), RuntimeError, "its .grad has dtype int64"),
    "other_device": (lambda: mt.ones(3, 4, device="strict"), RuntimeError, "its .grad is on device strict"),
    "ndarray": (lambda: np.ones((3, 4), np.float32), TypeError, ".grad must be a Tensor, got ndarray"),
}


def _opt_snapshot(opt) -> list:
    out = []
    for group in opt.param_groups:
        for p in group["params"]:
            state = {k: (_np(v).copy() if hasattr(v, "shape") else v) for k, v in opt.state.get(p, {}).items()}
            out.append((_np(p).copy(), state))
    return out


@pytest.mark.parametrize("kind", sorted(BAD_GRADS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_step_bad_gradient(name: str, kind: str) -> None:
    mt.manual_seed(0)
    a, b = nn.Parameter(mt.randn(2)), nn.Parameter(mt.randn(5))
    c = nn.Parameter(mt.randn(3, 4))  # parameter 1 of group 1
    opt = OPTIMIZERS[name]([{"params": [a, b]}, {"params": [nn.Parameter(mt.randn(1)), c], "lr": 0.01}])
    params = [p for g in opt.param_groups for p in g["params"]]
    for p in params:
        p.grad = mt.ones(*p.shape)
    opt.step()  # one good step, so there is optimizer state that must survive the bad one
    before = _opt_snapshot(opt)
    make, exc, words = BAD_GRADS[kind]
    c.grad = make()
    with pytest.raises(exc) as info:
        opt.step()
    msg = str(info.value)
    assert f"{type(opt).__name__}.step: parameter 1 of param group 1 (shape (3, 4), float32)" in msg
    assert words in msg
    after = _opt_snapshot(opt)  # no parameter (not even those before c) and no state changed
    assert len(after) == len(before)
    for (p0, s0), (p1, s1) in zip(before, after):
        np.testing.assert_array_equal(p1, p0)
        assert s1.keys() == s0.keys()
        for k in s0:
            np.testing.assert_array_equal(s1[k], s0[k])
    c.grad = mt.ones(3, 4)  # fixed: the step goes through
    opt.step()
    assert not np.array_equal(_np(c), before[-1][0])
