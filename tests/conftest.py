"""Shared fixtures: every op test runs on each available backend.

``device`` is "cpu" (NumPy), "strict" (the CuPy stand-in that refuses implicit NumPy conversion,
so CPU-only CI still catches code that would break on a GPU) and, where CuPy and a GPU are
present, "cuda". Tests that need the real GPU are skipped with the reason shown.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import minitorch_cnn as mt
from minitorch_cnn import backend

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FASHION_DIR = SHARED_DIR / "data" / "fashion-mnist"

_DEVICES = ["cpu", "strict"] + (["cuda"] if backend.cuda_is_available() else [])


@pytest.fixture(params=_DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """Each backend in turn; tests build inputs with ``mt.tensor(array, device=device)``."""
    return request.param


@pytest.fixture
def cuda_device() -> str:
    """The real GPU backend; skipped (with the reason) where CuPy or a GPU is missing."""
    if not backend.cuda_is_available():
        pytest.skip(f"needs a CUDA GPU: {backend._cupy_or_reason()[1]}")
    return "cuda"


@pytest.fixture(autouse=True)
def _seed_and_cpu_default() -> None:
    mt.manual_seed(0)
    backend.set_default_device("cpu")


@pytest.fixture
def fashion_dir() -> Path:
    """The real Fashion-MNIST IDX files from ../shared; skipped cleanly in a user's fresh clone."""
    if not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"Fashion-MNIST not found at {FASHION_DIR} (../shared/ exists only for developers and CI)")
    return FASHION_DIR
