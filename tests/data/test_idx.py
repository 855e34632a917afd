"""IDX reader/writer: round trips (raw and gzip) and clear errors for broken files."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitorch_cnn.data.idx import read_idx, write_idx


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    dtype=st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
    gz=st.booleans(),
)
def test_round_trip(tmp_path_factory, shape, dtype, gz):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 50).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_known_header_bytes(tmp_path):
    """The MNIST image header: 00 00 08 03 | N | 28 | 28, big-endian."""
    path = write_idx(tmp_path / "img", np.zeros((2, 28, 28), np.uint8))
    raw = path.read_bytes()
    assert raw[:16] == bytes.fromhex("00000803" "00000002" "0000001c" "0000001c")
    assert len(raw) == 16 + 2 * 28 * 28
    # gzip is detected by content, not by name
    (tmp_path / "renamed").write_bytes(gzip.compress(raw))
    assert read_idx(tmp_path / "renamed").shape == (2, 28, 28)


def test_big_endian_values(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes.fromhex("00000b01" "00000002" "0102" "fffe"))  # int16 [258, -2]
    np.testing.assert_array_equal(read_idx(path), np.array([258, -2], np.int16))


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "shorter than the 4-byte magic"),
        (bytes.fromhex("08030000") + b"\0" * 20, "bad magic number"),
        (bytes.fromhex("00000703") + b"\0" * 20, "unknown data type code 0x07"),
        (bytes.fromhex("00000803" "00000001"), "truncated inside its header"),
        (bytes.fromhex("00000801" "00000005") + b"\1\2\3", "is truncated: header shape (5,)"),
        (bytes.fromhex("00000801" "00000002") + b"\1\2\3", "longer than its header says"),
    ],
)
def test_corrupt_files_name_file_and_problem(tmp_path, payload, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="bad-idx1-ubyte") as info:
        read_idx(path)
    assert message in str(info.value)


def test_truncated_gzip(tmp_path):
    good = write_idx(tmp_path / "a.gz", np.arange(1000, dtype=np.uint8))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(ValueError, match=r"cut\.gz.*corrupt or truncated gzip"):
        read_idx(cut)


def test_expected_ndim_and_missing(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="1 dimensions but 3 were expected"):
        read_idx(path, expected_ndim=3)
    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


def test_write_rejects_bad_dtype(tmp_path):
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint64))
    assert not list(tmp_path.iterdir())  # nothing half-written
