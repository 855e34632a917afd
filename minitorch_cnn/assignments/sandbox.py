"""Run probes on a submission's code in a child process that cannot touch the grade.

The grader (this module's caller) never imports a submission. It starts one child per batch of
checks and reads back *data*: frames of named arrays (see :mod:`.runner`), checked against
hard bounds (frame size, dtypes, dimensions, the keys it asked for). A missing, malformed or
oversized answer is a failed check; a crash or a timeout fails the check that was running and
the rest of its task, and a fresh child takes the remaining tasks.

How strong the child's walls are depends on what the OS lets the grader do (:func:`isolation`):

* ``root``   -- new mount, PID, network, IPC and UTS namespaces; a private root file system
  holding only Python and the graded tree (:mod:`.jail`); an unprivileged uid of its own; limits.
* ``userns`` -- the same namespaces through a user namespace, but the child keeps your uid.
* ``plain``  -- a new session and resource limits only: the child runs as you, can read your
  files and reach the network, and a daemon that leaves the session can outlive grading.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Isolation", "Outcome", "isolation", "run_probes", "SandboxLimits", "UID_BASE", "SANDBOX_ENV", "DEFAULT_LIMITS", "SandboxError", "ProbeItem"]

SANDBOX_ENV = "MINITORCH_CNN_SANDBOX"
UID_BASE = 61000  # sandbox uids UID_BASE + slot: no passwd entry, no home, nothing owned
_MAGIC = b"MTCK"
_MAX_HEADER = 1 << 16
_MAX_FRAME = 32 << 20
_MAX_TOTAL = 256 << 20
_DTYPES = {f"{e}{k}{n}" for e in "<|" for k, ns in (("f", (2, 4, 8)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)),
                                                     ("b", (1,))) for n in ns}
_RUNNER = Path(__file__).with_name("runner.py")
_JAIL = Path(__file__).with_name("jail.py")


@dataclass(frozen=True)
class SandboxLimits:
    """Per-child limits: memory (address space), file size, open files, processes, CPU seconds
    per task and the wall-clock timeout per task."""

    memory_mb: int = 4096
    file_mb: int = 16
    open_files: int = 256
    processes: int = 64
    tmp_mb: int = 64
    task_timeout_s: float = 60.0


DEFAULT_LIMITS = SandboxLimits()


@dataclass(frozen=True)
class Isolation:
    mode: str  # "root" | "userns" | "plain"
    holds: tuple[str, ...]
    missing: tuple[str, ...]

    def lines(self) -> list[str]:
        out = [f"sandbox ({self.mode}): " + "; ".join(self.holds) + "."]
        if self.missing:
            out.append("NOT guaranteed here: " + "; ".join(self.missing) + ".")
        return out


@dataclass
class Outcome:
    """What came back for one check: ``answers`` or an ``error`` (type, message, where)."""

    answers: dict[str, np.ndarray] | None = None
    error: str = ""
    message: str = ""
    where: str = ""
    extra: dict = field(default_factory=dict)


_COMMON = ("a fresh copy of the graded tree", "scrubbed environment (python -I)",
           "limits on memory, file size, open files and CPU", "a wall-clock timeout per task")


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """The strongest sandbox this process can build (probed once); ``MINITORCH_CNN_SANDBOX=userns``
    or ``=plain`` asks for a weaker one (to see what a student's machine gives), never a stronger."""
    unshare = shutil.which("unshare")
    ns = ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    cap = os.environ.get(SANDBOX_ENV, "root")
    if cap not in ("root", "userns", "plain"):
        raise ValueError(f"{SANDBOX_ENV}={cap!r}: use root, userns or plain (or leave it unset)")
    if cap == "root" and unshare and os.geteuid() == 0 and _works([unshare, *ns, "true"]):
        return Isolation("root", ("a separate unprivileged user per child", "a private file system view (no "
                                  "reference tree, hidden checks or results folder)", "no network",
                                  "every process it starts ends with it (PID namespace)", *_COMMON), ())
    if cap in ("root", "userns") and unshare and _works([unshare, "--user", "--map-root-user", *ns, "true"]):
        return Isolation("userns", ("a private file system view", "no network", "every process it starts ends "
                                    "with it (PID namespace)", *_COMMON),
                         ("a separate user (not root: the child keeps your uid)",))
    if os.geteuid() == 0:  # never run a submission as root: switch to a sandbox uid at least
        return Isolation("plain", ("a new session", "a separate unprivileged user per child", *_COMMON),
                         ("a private file system view (the child can read world-readable files)", "no network",
                          "that no process outlives grading (a daemon can leave the session)"))
    return Isolation("plain", ("a new session", *_COMMON),
                     ("a separate user", "a private file system view (the child can read your files)",
                      "no network", "that no process outlives grading (a daemon can leave the session)"))


def _switches_user(iso: Isolation) -> bool:
    return iso.mode == "root" or (iso.mode == "plain" and os.geteuid() == 0)


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class _UidPool:
    """One sandbox uid per concurrent child, so limits and the final sweep are per child."""

    def __init__(self, size: int = 100) -> None:
        self._free = list(range(UID_BASE, UID_BASE + size))
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            return self._free.pop(0)

    def give(self, uid: int) -> None:
        _kill_uid(uid)
        with self._lock:
            self._free.append(uid)


_UIDS = _UidPool()


def _kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid`` (belt and braces after the PID namespace)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


def _binds() -> tuple[list[str], list[str]]:
    """What Python needs inside the jail, and site-packages copies of the package to mask."""
    real = Path(os.path.realpath(sys.executable))
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
             "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
             sys.prefix, sys.base_prefix, str(real.parent.parent)]
    sites = [p for p in site.getsitepackages() if os.path.isdir(p)]
    masks = [os.path.join(p, "minitorch_cnn") for p in sites]
    seen: list[str] = []
    for p in paths + sites:
        if p and p not in seen and not any(p.startswith(s.rstrip("/") + "/") for s in seen):
            seen.append(p)
    return seen, masks


def _limits(limits: SandboxLimits, tasks: int, mode: str) -> dict[str, int]:
    out = {"RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_FSIZE": limits.file_mb << 20,
           "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CORE": 0,
           "RLIMIT_CPU": int(max(1, tasks) * limits.task_timeout_s) + 5}
    if mode == "root":
        out["RLIMIT_NPROC"] = limits.processes
    return out


def _env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
            "MINITORCH_CNN_MALLOC": "0"}


@functools.lru_cache(maxsize=1)
def _runner_source() -> str:
    return _RUNNER.read_text(encoding="utf-8")


def _command(tree: Path, work: Path, limits: SandboxLimits, tasks: int, iso: Isolation,
             uid: int | None) -> tuple[list[str], dict[str, str] | None, dict[str, int]]:
    """The argv of one child, its environment, and the limits the runner applies itself."""
    runner = _runner_source()
    rlimits = _limits(limits, tasks, iso.mode)
    if iso.mode == "plain":
        home = work / "home"
        home.mkdir(exist_ok=True)
        cmd = [sys.executable, "-I", "-B", "-c", runner, str(tree)]
        if uid is not None:
            os.chmod(work, 0o711)  # the sandbox uid may pass through to the tree, not list the folder
            os.chown(home, uid, uid)
            cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", *cmd]
        return cmd, _env(str(home)), rlimits
    binds, masks = _binds()
    root = work / "root"
    root.mkdir(exist_ok=True)
    spec = {"root": str(root), "tree": str(tree), "binds": binds, "masks": masks, "tmp_mb": limits.tmp_mb,
            "limits": rlimits, "python": sys.executable, "runner": runner, "env": _env("/tmp"),
            "uid": uid, "gid": uid}
    ns = ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    user = [] if iso.mode == "root" else ["--user", "--map-root-user"]
    cmd = ["setpriv", "--pdeathsig", "KILL", "unshare", *user, *ns, sys.executable, "-I", "-B", str(_JAIL),
           json.dumps(spec)]
    return cmd, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}, {}


def _request(modules: dict[str, str], items: Sequence[tuple[str, str, str, dict]], rlimits: dict) -> bytes:
    checks, blobs = [], []
    for key, module, probe, inputs in items:
        specs = []
        for name, value in inputs.items():
            a = np.array(value, order="C")  # np.ascontiguousarray would make 0-d arrays 1-d
            a = a.astype(a.dtype.newbyteorder("<"), copy=False)
            specs.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape)})
            blobs.append(a.tobytes())
        checks.append({"key": key, "module": module, "probe": probe, "inputs": specs})
    used = {m for _, m, _, _ in items}
    header = json.dumps({"modules": {m: s for m, s in modules.items() if m in used}, "checks": checks,
                         "limits": rlimits}).encode()
    return len(header).to_bytes(8, "little") + header + b"".join(blobs)


class SandboxError(RuntimeError):
    """The sandbox itself could not start (the grader's problem, never the submission's)."""


def _read_exact(stream, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            if got == 0:
                return None
            raise ValueError(f"the answer stream ended inside a frame ({got} of {n} bytes)")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _array_specs(header: object) -> list[tuple[str, np.dtype, tuple[int, ...]]]:
    """The validated array list of a frame header; ``ValueError`` for anything unexpected."""
    if not (isinstance(header, dict) and isinstance(header.get("key"), str)
            and header.get("status") in ("ok", "error") and isinstance(header.get("arrays", []), list)):
        raise ValueError("a frame header is not {key, status, arrays}")
    out, total = [], 0
    for spec in header.get("arrays", []):
        if not isinstance(spec, dict):
            raise ValueError("an array spec is not {name, dtype, shape}")
        name, dtype, shape = spec.get("name"), spec.get("dtype"), spec.get("shape")
        if not (isinstance(name, str) and isinstance(dtype, str) and dtype in _DTYPES and isinstance(shape, list)
                and len(shape) <= 8 and all(type(d) is int and 0 <= d <= _MAX_FRAME for d in shape)):
            raise ValueError(f"answer {str(name)[:40]!r}: bad dtype/shape {str(dtype)[:20]} {str(shape)[:60]}")
        size = int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize
        total += size
        if total > _MAX_FRAME:
            raise ValueError(f"the answers of one check exceed {_MAX_FRAME >> 20} MiB")
        out.append((name, np.dtype(dtype), tuple(shape)))
    return out


def _read_frames(stream, frames: queue.Queue) -> None:
    """Reader thread: parse frames into ``frames``; ``("eof", None)`` / ``("bad", why)`` at the end."""
    total = 0
    try:
        while True:
            head = _read_exact(stream, 8)
            if head is None:
                frames.put(("eof", None))
                return
            if head[:4] != _MAGIC or int.from_bytes(head[4:], "little") > _MAX_HEADER:
                raise ValueError("the answer stream holds something that is not a frame")
            header = json.loads(_read_exact(stream, int.from_bytes(head[4:], "little")) or b"null")
            arrays = {}
            for name, dtype, shape in _array_specs(header):
                nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                total += nbytes
                if total > _MAX_TOTAL:
                    raise ValueError(f"the answers exceed {_MAX_TOTAL >> 20} MiB in all")
                raw = _read_exact(stream, nbytes) if nbytes else b""
                if raw is None:
                    raise ValueError("the answer stream ended inside a frame")
                arrays[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
            frames.put(("frame", (header, arrays)))
    except Exception as exc:  # noqa: BLE001 - hostile bytes: any parse failure (RecursionError too) is "bad"
        frames.put(("bad", f"{type(exc).__name__}: {str(exc)[:300]}"))


def _drain(stream, keep: list[bytes], limit: int = 8192) -> None:
    """Keep the last ``limit`` bytes of the child's stderr (diagnostics), discard the rest."""
    buf = b""
    for chunk in iter(lambda: stream.read(4096), b""):
        buf = (buf + chunk)[-limit:]
    keep.append(buf)


def _outcome(header: dict, arrays: dict) -> Outcome:
    if header["status"] == "ok":
        return Outcome(answers=arrays)
    text = {k: str(header.get(k, ""))[:4000] for k in ("error", "message", "where")}
    return Outcome(error=text["error"] or "Error", message=text["message"], where=text["where"])


@dataclass(frozen=True)
class ProbeItem:
    """One probe to run: ``key`` ``"2.1/known"``, its task, module name, function and inputs."""

    key: str
    task: str
    module: str
    probe: str
    inputs: dict


def run_probes(tree: Path, modules: dict[str, str], items: Sequence[ProbeItem], work: Path,
               limits: SandboxLimits = DEFAULT_LIMITS) -> dict[str, Outcome]:
    """Run every probe of ``items`` on ``tree`` in sandboxed children; one :class:`Outcome` per key."""
    results: dict[str, Outcome] = {}
    pending = list(items)
    while pending:
        done = _one_child(tree, modules, pending, work, limits, results)
        pending = pending[done:]
    return results


def _task_groups(items: Sequence[ProbeItem]) -> list[tuple[int, int]]:
    groups, start = [], 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i].task != items[start].task:
            groups.append((start, i))
            start = i
    return groups


def _one_child(tree: Path, modules: dict[str, str], items: Sequence[ProbeItem], work: Path,
               limits: SandboxLimits, results: dict[str, Outcome]) -> int:
    """Start one child for ``items``; fill ``results``; return how many items it settled."""
    iso = isolation()
    uid = _UIDS.take() if _switches_user(iso) else None
    try:
        return _supervise(tree, modules, items, work, limits, results, iso, uid)
    finally:
        if uid is not None:
            _UIDS.give(uid)


def _supervise(tree: Path, modules: dict[str, str], items: Sequence[ProbeItem], work: Path,
               limits: SandboxLimits, results: dict[str, Outcome], iso: Isolation, uid: int | None) -> int:
    groups = _task_groups(items)
    cmd, env, rlimits = _command(tree, work, limits, len(groups), iso, uid)
    request = _request(modules, [(i.key, i.module, i.probe, i.inputs) for i in items], rlimits)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=str(work), start_new_session=True)
    frames: queue.Queue = queue.Queue()
    stderr: list[bytes] = []
    threads = [threading.Thread(target=_read_frames, args=(proc.stdout, frames), daemon=True),
               threading.Thread(target=_drain, args=(proc.stderr, stderr), daemon=True),
               threading.Thread(target=_feed, args=(proc.stdin, request), daemon=True)]
    for t in threads:
        t.start()
    try:
        _expect_hello(frames, proc, stderr, threads[1])
        for start, stop in groups:
            failure = _collect_task(items[start:stop], frames, limits.task_timeout_s, results)
            if failure is not None:
                _kill(proc, iso)
                for item in items[start:stop]:
                    results.setdefault(item.key, failure)
                return stop
        return len(items)
    finally:
        _kill(proc, iso)


def _feed(stdin, request: bytes) -> None:
    try:
        stdin.write(request)
        stdin.close()
    except OSError:  # the child died or closed its stdin: its answers will say so
        pass


def _collect_task(items: Sequence[ProbeItem], frames: queue.Queue, timeout: float,
                  results: dict[str, Outcome]) -> Outcome | None:
    """Read one task's frames; ``None`` when all came, else the failure that stopped it."""
    deadline = time.monotonic() + timeout
    for item in items:
        try:
            kind, payload = frames.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return Outcome(error="Timeout", message=f"timed out after {timeout:.0f} s (an endless loop?)")
        if kind == "frame" and payload[0]["key"] == item.key:
            results[item.key] = _outcome(*payload)
            continue
        if kind == "frame":
            return Outcome(error="ProtocolError", message=f"an answer for {payload[0]['key'][:40]!r} came where "
                                                          f"{item.key!r} was due")
        if kind == "bad":
            return Outcome(error="ProtocolError", message=f"unreadable answers: {payload}")
        return Outcome(error="Crash", message="the process ended before answering (os._exit, a crash, or a "
                                              "limit: memory, CPU time, file size)")
    return None


def _expect_hello(frames: queue.Queue, proc: subprocess.Popen, stderr: list[bytes],
                  drain: threading.Thread) -> None:
    """The runner greets before any student code runs: no greeting means the sandbox failed."""
    try:
        kind, payload = frames.get(timeout=120)
    except queue.Empty:
        kind, payload = "timeout", None
    if kind == "frame" and payload[0]["key"] == "__hello__":
        return
    _kill(proc, isolation())
    drain.join(timeout=5)
    tail = (stderr[0].decode(errors="replace").strip().splitlines() or [""])[-1] if stderr else ""
    hint = ""
    if isolation().mode == "plain" and os.geteuid() == 0:
        hint = (f"; the sandbox runs as an unprivileged uid, which must be able to read this Python ({sys.prefix}) "
                "and its packages: install them where every user can read them (e.g. a venv outside /root), or "
                "run where `unshare` works (namespaces)")
    raise SandboxError(f"the sandbox did not start ({kind}): {tail or 'no message'}{hint}")


def _kill(proc: subprocess.Popen, iso: Isolation) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session: setpriv/unshare and, in plain mode, the runner
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
