"""``mt.backends``: torch's ``torch.backends`` flags, so scripts that set them run unchanged.

minitorch_cnn never calls cuDNN (its GPU code is CuPy array arithmetic) and has no Apple-GPU (MPS)
backend, so ``cudnn``'s flags are documented no-ops and ``mps.is_available()`` is False. Not to be
confused with ``mt.backend`` (singular), where the array backends (NumPy, CuPy, strict) live.
"""

from __future__ import annotations

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
