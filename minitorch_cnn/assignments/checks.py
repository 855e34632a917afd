"""Task checks split in two: a *probe* that runs the student's code, a *verdict* that decides.

A check module (``minitorch_cnn/assignments/probes.py`` for the visible checks,
``tests/tasks/hidden/hidden_probes.py`` for the instructor-only ones) is plain Python that
imports only NumPy at its top. It defines pairs of functions named after the task and check:

    def inputs_2_1__known(rng) -> dict[str, np.ndarray]      # grader side: the inputs
    def probe_2_1__known(x: dict) -> dict[str, np.ndarray]   # sandbox side: call the student's code

``probe_<chapter>_<number>__<name>`` runs inside the sandbox, on the submission's package (it
imports ``minitorch_cnn`` inside its body), and returns *named arrays*: values, shapes, flags such
as ``raised``. It never decides anything. ``inputs_...`` (optional) draws the inputs from ``rng``:
a fixed seed for visible checks, a seed derived from the student's id for hidden ones, so two
students' hidden answers differ. A module-level ``TOLERANCE = {"2.1/known": (rtol, atol)}``
overrides the default tolerance of a check.

The verdict (:func:`compare`) runs in the grader: it compares the probe's answers, read back as
plain data, with the answers of the same probe run on the instructor's reference (or with
frozen expected values in a student tree).
"""

from __future__ import annotations

import hashlib
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Check", "load_checks", "checks_from_source", "rng_for", "compare", "answers_as_arrays",
           "DEFAULT_RTOL", "DEFAULT_ATOL"]

DEFAULT_RTOL, DEFAULT_ATOL = 1e-6, 1e-9
_PROBE = re.compile(r"^probe_(\d+)_(\d+)__(\w+)$")


@dataclass(frozen=True)
class Check:
    """One check of one task: ``key`` is ``"<task>/<name>"``, e.g. ``"2.1/known"``."""

    task: str
    name: str
    hidden: bool
    probe: Callable[[dict], dict]
    inputs: Callable[[np.random.Generator], dict] | None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    @property
    def key(self) -> str:
        return f"{self.task}/{self.name}"

    @property
    def probe_name(self) -> str:
        return self.probe.__name__


def checks_from_source(source: str, filename: str, hidden: bool) -> list[Check]:
    """Every check a module's ``source`` defines, in source order."""
    module = types.ModuleType(Path(filename).stem)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)  # trusted: the instructor's own file
    tolerance: Mapping[str, tuple[float, float]] = module.__dict__.get("TOLERANCE", {})
    found = []
    for name, fn in module.__dict__.items():
        m = _PROBE.match(name)
        if not (m and callable(fn)):
            continue
        task, check = f"{m.group(1)}.{m.group(2)}", m.group(3)
        rtol, atol = tolerance.get(f"{task}/{check}", (DEFAULT_RTOL, DEFAULT_ATOL))
        found.append(Check(task, check, hidden, fn, module.__dict__.get(f"inputs_{m.group(1)}_{m.group(2)}__{check}"),
                           rtol, atol))
    return found


def load_checks(path: Path, hidden: bool) -> list[Check]:
    """The checks of the check module at ``path``."""
    return checks_from_source(Path(path).read_text(encoding="utf-8"), str(path), hidden)


def rng_for(check: Check, student: str = "") -> np.random.Generator:
    """The generator of a check's inputs: fixed for visible checks, per student for hidden ones."""
    salt = f"{student}\0{check.key}" if check.hidden else f"visible\0{check.key}"
    return np.random.default_rng(int.from_bytes(hashlib.sha256(salt.encode()).digest()[:8], "little"))


def answers_as_arrays(answers: object) -> dict[str, np.ndarray]:
    """A probe's return value as ``{name: ndarray}``; ``TypeError`` for anything else."""
    if not isinstance(answers, dict) or not all(isinstance(k, str) for k in answers):
        raise TypeError(f"a probe must return a dict of named arrays, got {type(answers).__name__}")
    out = {}
    for name, value in answers.items():
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"answer {name!r} has dtype {array.dtype}; probes return numbers or booleans")
        out[name] = array
    return out


def _first_differences(got: np.ndarray, want: np.ndarray, bad: np.ndarray, n: int = 3) -> str:
    idx = np.argwhere(bad)[:n]
    parts = [f"at {tuple(int(i) for i in ix)} expected {want[tuple(ix)].item()!r} got {got[tuple(ix)].item()!r}"
             for ix in idx]  # .item(): plain numbers, not NumPy 2's np.float64(...) reprs
    return "; ".join(parts)


def compare(check: Check, got: Mapping[str, np.ndarray], want: Mapping[str, np.ndarray]) -> tuple[bool, str]:
    """The verdict: ``(passed, message)``; the message names the answer, the shapes and the first
    differing indices with their expected and actual values."""
    missing = [k for k in want if k not in got]
    if missing:
        return False, f"{check.key}: no answer {missing[0]!r} (the probe did not produce it)"
    for name, expected in want.items():
        actual = got[name]
        if actual.shape != expected.shape:
            return False, f"{check.key}: answer {name!r} has shape {actual.shape}, expected {expected.shape}"
        if expected.dtype.kind == "b" or actual.dtype.kind == "b":
            bad = actual.astype(bool) != expected.astype(bool)
        elif expected.dtype.kind in "iu":
            bad = actual != expected
        else:
            a, e = actual.astype(np.float64), expected.astype(np.float64)
            bad = ~np.isclose(a, e, rtol=check.rtol, atol=check.atol, equal_nan=True)
        if bad.any():
            count = int(bad.sum())
            return False, (f"{check.key}: answer {name!r} differs in {count} of {bad.size} element(s) (shape {expected.shape}, "
                           f"rtol={check.rtol:g}, atol={check.atol:g}): {_first_differences(actual, expected, bad)}")
    return True, ""
