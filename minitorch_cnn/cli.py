"""What the command-line tools share: a user error is one line and exit status 2, found before any work.

argparse's convention is kept (status 2 for a bad command line) but its output is shortened to the
one line that matters::

    minitorch_cnn.train: error: --out 'x' is a file; give a directory

A :class:`UsageError` is a mistake the user can fix (a flag, a path, a file); ``run_main`` prints it
as that line. Any other exception is a bug in this package and keeps its full traceback.

The ``check_*`` helpers validate flags before data is loaded or a model is built, so a typo costs a
second, not an epoch. Each names the flag, the value, the allowed range and, where there is one,
the fix.

An output folder is *claimed* before a command writes to it (:func:`claim_out_dir`): it is
checked, earlier results in it are refused unless ``--overwrite`` is given, and a lock file
(``<out>/.lock``: pid, host, start time) keeps a second command from writing there at the same
time. The lock is made with ``O_CREAT | O_EXCL``, which the operating system performs as one step:
of two processes racing for it, exactly one succeeds. A lock whose process has died (a crash, a
``kill -9``) is *stale*: its pid no longer exists on this host, so the next command takes it over
with a one-line note.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["UsageError", "ArgumentParser", "run_main", "user_errors", "check_range", "check_out_dir",
           "check_out_file", "check_input_file", "check_device", "check_name_in_dir", "claim_out_dir",
           "acquire_lock", "release_lock", "read_lock", "refuse_earlier_results", "LOCK_NAME", "RUN_MARKERS"]

#: the lock file a command holds in its output folder while it writes there
LOCK_NAME = ".lock"
#: the files of a training run: a folder holding any of them holds a run
RUN_MARKERS = ("last.npz", "best.npz", "metrics.json", "metrics.csv", "curves.png")
#: how a command refuses a user's mistake (``UsageError`` is a ``ValueError``): it leaves no folder behind
_REFUSALS = (ValueError, OSError, LookupError)
#: a lock file that is still empty or unreadable after this many seconds was left by a crash
_UNREADABLE_LOCK_GRACE_S = 5.0


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


def check_name_in_dir(flag: str, folder: str | os.PathLike, name: str) -> Path:
    """``folder / name`` for a file name that comes from the user (through ``flag``).

    The name must be a plain file name: no separator, not ``.`` or ``..``, no NUL byte. Otherwise a
    name such as ``../../x`` would write outside the output folder the user gave.
    """
    seps = [s for s in (os.sep, os.altsep, "/") if s]
    if not name or name in (".", "..") or "\0" in name or any(s in name for s in seps):
        raise UsageError(f"{flag} {name!r} is not a plain file name, so its file could land outside "
                         f"{str(folder)!r}; give a name without '/' or '..'")
    return Path(folder) / name


# --------------------------------------------------------------------------------------------------
# Claiming an output folder: earlier results, the lock, signals
# --------------------------------------------------------------------------------------------------
def _note(prog: str, text: str) -> None:
    print(f"{prog}: note: {text}" if prog else f"note: {text}", file=sys.stderr, flush=True)


def _lock_text(prog: str) -> str:
    """What a lock file holds: who writes the folder (pid, host) and since when."""
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    doc = {"pid": os.getpid(), "host": socket.gethostname(), "started": started, "prog": prog}
    return json.dumps(doc) + "\n"


def read_lock(lock: str | os.PathLike) -> dict | None:
    """The ``{"pid", "host", "started", "prog"}`` of a lock file; None if it is missing, empty or garbled."""
    try:
        info = json.loads(Path(lock).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host: signal 0 asks the kernel without sending anything."""
    if pid <= 0 or os.name == "nt":  # Windows' os.kill would end the process: assume it runs
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def _is_stale(lock: Path, info: dict | None) -> bool:
    """A lock is stale when its process is gone (same host only: another host's pids cannot be asked)
    or when it is still unreadable long after it was made (a crash between create and write)."""
    if info is None:
        try:
            return time.time() - lock.stat().st_mtime > _UNREADABLE_LOCK_GRACE_S
        except FileNotFoundError:
            return False  # released meanwhile: just try again
    return info.get("host") == socket.gethostname() and not _pid_alive(info["pid"])


def _holder(info: dict | None) -> str:
    if info is None:
        return "a command that is just starting"
    return f"pid {info['pid']} on host {info.get('host')!s} ({info.get('prog') or 'a command'}, since {info.get('started')})"


def _take_over(lock: Path, info: dict | None) -> bool:
    """Remove the stale ``lock``; False if another process took it over first (then it is left alone).

    The rename is atomic, so of several processes that found the same stale lock one gets it; what it
    got is read again, and a live lock made in the meantime is put back (``os.link`` never replaces).
    """
    grab = lock.with_name(f"{lock.name}.stale.{os.getpid()}")
    try:
        os.rename(lock, grab)
    except FileNotFoundError:
        return False
    if read_lock(grab) != info:
        with contextlib.suppress(OSError):
            os.link(grab, lock)
        os.unlink(grab)
        return False
    os.unlink(grab)
    return True


def acquire_lock(flag: str, folder: str | os.PathLike, prog: str = "") -> Path:
    """Create ``folder/.lock`` (pid, host, start time) with ``O_CREAT | O_EXCL``; returns its path.

    Raises :class:`UsageError` naming the holder when a live process has it; takes over a stale one
    with a note on stderr. ``folder`` must exist.
    """
    lock = Path(folder) / LOCK_NAME
    for _ in range(100):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info = read_lock(lock)
            if not _is_stale(lock, info):
                if info is None and lock.exists():  # being written this very moment: look again
                    time.sleep(_UNREADABLE_LOCK_GRACE_S / 50)
                    continue
                if info is not None:
                    raise UsageError(_held_message(flag, Path(folder), lock, info)) from None
            elif _take_over(lock, info):
                _note(prog, f"{flag} {str(folder)!r}: took over the stale lock {str(lock)!r} of {_holder(info)}, "
                            "which no longer runs")
            continue
        except OSError as exc:
            raise UsageError(f"{flag} {str(folder)!r}: cannot create the lock {str(lock)!r} ({exc.strerror}); "
                             "give a writable directory") from None
        with os.fdopen(fd, "w") as f:
            f.write(_lock_text(prog))
        return lock
    raise UsageError(f"{flag} {str(folder)!r}: the lock {str(lock)!r} stays unreadable; if no command uses "
                     "that folder, delete the lock file")


def _held_message(flag: str, folder: Path, lock: Path, info: dict) -> str:
    remote = info.get("host") != socket.gethostname()
    fix = f"; if that process is gone, delete {str(lock)!r}" if remote else ""
    return (f"{flag} {str(folder)!r} is in use by another run: its lock {str(lock)!r} is held by {_holder(info)}; "
            f"wait for it to finish or give another {flag}{fix}")


def release_lock(lock: str | os.PathLike) -> None:
    """Remove ``lock`` if this process holds it (one taken over by another command is left alone)."""
    info = read_lock(lock)
    if info is not None and info["pid"] == os.getpid() and info.get("host") == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            Path(lock).unlink()


def refuse_earlier_results(flag: str, folder: str | os.PathLike, names: Sequence[str], *, overwrite: bool,
                           what: str = "earlier results", choices: str = "") -> list[Path]:
    """The files among ``names`` that ``folder`` already holds; refused in one line unless ``overwrite``.

    ``choices`` is what the message offers (default: another ``flag`` or ``--overwrite``).
    """
    found = [Path(folder) / n for n in names if (Path(folder) / n).exists()]
    if found and not overwrite:
        shown = ", ".join(p.name for p in found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
        choices = choices or f"give another {flag}, or pass --overwrite to replace them"
        raise UsageError(f"{flag} {str(folder)!r} already holds {what} ({shown}); {choices}")
    return found


@contextlib.contextmanager
def _unwind_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end a process on the spot by default, skipping every ``finally`` (the lock
    would stay). While the block runs they raise ``KeyboardInterrupt`` (with ``.signum``) instead, which
    :func:`run_main` reports as "aborted by SIGTERM" and status 128 + signum. Handlers already set stay."""
    import threading

    signums = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        abort = KeyboardInterrupt()
        abort.signum = signum  # type: ignore[attr-defined]
        raise abort

    previous = {s: signal.signal(s, handle) for s in signums if signal.getsignal(s) is signal.SIG_DFL}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def claim_out_dir(flag: str, path: str | os.PathLike, *, overwrite: bool = False,
                  markers: Sequence[str] = RUN_MARKERS, choices: str = "", prog: str = "") -> Iterator[Path]:
    """``with claim_out_dir("--out", out, overwrite=args.overwrite) as folder:`` write there, alone.

    In order: ``path`` is checked (:func:`check_out_dir`) and created; its lock is taken
    (:func:`acquire_lock`: a second command on the same folder is refused); the ``markers`` it already
    holds (an earlier run's files) are refused (:func:`refuse_earlier_results`), or with ``overwrite``
    deleted, so no earlier file mixes with the new ones. On every way out (the end, an exception,
    Ctrl-C, SIGTERM, SIGHUP) the lock is removed. A command that refuses (a user error: ``ValueError``,
    ``OSError``) leaves the file system as it found it: the directories the claim made go again if
    they are still empty. One that fails while working (a diverged loss, a bug, a signal) keeps them.
    """
    folder = check_out_dir(flag, path)
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    lock, refused = None, False
    try:
        lock = acquire_lock(flag, folder, prog)
        earlier = refuse_earlier_results(flag, folder, markers, overwrite=overwrite, what="an earlier run",
                                         choices=choices)
        for p in earlier:
            p.unlink()
        if earlier:
            _note(prog, f"--overwrite: removed the earlier run's {', '.join(p.name for p in earlier)} from "
                        f"{str(folder)!r}")
        with _unwind_on_signals():
            yield folder
    except _REFUSALS:
        refused = True
        raise
    finally:
        if lock is not None:
            release_lock(lock)
        for p in created if refused else ():  # deepest first; a folder with files in it stays
            with contextlib.suppress(OSError):
                p.rmdir()
