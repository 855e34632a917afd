"""Atomic file writes: a reader (or a crash, or Ctrl-C) never sees half a file.

The recipe is the classic one: write everything to a temporary file in the *same directory*,
flush it to disk, then ``os.replace`` it over the destination. ``os.replace`` is atomic on POSIX
and Windows when both paths are on one file system, which the same directory guarantees.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", **kwargs) -> Iterator[IO]:
    """``with atomic_open(p, "w") as f: ...`` -- ``p`` appears complete when the block exits cleanly.

    If the block raises (including ``KeyboardInterrupt``), the temporary file is removed and the old
    ``p``, if any, is left untouched.
    """
    if "w" not in mode:
        raise ValueError(f"atomic_open: mode must be a write mode ('w', 'wb'), got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(payload)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)
