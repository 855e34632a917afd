"""safe_load: every loader (mt.load .npz / .safetensors, load_checkpoint, compress.load) refuses files
from elsewhere -- corrupt, pickled, bombs, doctored trees and configs -- with an error that names the
file and says what is wrong, before decoding anything big; and mt.save / save_checkpoint write files
``np.load`` users understand, never half-writing onto a directory."""

from __future__ import annotations

import io
import json
import re
import resource
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, safe_load
from minitorch_cnn.checkpoint import (
    FORMAT,
    CheckpointConfigError,
    load_checkpoint,
    save_checkpoint,
    validate_checkpoint_config,
)
from minitorch_cnn.compress import storage
from minitorch_cnn.safe_load import (
    CorruptFileError,
    LoadError,
    PickledMemberError,
    SizeLimitError,
    TreeLimitError,
)

MiB = 2**20


# --------------------------------------------------------------------------------------------------
# Helpers: loaders, valid sources, hand-built archives
# --------------------------------------------------------------------------------------------------
def _compress_load(p: Path, **kw) -> object:
    return storage.load(p, nn.Linear(16, 8), **kw)


NPZ_LOADERS: dict[str, Callable] = {"mt.load": mt.load, "load_checkpoint": load_checkpoint,
                                    "compress.load": _compress_load}


def _valid_source(loader: str, tmp: Path) -> bytes:
    """A valid file of each loader's format, to truncate."""
    p = tmp / f"src-{loader}.npz"
    if loader == "mt.load":
        mt.save({"fc.weight": mt.randn(16, 8), "fc.bias": mt.zeros(8)}, p)
    elif loader == "load_checkpoint":
        save_checkpoint(p, {"model": {"w": mt.randn(16, 8)}, "epoch": 1, "names": ["a", "b"]})
    else:
        storage.export(nn.Linear(16, 8), p)
    return p.read_bytes()


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def _tree_npy(tree: object) -> bytes:
    return _npy_bytes(np.array(json.dumps({"format": FORMAT, "tree": tree})))


def _zeros_member(zf: zipfile.ZipFile, name: str, nbytes: int) -> None:
    """Stream an .npy of ``nbytes`` zero bytes (uint8) into ``zf`` 1 MiB at a time: never allocates it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (nbytes,)})
    chunk = bytes(MiB)
    with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
        f.write(header.getvalue())
        for start in range(0, nbytes, MiB):
            f.write(chunk[: min(MiB, nbytes - start)])


def _compress_meta(extra_layers: dict | None = None) -> bytes:
    meta = {"format": storage.FORMAT, "layers": extra_layers or {}, "state": [], "extra": {}}
    return _npy_bytes(np.array(json.dumps(meta)))


def _check_refusal(err: pytest.ExceptionInfo, path: Path, what: str) -> None:
    """The message names the file, says what is wrong, and never advises enabling pickle."""
    msg = str(err.value)
    assert str(path) in msg, msg
    assert re.search(what, msg), (what, msg)
    assert "allow_pickle" not in msg, msg
    assert isinstance(err.value, ValueError) and isinstance(err.value, LoadError)
    assert err.value.path == str(path)
    if not isinstance(err.value, PickledMemberError):
        assert "pickled" not in msg.lower(), msg  # "pickled" is reserved for pickled members


# --------------------------------------------------------------------------------------------------
# Not an .npz at all, or a damaged one: every .npz loader, one message shape
# --------------------------------------------------------------------------------------------------
def _bad_empty(p: Path, src: bytes) -> None:
    p.write_bytes(b"")


def _bad_random(p: Path, src: bytes) -> None:
    p.write_bytes(b"\x00\x9f" + np.random.default_rng(0).bytes(4094))


def _bad_text(p: Path, src: bytes) -> None:
    p.write_text("epoch,loss\n1,0.53\n2,0.41\n")


def _bad_zip_not_npz(p: Path, src: bytes) -> None:
    _zip(p, {"readme.txt": b"hello"})


def _bad_npy(p: Path, src: bytes) -> None:
    p.write_bytes(_npy_bytes(np.zeros(3, np.float32)))


def _bad_pickled(p: Path, src: bytes) -> None:
    np.savez(p, evil=np.array([{"a": 1}, None], dtype=object), __tree__=np.array("{}"))


def _bad_lying_npy_header(p: Path, src: bytes) -> None:
    """An .npy header declaring 4 GB where the member holds 16 bytes: must not allocate 4 GB."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**9,)})
    _zip(p, {"w.npy": header.getvalue() + bytes(16)})


def _bad_negative_shape(p: Path, src: bytes) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (-4,)})
    _zip(p, {"w.npy": header.getvalue()})


def _truncate(frac: float) -> Callable:
    def bad(p: Path, src: bytes) -> None:
        p.write_bytes(src[: max(12, int(len(src) * frac))])
    return bad


BAD_NPZ = {
    "empty": (_bad_empty, CorruptFileError, "is empty"),
    "truncated-10%": (_truncate(0.1), CorruptFileError, "corrupt or truncated"),
    "truncated-50%": (_truncate(0.5), CorruptFileError, "corrupt or truncated"),
    "truncated-90%": (_truncate(0.9), CorruptFileError, "corrupt or truncated"),
    "truncated-last-byte": (_truncate(0.9999), CorruptFileError, "corrupt or truncated"),
    "random-bytes": (_bad_random, CorruptFileError, "does not start with a zip signature"),
    "text-file": (_bad_text, CorruptFileError, "is a text file"),
    "zip-not-npz": (_bad_zip_not_npz, CorruptFileError, "'readme.txt' is not a .npy array"),
    "single-npy": (_bad_npy, CorruptFileError, "single .npy array"),
    "pickled-member": (_bad_pickled, PickledMemberError, "'evil' .* holds pickled objects .*never loaded"),
    "lying-npy-header": (_bad_lying_npy_header, CorruptFileError, r"declares shape \(1000000000,\)"),
    "negative-shape": (_bad_negative_shape, CorruptFileError, "negative shape"),
}


@pytest.mark.parametrize("bad", list(BAD_NPZ))
@pytest.mark.parametrize("loader", list(NPZ_LOADERS))
def test_npz_loaders_refuse_bad_files_naming_them(tmp_path, loader, bad) -> None:
    make, exc_type, what = BAD_NPZ[bad]
    path = tmp_path / "runs" / "x" / "last.npz"
    path.parent.mkdir(parents=True)
    make(path, _valid_source(loader, tmp_path))
    with pytest.raises(exc_type) as err:
        NPZ_LOADERS[loader](path)
    _check_refusal(err, path, what)
    assert "pass another file" in str(err.value) or exc_type is PickledMemberError


def test_is_export_file_refuses_random_bytes_by_name(tmp_path) -> None:
    path = tmp_path / "m.npz"
    _bad_random(path, b"")
    with pytest.raises(CorruptFileError) as err:
        storage.is_export_file(path)
    _check_refusal(err, path, "zip signature")


# --------------------------------------------------------------------------------------------------
# .safetensors
# --------------------------------------------------------------------------------------------------
def _st(header: dict | str, data: bytes = b"") -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def _valid_st(tmp: Path) -> bytes:
    p = mt.save({"a": mt.randn(16, 8), "b": mt.zeros(4)}, tmp / "src.safetensors")
    return p.read_bytes()


F32_4 = {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}
BAD_ST: dict[str, tuple[Callable[[Path], bytes], type, str]] = {
    "empty": (lambda t: b"", CorruptFileError, "is empty"),
    "4-bytes": (lambda t: b"\x10\x00\x00\x00", CorruptFileError, "shorter than the 8-byte header length"),
    "truncated-10%": (lambda t: _valid_st(t)[: len(_valid_st(t)) // 10], CorruptFileError, "truncated"),
    "truncated-50%": (lambda t: _valid_st(t)[: len(_valid_st(t)) // 2], CorruptFileError, "truncated"),
    "truncated-90%": (lambda t: _valid_st(t)[: len(_valid_st(t)) * 9 // 10], CorruptFileError, "truncated"),
    "random-bytes": (lambda t: np.random.default_rng(1).bytes(4096), CorruptFileError, "random bytes"),
    "text-file": (lambda t: b"epoch,loss\n1,0.53\n2,0.41\n", CorruptFileError, "is a text file"),
    "an-npz": (lambda t: _valid_source("mt.load", t), CorruptFileError, "zip archive"),
    "header-not-json": (lambda t: _st("{not json"), CorruptFileError, "not valid JSON"),
    "header-a-list": (lambda t: _st("[1, 2]"), CorruptFileError, "does not start with '{'"),
    "lying-offset": (lambda t: _st({"w": F32_4}, bytes(8)), CorruptFileError, "outside the 8 bytes of data"),
    "shape-vs-offsets": (lambda t: _st({"w": {**F32_4, "shape": [1000, 1000]}}, bytes(16)), CorruptFileError,
                         "4,000,000 bytes.* spanning 16 bytes"),
    "overlapping-tensors": (lambda t: _st({"w": F32_4, "v": F32_4}, bytes(16)), CorruptFileError, "overlap"),
    "unknown-dtype": (lambda t: _st({"w": {**F32_4, "dtype": "Q7"}}, bytes(16)), CorruptFileError, "dtype 'Q7'"),
    "object-dtype-name": (lambda t: _st({"w": {**F32_4, "dtype": "O"}}, bytes(16)), CorruptFileError, "dtype 'O'"),
    "negative-shape": (lambda t: _st({"w": {**F32_4, "shape": [-4]}}, bytes(16)), CorruptFileError, "shape"),
    "deep-header": (lambda t: _st('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}"), TreeLimitError, "deeper than 64"),
}


@pytest.mark.parametrize("bad", list(BAD_ST))
def test_safetensors_refuses_bad_files_naming_them(tmp_path, bad) -> None:
    make, exc_type, what = BAD_ST[bad]
    path = tmp_path / "w.safetensors"
    path.write_bytes(make(tmp_path))
    # mt.load recognises a zip by its content whatever its name; the safetensors reader still refuses one
    load = (lambda p: safe_load.read_safetensors(p, "load")) if bad == "an-npz" else mt.load
    with pytest.raises(exc_type) as err:
        load(path)
    _check_refusal(err, path, what)


def test_safetensors_cap_and_opt_in(tmp_path) -> None:
    path = mt.save({"a": mt.zeros(1024), "b": mt.zeros(3)}, tmp_path / "w.safetensors")
    with pytest.raises(SizeLimitError) as err:
        mt.load(path, max_bytes=1000)
    _check_refusal(err, path, r"max_bytes=1_000 allows .*pass max_bytes=4_108 or more")
    back = mt.load(path, max_bytes=4108)
    assert list(back) == ["a", "b"] and back["a"].shape == (1024,)


# --------------------------------------------------------------------------------------------------
# Allocation bounds: deflate bombs and trees naming one member many times
# --------------------------------------------------------------------------------------------------
BOMB_BYTES = 300 * MiB  # > 256 MiB, deflates to about 300 KB


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """One small deflate bomb per loader (plain .npz, checkpoint, compress export): built once, < 1 MB."""
    root = tmp_path_factory.mktemp("bombs")
    out = {}
    for loader in NPZ_LOADERS:
        path = root / f"{loader}.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            _zeros_member(zf, "zeros", BOMB_BYTES)
            if loader == "load_checkpoint":
                zf.writestr("__tree__.npy", _tree_npy({"__dict__": [["w", {"__array__": "zeros", "tensor": True}]]}))
            if loader == "compress.load":
                zf.writestr("__compress__.npy", _compress_meta())
        out[loader] = path
    return out


@pytest.mark.parametrize("loader", list(NPZ_LOADERS))
def test_a_deflate_bomb_is_refused_without_allocating_it(bombs, loader) -> None:
    path = bombs[loader]
    assert path.stat().st_size < 1_000_000
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    try:
        with pytest.raises(SizeLimitError) as err:
            NPZ_LOADERS[loader](path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, peak  # NumPy reports its arrays to tracemalloc: nothing big was made
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 64 * 1024
    _check_refusal(err, path, r"would decode to 314.6 MB from a 0.\d MB file .*limit for an untrusted file is "
                              r"268.4 MB .*pass max_bytes=314_5\d\d_\d\d\d or more \(CLIs: --max-load-bytes\)")


def test_a_bomb_over_the_deflate_limit_is_a_lying_directory(tmp_path) -> None:
    path = _zip(tmp_path / "lie.npz", {"w.npy": _npy_bytes(np.zeros(4096, np.uint8))}, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    cd = data.rindex(b"PK\x01\x02")  # the central directory entry: its file_size field at offset 24
    data[cd + 24: cd + 28] = struct.pack("<I", 2**31)
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError) as err:
        mt.load(path)
    _check_refusal(err, path, "more than its compression can produce")


def _repeating_checkpoint(path: Path, member_bytes: int, times: int, compression: int) -> Path:
    ref = {"__array__": "big", "tensor": False}
    with zipfile.ZipFile(path, "w", compression) as zf:
        _zeros_member(zf, "big", member_bytes)
        zf.writestr("__tree__.npy", _tree_npy({"__dict__": [["copies", {"__list__": [ref] * times, "tuple": False}]]}))
    return path


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"])
@pytest.mark.parametrize("loader", ["mt.load", "load_checkpoint"])
def test_a_tree_naming_one_member_many_times_counts_each_time(tmp_path, loader, compression) -> None:
    path = _repeating_checkpoint(tmp_path / "rep.npz", MiB, 300, compression)  # 300 x 1 MiB > 256 MiB
    with pytest.raises(SizeLimitError) as err:
        NPZ_LOADERS[loader](path)
    _check_refusal(err, path, "would decode to 314.6 MB .*its tree names one member 300 times")


def test_a_member_named_twice_within_the_cap_loads_as_independent_arrays(tmp_path) -> None:
    path = _repeating_checkpoint(tmp_path / "rep.npz", 1000, 3, zipfile.ZIP_STORED)
    copies = load_checkpoint(path)["copies"]
    copies[0][0] = 7
    assert [int(c[0]) for c in copies] == [7, 0, 0] and all(c.shape == (1000,) for c in copies)


def test_opt_in_max_bytes_loads_a_file_over_the_default_cap(tmp_path, monkeypatch) -> None:
    """The floor is lowered to 1 MiB so that the test stays small; the rule is the same at 256 MiB."""
    monkeypatch.setattr(safe_load, "MIN_CAP_BYTES", MiB)
    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _zeros_member(zf, "w", 4 * MiB)
    with pytest.raises(SizeLimitError) as err:
        mt.load(path)
    _check_refusal(err, path, "pass max_bytes=4_194_304 or more")
    assert mt.load(path, max_bytes=4 * MiB)["w"].shape == (4 * MiB,)
    assert load_checkpoint(_repeating_checkpoint(tmp_path / "r.npz", MiB, 3, zipfile.ZIP_DEFLATED),
                           max_bytes=4 * MiB)["copies"][2].shape == (MiB,)
    with pytest.raises(TypeError, match="max_bytes must be None"):
        mt.load(path, max_bytes="lots")


def test_a_legit_compressed_export_loads_under_the_default_cap(tmp_path) -> None:
    model = nn.Linear(16, 8)
    path = tmp_path / "m.npz"
    storage.export(model, path)
    back = storage.load(path, nn.Linear(16, 8))
    np.testing.assert_allclose(back.weight.detach().numpy(), model.weight.detach().numpy())


# --------------------------------------------------------------------------------------------------
# Doctored trees
# --------------------------------------------------------------------------------------------------
def _tree_file(path: Path, tree_json: str, members: dict[str, bytes] | None = None) -> Path:
    return _zip(path, {**(members or {}), "__tree__.npy": _npy_bytes(np.array(tree_json))})


def _doc(tree_json: str) -> str:
    """A tree description's JSON text with the right format and ``tree_json`` as its tree."""
    return '{"format": "' + FORMAT + '", "tree": ' + tree_json + "}"


DOCTORED_TREES = {
    "nested-50000": (_doc('{"__list__": ' * 50_000 + "1" + "}" * 50_000), TreeLimitError, "deeper than 64 levels"),
    "nested-100": (_doc("[" * 100 + "]" * 100), TreeLimitError, "deeper than 64 levels"),
    "nodes-2.1M": (_doc("[" + "0," * 2_100_000 + "0]"), TreeLimitError, "about 2,100,004 values"),
    "nodes-1.1M": (_doc("[" + "0," * 1_100_000 + "0]"), TreeLimitError, "more than 1,000,000 values"),
    "not-json": ("{'format': 1", CorruptFileError, "not valid JSON"),
    "other-format": ('{"format": "somebody-else/9", "tree": {}}', CorruptFileError, "has format 'somebody-else/9'"),
    "unknown-entry": (_doc('{"__set__": [1]}'), CorruptFileError, "unknown entry"),
    "bad-dict-items": (_doc('{"__dict__": [1, 2]}'), CorruptFileError, "unknown entry"),
    "missing-member": (_doc('{"__array__": "w", "tensor": true}'), CorruptFileError, "lacks the member 'w'"),
    "root-not-dict": (_doc('{"__list__": [1]}'), CorruptFileError, "not a checkpoint dict"),
}


@pytest.mark.parametrize("case", list(DOCTORED_TREES))
@pytest.mark.parametrize("loader", ["mt.load", "load_checkpoint"])
def test_doctored_trees_are_refused_without_recursion_errors(tmp_path, loader, case) -> None:
    text, exc_type, what = DOCTORED_TREES[case]
    path = _tree_file(tmp_path / "t.npz", text)
    with pytest.raises(exc_type) as err:
        NPZ_LOADERS[loader](path)
    _check_refusal(err, path, what)


def test_a_tree_member_of_the_wrong_dtype_is_refused(tmp_path) -> None:
    path = _zip(tmp_path / "t.npz", {"__tree__.npy": _npy_bytes(np.zeros(3))})
    with pytest.raises(CorruptFileError) as err:
        load_checkpoint(path)
    _check_refusal(err, path, "'__tree__' member of dtype float64 and shape \\(3,\\), not one string")


# --------------------------------------------------------------------------------------------------
# A training checkpoint's fields
# --------------------------------------------------------------------------------------------------
def _train_tree(**changes: object) -> dict:
    tree = {"model": {"w": mt.zeros(2)}, "optim": {"state": {}, "param_groups": []}, "rng": {},
            "epoch": 2, "loader": {"generator": {}, "batches_done": 0}, "history": [], "best_accuracy": -1.0,
            "running": {"loss_sum": 0.0, "correct": 0, "seen": 0, "time": 0.0, "skipped": 0, "last_loss": 0.0},
            "normalize": [0.28, 0.35], "resume_log": [],
            "config": {"epochs": 5, "batch_size": 64, "eval_batch_size": 1000, "lr": 1e-3, "seed": 0,
                       "limit": None, "momentum": 0.9, "weight_decay": 0.0, "label_smoothing": 0.0,
                       "model": "cnn", "dataset": "builtin", "augment": False}}
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = tree
        for part in parents:
            node = node[part]
        node[leaf] = value
    return tree


BAD_FIELDS = {
    "epoch=-5": ({"epoch": -5}, "'epoch' is -5"),
    "epoch='x'": ({"epoch": "x"}, "'epoch' is 'x'"),
    "epoch=1e9": ({"epoch": 1e9}, "'epoch' is 1000000000.0"),
    "epoch=10**9": ({"epoch": 10**9}, "'epoch' is 1000000000; it must be an int in \\[0, 10_000\\]"),
    "epoch=True": ({"epoch": True}, "'epoch' is True"),
    "epoch=None": ({"epoch": None}, "'epoch' is None"),
    "batches_done=-3": ({"loader__batches_done": -3}, "'loader.batches_done' is -3"),
    "batch_size=0": ({"config__batch_size": 0}, "'config.batch_size' is 0"),
    "batch_size='64'": ({"config__batch_size": "64"}, "'config.batch_size' is '64'"),
    "batch_size=2.5": ({"config__batch_size": 2.5}, "'config.batch_size' is 2.5"),
    "epochs=-1": ({"config__epochs": -1}, "'config.epochs' is -1"),
    "lr=-1": ({"config__lr": -1.0}, "'config.lr' is -1.0"),
    "lr=nan": ({"config__lr": float("nan")}, "'config.lr' is nan"),
    "momentum=1.5": ({"config__momentum": 1.5}, "'config.momentum' is 1.5"),
    "seed=-1": ({"config__seed": -1}, "'config.seed' is -1"),
    "limit=1": ({"config__limit": 1}, "'config.limit' is 1"),
    "model=3": ({"config__model": 3}, "'config.model' is 3"),
    "augment='yes'": ({"config__augment": "yes"}, "'config.augment' is 'yes'"),
    "config=list": ({"config": [1]}, "'config' is \\[1\\]"),
    "normalize-std-0": ({"normalize": [0.5, 0.0]}, "'normalize' is \\[0.5, 0.0\\]"),
    "running-seen=-1": ({"running__seen": -1}, "'running.seen' is -1"),
    "running-extra-key": ({"running__evil": 1}, "'running' is"),
    "history=str": ({"history": "x"}, "'history' is 'x'"),
    "best_accuracy=inf": ({"best_accuracy": float("inf")}, "'best_accuracy' is inf"),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_a_training_checkpoints_fields_are_checked_on_load(tmp_path, case) -> None:
    changes, what = BAD_FIELDS[case]
    path = save_checkpoint(tmp_path / "last.npz", _train_tree(**changes))
    for load in (load_checkpoint, mt.load):
        with pytest.raises(CheckpointConfigError) as err:
            load(path)
        _check_refusal(err, path, what + ".*pass another checkpoint")


def test_validate_checkpoint_config_directly() -> None:
    validate_checkpoint_config(_train_tree())  # a good one passes
    with pytest.raises(ValueError, match="'epoch' is 11; it must be an int in \\[0, 10\\]"):
        validate_checkpoint_config(_train_tree(epoch=11), max_epochs=10)
    with pytest.raises(ValueError, match="'config.batch_size' is 65"):
        validate_checkpoint_config(_train_tree(config__batch_size=65), max_batch_size=64)


def test_a_good_training_checkpoint_and_a_non_training_tree_load(tmp_path) -> None:
    assert load_checkpoint(save_checkpoint(tmp_path / "a.npz", _train_tree()))["epoch"] == 2
    assert mt.load(mt.save({"epoch": -5, "step": "x"}, tmp_path / "b.npz"))["epoch"] == -5  # no config: a user's dict


# --------------------------------------------------------------------------------------------------
# What mt.save writes, and where it refuses to write
# --------------------------------------------------------------------------------------------------
def test_np_load_of_a_flat_state_dict_shows_exactly_its_keys(tmp_path) -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    path = mt.save(model.state_dict(), tmp_path / "w.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(model.state_dict())
        np.testing.assert_array_equal(npz["0.weight"], model.state_dict()["0.weight"].numpy())
    back = mt.load(path)
    assert list(back) == list(model.state_dict()) and all(isinstance(v, mt.Tensor) for v in back.values())
    with np.load(mt.save({"model": model.state_dict(), "epoch": 1}, tmp_path / "c.npz")) as npz:
        assert "__tree__" in npz.files  # nesting needs the one metadata member
    with np.load(mt.save({}, tmp_path / "e.npz")) as npz:
        assert npz.files == [] and mt.load(tmp_path / "e.npz") == {}


@pytest.mark.parametrize("target", ["dir", "empty", "trailing-slash"])
@pytest.mark.parametrize("saver", ["save_checkpoint", "mt.save"])
def test_saving_onto_a_directory_or_empty_path_fails_before_writing(tmp_path, monkeypatch, saver, target) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.npz").mkdir()
    path = {"dir": str(tmp_path / "run.npz"), "empty": "", "trailing-slash": str(tmp_path / "new.npz") + "/"}[target]
    written = []
    monkeypatch.setattr(np.lib.format, "write_array", lambda *a, **k: written.append(1))
    tree = {"model": {"w": mt.zeros(1000)}, "epoch": 1}
    save = save_checkpoint if saver == "save_checkpoint" else (lambda p, t: mt.save(t, p))
    exc = ValueError if target == "empty" else IsADirectoryError
    if saver == "mt.save" and target != "dir":
        exc = (ValueError, IsADirectoryError)
    with pytest.raises(exc) as err:
        save(path, tree)
    msg = str(err.value)
    assert repr(path) in msg or "must end in .npz" in msg, msg
    assert "give a file" in msg or "must end in .npz" in msg, msg
    assert not written
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["run.npz"]  # no temporary file anywhere


def test_cli_flag_max_load_bytes_raises_the_cap(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``--max-load-bytes N`` (train --resume, visualize --checkpoint, compress MODEL) is ``allowing(N)``:
    a checkpoint over the default cap is refused by name, and loads once the flag allows it."""
    from minitorch_cnn import safe_load
    from minitorch_cnn.train import _load_cap, build_parser

    assert _load_cap(["--max-load-bytes", "1000"]) == 1000 and _load_cap([]) is None
    assert "--max-load-bytes" in build_parser().format_help()
    with safe_load.allowing(123):
        assert safe_load.default_max_bytes(10) == 123
        with safe_load.allowing(None):
            assert safe_load.default_max_bytes(10) == 123
    assert safe_load.default_max_bytes(10) == safe_load.MIN_CAP_BYTES
    from minitorch_cnn.train import main

    assert main(["--max-load-bytes", "-1"]) == 2
    assert "--max-load-bytes" in capsys.readouterr().err
