# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2: Convolution
#
# A convolutional layer slides a small kernel over an image and, at every position, takes the
# dot product of the kernel with the patch under it. This chapter works through it:
#
# 1. **Correlation versus convolution**: what deep learning calls "convolution".
# 2. **The worked examples**: a 5x5 input with a 3x3 kernel, and a sharpening filter.
# 3. **Padding, stride, dilation** and the output-size formula.
# 4. **Channels and groups**: multi-channel kernels, depth-wise and point-wise convolution,
#    and how few parameters a convolution needs compared with a dense layer.
# 5. **How it is computed fast**: im2col (a strided view of all the windows) and one matrix product.
#
# Run it as a script (`python tutorials/02_convolution.py`) or as a notebook with jupytext.

# %%
import time

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops.conv_reference import conv_nd_reference, correlate2d_reference
from minitorch_cnn.ops.windows import window_view

mt.manual_seed(0)


def as_image(rows: list) -> mt.Tensor:
    """A 2-d list as a (1, 1, H, W) tensor: batch of one, one channel."""
    return mt.tensor([[rows]], dtype=mt.float64)


# %% [markdown]
# ## 1. Correlation versus convolution
#
# The *cross-correlation* of an image `x` with a kernel `K` is
#
# $$y[i, j] = \sum_{m}\sum_{n} K[m, n]\; x[i + m,\; j + n]$$
#
# The *convolution* of signal processing flips the kernel first:
# $y[i, j] = \sum_{m,n} K[m, n]\, x[i - m, j - n]$. Deep-learning libraries compute the
# correlation and call it convolution. Since the kernel is learned, the difference does not matter
# for training: a network that needed the flipped kernel simply learns it. It matters when you
# compare with a textbook or put in a hand-designed filter. Here is the formula as plain loops
# (this is `correlate2d_reference`, the oracle the fast code is tested against):
#
# ```python
# for i in range(H - kh + 1):
#     for j in range(W - kw + 1):
#         for m in range(kh):
#             for n in range(kw):
#                 y[i, j] += k[m, n] * x[i + m, j + n]
# ```

# %% [markdown]
# ## 2. The worked examples
#
# A 5x5 input and a 3x3 kernel give a 3x3 output ("valid" positions only: the kernel must fit).

# %%
x55 = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
k33 = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]

by_loops = correlate2d_reference(np.array(x55), np.array(k33))
by_conv2d = F.conv2d(as_image(x55), as_image(k33))
print("loops:\n", by_loops)
print("F.conv2d:\n", by_conv2d.numpy()[0, 0])
assert by_loops.tolist() == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
assert np.array_equal(by_conv2d.numpy()[0, 0], by_loops)

# the top-left output, spelled out: the kernel times the top-left 3x3 patch
patch = np.array(x55)[:3, :3]
print("top-left =", (patch * np.array(k33)).sum())

# %% [markdown]
# True convolution (flip the kernel in both axes) gives a different answer:

# %%
flipped = np.array(k33)[::-1, ::-1].copy()
print(F.conv2d(as_image(x55), as_image(flipped.tolist())).numpy()[0, 0])

# %% [markdown]
# A hand-designed filter: the *sharpen* kernel adds to each pixel 4x its difference from its
# four neighbours. With one pixel of zero padding the output keeps the image's 5x5 size; the
# top-left output is `5*60 - 113 - 73 = 114` (the padded neighbours are 0).

# %%
image = [[60, 113, 56, 139, 85], [73, 121, 54, 84, 128], [131, 99, 70, 129, 127], [80, 57, 115, 69, 134],
         [104, 126, 123, 95, 130]]
sharpen = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
sharp = F.conv2d(as_image(image), as_image(sharpen), padding=1).numpy()[0, 0]
print(sharp)
assert sharp[0, 0] == 114

# %% [markdown]
# ## 3. Padding, stride and dilation
#
# For an input of size `H`, kernel `k`, padding `p` (on each side), stride `s` and dilation `d`
# (the kernel taps are `d` pixels apart, covering `d*(k-1) + 1` pixels):
#
# $$H_{out} = \left\lfloor \frac{H + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1$$
#
# `padding` may also be a word: `'valid'` (no padding), `'same'` (output size = input size at
# stride 1; an even kernel puts its extra row/column at the bottom/right, as PyTorch does), and
# `'full'` -- our documented extension -- `d*(k-1)` on each side: every position where kernel and
# image overlap at all.

# %%
def out_size(h: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


cases = [
    ("4x4, k3, p0", 4, dict(), 2),
    ("5x5, k3, p1", 5, dict(padding=1), 5),
    ("5x5, k3, p2 (full)", 5, dict(padding=2), 7),
    ("6x6, k3, s2, p1", 6, dict(stride=2, padding=1), 3),
    ("7x7, k3, dilation 2", 7, dict(dilation=2), 3),
]
for name, h, kw, expected in cases:
    y = F.conv2d(mt.zeros(1, 1, h, h), mt.zeros(1, 1, 3, 3), **kw)
    formula = out_size(h, 3, kw.get("padding", 0), kw.get("stride", 1), kw.get("dilation", 1))
    print(f"{name:22s} -> {y.shape[-2]}x{y.shape[-1]} (formula {formula})")
    assert y.shape[-1] == formula == expected
for word in ("valid", "same", "full"):
    print(f"padding={word!r:8s} on 5x5, k3 -> {F.conv2d(mt.zeros(1, 1, 5, 5), mt.zeros(1, 1, 3, 3), padding=word).shape[-2:]}")

# %% [markdown]
# Zero padding is not the only choice. A `Conv2d` layer's `padding_mode` pads the border by
# mirroring (`'reflect'`), repeating the edge (`'replicate'`) or wrapping around (`'circular'`).
# Padding is its own differentiable op, `F.pad` (amounts for the last axis first):

# %%
row = mt.tensor([[[1.0, 2.0, 3.0, 4.0]]])
for mode in ("constant", "reflect", "replicate", "circular"):
    print(f"{mode:9s}", F.pad(row, (2, 2), mode).numpy()[0, 0])

# %% [markdown]
# ## 4. Channels, groups and parameter counts
#
# An RGB image has 3 channels, so a kernel is 3-d: `(C_in, k, k)`, summed over all input
# channels; a layer with `C_out` kernels has weight `(C_out, C_in, k, k)` and a bias per output
# channel. The count does not depend on the image size. `Conv2d(16, 32, 3)`:
# `32*16*3*3 + 32 = 4,640` parameters. A dense layer between the same two 28x28 feature maps would
# connect every input value to every output value:

# %%
conv = nn.Conv2d(16, 32, 3, padding=1)
n_conv = sum(p.numel() for p in conv.parameters())
n_dense = (16 * 28 * 28) * (32 * 28 * 28) + 32 * 28 * 28
print(f"Conv2d(16, 32, 3): {n_conv:,} parameters;  dense 16x28x28 -> 32x28x28: {n_dense:,}")
assert n_conv == 4640

# %% [markdown]
# `groups` splits the channels into independent groups. With `groups = C_in` every channel gets
# its own kernel (*depth-wise*); a 1x1 convolution then mixes channels (*point-wise*). Together
# they are MobileNet's depth-wise separable convolution:

# %%
depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
pointwise = nn.Conv2d(16, 32, 1)
counts = [sum(p.numel() for p in m.parameters()) for m in (depthwise, pointwise)]
print(f"depth-wise {counts[0]} + point-wise {counts[1]} = {sum(counts)}  (vs {n_conv} for a full 3x3)")
assert counts == [144, 544] and sum(counts) == 688
x = mt.randn(2, 16, 28, 28)
print("shapes:", depthwise(x).shape, "->", pointwise(depthwise(x)).shape)

# %% [markdown]
# ## 5. How it is computed fast: im2col + one matrix product
#
# Python loops over every output pixel would take minutes for one batch. The fast path instead:
#
# 1. takes a **strided view** of all windows at once, `windows[c, m, n, b, i, j] = xpad[b, c, i+m, j+n]`,
#    without copying (NumPy's `as_strided` just changes how the same memory is indexed);
# 2. copies it once into a matrix `cols` of shape `(C_in*k*k, N*H_out*W_out)`: one column per output
#    position, holding that position's patch ("im2col");
# 3. computes `W (C_out, C_in*k*k) @ cols` with BLAS: every output of every image in one product.

# %%
xs = mt.randn(2, 3, 6, 6, dtype=mt.float64)
ws = mt.randn(4, 3, 3, 3, dtype=mt.float64)
xpad = np.pad(xs.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
windows = window_view(xpad, kernel=(3, 3), stride=(1, 1), dilation=(1, 1), out=(6, 6), order="im2col")
print("window view:", windows.shape, "shares memory with the input:", np.shares_memory(windows, xpad))
cols = windows.reshape(3 * 9, 2 * 36)  # the one copy
y_gemm = (ws.numpy().reshape(4, 27) @ cols).reshape(4, 2, 6, 6).transpose(1, 0, 2, 3)
y_fast = F.conv2d(xs, ws, padding=1).numpy()
y_loops = conv_nd_reference(xs.numpy(), ws.numpy(), pads=((1, 1), (1, 1)))
print("im2col == F.conv2d == loops:", np.allclose(y_gemm, y_fast), np.allclose(y_fast, y_loops))

# %% [markdown]
# The difference in speed, on a small batch (the loop version is the test oracle, never used in
# training):

# %%
xb = mt.randn(4, 8, 16, 16, dtype=mt.float64)
wb = mt.randn(8, 8, 3, 3, dtype=mt.float64)
t0 = time.perf_counter()
conv_nd_reference(xb.numpy(), wb.numpy(), pads=((1, 1), (1, 1)))
t_loops = time.perf_counter() - t0
t0 = time.perf_counter()
F.conv2d(xb, wb, padding=1)
t_fast = time.perf_counter() - t0
print(f"loops {t_loops * 1e3:.0f} ms, im2col + GEMM {t_fast * 1e3:.2f} ms ({t_loops / t_fast:.0f}x faster)")

# %% [markdown]
# That is the code `F.conv2d` runs, and the code to read: `conv2d` in `minitorch_cnn/ops/conv.py`
# checks its arguments into one `Window` (kernel, stride, padding per side, dilation, groups, output
# size) and applies `Conv2dFunction`, whose `forward` is `conv_forward_array` (im2col + GEMM, as
# above) and whose `backward` is the formulas chapter 3 derives. Measured speeds against PyTorch
# are in `BENCHMARKS.md` (`python tools/bench_ops.py`).
#
# ### How the fast path works
#
# The unit's CNN does not always run that code: a few ops have a faster kernel for the shapes it
# uses, kept apart in `minitorch_cnn/fast/`. Each op asks on the first line of its `forward`, e.g.
# `if fast.conv_applies(x, w, window): return fast.conv_forward(...)`, and its `backward` follows
# the choice. The kernels compute the same numbers with fewer trips through memory:
#
# * `fast/conv_shifted.py` (2-d, stride 1, one group, >= 8 input channels: every convolution of
#   the CNN but the first): no im2col matrix. Each kernel tap's inputs for all outputs are one
#   *shifted slice* of the padded input laid out channel-major, so the 9x copy is never built.
#   The same products can be written transposed, `Y^T = X^T W^T`, with the long dimension
#   (positions) as the matrix product's `M`, over the valid output positions only (the zero gaps'
#   "junk" outputs skipped): under OpenBLAS's AVX-512 kernels that runs 1.13-1.34x faster, under its
#   AVX2 kernel about as fast, so the grid is laid out positions-major only under the former
#   (`conv_shifted.positions_major_layout`); the bias is added block by block, in cache;
# * `fast/winograd.py` (3x3 kernels, stride 1, >= 128 input and output channels): Winograd's
#   minimal filtering, fewer multiplications per output (below);
# * `fast/pool2x2.py`: `max_pool2d(2)` in two halving steps over long runs, the arg-max kept as bits;
# * `fast/batchnorm.py`: BatchNorm's sweeps in cache-sized pieces split over threads, and
#   `fast/relu.py` the same for ReLU;
# * `fast/optim.py`: Adam's update, all its passes on one cache-sized piece of the parameters at a
#   time, the moments of every parameter in one flat buffer;
# * `fast/threads.py`: a small thread pool for all of the above and for every 2-D matrix product
#   (`fast.matmul`), each thread computing one band with *one* BLAS thread. After a multi-threaded
#   product OpenBLAS's worker threads busy-wait for about a tenth of a second on the very cores
#   the next operation wants (286 ms instead of 186 ms per step on a 2-core machine);
# * `fast/allocator.py`: `import minitorch_cnn` asks glibc (`mallopt`) to keep freed arrays of
#   1-30 MiB in the heap, so the next one does not page-fault its way onto fresh pages (5-10%).
#
# One switch turns every kernel off: `MINITORCH_CNN_FAST=0`, or `with mt.fast.disabled():`. The
# results equal the textbook code's (`tests/test_fast_seam.py`):

# %%
from minitorch_cnn import fast

rng = np.random.default_rng(0)
wt = mt.tensor(rng.normal(size=(16, 8, 3, 3)), requires_grad=True)
xt = mt.tensor(rng.normal(size=(4, 8, 14, 14)))
with fast.disabled():
    y_textbook = F.conv2d(xt, wt, padding=1).detach().numpy()
y_shifted = F.conv2d(xt, wt, padding=1)
print("shifted-slice kernel taken:", fast.took(y_shifted.grad_fn.ctx),
      "| equal to the textbook path:", np.allclose(y_shifted.detach().numpy(), y_textbook))
print("glibc malloc tuned at import:", fast.allocator.tune_malloc(), "(False off Linux/glibc or MINITORCH_CNN_MALLOC=0)")
print("threads in the pool:", fast.threads.pool_size(), "(MINITORCH_CNN_THREADS=1 turns the pool off)")

# %% [markdown]
# ### Winograd's minimal filtering
#
# A 3x3 kernel admits a cheaper product than "each output, each tap" (Lavin & Gray, 2016). In 1-D,
# two outputs of a 3-tap correlation, `y0 = d0 g0 + d1 g1 + d2 g2` and `y1 = d1 g0 + d2 g1 + d3 g2`,
# take 6 multiplications. Winograd's F(2, 3) takes 4, because the sums of weights
# `(g0 + g1 + g2) / 2` and `(g0 - g1 + g2) / 2` depend on the kernel only (computed once per layer):

# %%
d, g = np.array([1.0, 2.0, -1.0, 3.0]), np.array([0.5, -1.0, 2.0])
direct = [d[0] * g[0] + d[1] * g[1] + d[2] * g[2], d[1] * g[0] + d[2] * g[1] + d[3] * g[2]]  # 6 products
m1, m4 = (d[0] - d[2]) * g[0], (d[1] - d[3]) * g[2]
m2, m3 = (d[1] + d[2]) * (g[0] + g[1] + g[2]) / 2, (d[2] - d[1]) * (g[0] - g[1] + g[2]) / 2
print("direct (6 products):", [float(v) for v in direct],
      "| Winograd (4 products):", [float(v) for v in (m1 + m2 + m3, m2 - m3 - m4)])

# %% [markdown]
# In 2-D the same idea nests along rows and columns: a 4x4 input tile `d` and the 3x3 kernel `g`
# give a 2x2 output tile `Y = A^T [(G g G^T) * (B^T d B)] A` (`*` element-wise), 16 multiplications
# instead of 4 x 9 = 36. Tiles start every 2 pixels, so neighbouring 4x4 tiles overlap. Over
# channels the element-wise product becomes 16 matrix products `(C_out, C_in) @ (C_in, tiles)`;
# that is `fast/winograd.py`, whose docstring derives the matrices and the backward pass:

# %%
from minitorch_cnn.fast import winograd

BT, G, AT = (np.array(m, dtype=float) for m in (winograd.B_T, winograd.G, winograd.A_T))
tile, kernel = rng.normal(size=(4, 4)), rng.normal(size=(3, 3))
Y = AT @ ((G @ kernel @ G.T) * (BT @ tile @ BT.T)) @ AT.T
ref = F.conv2d(mt.tensor(tile[None, None]), mt.tensor(kernel[None, None])).numpy()[0, 0]
print("one tile, Winograd equals F.conv2d:", np.allclose(Y, ref))
print("Winograd chosen at 32->32 channels:", winograd.winograd_pays((128, 32, 28, 28), (32, 32, 3, 3)),
      "| at 256->256:", winograd.winograd_pays((8, 256, 28, 28), (256, 256, 3, 3)))

# %% [markdown]
# Fewer multiplications are not automatically faster: in NumPy each transform is a pass through
# memory over 4x as many numbers as the input holds. Measured on a 2-core machine
# (`tools/bench_winograd.py`, table in `fast/winograd.py`), Winograd took 1.3-1.9x as long as
# the shifted-slice kernel at the unit's CNN layers (32-64 channels, 14x14 and 28x28); at 128-256
# channels it was 1.14-1.29x faster under OpenBLAS's AVX2 kernel and about even (0.96-1.06x) under
# its faster AVX-512 one, so the seam takes it only for >= 128 input and output channels
# (`winograd_pays`; `MINITORCH_CNN_WINOGRAD=1` forces it wherever it applies, `0` never).

# %% [markdown]
# ## Summary
#
# * The "convolution" of deep learning is a correlation, `y[i, j] = sum_{m,n} K[m, n] x[i+m, j+n]`;
#   flipping the kernel turns one into the other.
# * Output size per axis: `floor((H + 2p - d(k - 1) - 1) / s) + 1`. Padding keeps the size,
#   stride shrinks it, dilation widens the kernel's view without adding weights.
# * A layer's weight is `(C_out, C_in / groups, k, k)`; `groups = C_in` is a depth-wise
#   convolution, a 1x1 kernel a point-wise one.
# * The fast path views every window without copying (im2col) and does one matrix product; the
#   loop reference is the oracle the tests hold it to.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 2
#     cd ../my-course && python -m minitorch_cnn.grade --task 2.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 2.1 | Loop-reference 2-d correlation | `correlate2d_reference` in `minitorch_cnn/ops/conv_reference.py` | 2 | `python -m minitorch_cnn.grade --task 2.1` |
# | 2.2 | Output size of a convolution | `out_size` in `minitorch_cnn/ops/windows.py` | 1 | `python -m minitorch_cnn.grade --task 2.2` |
# | 2.3 | Loop-reference N-d convolution (stride, padding, dilation, groups) | `conv_nd_reference` in `minitorch_cnn/ops/conv_reference.py` | 3 | `python -m minitorch_cnn.grade --task 2.3` |
# | 2.4 | im2col: the strided window view | `window_view` in `minitorch_cnn/ops/windows.py` | 3 | `python -m minitorch_cnn.grade --task 2.4` |
# | 2.5 | Dilate: zeros between elements for the strided backward | `dilate` in `minitorch_cnn/ops/windows.py` | 1 | `python -m minitorch_cnn.grade --task 2.5` |
# | 2.6 | Loop-reference transposed convolution (scatter) | `conv_transpose_nd_reference` in `minitorch_cnn/ops/conv_reference.py` | 2 | `python -m minitorch_cnn.grade --task 2.6` |

# %% [markdown]
# ## Next
#
# Chapter 3 adds pooling and derives the backward pass of both: which input each output gradient
# belongs to, and why a convolution's input gradient is a correlation with the reflected kernel.
