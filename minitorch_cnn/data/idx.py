"""The IDX file format of MNIST and Fashion-MNIST: read it, write it, and refuse broken files.

An IDX file is a tiny header followed by a dense big-endian array::

    bytes 0-1   0x00 0x00                      (the "magic" always starts with two zero bytes)
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   each dimension as a big-endian uint32
    rest        prod(dims) items of the type, big-endian, C order

So ``train-images-idx3-ubyte`` starts ``00 00 08 03 | 60000 | 28 | 28`` (magic 2051) and
``train-labels-idx1-ubyte`` starts ``00 00 08 01 | 60000`` (magic 2049). The files are usually
distributed gzip-compressed (``.gz``); :func:`read_idx` reads both forms, chosen by the file's first
two bytes (gzip's signature ``1f 8b``), not by its name.

A truncated download or a wrong file must never turn into silently wrong images, so every
inconsistency (bad magic, unknown type, payload shorter or longer than the header promises, a cut
gzip stream) raises ``ValueError`` naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .fileio import atomic_write_bytes

__all__ = ["read_idx", "write_idx", "IDX_TYPES"]

#: IDX type code -> big-endian NumPy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=").kind + str(dt.itemsize): code for code, dt in IDX_TYPES.items()}
_GZIP_SIGNATURE = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_SIGNATURE:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:  # EOFError: the stream was cut short
        raise ValueError(
            f"IDX file {str(path)!r} is a corrupt or truncated gzip stream ({exc.__class__.__name__}: "
            f"{exc}); delete it and download it again"
        ) from None


def read_idx(path: str | os.PathLike, expected_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a native-endian NumPy array.

    Args:
        path: the file, e.g. ``"train-images-idx3-ubyte.gz"``.
        expected_ndim: when given, a file with another number of dimensions is an error (an image
            file must have 3, a label file 1), so swapped file names are caught here.

    Returns:
        An array of shape ``dims`` from the header; ``uint8`` for the MNIST family.

    Raises:
        FileNotFoundError: the file does not exist.
        IsADirectoryError: ``path`` is a directory.
        ValueError: an empty file, a corrupt or cut gzip stream, bad magic, unknown type code,
            unexpected rank, or a payload whose size does not match the header (a truncated or
            padded file).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_idx: path must be a str or os.PathLike, got {type(path).__name__} ({path!r})")
    path = Path(path)
    if path.is_dir():
        try:
            inside = sorted(p.name for p in path.iterdir() if "idx" in p.name)[:4]
        except OSError:  # an unreadable directory: no hint, the same error
            inside = []
        hint = f" (it holds e.g. {', '.join(map(repr, inside))})" if inside else ""
        raise IsADirectoryError(
            f"IDX file {str(path)!r} is a directory, not a file{hint}; pass the path of one IDX file, "
            "e.g. <dir>/train-images-idx3-ubyte.gz"
        )
    if not path.is_file():
        if path.exists():
            raise ValueError(f"IDX file {str(path)!r} is not a regular file; pass the path of an IDX file")
        raise FileNotFoundError(f"IDX file {str(path)!r} does not exist; check the path (or download the data)")
    raw = _read_bytes(path)
    where = f"IDX file {str(path)!r}"
    if not raw:
        raise ValueError(f"{where} is empty (0 bytes{' after gunzip' if path.stat().st_size else ''}); "
                         "delete it and download it again")
    if len(raw) < 4:
        raise ValueError(f"{where} is truncated: {len(raw)} bytes, shorter than the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{where} has a bad magic number 0x{raw[:4].hex()}: an IDX file starts with two zero bytes "
            "(e.g. 0x00000803 for images, 0x00000801 for labels). Is it the right file?"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise ValueError(f"{where} has unknown data type code 0x{code:02X}; expected one of {known}")
    if ndim == 0:
        raise ValueError(f"{where} declares 0 dimensions (magic 0x{raw[:4].hex()}); expected at least 1")
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(
            f"{where} has {ndim} dimensions but {expected_ndim} were expected "
            f"(images have 3: N, rows, cols; labels have 1: N). Are the file names swapped?"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{where} is truncated inside its header: {len(raw)} bytes, need {header}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: 4 dims of 2**32 - 1 cannot overflow
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says"
        raise ValueError(
            f"{where} is {what}: header shape {dims} of {dtype.newbyteorder('=').name} needs "
            f"{expected} data bytes but {got} follow the header"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)  # native order, writeable, owns its memory


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically (a temporary file then ``os.replace``).

    Args:
        path: destination; ``compress=None`` gzips when the name ends in ``.gz``.
        array: uint8, int8, int16, int32, float32 or float64, 1 to 255 dimensions.
        compress: force gzip on (True) or off (False).
    """
    path = Path(path)
    array = np.asarray(array)
    key = array.dtype.kind + str(array.dtype.itemsize)
    if key not in _CODE_OF:
        raise TypeError(
            f"write_idx: dtype {array.dtype} has no IDX type code; use uint8, int8, int16, int32, "
            "float32 or float64 (e.g. array.astype(np.uint8))"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions, got shape {array.shape}")
    code = _CODE_OF[key]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    atomic_write_bytes(path, payload)
    return path
