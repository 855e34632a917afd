"""Winograd's minimal filtering F(2x2, 3x3): a 3x3 convolution with 16 instead of 36 multiplications per 2x2 outputs.

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2016). Shapes (chainer-style)::

    x (N, C_in, H, W)    w (C_out, C_in, 3, 3)    y (N, C_out, H_out, W_out),  H_out = H + pt + pb - 2
    th, tw = ceil(H_out / 2), ceil(W_out / 2)       tiles per image (a 2x2 output block each)
    T = N * th * tw                                  tiles of the whole batch
    d (4, 4)   one input tile        g (3, 3)  one filter (o, c)       Y (2, 2)  one output tile
    V (16, C_in, T) = B^T d B        U (16, C_out, C_in) = G g G^T      M (16, C_out, T) = U @ V

**1-D: F(2, 3).** Two outputs of a 3-tap correlation, ``y0 = d0 g0 + d1 g1 + d2 g2`` and
``y1 = d1 g0 + d2 g1 + d3 g2``, take 6 multiplications. Winograd computes 4 products instead::

    m1 = (d0 - d2) g0                    m2 = (d1 + d2) (g0 + g1 + g2) / 2
    m4 = (d1 - d3) g2                    m3 = (d2 - d1) (g0 - g1 + g2) / 2
    y0 = m1 + m2 + m3                    y1 = m2 - m3 - m4

(expand: ``m2 + m3 = d1 g1 + d2 (g0 + g2)``, ``m2 - m3 = d1 (g0 + g2) + d2 g1``). The filter terms
``(g0 +- g1 + g2) / 2`` depend on the weights only -- computed once per layer, not per output --
and the data terms are additions. In matrix form, ``y = A^T [(G g) * (B^T d)]`` with::

    B^T = [[1,  0, -1,  0],      G = [[ 1,    0,   0 ],      A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],           [1/2,  1/2, 1/2],             [0, 1, -1, -1]]
           [0, -1,  1,  0],           [1/2, -1/2, 1/2],
           [0,  1,  0, -1]]           [ 0,    0,   1 ]]

**2-D: F(2x2, 3x3)** nests the 1-D algorithm along rows and columns::

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* : element-wise, on 4x4 matrices)

A 4x4 input tile gives a 2x2 output tile; neighbouring tiles *overlap* by 2 rows/columns (tiles
start every 2 pixels, as the 3x3 windows of their 4 outputs cover 4x4 pixels). Per output tile that
is 16 multiplications instead of 4 outputs x 9 taps = 36: 2.25x fewer. Over channels the
element-wise product becomes a sum, ``M[k, o, t] = sum_c U[k, o, c] V[k, c, t]`` -- for each of the 16
positions ``k`` of the 4x4 tile, one GEMM ``(C_out, C_in) @ (C_in, T)``. The transforms are
additions only (``B``, ``A`` hold +-1; ``G``'s 1/2 is exact in binary), so they cost memory passes,
not multiplications: at small channel counts the GEMMs are cheap and those passes dominate.

Odd output sizes: the tile grid is padded up (zeros below/right of the padded input) and the
extra output row/column cropped. Rounding: the transforms add up to 4 terms before and after the
products (and ``U``'s sums of weights are larger than the weights), so float32 results differ from
the direct sum by more than its own rounding: about 1e-6 of the result's largest magnitude (a
weight gradient, a sum over thousands of pixels, is off by ~3e-5 at magnitude 30).
``tests/fast/test_winograd.py`` holds forward and both gradients to the textbook path on every
accepted shape: float32 within 5e-6 of the result's scale, float64 within 1e-12.

**Backward** (``dL/d.`` in one line each):

* ``dL/dx``: the correlation of the output gradient, padded by ``2 - pad``, with the reflected,
  channel-swapped kernel -- itself a Winograd convolution (``winograd_input_grad``);
* ``dL/dU[k] = sum_t dM[k, :, t] V[k, :, t]^T`` with ``dM = A dY A^T`` (the adjoint of ``A^T . A``):
  16 GEMMs ``(C_out, T) @ (T, C_in)``; then ``dL/dg = G^T dU G`` (the adjoint of ``G . G^T``).

Work is cut into blocks of about ``BLOCK_TILES`` tiles (whole images, or rows of tiles of one
image) so that a block's ``V`` and ``M`` stay in cache between the transform, the GEMMs and the
inverse transform; the blocks are shared out over the thread pool with BLAS at one thread
(``threads.parallel_gemm_blocks``).

**When it pays** (``winograd_pays``): measured with ``tools/bench_winograd.py`` (forward + both
gradients, float32, median of 5, ms; 2-core AMD EPYC VM, 2026-12-07 20:47 UTC, nothing else
running), against the shifted-slice kernel (``conv_shifted.py``) in its better grid layout, with
OpenBLAS's kernel forced to Haswell as the environment sets it (``OPENBLAS_CORETYPE=Haswell``) and
with OpenBLAS's own choice (SkylakeX)::

    shape (N, C_in->C_out, HxW)     OPENBLAS_CORETYPE=Haswell        OpenBLAS's own kernel
                                   shifted  Winograd  ratio       shifted  Winograd  ratio
    128,  32->32,  28x28              44       58     0.76           36       50     0.72
    128,  32->64,  14x14              20       29     0.68           13       25     0.53
    128,  64->64,  14x14              33       44     0.76           21       37     0.58
     32,  64->64,  56x56             124      117     1.06           81       97     0.83
      8, 128->128, 56x56             108       84     1.29           65       61     1.06
      8, 256->256, 28x28             103       91     1.14           59       61     0.96

(ms per forward + backward; ratio = shifted / Winograd, > 1: Winograd is faster.) As expected
for NumPy, the transforms are element-wise passes (per block: 6 for the input, 8 for the output,
8 for the gradient) over 4x as many numbers as the input holds (16 per 2x2 output pixels), and the
weight gradient transforms the input once more: at 32-64 channels the GEMM work they save is too
cheap to pay for them; at 128-256 channels they pay under the AVX2 kernel (1.14-1.29x) and about
break even under the AVX-512 one (0.96-1.06x), whose GEMMs are faster. The rule is one for both:
>= 128 input and output channels. The first version wrote its transforms through views whose
innermost axis had a large stride and lost everywhere (0.45-1.08); that is why every pass now runs
along rows of pixels.

"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..backend import get_array_module
from .threads import image_blocks, parallel_for, parallel_gemm_blocks

__all__ = [
    "ENV_VAR",
    "BLOCK_TILES",
    "B_T",
    "G",
    "A_T",
    "eligible",
    "winograd_pays",
    "applies",
    "WinogradPlan",
    "filter_transform",
    "winograd_conv",
    "winograd_forward",
    "winograd_backward",
    "winograd_input_grad",
    "winograd_weight_grad",
]

ENV_VAR = "MINITORCH_CNN_WINOGRAD"
"""``1``: Winograd wherever eligible; ``0``: never; unset (or anything else): ``winograd_pays`` decides."""

BLOCK_TILES = 256
"""Tiles per block: ``16 * (C_in + C_out) * 256`` floats (1 MiB at 32 + 32 float32 channels)."""

B_T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
A_T = [[1, 1, 1, 0], [0, 1, -1, -1]]


def eligible(x_shape: Sequence[int], w_shape: Sequence[int], stride: Sequence[int], pads: Sequence[tuple[int, int]],
             dilation: Sequence[int], groups: int) -> bool:
    """What F(2x2, 3x3) can compute: 2-d, 3x3 kernel, stride 1, dilation 1, one group, padding >= 0."""
    return (len(w_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and groups == 1 and len(x_shape) in (3, 4)
            and all(s == 1 for s in stride) and all(d == 1 for d in dilation)
            and all(lo >= 0 and hi >= 0 for lo, hi in pads))


def winograd_pays(x_shape: Sequence[int], w_shape: Sequence[int]) -> bool:
    """Whether Winograd beats the shifted-slice kernel for this (eligible) shape, by the measurement
    in the module docstring: at least 128 input *and* output channels (Winograd 1.14-1.29x faster
    there under OpenBLAS's AVX2 kernel, 0.96-1.06x under its AVX-512 one; 0.53-0.76x at 32-64
    channels)."""
    return min(w_shape[0], w_shape[1]) >= 128


def applies(x_shape: Sequence[int], w_shape: Sequence[int], stride: Sequence[int], pads: Sequence[tuple[int, int]],
            dilation: Sequence[int], groups: int) -> bool:
    """The seam's choice: eligible, and ``MINITORCH_CNN_WINOGRAD`` (read on every call) is ``1``,
    or unset and ``winograd_pays``."""
    if not eligible(x_shape, w_shape, stride, pads, dilation, groups):
        return False
    flag = os.environ.get(ENV_VAR, "").strip()
    if flag in ("0", "1"):
        return flag == "1"
    return winograd_pays(x_shape, w_shape)


@dataclass(frozen=True)
class WinogradPlan:
    """The forward's geometry, kept on the graph node for the backward: input and output sizes,
    the padding, and the tile grid ``(th, tw)``."""

    in_shape: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    out: tuple[int, int]
    tiles: tuple[int, int]


def _const(xp: Any, rows: list, dtype: Any) -> Any:
    return xp.asarray(rows, dtype=dtype)


def filter_transform(w: Any) -> Any:
    """``U (16, C_out, C_in) = G g G^T`` for every filter ``g = w[o, c]``."""
    xp = get_array_module(w)
    g = _const(xp, G, w.dtype)
    u = xp.matmul(xp.matmul(g, w), g.T)  # (C_out, C_in, 4, 4)
    return xp.ascontiguousarray(u.transpose(2, 3, 0, 1)).reshape(16, w.shape[0], w.shape[1])


def _tile_grid(x: Any, pads: Sequence[tuple[int, int]]) -> tuple:
    """``x (N, C, H, W)`` with ``pads`` (either sign: negative crops) in a zeroed
    ``(N, C, 2 th + 2, 2 tw + 2)`` buffer (the copy split over the batch): every tile's 4x4 input
    lies inside. Returns
    ``(buffer, (H_out, W_out), (th, tw))``."""
    xp = get_array_module(x)
    out = tuple(s + lo + hi - 2 for s, (lo, hi) in zip(x.shape[2:], pads))
    tiles = tuple((o + 1) // 2 for o in out)
    buf = xp.zeros(x.shape[:2] + tuple(2 * t + 2 for t in tiles), dtype=x.dtype)
    src, dst = [], []
    for s, (lo, hi) in zip(x.shape[2:], pads):
        a, b = max(0, -lo), min(s, s + hi)  # the input rows that stay after cropping
        src.append(slice(a, b))
        dst.append(slice(a + lo, b + lo))

    def copy(s: slice) -> None:
        buf[(s, slice(None), *dst)] = x[(s, slice(None), *src)]

    parallel_for(xp, x.shape[0], buf.nbytes, copy)
    return buf, out, tiles


def _blocks(n: int, tiles: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """``(n0, n1, r0, r1)``: images ``n0:n1``, tile rows ``r0:r1``; about ``BLOCK_TILES`` tiles each
    (several whole images when one is smaller, else rows of tiles of one image: ``threads.image_blocks``)."""
    return image_blocks(n, *tiles, BLOCK_TILES)


def _input_transform(xp: Any, src: Any, block: tuple, tw: int) -> Any:
    """``V (16, C, nb * rows * tw) = B^T d B`` for the tiles of one block of the tile buffer ``src``:
    rows ``d0 - d2 | d1 + d2 | d2 - d1 | d1 - d3``, then the same on columns. Each pass runs along a
    contiguous (or stride-2) row of pixels: writing through a view whose innermost axis has a
    large stride was measured 2.7x slower."""
    n0, n1, r0, r1 = block
    nb, rows, c = n1 - n0, r1 - r0, src.shape[1]
    width = src.shape[3]
    # P = input rows (d0, d1) of each tile row, Q = rows (d2, d3): (nb, C, rows, 2, width) views
    p = src[n0:n1, :, 2 * r0:2 * r1].reshape(nb, c, rows, 2, width)
    q = src[n0:n1, :, 2 * r0 + 2:2 * r1 + 2].reshape(nb, c, rows, 2, width)
    d0, d1, d2, d3 = p[:, :, :, 0], p[:, :, :, 1], q[:, :, :, 0], q[:, :, :, 1]  # (nb, C, rows, width)
    r = xp.empty((4, nb, c, rows, width), dtype=src.dtype)  # B^T d for every tile row
    xp.subtract(d0, d2, out=r[0])
    xp.add(d1, d2, out=r[1])
    xp.subtract(d2, d1, out=r[2])
    xp.subtract(d1, d3, out=r[3])
    v = xp.empty((4, 4, c, nb, rows, tw), dtype=src.dtype)
    pc = r[..., :2 * tw].reshape(4, nb, c, rows, tw, 2)  # columns (e0, e1) and (e2, e3) of each tile
    qc = r[..., 2:2 * tw + 2].reshape(4, nb, c, rows, tw, 2)
    e0, e1, e2, e3 = pc[..., 0], pc[..., 1], qc[..., 0], qc[..., 1]  # (4, nb, C, rows, tw) each
    vt = v.transpose(0, 1, 3, 2, 4, 5)  # (4, 4, nb, C, rows, tw): the operands' order, tiles innermost
    xp.subtract(e0, e2, out=vt[:, 0])
    xp.add(e1, e2, out=vt[:, 1])
    xp.subtract(e2, e1, out=vt[:, 2])
    xp.subtract(e1, e3, out=vt[:, 3])
    return v.reshape(16, c, nb * rows * tw)


def _output_transform(xp: Any, m: Any, dst: Any) -> None:
    """``Y = A^T M A`` of every tile of one block, written into ``dst`` ``(nb, C_out, 2 rows, 2 tw)``
    (a view of the output): rows ``m0 + m1 + m2 | m1 - m2 - m3``, then the same on columns."""
    nb, co, h2, w2 = dst.shape
    m4 = m.reshape(4, 4, co, nb, h2 // 2, w2 // 2)
    s = xp.empty((2,) + m4.shape[1:], dtype=m.dtype)
    xp.add(m4[0], m4[1], out=s[0])
    s[0] += m4[2]
    xp.subtract(m4[1], m4[2], out=s[1])
    s[1] -= m4[3]
    y = dst.reshape(nb, co, h2 // 2, 2, w2 // 2, 2)  # (n, o, tile row, a, tile column, b): a view
    y0, y1 = y[..., 0].transpose(3, 1, 0, 2, 4), y[..., 1].transpose(3, 1, 0, 2, 4)  # (a, o, n, i, j)
    xp.add(s[:, 0], s[:, 1], out=y0)
    y0 += s[:, 2]
    xp.subtract(s[:, 1], s[:, 2], out=y1)
    y1 -= s[:, 3]


def winograd_conv(x: Any, u: Any, pads: Sequence[tuple[int, int]]) -> tuple:
    """``conv(x, w)`` (stride 1, 3x3) from the transformed filters ``u = filter_transform(w)``;
    ``pads`` per spatial axis, negative values crop. Returns ``(y, tile buffer, plan)``."""
    xp = get_array_module(x, u)
    buf, out, tiles = _tile_grid(x, pads)
    n, co = x.shape[0], u.shape[1]
    y = xp.empty((n, co, 2 * tiles[0], 2 * tiles[1]), dtype=x.dtype)
    blocks = _blocks(n, tiles)

    def work(span: slice) -> None:
        for block in blocks[span]:
            n0, n1, r0, r1 = block
            m = xp.matmul(u, _input_transform(xp, buf, block, tiles[1]))
            _output_transform(xp, m, y[n0:n1, :, 2 * r0:2 * r1])

    parallel_gemm_blocks(xp, len(blocks), y.nbytes + buf.nbytes, work)
    if tuple(y.shape[2:]) != out:
        y = xp.ascontiguousarray(y[:, :, :out[0], :out[1]])
    plan = WinogradPlan(tuple(x.shape), tuple(tuple(p) for p in pads), out, tiles)
    return y, buf, plan


def winograd_forward(x: Any, w: Any, pads: Sequence[tuple[int, int]]) -> tuple:
    """``y = conv(x, w)`` (no bias). Returns ``(y, buf, plan)``; the zero-padded tile buffer ``buf``
    is all the weight gradient needs later."""
    return winograd_conv(x, filter_transform(w), pads)


def winograd_backward(gy: Any, w: Any, buf: Any, plan: WinogradPlan) -> tuple:
    """``(grad_x, grad_w)``; ``w`` None when ``grad_x`` is not needed, ``buf`` None when ``grad_w``
    is not (that gradient is then None)."""
    gx = winograd_input_grad(gy, w, plan) if w is not None else None
    gw = winograd_weight_grad(gy, buf, plan) if buf is not None else None
    return gx, gw


def winograd_input_grad(gy: Any, w: Any, plan: WinogradPlan) -> Any:
    """``dL/dx``: ``gy`` padded by ``2 - pad`` (cropped where ``pad > 2``) correlated with the reflected
    kernel whose in/out channels are swapped -- a Winograd convolution of its own."""
    xp = get_array_module(gy, w)
    w_t = xp.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    pads = [(2 - lo, 2 - hi) for lo, hi in plan.pads]
    return winograd_conv(gy, filter_transform(w_t), pads)[0]


def _grad_transform(xp: Any, gy: Any, block: tuple) -> Any:
    """``dM (16, C_out, nb * rows * tw) = A dY A^T`` for the 2x2 output-gradient tiles of one block of
    ``gy (N, C_out, 2 th, 2 tw)`` (rows: ``y0 | y0 + y1 | y0 - y1 | -y1``, then columns)."""
    n0, n1, r0, r1 = block
    nb, co, rows, tw = n1 - n0, gy.shape[1], r1 - r0, gy.shape[3] // 2
    g = gy[n0:n1, :, 2 * r0:2 * r1].reshape(nb, co, rows, 2, tw, 2)
    t = xp.empty((4, co, nb, rows, tw, 2), dtype=gy.dtype)
    g0, g1 = g[:, :, :, 0].transpose(1, 0, 2, 3, 4), g[:, :, :, 1].transpose(1, 0, 2, 3, 4)
    t[0] = g0
    xp.add(g0, g1, out=t[1])
    xp.subtract(g0, g1, out=t[2])
    xp.negative(g1, out=t[3])
    dm = xp.empty((4, 4, co, nb, rows, tw), dtype=gy.dtype)
    dm[:, 0] = t[..., 0]
    xp.add(t[..., 0], t[..., 1], out=dm[:, 1])
    xp.subtract(t[..., 0], t[..., 1], out=dm[:, 2])
    xp.negative(t[..., 1], out=dm[:, 3])
    return dm.reshape(16, co, nb * rows * tw)


def winograd_weight_grad(gy: Any, buf: Any, plan: WinogradPlan) -> Any:
    """``dL/dw = G^T dU G`` with ``dU[k] = sum_t dM[k, :, t] V[k, :, t]^T``: per block, 16 GEMMs
    ``(C_out, T_b) @ (T_b, C_in)``; each thread sums its blocks, the threads' sums are added."""
    xp = get_array_module(gy, buf)
    th, tw = plan.tiles
    if tuple(gy.shape[2:]) != (2 * th, 2 * tw):  # odd output: the cropped row/column's gradient is 0
        full = xp.zeros(gy.shape[:2] + (2 * th, 2 * tw), dtype=gy.dtype)
        full[:, :, :gy.shape[2], :gy.shape[3]] = gy
        gy = full
    blocks = _blocks(gy.shape[0], plan.tiles)
    co, c = gy.shape[1], buf.shape[1]

    def work(span: slice) -> Any:
        du = xp.zeros((16, co, c), dtype=gy.dtype)
        for block in blocks[span]:
            v = _input_transform(xp, buf, block, tw)
            du += xp.matmul(_grad_transform(xp, gy, block), v.transpose(0, 2, 1))
        return du

    parts = parallel_gemm_blocks(xp, len(blocks), buf.nbytes + gy.nbytes, work)
    du = sum(parts[1:], parts[0]).reshape(4, 4, co, c).transpose(2, 3, 0, 1)  # (C_out, C_in, 4, 4)
    g = _const(xp, G, gy.dtype)
    return xp.matmul(xp.matmul(g.T, du), g)

