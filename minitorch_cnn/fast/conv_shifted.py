"""Stride-1 convolution as a sum of GEMMs over *shifted slices*: no 9x im2col copy ("implicit GEMM").

The idea, for a 3x3 kernel with padding 1 on one image (the same holds for any kernel size,
padding, dilation and number of spatial axes). Lay the input out *channel-major*, every channel's
plane flattened into one row, with a gap of zeros after every image row and every image::

    X (C_in, front + L):  [0 ... 0 | x00 x01 ... x0,W-1  0 | x10 ... x1,W-1  0 | ... | 0 ... 0 | image 1 ...]

One gap of ``max(lo, hi)`` zeros serves as the right padding of a row *and* the left padding of
the next (and a gap row as the bottom padding of one image and the top padding of the next), so
each row takes ``W_g = W + 1`` positions instead of ``W + 2``. An output pixel ``(i, j)`` is
*anchored* at position ``a = i*W_g + j`` and its kernel tap ``(m, k)`` reads ``X[a + m*W_g + k]``
(the ``front`` zeros before image 0 are its top-left padding). So, for each tap, the inputs of
*all* outputs at once are the contiguous slice ``X[:, off : off + L]`` with ``off = m*W_g + k`` -- a
view, not a copy -- and::

    Y (C_out, L) = sum over the 9 taps of  W[:, :, m, k] (C_out, C_in) @ X[:, off : off + L]

Outputs are computed at every anchor, one per position of the rows and their gaps; those at a
gap (``i >= H_out`` or ``j >= W_out``) are junk and are cropped away afterwards
(``(H+1)(W+1) / (H W)`` extra work: 7% at 28x28, 15% at 14x14, half of what separately padded
``(H+2) x (W+2)`` planes cost). The memory saved is the im2col matrix, ``C_in*9`` numbers per
output pixel, written once and read once per layer and pass.

Backward, with the output gradient zeroed at the junk anchors (``Gz (C_out, L)``):

* weight: ``grad_W[:, :, m, k] = Gz @ X[:, off : off + L]^T`` -- the correlation of the output
  gradient with the input, one GEMM per tap;
* input: the adjoint of "read ``q + off``" is "write ``q + off``", i.e. ``grad_X[:, p] = sum_taps
  W_tap^T @ Gz[:, p - off]``: the correlation of the output gradient with the **reflected** kernel
  (offsets negated) whose in/out channels are swapped -- exactly the unit's derivation, computed
  at every position of rows and gaps and cropped to the input's pixels.

Each sum runs over blocks of ``BLOCK_COLUMNS`` anchors: the nine shifted slices of one block are
copied into a small buffer that stays in the L2 cache and multiplied in one GEMM (inner dimension
``9*C_in``), so main memory sees ``X`` about once instead of the 9x im2col matrix. The blocks are
shared out over the thread pool with BLAS limited to one thread (``threads.parallel_gemm_blocks``):
thousands of small multi-threaded BLAS calls would each wake and wait for BLAS's threads, which on
a loaded 2-core machine was measured 6-9x slower than one thread per core.

**Positions-major grids** (``positions_major_layout``). The same sums can be written transposed,
``Y^T (positions, C_out) = sum_t X_t^T (positions, C_in) @ W_t^T``, with the grid laid out
``(front + L + back, C)``: a tap's inputs for a run of positions are then rows, and a block of
positions gathers the nine taps side by side into a ``(positions, 9*C_in)`` operand whose long
dimension is the GEMM's ``M``. That layout also makes it cheap to skip the junk anchors: a block is
a set of whole images (or a band of rows of one image), and each tap's inputs for it are one
strided ``(images, rows, cols, C)`` view of the grid (``valid_gemm_sum``), so only valid outputs
are computed and the result is the ``(N, H_out, W_out, C_out)`` array, transposed to NCHW at the
end. OpenBLAS's AVX-512 kernels run these products 1.13-1.34x faster than the channel-major path
at the unit's shapes; under its AVX2 kernel the two are within 0.93-1.16x of each other, and the
channel-major path stays (BENCHMARKS.md, "Which convolution kernel").

``conv.py`` uses this path for 2-d, stride-1, ``groups=1`` convolutions with non-negative padding and at least ``MIN_CHANNELS`` input channels (with fewer,
each GEMM has an inner dimension too small to be efficient and im2col's copy is cheap anyway);
``conv_reference.py`` holds the loop definition both paths are tested against.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Sequence
from typing import Any

from ..backend import get_array_module
from .threads import image_blocks, parallel_for, parallel_gemm_blocks

__all__ = [
    "BLOCK_COLUMNS",
    "MIN_CHANNELS",
    "use_shifted",
    "ShiftedGrid",
    "shifted_gemm_sum",
    "shifted_forward",
    "shifted_backward",
    "shifted_input_grad",
    "shifted_weight_grad",
]

BLOCK_COLUMNS = 1024
"""Columns (anchor positions) per block: ``9*C_in*1024`` floats (1.1 MiB at C_in = 32) stay in L2."""

MIN_CHANNELS = 8
"""Smallest ``C_in`` (per group) for which the shifted-slice path beats im2col."""


LAYOUT_ENV = "MINITORCH_CNN_CONV_LAYOUT"
"""``channels`` / ``positions`` forces the grid's layout; unset: ``positions_major_layout`` decides."""

_AVX512_KERNELS = {"skylakex", "cooperlake", "sapphirerapids"}


def positions_major_layout() -> bool:
    """Whether the grids are laid out positions-major, ``(L, C)``, so that every GEMM's long
    dimension (the positions) is its ``M``, or channel-major, ``(C, L)``.

    The same products, transposed (and over the valid anchors only); which is faster depends on the
    BLAS kernel, measured per shape with ``tools/bench_winograd.py`` (BENCHMARKS.md): OpenBLAS's
    AVX-512 kernels (SkylakeX and newer) run the positions-major path 1.13-1.34x faster at every
    measured shape; under its AVX2 (Haswell) kernel, whose GEMMs run alike either way, the result
    goes both ways (0.93-1.16x) and the transposing copies in and out of the grid eat the junk
    anchors it saves. So: positions-major under an AVX-512 OpenBLAS kernel, channel-major otherwise
    -- one choice per process, never timed per call, so a run's rounding does not depend on timing
    noise. ``MINITORCH_CNN_CONV_LAYOUT=channels|positions`` decides instead (read on every call).
    """
    forced = os.environ.get(LAYOUT_ENV, "").strip().lower()
    if forced in ("channels", "positions"):
        return forced == "positions"
    return _blas_kernel() in _AVX512_KERNELS


@functools.lru_cache(maxsize=1)
def _blas_kernel() -> str:
    """The kernel family OpenBLAS picked (``"haswell"``, ``"skylakex"``, ...), ``""`` if unknown."""
    try:
        import threadpoolctl
    except ImportError:
        return ""
    for pool in threadpoolctl.threadpool_info():
        if pool.get("internal_api") == "openblas":
            return str(pool.get("architecture") or "").lower()
    return ""


def use_shifted(x_shape: Sequence[int], w_shape: Sequence[int], stride: Sequence[int],
                pads: Sequence[tuple[int, int]], groups: int) -> bool:
    """Whether ``conv.py`` should take this path for a convolution of these shapes."""
    return (len(w_shape) == 4 and groups == 1 and all(s == 1 for s in stride)
            and all(lo >= 0 and hi >= 0 for lo, hi in pads) and w_shape[1] >= MIN_CHANNELS)


class ShiftedGrid:
    """The channel-major geometry: sizes, shared zero gaps, tap offsets, and the copies in and out.

    Every image row is followed by ``gap_w`` zeros and every image by ``gap_h`` zero rows, so one
    gap is at once the right (bottom) padding of a row (image) and the left (top) padding of the
    next: ``gap = max(lo, hi)`` per axis (more only when padding exceeds the kernel's reach and
    outputs would not fit). The flattened buffer is ``front`` zeros (the first image's top-left
    padding), then ``L = N * (H + gap_h) * (W + gap_w)`` anchors' worth of rows and gaps.
    """

    def __init__(self, in_shape: Sequence[int], kernel: Sequence[int], pads: Sequence[tuple[int, int]],
                 dilation: Sequence[int], positions_major: bool | None = None) -> None:
        self.n = in_shape[0]
        self.sizes = tuple(in_shape[2:])
        self.out = tuple(s + lo + hi - d * (k - 1) for s, (lo, hi), k, d in zip(self.sizes, pads, kernel, dilation))
        gaps = tuple(max(lo, hi, o - s) for (lo, hi), o, s in zip(pads, self.out, self.sizes))
        self.extent = tuple(s + g for s, g in zip(self.sizes, gaps))  # one row (plane) plus its gap
        axis_strides = [math.prod(self.extent[i + 1:]) for i in range(len(self.extent))]
        # tap (m, k) reads the anchor's position + m*d_h*W_g + k*d_w, in row-major tap order
        self.offsets = [sum(m * d * s for m, d, s in zip(tap, dilation, axis_strides))
                        for tap in itertools.product(*(range(k) for k in kernel))]
        self.front = sum(lo * s for (lo, _), s in zip(pads, axis_strides))  # zeros before image 0
        self.length = self.n * math.prod(self.extent)  # L: anchors, one per position of rows + gaps
        self.margin = max(self.offsets)  # the last anchors' taps read this far past the end
        self.positions_major = positions_major_layout() if positions_major is None else positions_major

    def _data(self) -> tuple:
        return tuple(slice(0, s) for s in self.sizes)

    def _valid(self) -> tuple:
        return tuple(slice(0, o) for o in self.out)

    def _to_grid(self, a: Any, where: tuple, front: int, back: int) -> Any:
        """``a (N, C, ...)`` copied into the ``where`` region of a zeroed grid, ``(C, front + L + back)``
        channel-major or ``(front + L + back, C)`` positions-major; the transposing copy is split over
        the batch (``threads.parallel_for``)."""
        xp = get_array_module(a)
        c, rows = a.shape[1], front + self.length + back
        if self.positions_major:
            out = xp.zeros((rows, c), dtype=a.dtype)
            grid = out[front:front + self.length].reshape(self.n, *self.extent, c)
            axes = (0,) + tuple(range(2, a.ndim)) + (1,)  # (N, C, ...) -> (N, ..., C)

            def copy(s: slice) -> None:
                grid[(s,) + where] = a[s].transpose(axes)
        else:
            out = xp.zeros((c, rows), dtype=a.dtype)
            grid = out[:, front:front + self.length].reshape(c, self.n, *self.extent)

            def copy(s: slice) -> None:
                grid[(slice(None), s) + where] = a[s].swapaxes(0, 1)

        parallel_for(xp, self.n, a.nbytes, copy)
        return out

    def _from_grid(self, g: Any, where: tuple) -> Any:
        """The ``where`` region of a channel-major ``(C, L)`` grid as a contiguous ``(N, C, ...)`` array."""
        xp = get_array_module(g)
        c = g.shape[0]
        grid = g.reshape(c, self.n, *self.extent)[(slice(None), slice(None)) + where]
        out = xp.empty((self.n, c) + tuple(o.stop for o in where), dtype=g.dtype)

        def copy(s: slice) -> None:
            out[s] = grid[:, s].swapaxes(0, 1)

        parallel_for(xp, self.n, out.nbytes, copy)
        return out

    def positions_to_nchw(self, y: Any, sizes: Sequence[int]) -> Any:
        """Positions-major ``(N * prod(sizes), C)`` (valid positions only) -> contiguous ``(N, C, *sizes)``."""
        xp = get_array_module(y)
        c = y.shape[1]
        grid = y.reshape(self.n, *sizes, c)
        axes = (0, grid.ndim - 1) + tuple(range(1, grid.ndim - 1))
        out = xp.empty((self.n, c, *sizes), dtype=y.dtype)

        def copy(s: slice) -> None:
            out[s] = grid[s].transpose(axes)

        parallel_for(xp, self.n, out.nbytes, copy)
        return out

    def pad_to_grid(self, x: Any) -> Any:
        """``x (N, C, *sizes)`` -> ``X (C, front + L + back)`` (positions-major: its transpose): every
        image row followed by its zero gap, with room for the last anchors' reads (``X[:, a + offset]``)."""
        return self._to_grid(x, self._data(), self.front, max(0, self.margin - self.front))

    def anchors_to_grid(self, g: Any) -> Any:
        """An output gradient ``(N, C_out, *out)`` placed at its anchors, zero at the junk anchors (so
        they contribute nothing to either gradient): ``(C_out, margin + L + front)`` (positions-major:
        its transpose), the zeros in front and behind being what the input gradient's reflected taps
        read beyond ``[0, L)``."""
        return self._to_grid(g, self._valid(), self.margin, self.front)

    def crop_outputs(self, y: Any) -> Any:
        """``(C_out, L)`` at the anchors -> ``(N, C_out, *out)``, the junk anchors dropped."""
        return self._from_grid(y, self._valid())

    def crop_inputs(self, gx: Any) -> Any:
        """``(C_in, L)`` at the input's positions -> ``(N, C_in, *sizes)``: the gaps' gradient dropped."""
        return self._from_grid(gx, self._data())


def _block_bounds(length: int) -> list[tuple[int, int]]:
    return [(a, min(a + BLOCK_COLUMNS, length)) for a in range(0, length, BLOCK_COLUMNS)]


def shifted_gemm_sum(wmat: Any, src: Any, starts: Sequence[int], length: int, bias: Any = None) -> Any:
    """``out[:, a] = sum_t wmat[:, t*C:(t+1)*C] @ src[:, starts[t] + a]`` for every ``a < length``.

    Block by block: the ``K`` shifted slices of one block of ``BLOCK_COLUMNS`` columns are copied
    (contiguous row pieces, a cache-resident buffer of ``K*C x BLOCK_COLUMNS``) and multiplied in
    *one* GEMM with inner dimension ``K*C``. Measured against nine GEMMs with inner dimension ``C``
    added into the block, this is 15-25% faster (a GEMM with inner dimension 32 runs far below the
    BLAS peak), and against the full im2col matrix it moves ``9x`` fewer bytes through memory.
    The blocks are shared out over the thread pool (``threads.parallel_gemm_blocks``). ``bias``
    (``(C_out,)`` or None) is added to each block while it is in cache.
    """
    xp = get_array_module(wmat, src)
    taps, c = len(starts), src.shape[0]
    out = xp.empty((wmat.shape[0], length), dtype=src.dtype)
    bounds = _block_bounds(length)

    def work(span: slice) -> None:
        buf = xp.empty((taps, c, min(BLOCK_COLUMNS, length)), dtype=src.dtype)  # one per thread
        for a, b in bounds[span]:
            xp.matmul(wmat, _gather_block(xp, buf, src, starts, a, b), out=out[:, a:b])
            if bias is not None:
                out[:, a:b] += bias[:, None]

    parallel_gemm_blocks(xp, len(bounds), out.nbytes, work)
    return out


def _gather_block(xp: Any, buf: Any, src: Any, starts: Sequence[int], a: int, b: int) -> Any:
    """The ``(K*C, b - a)`` column block: tap ``t``'s rows are ``src[:, starts[t] + a : starts[t] + b]``."""
    block = buf[:, :, : b - a]
    for t, start in enumerate(starts):
        block[t] = src[:, start + a: start + b]
    if b - a < buf.shape[2]:
        block = xp.ascontiguousarray(block)  # the last, shorter block
    return block.reshape(-1, b - a)


# --------------------------------------------------------------------------------------------------
# Positions-major grids: the same sums transposed, over the valid anchors only
# --------------------------------------------------------------------------------------------------
def _image_blocks(n: int, rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """Blocks of about ``BLOCK_COLUMNS`` positions (``threads.image_blocks``)."""
    return image_blocks(n, rows, cols, BLOCK_COLUMNS)


def _grid_view(src: Any, start: int, block: tuple, grid: ShiftedGrid, cols: int) -> Any:
    """``src[start + n*plane + i*W_g + j]`` for the block's images ``n``, rows ``i`` and columns
    ``j < cols``, as a ``(images, rows, cols, C)`` view (``plane = H_g * W_g``): a tap's inputs for
    the block's positions, skipping the junk anchors of the gaps."""
    n0, n1, i0, i1 = block
    hg, wg = grid.extent
    first = start + n0 * hg * wg
    planes = src[first: first + (n1 - n0) * hg * wg].reshape(n1 - n0, hg, wg, src.shape[1])
    return planes[:, i0:i1, :cols]


def valid_gemm_sum(wmat: Any, src: Any, starts: Sequence[int], grid: ShiftedGrid, rows: int, cols: int,
                   bias: Any = None) -> Any:
    """Positions-major: ``out[(n*rows + i)*cols + j] = sum_t src[starts[t] + n*plane + i*W_g + j] @
    wmat[t*C:(t+1)*C]`` for every image ``n``, row ``i < rows``, column ``j < cols`` -- the valid
    positions only, in ``(N, rows, cols)`` order: ``out (N*rows*cols, C_out)``.

    Each block of positions gathers the ``K`` taps' ``(positions, C)`` pieces side by side into a
    ``(positions, K*C)`` buffer (one strided copy per tap) and multiplies it by ``wmat (K*C, C_out)``:
    the long dimension is the GEMM's ``M``, which OpenBLAS's AVX-512 kernels run faster, and the gaps'
    junk anchors (7% of a 28x28 grid, 15% of a 14x14 one) are never computed.
    """
    xp = get_array_module(wmat, src)
    taps, c = len(starts), src.shape[1]
    out = xp.empty((grid.n * rows * cols, wmat.shape[1]), dtype=src.dtype)
    blocks = _image_blocks(grid.n, rows, cols)
    size = _largest_block(blocks, rows, cols)

    def work(span: slice) -> None:
        buf = xp.empty((size, taps, c), dtype=src.dtype)  # one per thread
        for block in blocks[span]:
            o0, o1 = _positions_of(block, rows, cols)
            xp.matmul(_gather_valid(buf, src, starts, block, grid, cols), wmat, out=out[o0:o1])
            if bias is not None:
                out[o0:o1] += bias

    parallel_gemm_blocks(xp, len(blocks), out.nbytes, work)
    return out


def _positions_of(block: tuple, rows: int, cols: int) -> tuple[int, int]:
    """The block's rows of an ``(N*rows*cols, C)`` positions-major array."""
    n0, n1, i0, i1 = block
    first = (n0 * rows + i0) * cols
    return first, first + (n1 - n0) * (i1 - i0) * cols


def _largest_block(blocks: Sequence[tuple], rows: int, cols: int) -> int:
    """Positions in the largest block: the size of the buffers a thread gathers into."""
    return max((last - first for first, last in (_positions_of(b, rows, cols) for b in blocks)), default=0)


def _gather_valid(buf: Any, src: Any, starts: Sequence[int], block: tuple, grid: ShiftedGrid, cols: int) -> Any:
    """The ``(positions, K*C)`` block: columns ``t*C : (t+1)*C`` are tap ``t``'s ``_grid_view``."""
    n0, n1, i0, i1 = block
    count = (n1 - n0) * (i1 - i0) * cols
    gathered = buf[:count]
    by_position = gathered.reshape(n1 - n0, i1 - i0, cols, len(starts), src.shape[1])
    for t, start in enumerate(starts):
        by_position[:, :, :, t] = _grid_view(src, start, block, grid, cols)
    return gathered.reshape(count, -1)


def _tap_matrix(xp: Any, w: Any, order: tuple, positions_major: bool) -> Any:
    """``w (O, C, *kernel)`` as the GEMM operand whose row (column) ``t*A + i`` holds tap ``t`` of
    input ``i``: ``order`` names the axes of ``(O, C, taps)`` as (rows, taps, columns)."""
    o, c = w.shape[:2]
    mat = w.reshape(o, c, -1).transpose(order)  # (A_out, taps, A_in)
    rows = mat.shape[0]
    mat = xp.ascontiguousarray(mat).reshape(rows, -1)  # (A_out, taps * A_in)
    return xp.ascontiguousarray(mat.T) if positions_major else mat


def shifted_forward(x: Any, w: Any, pads: Sequence[tuple[int, int]], dilation: Sequence[int],
                    bias: Any = None) -> tuple:
    """``y = conv(x, w) + bias`` (stride 1; ``bias`` may be None). Returns ``(y, X, grid)``: ``X`` is
    the padded input on its grid, which is all the weight gradient needs later."""
    xp = get_array_module(x, w)
    grid = ShiftedGrid(x.shape, w.shape[2:], pads, dilation)
    X = grid.pad_to_grid(x)
    wmat = _tap_matrix(xp, w, (0, 2, 1), grid.positions_major)  # (C_out, K*C_in), or its transpose
    if grid.positions_major:
        y = valid_gemm_sum(wmat, X, grid.offsets, grid, *grid.out, bias)
        return grid.positions_to_nchw(y, grid.out), X, grid
    y = shifted_gemm_sum(wmat, X, grid.offsets, grid.length, bias)
    return grid.crop_outputs(y), X, grid


def shifted_backward(gy: Any, w: Any, X: Any, w_shape: Sequence[int], grid: ShiftedGrid) -> tuple:
    """``(grad_x, grad_w)`` from one copy of the output gradient placed at its anchors (with
    ``grid.margin`` zero columns in front for the input gradient's reads). ``w`` is None when
    ``grad_x`` is not needed, ``X`` None when ``grad_w`` is not; that gradient is then None."""
    G = grid.anchors_to_grid(gy)
    gx = shifted_input_grad(G, w, grid) if w is not None else None
    gw = shifted_weight_grad(G, X, w_shape, grid) if X is not None else None
    return gx, gw


def shifted_input_grad(G: Any, w: Any, grid: ShiftedGrid) -> Any:
    """``grad_x``: the output gradient ``G`` (at its anchors, ``grid.margin`` zeros in front)
    correlated with the reflected kernel whose in/out channels are swapped."""
    xp = get_array_module(G, w)
    wmat_t = _tap_matrix(xp, w, (1, 2, 0), grid.positions_major)  # (C_in, K*C_out), or its transpose
    # grad_X[:, front + p] = sum_t W_t^T @ G[:, margin + front + p - off_t]: negated offsets = the
    # reflected kernel (p: an input position counted from image 0's first pixel)
    starts = [grid.margin + grid.front - off for off in grid.offsets]
    if grid.positions_major:
        return grid.positions_to_nchw(valid_gemm_sum(wmat_t, G, starts, grid, *grid.sizes), grid.sizes)
    return grid.crop_inputs(shifted_gemm_sum(wmat_t, G, starts, grid.length))


def shifted_weight_grad(G: Any, X: Any, w_shape: Sequence[int], grid: ShiftedGrid) -> Any:
    """``grad_w[:, :, tap] = Gz @ X[:, off_tap : off_tap + L]^T`` (``Gz = G[:, margin:]``, the output
    gradient at the anchors), one GEMM per column block (``Gz block (C_out, B) @ column block^T (B,
    K*C_in)``), summed over the blocks. Positions-major: ``Gz block^T @ block`` over the valid
    anchors' blocks only."""
    xp = get_array_module(G, X)
    o, c = w_shape[:2]
    taps = len(grid.offsets)
    if grid.positions_major:
        rows, cols = grid.out
        blocks = _image_blocks(grid.n, rows, cols)
        size = _largest_block(blocks, rows, cols)
    else:
        blocks, size = _block_bounds(grid.length), min(BLOCK_COLUMNS, grid.length)

    def work(span: slice) -> Any:
        gw = xp.zeros((o, taps * c), dtype=G.dtype)  # this thread's share of the sum
        part = xp.empty_like(gw)
        if grid.positions_major:
            buf, gbuf = xp.empty((size, taps, c), dtype=X.dtype), xp.empty((size, o), dtype=G.dtype)
            for block in blocks[span]:
                first, last = _positions_of(block, rows, cols)
                g = gbuf[: last - first]  # the output gradient at the block's valid anchors
                g.reshape(block[1] - block[0], block[3] - block[2], cols, o)[...] = _grid_view(
                    G, grid.margin, block, grid, cols)
                gw += xp.matmul(g.T, _gather_valid(buf, X, grid.offsets, block, grid, cols), out=part)
        else:
            buf = xp.empty((taps, c, size), dtype=X.dtype)
            for a, b in blocks[span]:
                gw += xp.matmul(G[:, grid.margin + a: grid.margin + b],
                                _gather_block(xp, buf, X, grid.offsets, a, b).T, out=part)
        return gw

    parts = parallel_gemm_blocks(xp, len(blocks), X.nbytes, work)
    gw = sum(parts[1:], parts[0])
    return xp.ascontiguousarray(gw.reshape(o, taps, c).transpose(0, 2, 1)).reshape(tuple(w_shape))
