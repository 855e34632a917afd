"""tools/benchlib.py's plumbing that decides what a benchmark child runs under and where its
figures are written (no timing here: speed is measured by the tools, never by tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture(scope="module")
def benchlib():
    spec = importlib.util.spec_from_file_location("benchlib", TOOLS / "benchlib.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchlib"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("benchlib", None)


BASE = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512", "PATH": "/usr/bin"}


def test_threads_are_pinned_and_kernel_overrides_kept_by_default(benchlib):
    env = benchlib.pin_threads_env(2, BASE)
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["OPENBLAS_L2_SIZE"] == "512"
    assert all(env[v] == "2" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                       "MINITORCH_CNN_THREADS"))
    assert BASE["OPENBLAS_CORETYPE"] == "Haswell" and "OMP_NUM_THREADS" not in BASE  # the caller's dict is untouched


def test_native_blas_removes_both_overrides_together(benchlib):
    env = benchlib.pin_threads_env(2, BASE, native_blas=True)
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["PATH"] == "/usr/bin" and env["OPENBLAS_NUM_THREADS"] == "2"
    assert benchlib.pin_threads_env(1, {"PATH": "/bin"}, native_blas=True)["PATH"] == "/bin"  # absent: fine


def test_native_runs_get_their_own_section(benchlib, tmp_path):
    base = "## Training step and evaluation (tools/bench_train.py)"
    native = benchlib.section_heading(base, True)
    assert benchlib.section_heading(base, False) == base and native == base + benchlib.NATIVE_SUFFIX
    out = tmp_path / "BENCHMARKS.md"
    benchlib.write_section(out, base, base + "\n\nforced kernel\n")
    benchlib.write_section(out, native, native + "\n\nown kernel\n")
    benchlib.write_section(out, base, base + "\n\nforced kernel, again\n")
    text = out.read_text()
    assert "own kernel" in text and "forced kernel, again" in text and "forced kernel\n" not in text
    assert text.count(base) == 2  # the base heading and the native one that starts with it


def test_machine_line_reports_the_childrens_environment(benchlib):
    class Quiet:
        def describe(self) -> str:
            return "quiet"

    line = benchlib.machine_line({"minitorch": {"libraries": "numpy"}}, Quiet(),
                                 benchlib.pin_threads_env(2, BASE, native_blas=True))
    assert "OPENBLAS_CORETYPE" not in line and "OPENBLAS_NUM_THREADS=2" in line and line.endswith("quiet")
    forced = benchlib.machine_line({}, Quiet(), benchlib.pin_threads_env(2, BASE))
    assert "OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512" in forced


def test_publish_refuses_a_text_under_another_heading(benchlib, tmp_path):
    native = benchlib.section_heading("## Training step", True)
    with pytest.raises(ValueError, match="must start with its heading"):
        benchlib.publish(tmp_path / "B.md", native, "## Training step\n\ntable\n", None, write=True)
    assert not (tmp_path / "B.md").exists()
