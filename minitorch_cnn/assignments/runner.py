"""The sandbox's untrusted side: run the probes the grader sent on the submission's code.

Started by the sandbox as ``python -I -B -c <this file's source> TREE`` (never imported by the
grader). Protocol, all binary on pipes (nothing of it touches the file system):

* stdin, from the grader: 8 bytes little-endian header length, a JSON header
  ``{"modules": {name: source}, "checks": [{"key", "module", "probe", "inputs": [array specs]}],
  "limits": {...}}``, then the input arrays' raw bytes in order;
* the answer channel (the original stdout, duplicated before any student code runs; fd 1 then
  points at stderr so the submission's ``print`` calls cannot interleave with answers): one frame
  per check, ``b"MTCK"``, 4 bytes header length, a JSON header ``{"key", "status": "ok" | "error",
  "arrays": [{"name", "dtype", "shape"}], "error", "message", "where"}``, then the arrays' bytes.

The grader treats every frame as hostile data: it checks sizes, dtypes and keys and never
executes anything from here. Standard library and NumPy only.
"""

import json
import os
import sys
import traceback

_MAGIC = b"MTCK"


def _read_request() -> tuple[dict, memoryview]:
    raw = sys.stdin.buffer.read()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n].decode()), memoryview(raw)[8 + n:]


def _apply_limits(limits: dict) -> None:
    import resource

    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _inputs(np, specs: list, blob: memoryview, offset: int) -> tuple[dict, int]:
    out = {}
    for spec in specs:
        dtype = np.dtype(spec["dtype"])
        size = int(np.prod(spec["shape"], dtype=np.int64)) * dtype.itemsize
        out[spec["name"]] = np.frombuffer(blob[offset:offset + size], dtype=dtype).reshape(spec["shape"]).copy()
        offset += size
    return out, offset


def _where(exc: BaseException, tree: str) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{os.path.relpath(exc.filename, tree)}, line {exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(tree + os.sep)]
    return f"{os.path.relpath(frames[-1].filename, tree)}, line {frames[-1].lineno}" if frames else ""


def _send(chan, header: dict, arrays: list) -> None:
    body = json.dumps(header).encode()
    chan.write(_MAGIC + len(body).to_bytes(4, "little") + body)
    for a in arrays:
        chan.write(a.tobytes())
    chan.flush()


def _answer(np, key: str, answers: object) -> tuple[dict, list]:
    if not isinstance(answers, dict):
        raise TypeError(f"the probe returned {type(answers).__name__}, not a dict of arrays")
    specs, arrays = [], []
    for name, value in answers.items():
        a = np.array(value.numpy() if hasattr(value, "numpy") else value, order="C")  # keeps 0-d arrays 0-d
        if a.dtype.kind not in "biuf":
            raise TypeError(f"answer {name!r} has dtype {a.dtype}, not a number")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        specs.append({"name": str(name), "dtype": a.dtype.str, "shape": list(a.shape)})
        arrays.append(a)
    return {"key": key, "status": "ok", "arrays": specs}, arrays


def _import_package(tree: str) -> BaseException | None:
    """Import the submission's package once: the error every probe reports if that fails (a
    second import after a failed one gives a confusing KeyError), or if it is not the tree's."""
    try:
        import minitorch_cnn
    except BaseException as exc:  # noqa: BLE001 - SyntaxError, an exception at import, SystemExit
        return exc
    origin = os.path.realpath(getattr(minitorch_cnn, "__file__", "") or "")
    if not origin.startswith(tree + os.sep):
        return ImportError(f"minitorch_cnn was imported from {origin}, not the submission")
    return None


def main() -> None:
    tree = os.path.realpath(sys.argv[1])
    chan = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    request, blob = _read_request()
    _apply_limits(request.get("limits", {}))
    os.chdir(tree)
    sys.path.insert(0, tree)
    import numpy as np

    _send(chan, {"key": "__hello__", "status": "ok", "arrays": []}, [])  # set up: student code runs next
    import_error = _import_package(tree)
    namespaces: dict = {}
    offset = 0
    for check in request["checks"]:
        key = check["key"]
        inputs, offset = _inputs(np, check["inputs"], blob, offset)
        try:
            if import_error is not None:
                raise import_error
            if check["module"] not in namespaces:
                ns = {"__name__": "checks_" + check["module"]}
                exec(compile(request["modules"][check["module"]], "<checks>", "exec"), ns)
                namespaces[check["module"]] = ns
            header, arrays = _answer(np, key, namespaces[check["module"]][check["probe"]](inputs))
        except BaseException as exc:  # noqa: BLE001 - SystemExit, a pytest skip: all are failures
            header, arrays = {"key": key, "status": "error", "error": type(exc).__name__,
                              "message": str(exc)[:4000], "where": _where(exc, tree)}, []
        _send(chan, header, arrays)
    chan.close()


if __name__ == "__main__":
    main()
