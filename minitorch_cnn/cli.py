"""What the command-line tools share: a user error is one line and exit status 2, found before any work.

argparse's convention is kept (status 2 for a bad command line) but its output is shortened to the
one line that matters::

    minitorch_cnn.train: error: --out 'x' is a file; give a directory

A :class:`UsageError` is a mistake the user can fix (a flag, a path, a file); ``run_main`` prints it
as that line. Any other exception is a bug in this package and keeps its full traceback.

The ``check_*`` helpers validate flags before data is loaded or a model is built, so a typo costs a
second, not an epoch. Each names the flag, the value, the allowed range and, where there is one,
the fix.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["UsageError", "ArgumentParser", "run_main", "user_errors", "check_range", "check_out_dir",
           "check_out_file", "check_input_file", "check_device"]


class UsageError(ValueError):
    """A mistake in the command line or in a file the user gave: printed as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors raise :class:`UsageError` instead of printing usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines, tabs) collapsed to one space."""
    return " ".join(str(text).split())


def run_main(prog: str, body: Callable[[], int]) -> int:
    """Run ``body()``; a :class:`UsageError` becomes ``"<prog>: error: <message>"`` on stderr and status 2."""
    try:
        return body()
    except UsageError as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C with no handler, or a second signal during training
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"{prog}: aborted by {signal.Signals(signum).name}; files already written are kept", file=sys.stderr)
        return 128 + signum


@contextlib.contextmanager
def user_errors(what: str) -> Iterator[None]:
    """Turn the file errors of a block (missing, unreadable, corrupt: ``OSError``/``ValueError``) into
    :class:`UsageError`, so that a bad data file or checkpoint is one line, not a traceback."""
    try:
        yield
    except UsageError:
        raise
    except (OSError, ValueError) as exc:
        raise UsageError(f"{what}: {one_line(exc)}") from exc


def check_range(flag: str, value: float | None, lo: float | None = None, hi: float | None = None,
                why: str = "", *, lo_open: bool = False, hi_open: bool = False) -> None:
    """Refuse ``value`` outside ``[lo, hi]`` (``(lo`` / ``hi)`` when open) or not finite; ``None`` passes."""
    if value is None:
        return
    if not math.isfinite(value):
        raise UsageError(f"{flag} {value} is not a finite number{'; ' + why if why else ''}")
    bad = lo is not None and (value <= lo if lo_open else value < lo)
    bad = bad or hi is not None and (value >= hi if hi_open else value > hi)
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open or hi is None else "]"
        span = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise UsageError(f"{flag} {value} is outside {span}{'; ' + why if why else ''}")


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(".")


def _probe_writable(flag: str, folder: Path) -> None:
    """Create the missing directories up to ``folder``, write and delete a scratch file there, and
    remove the directories again: the only test that also holds for root, read-only mounts, ``/proc``
    and names that are too long."""
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or one_line(exc)
        raise UsageError(f"{flag} {str(folder)!r} cannot be written ({reason}); give a writable directory") from None
    finally:
        for p in created:  # deepest first: leave the file system as it was
            with contextlib.suppress(OSError):
                p.rmdir()


def check_out_dir(flag: str, path: str | os.PathLike) -> Path:
    """``path`` is (or can become) a writable directory; nothing is left behind by the check."""
    path = Path(path)
    if "\0" in str(path):
        raise UsageError(f"{flag} {str(path)!r} contains a NUL byte; give a directory name")
    try:
        is_file = path.exists() and not path.is_dir()
        existing = _nearest_existing(path)
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise UsageError(f"{flag} {str(path)!r} cannot be written ({exc.strerror}); give a writable directory") from None
    if is_file:
        raise UsageError(f"{flag} {str(path)!r} is a file; give a directory")
    if not existing.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: {str(existing)!r} is a file, so no directory can be made below it")
    _probe_writable(flag, path)
    return path


def check_out_file(flag: str, path: str | os.PathLike, suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` names a file that can be written: not a directory, a known suffix, a writable folder."""
    path = Path(path)
    if "\0" in str(path):
        raise UsageError(f"{flag} {str(path)!r} contains a NUL byte; give a file name")
    if path.is_dir() or str(path).endswith(os.sep):
        example = path / ("out" + (suffixes[0] if suffixes else ""))
        raise UsageError(f"{flag} {str(path)!r} is a directory; give a file name such as {str(example)!r}")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} {str(path)!r} has suffix {path.suffix or '(none)'!r}; use one of "
                         f"{', '.join(suffixes)}")
    check_out_dir(flag, path.parent if str(path.parent) else Path("."))
    return path


def check_input_file(flag: str, path: str | os.PathLike) -> Path:
    """``path`` is an existing, readable file."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{flag} {str(path)!r} does not exist")
    if not path.is_file():
        raise UsageError(f"{flag} {str(path)!r} is a directory; give a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{flag} {str(path)!r} cannot be read (permission denied)")
    return path


def check_device(flag: str, device: str) -> None:
    """``cuda`` needs CuPy and a GPU; the message says which is missing and how to install it."""
    from . import backend

    if device == "cuda" and not backend.cuda_is_available():
        raise UsageError(f"{flag} cuda: {backend.cuda_unavailable_reason()} Or use {flag} cpu")
