"""The byte encodings round-trip exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minitorch_cnn.compress import encoding


@given(st.lists(st.integers(0, 2**34), max_size=50))
def test_varint_round_trip(values: list) -> None:
    data = encoding.varint_encode(np.array(values, dtype=np.int64))
    np.testing.assert_array_equal(encoding.varint_decode(data), np.array(values, dtype=np.int64))


def test_varint_small_gaps_take_one_byte() -> None:
    assert encoding.varint_encode(np.array([1, 127, 128, 16383, 16384])).size == 1 + 1 + 2 + 2 + 3


@given(st.lists(st.integers(0, 10**6), unique=True, max_size=40))
def test_delta_round_trip(positions: list) -> None:
    p = np.sort(np.array(positions, dtype=np.int64))
    gaps = encoding.delta_indices(p)
    assert gaps.size == 0 or gaps.min() >= 1
    np.testing.assert_array_equal(encoding.undelta_indices(gaps), p)


@given(st.lists(st.integers(0, 15), max_size=41))
def test_nibbles_round_trip(codes: list) -> None:
    packed = encoding.pack_nibbles(np.array(codes))
    assert packed.size == (len(codes) + 1) // 2
    np.testing.assert_array_equal(encoding.unpack_nibbles(packed, len(codes)), codes)
