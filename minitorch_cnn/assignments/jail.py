"""The sandbox's first step, run as root inside fresh namespaces: build a private file system
view, drop every privilege, then start the untrusted runner.

Started by :mod:`minitorch_cnn.assignments.sandbox` as

    unshare --mount --net --pid --ipc --uts --fork --kill-child [--user --map-root-user] \\
        python -I jail.py SPEC_JSON

so this process is PID 1 of a new PID namespace (when it ends, the kernel kills every process the
submission started) with no network (a new network namespace has only a downed loopback). It
then

1. mounts a small tmpfs as the new root and binds into it, read-only, only what Python needs:
   ``/usr``, ``/lib*``, the interpreter's prefix, the site-packages folders and a few ``/etc``
   files -- never the instructor's reference tree, the hidden checks or the results folder;
2. binds the graded tree read-only at ``/sandbox`` and gives a private, size-limited ``/tmp``;
3. ``chroot``\\s into it, sets the resource limits, ``no_new_privs``, and switches to an
   unprivileged uid/gid (when the grader runs as real root);
4. ``exec``\\s ``python -I -B -c RUNNER``: a fresh interpreter, so nothing of this trusted
   process (its modules, its memory) is inherited by the student's code.

Standard library only, no import from the package: it must not load code from any tree.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
PR_SET_NO_NEW_PRIVS = 38
_LIBC = ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    if _LIBC.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} -> {target}: {os.strerror(err)}")


def _bind(path: str, root: str, writable: bool = False, target: str | None = None) -> None:
    """Bind ``path`` at the same place (or ``target``) under ``root``, read-only unless asked."""
    dest = root + (target or path)
    if os.path.islink(path) and target is None:  # merged /usr: /lib -> usr/lib stays a link
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if not os.path.lexists(dest):
            os.symlink(os.readlink(path), dest)
        return
    if os.path.isdir(path):
        os.makedirs(dest, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        open(dest, "a").close()
    _mount(path, dest, None, MS_BIND | MS_REC)
    if not writable:
        _mount(None, dest, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def build_root(spec: dict) -> None:
    root = spec["root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back to the host
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # the private /tmp first: Python may live under /tmp (a venv in a checkout there), and a bind made
    # before this mount would be hidden under it
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['tmp_mb']}m,mode=1777")
    for path in spec["binds"]:
        if os.path.lexists(path):
            _bind(path, root)
    for path in spec["masks"]:  # e.g. an installed copy of the reference package in site-packages
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    _bind(spec["tree"], root, target="/sandbox")
    for dev in ("null", "zero", "random", "urandom"):
        _bind("/dev/" + dev, root, writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    os.chroot(".")
    os.chdir("/sandbox")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_privileges(spec: dict) -> None:
    for name, value in spec["limits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    if _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if spec.get("uid") is not None:
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
        if os.geteuid() == 0 or os.getuid() == 0:
            raise OSError("the sandbox is still root after setresuid")


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        build_root(spec)
        drop_privileges(spec)
    except OSError as exc:
        sys.stderr.write(f"sandbox setup failed: {exc}\n")
        os._exit(70)
    os.execve(spec["python"], [spec["python"], "-I", "-B", "-c", spec["runner"], "/sandbox"], spec["env"])


if __name__ == "__main__":
    main()
