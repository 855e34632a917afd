"""The GPU check's CPU-side plumbing: extras per CUDA major, and a dry run of tools/gpu_check.sh.

The real run needs an NVIDIA GPU (see README "Devices"); the dry run uses the "strict" CuPy
stand-in with tiny sizes, so a broken step of the script shows up in CI rather than on a
borrowed GPU machine with minutes on the clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

REPO = Path(__file__).resolve().parents[1]


def test_extras_name_a_cupy_wheel_per_cuda_major() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["cuda12"][0].startswith("cupy-cuda12x")
    assert extras["cuda13"][0].startswith("cupy-cuda13x")
    assert extras["cuda"] == extras["cuda12"], "`cuda` is the recommended alias (CUDA 12)"


def test_gpu_check_dry_run_writes_every_result(tmp_path: Path) -> None:
    env = dict(os.environ, GPU_CHECK_DEVICE="strict", OUT=str(tmp_path), PYTHON=sys.executable)
    done = subprocess.run(["bash", str(REPO / "tools" / "gpu_check.sh")], env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = {p.name for p in tmp_path.iterdir()}
    assert {"versions.txt", "junit.xml", "pytest.log", "gpu_bench.json", "train.log", "metrics.json",
            "summary.md"} <= names
    assert len(names) <= 8, "a device run brings back at most 8 files"
    summary = (tmp_path / "summary.md").read_text()
    assert "Failed steps: 0" in summary and "train:4" in summary
