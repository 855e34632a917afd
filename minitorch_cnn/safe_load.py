"""Reading files that came from elsewhere: every loader's checks, made *before* anything big is read.

A file is data someone else controls. Three things can go wrong when a loader trusts it:

* **It is not what its name says** -- empty, truncated, random bytes, a text file, a zip that is not
  an ``.npz``. NumPy's own errors for these are confusing (random bytes get the advice to load them
  with ``allow_pickle=True``, which is exactly what must never be done with a file from elsewhere).
  Here each one is a :class:`CorruptFileError` that names the file, says what is wrong and what to do.
* **It holds pickled objects** (an array of dtype ``object``): unpickling can run any code, so such a
  member is never read; :class:`PickledMemberError` says so and does not suggest enabling pickle.
* **It asks for more memory than it is worth.** A ``.npz`` member is deflate-compressed at up to
  1032:1, so 6 MB of zeros can declare 6 GB; a checkpoint's JSON tree can name one big member many
  times; a ``.safetensors`` header can point many tensors at one region; JSON nested 50,000 deep
  overflows the Python stack. So the declared sizes are read first -- the zip directory, each
  ``.npy`` header's shape and dtype, the safetensors header -- checked against the file's size and
  summed, and the total is checked against a cap before one byte of data is decoded
  (:class:`SizeLimitError`, :class:`TreeLimitError`).

The cap (:func:`default_max_bytes`) is ``max(256 MiB, 100 x the file's size)``: a file of at most
1 MB can never make a loader allocate more than 256 MiB, while any honest file loads (stored
``.npz`` and ``.safetensors`` decode to about their own size; real weights deflate by far less than
100x). A caller who trusts a file opts in with ``max_bytes=`` (``mt.load``, ``load_checkpoint``,
``compress.load``): that number replaces the default cap.

All error classes derive from ``ValueError`` (``cli.user_errors`` turns them into one-line usage
errors) through :class:`LoadError`, whose ``path`` attribute is the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LoadError", "CorruptFileError", "PickledMemberError", "SizeLimitError", "TreeLimitError",
           "default_max_bytes", "allowing", "NpzArchive", "read_npz", "read_safetensors", "parse_json", "check_file",
           "MIN_CAP_BYTES", "MAX_RATIO", "MAX_TREE_DEPTH", "MAX_TREE_NODES"]

MIN_CAP_BYTES = 256 * 2**20
"""The cap is never below this: any file may decode to 256 MiB."""
MAX_RATIO = 100
"""... and a file may decode to 100 times its own size (1 MB -> 100 MB < 256 MiB)."""
MAX_TREE_DEPTH = 64
"""JSON trees (checkpoint descriptions, headers) nest at most this deep: a training checkpoint uses 6."""
MAX_TREE_NODES = 1_000_000
"""... and hold at most this many values (a 10,000-epoch training history holds about 150,000)."""
_DEFLATE_MAX_RATIO = 1032  # zlib cannot expand one compressed byte into more than ~1032 bytes
_NPY_MAX_HEADER = 10_000  # NumPy's own default limit on an .npy header
_SAFETENSORS_MAX_HEADER = 100_000_000  # the safetensors library's limit
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a member, or an empty archive's end record
_NPY_MAGIC = b"\x93NUMPY"
_SAFETENSORS_DTYPES = {"BOOL": "?", "U8": "u1", "I8": "i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
                       "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8"}


class LoadError(ValueError):
    """A file that is refused; ``path`` is the file. The message names it, what is wrong and the fix."""

    def __init__(self, message: str, path: str | os.PathLike | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)


class CorruptFileError(LoadError):
    """Not readable as its format: empty, truncated, random bytes, another format, inconsistent headers."""


class PickledMemberError(LoadError):
    """A member holds pickled Python objects (dtype ``object``): never loaded, since unpickling runs code."""


class SizeLimitError(LoadError):
    """Decoding the file would allocate more than the cap; pass ``max_bytes=`` if the file is trusted."""


class TreeLimitError(LoadError):
    """A JSON tree nests deeper than :data:`MAX_TREE_DEPTH` or holds more than :data:`MAX_TREE_NODES` values."""


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 10**9 else f"{n / 1e9:,.1f} GB"


_raised_cap: list[int] = []  # set by ``allowing(n)``: a CLI's --max-load-bytes


def default_max_bytes(file_size: int) -> int:
    """The cap on what a file of ``file_size`` bytes may decode to: ``max(256 MiB, 100 * file_size)``,
    or what the innermost ``allowing(n)`` (a CLI's ``--max-load-bytes``) sets."""
    return _raised_cap[-1] if _raised_cap else max(MIN_CAP_BYTES, MAX_RATIO * int(file_size))


@contextlib.contextmanager
def allowing(max_bytes: int | None) -> Iterator[None]:
    """``with allowing(n):`` every load in the block may decode up to ``n`` bytes (``None``: the default
    cap). The CLIs' ``--max-load-bytes N`` is this, around the command."""
    _check_max_bytes(max_bytes, "allowing")
    if max_bytes is not None:
        _raised_cap.append(max_bytes)
    try:
        yield
    finally:
        if max_bytes is not None:
            _raised_cap.pop()


def _check_max_bytes(max_bytes: int | None, fn: str) -> None:
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0):
        raise TypeError(f"{fn}: max_bytes must be None (the default cap) or an int >= 0, got {max_bytes!r}")


def check_file(path: str | os.PathLike, fn: str) -> int:
    """The size of ``path`` in bytes; ``FileNotFoundError`` if it is missing or not a regular file."""
    p = Path(path)
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "does not exist" if not p.exists() else "is not a regular file"
        raise FileNotFoundError(f"{fn}: {str(p)!r} {what}; pass the path of a file")
    return p.stat().st_size


def _describe_start(head: bytes) -> str:
    """What the first bytes of a file that has not the expected signature look like."""
    if not head:
        return "it is empty (0 bytes)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\r\n\t" for c in text):
        return f"it is a text file (it starts with {text[:16]!r})"
    return f"it does not start with a zip signature (first bytes {head[:8].hex()})"


def budget_error(path: str | os.PathLike, fn: str, total: int, file_size: int, max_bytes: int | None,
                 what: str = "") -> SizeLimitError:
    """The :class:`SizeLimitError` for ``total`` declared bytes over the cap (default or ``max_bytes``)."""
    ratio = total / max(file_size, 1)
    if max_bytes is None:
        limit = f"the limit for an untrusted file is {_mb(default_max_bytes(file_size))} (max(256 MiB, " \
                f"{MAX_RATIO} x its size))"
    else:
        limit = f"max_bytes={max_bytes:_} allows {_mb(max_bytes)}"
    return SizeLimitError(
        f"{fn}: {str(path)!r} would decode to {_mb(total)}{what} from a {_mb(file_size)} file ({ratio:,.0f}x); "
        f"{limit}. A deflate bomb or a doctored file looks like this: if you trust it, pass "
        f"max_bytes={total:_} or more (CLIs: --max-load-bytes)", path)


def check_budget(path: str | os.PathLike, fn: str, total: int, file_size: int, max_bytes: int | None,
                 what: str = "") -> None:
    """Raise :class:`SizeLimitError` if ``total`` decoded bytes exceed the cap for this file."""
    cap = default_max_bytes(file_size) if max_bytes is None else max_bytes
    if total > cap:
        raise budget_error(path, fn, total, file_size, max_bytes, what)


# --------------------------------------------------------------------------------------------------
# JSON trees
# --------------------------------------------------------------------------------------------------
def parse_json(text: str, path: str | os.PathLike, fn: str, what: str) -> Any:
    """``json.loads(text)`` for a tree stored in ``path``, refusing deep or huge trees with a clear error.

    The number of values is bounded first from the text (commas and brackets, counted in C), so a
    huge tree is refused before it is built; the depth is measured without recursion afterwards
    (JSON nested thousands deep would otherwise raise ``RecursionError`` here or in the caller).
    """
    bound = text.count(",") + text.count("[") + text.count("{") + 1
    if bound > MAX_TREE_NODES * 2:
        raise TreeLimitError(f"{fn}: the {what} of {str(path)!r} holds about {bound:,} values, more than the "
                             f"{MAX_TREE_NODES:,} a file written by minitorch_cnn holds; the file was doctored or is "
                             "not one of ours: pass another file", path)
    try:
        tree = json.loads(text)
    except RecursionError:
        raise TreeLimitError(f"{fn}: the {what} of {str(path)!r} nests deeper than {MAX_TREE_DEPTH} levels "
                             "(thousands of brackets); a file written by minitorch_cnn never does: pass another "
                             "file", path) from None
    except ValueError as exc:  # json.JSONDecodeError
        raise CorruptFileError(f"{fn}: the {what} of {str(path)!r} is not valid JSON ({exc}); the file is "
                               "damaged: re-save it or pass another file", path) from None
    nodes, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_TREE_DEPTH:
            raise TreeLimitError(f"{fn}: the {what} of {str(path)!r} nests deeper than {MAX_TREE_DEPTH} levels; a "
                                 "file written by minitorch_cnn never does: pass another file", path)
        if nodes > MAX_TREE_NODES:
            raise TreeLimitError(f"{fn}: the {what} of {str(path)!r} holds more than {MAX_TREE_NODES:,} values; "
                                 "a file written by minitorch_cnn never does: pass another file", path)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, depth + 1) for c in children)
    return tree


# --------------------------------------------------------------------------------------------------
# .npz
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NpyMember:
    """One ``.npy`` member of an ``.npz``, as its headers declare it (nothing of its data read yet)."""

    name: str
    info: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    nbytes: int  # shape x itemsize: what reading it allocates


class NpzArchive:
    """An ``.npz`` opened for reading, every member's declared size checked; read members one by one.

    ``with NpzArchive(path, "mt.load") as npz: npz.members, npz.read(name)``. Opening checks the
    signature, the zip directory (each member a stored or deflated ``.npy``, inside the file, its
    size possible for its compression), and each ``.npy`` header (not object dtype; shape x itemsize
    equal to the member's size). The caller then sums what it will read and calls
    :meth:`check_budget` before reading: an archive never decodes more than its cap.
    """

    def __init__(self, path: str | os.PathLike, fn: str, *, max_bytes: int | None = None) -> None:
        _check_max_bytes(max_bytes, fn)
        self.path, self.fn, self.max_bytes = Path(path), fn, max_bytes
        self.label = "checkpoint" if fn == "load_checkpoint" else ".npz"
        self.size = check_file(path, fn)
        with open(self.path, "rb") as f:
            head = f.read(8)
        where = f"{fn}: {str(self.path)!r}"
        if head.startswith(_NPY_MAGIC):
            raise CorruptFileError(f"{where} is a single .npy array, not a {self.label} (a zip of .npy arrays); load "
                                   "it with np.load, or pass another file", self.path)
        if not head.startswith(_ZIP_SIGNATURES):
            raise CorruptFileError(f"{where} is not a {self.label}: {_describe_start(head)}; an .npz is a zip "
                                   "archive of .npy arrays: re-save it or pass another file", self.path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise CorruptFileError(f"{where} is corrupt or truncated (not a readable zip archive: {exc}); re-save it "
                                   "or pass another file", self.path) from None
        try:
            self.members = self._scan()
        except BaseException:
            self._zip.close()
            raise

    def _corrupt(self, what: str) -> Any:
        raise CorruptFileError(f"{self.fn}: {str(self.path)!r} is not a readable {self.label} ({what}); re-save "
                               "it or pass another file", self.path)

    def _scan(self) -> dict[str, NpyMember]:
        members: dict[str, NpyMember] = {}
        for info in self._zip.infolist():
            name = info.filename
            if not name.endswith(".npy") or info.is_dir():
                self._corrupt(f"a zip archive, but its member {name!r} is not a .npy array, so it is no .npz")
            if name[:-4] in members:
                self._corrupt(f"the member {name!r} appears twice")
            if info.flag_bits & 0x1:
                self._corrupt(f"the member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self._corrupt(f"the member {name!r} uses zip compression method {info.compress_type}; .npz files "
                              "are stored or deflated")
            if info.header_offset + info.compress_size > self.size:
                self._corrupt(f"the member {name!r} declares {info.compress_size:,} bytes at offset "
                              f"{info.header_offset:,}, past the end of the {self.size:,}-byte file: truncated")
            most = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
                info.compress_size * _DEFLATE_MAX_RATIO + 1024
            if info.file_size > most:
                self._corrupt(f"the member {name!r} declares {info.file_size:,} bytes from {info.compress_size:,} "
                              "stored bytes, more than its compression can produce: the directory lies")
            members[name[:-4]] = self._header(info)
        return members

    def _header(self, info: zipfile.ZipInfo) -> NpyMember:
        name = info.filename[:-4]
        try:
            with self._zip.open(info) as fp:
                version = np.lib.format.read_magic(fp)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, fortran, dtype = reader(fp, max_header_size=_NPY_MAX_HEADER)
                header_len = fp.tell()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, TypeError, SyntaxError, KeyError) as exc:
            self._corrupt(f"the member {name!r} has no valid .npy header: {exc}")
        if dtype.hasobject:
            raise PickledMemberError(
                f"{self.fn}: member {name!r} of {str(self.path)!r} holds pickled objects (dtype {dtype}: Python "
                "objects only pickle can read), which are never loaded because unpickling can run code; re-save "
                "it with numeric or string arrays (mt.save and save_checkpoint never write such members)", self.path)
        if any(d < 0 for d in shape):
            self._corrupt(f"the member {name!r} declares the negative shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes != info.file_size - header_len:
            self._corrupt(f"the member {name!r} declares shape {shape} of {dtype} ({nbytes:,} bytes), but holds "
                          f"{max(info.file_size - header_len, 0):,} bytes of data")
        return NpyMember(name, info, dtype, tuple(shape), bool(fortran), nbytes)

    def check_budget(self, total: int, what: str = "") -> None:
        """Raise :class:`SizeLimitError` if reading ``total`` bytes exceeds this file's cap."""
        check_budget(self.path, self.fn, total, self.size, self.max_bytes, what)

    def read(self, name: str) -> np.ndarray:
        """Member ``name`` as a fresh writeable array (its size was checked when the archive opened)."""
        member = self.members[name]
        try:
            with self._zip.open(member.info) as fp:
                arr = np.lib.format.read_array(fp, allow_pickle=False, max_header_size=_NPY_MAX_HEADER)
                if fp.read(1):  # also makes zipfile verify the CRC of the whole member
                    self._corrupt(f"the member {name!r} holds more bytes than its header declares")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
            self._corrupt(f"the member {name!r} is damaged: {exc}")
        return arr

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        return iter(self.members)


def read_npz(path: str | os.PathLike, fn: str, *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every member of a plain ``.npz`` (``np.savez``'s), after checking the headers and the total size."""
    with NpzArchive(path, fn, max_bytes=max_bytes) as npz:
        npz.check_budget(sum(m.nbytes for m in npz.members.values()))
        return {name: npz.read(name) for name in npz.members}


# --------------------------------------------------------------------------------------------------
# .safetensors
# --------------------------------------------------------------------------------------------------
def read_safetensors(path: str | os.PathLike, fn: str, *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """``{name: array}`` of a ``.safetensors`` file, names sorted, after checking its whole header.

    The format: 8 bytes (little-endian header length N), N bytes of JSON ``{name: {"dtype",
    "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``, then the data. Every tensor's
    offsets must lie in the data, span exactly shape x itemsize bytes and not overlap another's
    (overlapping tensors would let a small file decode to many copies of one region).
    """
    _check_max_bytes(max_bytes, fn)
    size = check_file(path, fn)

    def corrupt(what: str) -> CorruptFileError:
        return CorruptFileError(f"{fn}: {str(path)!r} is not a readable .safetensors file ({what}); re-save it or "
                                "pass another file", path)

    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise corrupt("it is empty (0 bytes)" if not head else f"it is {len(head)} bytes long, shorter than "
                          "the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _SAFETENSORS_MAX_HEADER):
            if head.startswith(_ZIP_SIGNATURES):
                start = "it is a zip archive, such as an .npz"
            elif _describe_start(head).startswith("it is a text file"):
                start = _describe_start(head)
            else:
                start = f"random bytes or another format (first bytes {head.hex()})"
            raise corrupt(f"its header length {n:,} exceeds the {size - 8:,} bytes after it: the file is "
                          f"truncated, or {start}")
        raw = f.read(n)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise corrupt("its header is not UTF-8 text: random bytes or another format") from None
        if not text.lstrip().startswith("{"):
            raise corrupt(f"its header does not start with '{{' (it starts with {text[:16]!r})")
        header = parse_json(text, path, fn, "header")
        if not isinstance(header, dict):
            raise corrupt("its header is not a JSON object")
        data_size = size - 8 - n
        entries = []
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
                raise corrupt(f"the header's entry {name!r} is not {{dtype, shape, data_offsets}}")
            dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
            if dtype not in _SAFETENSORS_DTYPES:
                raise corrupt(f"tensor {name!r} has dtype {dtype!r}; NumPy reads {', '.join(_SAFETENSORS_DTYPES)}")
            if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                      for d in shape):
                raise corrupt(f"tensor {name!r} has shape {shape!r}, not a list of ints >= 0")
            if not (isinstance(offsets, list) and len(offsets) == 2
                    and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
                raise corrupt(f"tensor {name!r} has data_offsets {offsets!r}, not [begin, end]")
            begin, end = offsets
            nbytes = math.prod(shape) * np.dtype(_SAFETENSORS_DTYPES[dtype]).itemsize
            if not 0 <= begin <= end <= data_size:
                raise corrupt(f"tensor {name!r} declares bytes {begin:,}..{end:,}, outside the {data_size:,} bytes "
                              "of data the file holds: the header lies or the file is truncated")
            if end - begin != nbytes:
                raise corrupt(f"tensor {name!r} declares shape {shape} of {dtype} ({nbytes:,} bytes) but data_offsets "
                              f"spanning {end - begin:,} bytes")
            entries.append((begin, end, name, np.dtype(_SAFETENSORS_DTYPES[dtype]), tuple(shape)))
        entries.sort(key=lambda e: (e[0], e[1]))
        for (_, end0, name0, *_), (begin1, _, name1, *_) in zip(entries, entries[1:]):
            if begin1 < end0:
                raise corrupt(f"tensors {name0!r} and {name1!r} share bytes (their data_offsets overlap)")
        check_budget(path, fn, sum(e[1] - e[0] for e in entries), size, max_bytes)
        out = {}
        for begin, end, name, dtype, shape in entries:
            buf = bytearray(end - begin)
            f.seek(8 + n + begin)
            if f.readinto(buf) != len(buf):
                raise corrupt(f"tensor {name!r} ends past the end of the file: truncated")
            out[name] = np.frombuffer(buf, dtype=dtype).reshape(shape)
    return dict(sorted(out.items()))
