"""The random generators of ``utils.data``: PyTorch takes a ``torch.Generator``, we take NumPy's.

minitorch_cnn has no ``Generator`` class of its own; ``generator=`` accepts a
``numpy.random.Generator`` (used, and advanced, in place, as a ``torch.Generator`` is) or an int seed
(a fresh ``numpy.random.default_rng(seed)`` made once, so successive epochs still differ).
``None`` means the framework's global CPU generator (``mt.manual_seed`` seeds it), as PyTorch's
``default_generator``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import backend
from ...ops._checks import is_int


def as_generator(generator: Any, who: str) -> np.random.Generator | None:
    """``None`` stays ``None``; a NumPy ``Generator`` is returned as is; an int seeds a new one."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if is_int(generator):
        if generator < 0:
            raise ValueError(f"{who}: a generator seed must be >= 0, got {generator}")
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{who}: generator must be a numpy.random.Generator or an int seed, got {type(generator).__name__}"
    )


def global_generator() -> np.random.Generator:
    """The framework's global CPU generator (PyTorch's ``torch.default_generator``)."""
    return backend.random_state("cpu")


def draw_seed(generator: np.random.Generator | None) -> int:
    """One 63-bit seed from ``generator`` (or the global generator)."""
    gen = generator if generator is not None else global_generator()
    return int(gen.integers(0, 2**63 - 1))


def fresh(generator: np.random.Generator | None) -> np.random.Generator:
    """``generator`` itself, or (``None``) a new generator seeded from the global one, as PyTorch's
    samplers do on every ``__iter__``."""
    return generator if generator is not None else np.random.default_rng(draw_seed(None))
