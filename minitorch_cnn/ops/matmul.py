"""Matrix product with NumPy's ``matmul`` semantics (batched, broadcasting batch dims).

For ``C = A @ B``: ``dL/dA = dL/dC @ B^T`` and ``dL/dB = A^T @ dL/dC``, then summed over any
batch dimensions that were broadcast. 1-D operands are promoted to matrices and squeezed back.
"""

from __future__ import annotations

from typing import Any

from .. import fast
from ..autograd import Context, Function
from ._util import unbroadcast


class MatMulFunction(Function):
    """``C = A @ B``: d/dA = dC @ B^T, d/dB = A^T @ dC (batch axes summed where broadcast)."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands must have at least 1 dimension (use * for scalars)")
        if a.dtype != b.dtype:
            raise TypeError(f"matmul: dtype mismatch, {a.dtype} and {b.dtype}; convert one side first")
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned: the last "
                f"dimension of the first ({k_a}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} dimension of the second ({k_b})"
            )
        ctx.save_for_backward(a, b)
        return _mm(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        a, b = ctx.saved_tensors
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        # put back the axes that 1-D operands lost in the product
        if a.ndim == 1:
            g = g[..., None, :] if b.ndim > 1 else g[..., None]
        if b.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(_mm(g, b2.swapaxes(-1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(_mm(a2.swapaxes(-1, -2), g), b2.shape).reshape(b.shape)
        return ga, gb


def _mm(a: Any, b: Any) -> Any:
    """``a @ b``; 2-D products go through the thread pool with one BLAS thread (``fast.matmul``)."""
    return fast.matmul(a, b)
