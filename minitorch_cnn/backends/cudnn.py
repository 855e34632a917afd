"""``mt.backends.cudnn``: ``torch.backends.cudnn``'s flags, settable and without effect.

minitorch_cnn never calls cuDNN: its GPU convolutions are CuPy GEMMs, whose results do not depend
on these flags. They exist so that ``torch.backends.cudnn.benchmark = True`` or the
reproducibility recipe (``deterministic = True; benchmark = False``) runs unchanged; for
reproducible runs seed with ``mt.manual_seed``.
"""

from __future__ import annotations

__all__ = ["enabled", "benchmark", "deterministic", "allow_tf32", "is_available", "version"]

enabled: bool = True
"""No effect (torch: use cuDNN at all)."""
benchmark: bool = False
"""No effect (torch: time several convolution algorithms and keep the fastest)."""
deterministic: bool = False
"""No effect (torch: only deterministic cuDNN algorithms)."""
allow_tf32: bool = True
"""No effect (torch: allow TF32 in cuDNN convolutions)."""


def is_available() -> bool:
    """False: minitorch_cnn does not use cuDNN, whether or not a GPU is present."""
    return False


def version() -> None:
    """None: no cuDNN is used."""
    return None
