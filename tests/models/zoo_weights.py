"""Deterministic, well-scaled weights for any state dict, made with NumPy only.

Used twice: by ``freeze_torchvision.py`` (run once with the PyTorch oracle, which loads these weights
into torchvision's models and records their outputs) and by ``test_zoo.py`` (which loads the same
weights into our builders and compares). Scaling keeps activations of order 1 through deep nets:
conv / linear weights ~ N(0, 1/fan_in), BatchNorm's gamma, running_var in [0.5, 1.5], beta, biases
and running_mean small.
"""

from __future__ import annotations

import numpy as np

SEED = 20261201


def deterministic_state(shapes: list[tuple[str, list[int]]], seed: int = SEED) -> dict[str, np.ndarray]:
    """``{key: float32 array}`` for ``[(key, shape), ...]`` (``num_batches_tracked`` -> int64 zero)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for key, shape in shapes:
        shape = tuple(shape)
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "num_batches_tracked":
            out[key] = np.zeros(shape, dtype=np.int64)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            out[key] = (rng.standard_normal(shape, dtype=np.float32) / np.float32(np.sqrt(fan_in)))
        elif leaf in ("running_var", "weight"):
            out[key] = rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
        else:  # bias, running_mean
            out[key] = rng.uniform(-0.1, 0.1, size=shape).astype(np.float32)
    return out


def deterministic_input(shape: tuple[int, ...], seed: int = SEED + 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
