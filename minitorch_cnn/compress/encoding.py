"""Byte-level encodings for compressed weights (NumPy arrays on the host; no pickle).

* ``varint_encode`` / ``varint_decode``: non-negative integers in LEB128, 7 bits per byte, the high
  bit saying "more bytes follow". Gaps between the positions of the non-zero weights of a pruned
  layer (relative, "delta" indexing as in Deep Compression) are mostly small: one byte each.
* ``pack_nibbles`` / ``unpack_nibbles``: codes below 16 (4-bit k-means indices), two per byte.
* ``np.packbits`` / ``np.unpackbits`` for 1-bit signs (binary weights) are used directly.

Everything is vectorised: no Python loop over elements.
"""

from __future__ import annotations

import numpy as np

__all__ = ["varint_encode", "varint_decode", "pack_nibbles", "unpack_nibbles", "delta_indices", "undelta_indices"]


def varint_encode(values: np.ndarray) -> np.ndarray:
    """uint8 LEB128 bytes of non-negative integers (``< 2**35``)."""
    v = np.asarray(values, dtype=np.uint64).reshape(-1)
    nbytes = np.ones(v.shape, dtype=np.int64)
    for k in range(1, 5):
        nbytes += v >= np.uint64(1 << (7 * k))
    groups = ((v[:, None] >> (7 * np.arange(5, dtype=np.uint64))[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    more = np.arange(5)[None, :] < (nbytes[:, None] - 1)
    groups |= (more * 0x80).astype(np.uint8)
    return groups[np.arange(5)[None, :] < nbytes[:, None]]


def varint_decode(data: np.ndarray) -> np.ndarray:
    """Inverse of ``varint_encode`` (int64)."""
    b = np.asarray(data, dtype=np.uint8).reshape(-1)
    if b.size == 0:
        return np.zeros(0, dtype=np.int64)
    last = (b & 0x80) == 0
    starts = np.concatenate([[0], np.nonzero(last)[0][:-1] + 1])
    position = np.arange(b.size) - np.repeat(starts, np.diff(np.concatenate([starts, [b.size]])))
    parts = (b & 0x7F).astype(np.int64) << (7 * position)
    return np.add.reduceat(parts, starts)


def delta_indices(flat_positions: np.ndarray) -> np.ndarray:
    """Sorted positions -> gaps (the first gap counts from -1, so all gaps are >= 1)."""
    return np.diff(np.concatenate([[-1], flat_positions])).astype(np.int64)


def undelta_indices(gaps: np.ndarray) -> np.ndarray:
    return np.cumsum(gaps) - 1


def pack_nibbles(codes: np.ndarray) -> np.ndarray:
    """Codes ``0..15`` two per byte (low nibble first); odd lengths get a zero pad nibble."""
    c = np.asarray(codes, dtype=np.uint8).reshape(-1)
    if c.size % 2:
        c = np.concatenate([c, np.zeros(1, dtype=np.uint8)])
    return (c[0::2] | (c[1::2] << 4)).astype(np.uint8)


def unpack_nibbles(packed: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(packed, dtype=np.uint8)
    return np.stack([p & 0x0F, p >> 4], axis=1).reshape(-1)[:n]
