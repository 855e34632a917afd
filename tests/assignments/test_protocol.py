"""The answer channel between the sandboxed child and the grader.

The grader-side frame reader (``sandbox._read_frames``) gets hostile byte streams straight from an
``io.BytesIO``: whatever a submission writes, each stream ends in ``("bad", why)`` -- the reader
never raises (a dead reader thread would leave the grader waiting for a timeout) and never
allocates what a header merely claims. Then one real round trip through ``run_probes`` on a copy
of the package: answers, errors, prints, a crash and an endless loop.
"""

from __future__ import annotations

import io
import json
import queue
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from minitorch_cnn.assignments import sandbox as sb
from minitorch_cnn.assignments.sandbox import ProbeItem, SandboxLimits, run_probes

REPO_ROOT = Path(__file__).resolve().parents[2]


def _frame(header: object, body: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return sb._MAGIC + len(raw).to_bytes(4, "little") + raw + body


def _ok(arrays: list[dict], key: str = "1.1/a") -> dict:
    return {"key": key, "status": "ok", "arrays": arrays}


def _spec(dtype: str, shape: list, name: str = "y") -> dict:
    return {"name": name, "dtype": dtype, "shape": shape}


def _read(data: bytes) -> list[tuple[str, object]]:
    """Everything the reader puts on its queue for ``data``; a test failure if it raises."""
    frames: queue.Queue = queue.Queue()
    try:
        sb._read_frames(io.BytesIO(data), frames)
    except BaseException as exc:  # noqa: BLE001 - the point: nothing may escape the reader
        pytest.fail(f"_read_frames raised {exc!r} instead of reporting ('bad', ...)")
    out = []
    while not frames.empty():
        out.append(frames.get_nowait())
    return out


_F8 = np.arange(4.0).tobytes()

HOSTILE = {
    "garbage": b"\x00\x01garbage that is no frame at all\xff" * 10,
    "wrong magic": b"XTCK" + (2).to_bytes(4, "little") + b"{}",
    "header over the limit": sb._MAGIC + (sb._MAX_HEADER + 1).to_bytes(4, "little") + b"{" * 64,
    "header length 4 GiB": sb._MAGIC + b"\xff\xff\xff\xff",
    "header not JSON": _frame(b"{not json"),
    "header not UTF-8": _frame(b"\xff\xfe\xfd"),
    "header a list": _frame([1, 2, 3]),
    "header a string": _frame("frame"),
    "header null": _frame(None),
    "header without key": _frame({"status": "ok", "arrays": []}),
    "key not a string": _frame({"key": 7, "status": "ok", "arrays": []}),
    "status maybe": _frame({"key": "1.1/a", "status": "maybe", "arrays": []}),
    "arrays a dict": _frame({"key": "1.1/a", "status": "ok", "arrays": {"y": 1}}),
    "dtype object": _frame(_ok([_spec("|O8", [2])]), b"\0" * 16),
    "dtype unicode": _frame(_ok([_spec("<U5", [1])]), b"\0" * 20),
    "dtype big-endian": _frame(_ok([_spec(">f8", [4])]), _F8),
    "dtype complex": _frame(_ok([_spec("<c16", [1])]), b"\0" * 16),
    "dtype void": _frame(_ok([_spec("|V8", [1])]), b"\0" * 8),
    "dtype missing": _frame(_ok([{"name": "y", "shape": [1]}]), b"\0" * 8),
    "name not a string": _frame(_ok([_spec("<f8", [1], name=3)]), b"\0" * 8),
    "negative dim": _frame(_ok([_spec("<f8", [-1])])),
    "negative dims cancelling": _frame(_ok([_spec("<f8", [-2, -2])]), b"\0" * 32),
    "huge dim": _frame(_ok([_spec("<f8", [2**40])])),
    "huge product": _frame(_ok([_spec("<f8", [2**20, 2**20])])),
    "huge product, many dims": _frame(_ok([_spec("|u1", [1000] * 8)])),
    "float dim": _frame(_ok([_spec("<f8", [2.0])]), b"\0" * 16),
    "shape not a list": _frame(_ok([_spec("<f8", 4)]), _F8 * 8),
    "ndim 9": _frame(_ok([_spec("|u1", [1] * 9)]), b"\0"),
    "ends inside the 8-byte head": sb._MAGIC + b"\x10",
    "ends inside the header": sb._MAGIC + (100).to_bytes(4, "little") + b'{"key": "1.1/a"',
    "ends right after the head": sb._MAGIC + (100).to_bytes(4, "little"),
    "ends inside the arrays": _frame(_ok([_spec("<f8", [4])]), _F8[:13]),
    "ends before the second array": _frame(_ok([_spec("<f8", [4]), _spec("<f8", [4], "z")]), _F8),
    # what a buggy or hostile child can also write; each must end as ("bad", ...), never raise
    "array spec not a dict": _frame(_ok(["y"])),
    "dtype a list": _frame(_ok([_spec(["<f8"], [1])]), b"\0" * 8),
    "dims that are booleans": _frame(_ok([_spec("<f8", [True])]), b"\0" * 8),
    "header nested 60000 deep": _frame(b"[" * 60000),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_stream_ends_in_bad_and_never_raises(case: str) -> None:
    tracemalloc.start()
    start = time.monotonic()
    try:
        out = _read(HOSTILE[case])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 2.0
    assert peak < 8 << 20, f"{case}: the reader allocated {peak} bytes for a claim"
    assert len(out) == 1, out
    kind, why = out[0]
    assert kind == "bad" and isinstance(why, str) and why and len(why) <= 300, out


def test_a_bad_frame_after_good_ones_keeps_the_good_ones() -> None:
    good = _frame(_ok([_spec("<f8", [4])]), _F8)
    out = _read(good + b"XTCK" + b"\0" * 20)
    assert [k for k, _ in out] == ["frame", "bad"]
    np.testing.assert_array_equal(out[0][1][1]["y"], np.arange(4.0))


def test_the_answers_of_one_check_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sb, "_MAX_FRAME", 64)
    two = [_spec("<f8", [4]), _spec("<f8", [5], "z")]  # 32 + 40 bytes
    out = _read(_frame(_ok(two), _F8 + np.zeros(5).tobytes()))
    assert out == [("bad", "ValueError: the answers of one check exceed 0 MiB")]


def test_the_answers_in_all_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sb, "_MAX_TOTAL", 64)
    one = _frame(_ok([_spec("<f8", [4])], "1.1/a"), _F8)  # 32 bytes each
    out = _read(one + _frame(_ok([_spec("<f8", [4])], "1.1/b"), _F8)
                + _frame(_ok([_spec("<f8", [4])], "1.1/c"), _F8))
    assert [k for k, _ in out] == ["frame", "frame", "bad"]
    assert "in all" in out[2][1]


def test_a_valid_stream_gives_exact_arrays_then_eof() -> None:
    arrays = {"scalar": np.array(2.5), "flags": np.array([[True, False], [False, True]]),
              "ints": np.array([-3, 0, 2**40], dtype="<i8"), "small": np.array(7, dtype=np.uint8),
              "empty": np.zeros((0, 4), dtype="<f4"), "half": np.array([1.5, -2.0], dtype="<f2"),
              "cube": np.arange(24, dtype="<i2").reshape(2, 3, 4)}
    specs = [_spec(a.dtype.str, list(a.shape), name) for name, a in arrays.items()]
    body = b"".join(a.tobytes() for a in arrays.values())
    error = {"key": "1.1/b", "status": "error", "error": "ValueError", "message": "boom", "where": ""}
    out = _read(_frame(_ok(specs), body) + _frame(error))
    assert [k for k, _ in out] == ["frame", "frame", "eof"]
    header, got = out[0][1]
    assert header["key"] == "1.1/a" and list(got) == list(arrays)
    for name, want in arrays.items():
        assert got[name].dtype == want.dtype and got[name].shape == want.shape, name
        np.testing.assert_array_equal(got[name], want)
    assert got["scalar"].ndim == 0 and float(got["scalar"]) == 2.5
    assert got["flags"].dtype == np.bool_
    assert out[1][1] == (error, {}) and out[2] == ("eof", None)
    outcome = sb._outcome(*out[1][1])
    assert (outcome.answers, outcome.error, outcome.message) == (None, "ValueError", "boom")


def test_an_empty_stream_is_eof() -> None:
    assert _read(b"") == [("eof", None)]


# --- one real round trip ---------------------------------------------------------------------------

PROBES = '''
import os
import numpy as np

def probe_1_1__arrays(x):
    return {"zero_d": np.array(x["s"] * 2), "m": (x["m"] * 2).astype(np.float32), "flag": np.array(True)}

def probe_1_2__raises(x):
    raise ValueError("boom")

def probe_1_3__prints(x):
    print("MTCK" + "x" * 1_000_000)
    print("\\0" * 1000, flush=True)
    return {"y": np.arange(5, dtype=np.int64)}

def probe_1_3__string(x):
    return {"s": "not a number"}

def probe_1_4__crash(x):
    os._exit(3)

def probe_1_4__after_crash(x):
    return {"y": np.zeros(1)}

def probe_1_5__fresh(x):
    return {"pid": np.array(os.getpid()), "y": np.ones((2, 2))}

def probe_1_6__forever(x):
    while True:
        pass

def probe_1_7__after_timeout(x):
    return {"pid": np.array(os.getpid()), "z": np.array(-1.25, dtype=np.float32)}
'''


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(REPO_ROOT / "minitorch_cnn", tree / "minitorch_cnn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for path in [tree, *tree.rglob("*")]:  # readable by the sandbox's own uid
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tree


def test_run_probes_round_trip(tmp_path: Path) -> None:
    m = np.arange(6, dtype=np.float64).reshape(3, 2)
    items = [ProbeItem("1.1/arrays", "1.1", "m", "probe_1_1__arrays", {"s": np.array(1.5), "m": m}),
             ProbeItem("1.2/raises", "1.2", "m", "probe_1_2__raises", {}),
             ProbeItem("1.3/prints", "1.3", "m", "probe_1_3__prints", {}),
             ProbeItem("1.3/string", "1.3", "m", "probe_1_3__string", {}),
             ProbeItem("1.4/crash", "1.4", "m", "probe_1_4__crash", {}),
             ProbeItem("1.4/after_crash", "1.4", "m", "probe_1_4__after_crash", {}),
             ProbeItem("1.5/fresh", "1.5", "m", "probe_1_5__fresh", {}),
             ProbeItem("1.6/forever", "1.6", "m", "probe_1_6__forever", {}),
             ProbeItem("1.7/after_timeout", "1.7", "m", "probe_1_7__after_timeout", {})]
    work = tmp_path / "work"
    work.mkdir()
    start = time.monotonic()
    out = run_probes(_tree(tmp_path), {"m": PROBES}, items, work, SandboxLimits(task_timeout_s=2))
    assert time.monotonic() - start < 25
    assert set(out) == {i.key for i in items}

    a = out["1.1/arrays"].answers
    assert a is not None and set(a) == {"zero_d", "m", "flag"}
    assert a["zero_d"].shape == () and a["zero_d"].dtype == np.float64 and float(a["zero_d"]) == 3.0
    assert a["m"].dtype == np.float32 and a["m"].shape == (3, 2)
    np.testing.assert_array_equal(a["m"], (m * 2).astype(np.float32))
    assert a["flag"].dtype == np.bool_ and a["flag"].shape == () and bool(a["flag"])

    r = out["1.2/raises"]
    assert (r.answers, r.error, r.message) == (None, "ValueError", "boom")

    p = out["1.3/prints"]  # 1 MB of prints (even one that starts like a frame) go to stderr
    assert p.error == "" and p.answers is not None
    np.testing.assert_array_equal(p.answers["y"], np.arange(5))
    s = out["1.3/string"]
    assert s.answers is None and s.error == "TypeError" and "'s'" in s.message

    for key in ("1.4/crash", "1.4/after_crash"):
        assert out[key].answers is None and out[key].error == "Crash", (key, out[key])
    fresh = out["1.5/fresh"]
    assert fresh.error == "" and fresh.answers is not None
    np.testing.assert_array_equal(fresh.answers["y"], np.ones((2, 2)))

    t = out["1.6/forever"]
    assert t.answers is None and t.error == "Timeout" and "2 s" in t.message
    last = out["1.7/after_timeout"]
    assert last.error == "" and last.answers is not None and float(last.answers["z"]) == -1.25
    assert last.answers["z"].dtype == np.float32 and last.answers["z"].shape == ()
