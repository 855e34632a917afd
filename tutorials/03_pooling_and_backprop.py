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
# # Chapter 3: Pooling, and backpropagation through a CNN
#
# 1. **Pooling**: max and average pooling, stride, padding, ceil mode, adaptive and global pooling.
# 2. **Backward through pooling**: max pooling routes the gradient to the arg-max, average pooling
#    spreads it evenly.
# 3. **Backward through a convolution**, derived by hand: the weight gradient is a correlation of
#    the input with the output gradient; the input gradient is a correlation of the (padded)
#    output gradient with the *reflected* kernel -- a transposed convolution.
# 4. **Checking it numerically** with finite differences.
#
# Run it as a script (`python tutorials/03_pooling_and_backprop.py`) or as a notebook with jupytext.

# %%
import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops.conv_reference import conv_nd_reference
from minitorch_cnn.testing import gradcheck

mt.manual_seed(0)

# %% [markdown]
# ## 1. Pooling
#
# Pooling summarises each window of a feature map by one number, shrinking the map and making
# the features tolerant to small shifts. It has no parameters. `MaxPool2d(2)` keeps the largest
# value of every 2x2 block (stride defaults to the kernel size, so blocks do not overlap):

# %%
x = mt.arange(100).reshape(1, 1, 10, 10).float()
print(x.numpy()[0, 0, :4, :4], "...")
pooled = nn.MaxPool2d(2)(x)
print(pooled.numpy()[0, 0])
assert pooled.numpy()[0, 0, 0].tolist() == [11, 13, 15, 17, 19]

# %% [markdown]
# The output-size formula is the convolution's: `floor((H + 2p - d(k-1) - 1) / s) + 1`. A 3x3
# window with stride 1 on a 5x5 input gives 3x3. With `ceil_mode=True` the division rounds up,
# keeping a last partial window (as long as it starts inside the input):

# %%
x5 = mt.arange(25).reshape(1, 1, 5, 5).float()
print("3x3, stride 1 on 5x5:", F.max_pool2d(x5, 3, stride=1).shape[-2:])
print("2x2 on 5x5, floor:", F.max_pool2d(x5, 2).shape[-2:], " ceil_mode:", F.max_pool2d(x5, 2, ceil_mode=True).shape[-2:])
print("ceil_mode output:\n", F.max_pool2d(x5, 2, ceil_mode=True).numpy()[0, 0])

# %% [markdown]
# Average pooling divides each window's sum by `Q`. With padding, `count_include_pad=True`
# (PyTorch's default) counts the padded zeros in `Q`; `False` counts only real pixels:

# %%
ones = mt.ones(1, 1, 4, 4)
print("count_include_pad=True:\n", F.avg_pool2d(ones, 3, stride=1, padding=1).numpy()[0, 0])
print("count_include_pad=False:\n", F.avg_pool2d(ones, 3, stride=1, padding=1, count_include_pad=False).numpy()[0, 0])

# %% [markdown]
# *Adaptive* pooling fixes the output size instead of the window: bin `i` of `out` covers rows
# `floor(i*H/out)` to `ceil((i+1)*H/out)`. `AdaptiveAvgPool2d(1)` is *global average pooling*,
# which turns any `(N, C, H, W)` feature map into `(N, C, 1, 1)`, one number per channel:

# %%
print("5 rows into 3 bins:", [(i * 5 // 3, -(-(i + 1) * 5 // 3)) for i in range(3)])
fmap = mt.randn(2, 8, 7, 9)
print("global average pooling:", nn.AdaptiveAvgPool2d(1)(fmap).shape)
print("adaptive max to 3x3:", nn.AdaptiveMaxPool2d(3)(fmap).shape)

# %% [markdown]
# ## 2. Backward through pooling
#
# Max pooling's output is one of its inputs, so its derivative is 1 for the arg-max and 0 for the
# rest of the window: **the gradient is routed to the arg-max**. When several pixels tie for the
# maximum, the first in row-major order gets it (our documented choice, as PyTorch on CPU).
# `return_indices=True` shows where each maximum came from (a flat index in the channel plane).

# %%
xm = mt.tensor([[[[1.0, 5.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0], [0.0, 1.0, 7.0, 0.0], [4.0, 2.0, 0.0, 6.0]]]],
               requires_grad=True)
y, idx = F.max_pool2d(xm, 2, return_indices=True)
print("max:", y.detach().numpy()[0, 0].tolist(), " arg-max indices:", idx.numpy()[0, 0].tolist())
y.backward(mt.tensor([[[[10.0, 20.0], [30.0, 40.0]]]]))
print("gradient routed to the arg-maxes (the tie 2,2,2,2 sends 20 to the first):\n", xm.grad.numpy()[0, 0])

# %% [markdown]
# Average pooling's output is `(1/Q) * sum(window)`, so every pixel of the window receives `1/Q`
# of the window's gradient:

# %%
xa = mt.zeros(1, 1, 4, 4, requires_grad=True)
F.avg_pool2d(xa, 2).backward(mt.tensor([[[[4.0, 8.0], [12.0, 16.0]]]]))
print(xa.grad.numpy()[0, 0])

# %% [markdown]
# ## 3. Backward through a convolution
#
# Take one channel, stride 1, no padding: $y[i,j] = \sum_{m,n} K[m,n]\, x[i+m, j+n]$, and let
# $g = \partial L / \partial y$ arrive from the layer above.
#
# **Weight gradient.** $K[m,n]$ multiplies $x[i+m, j+n]$ in every output $y[i,j]$, so
#
# $$\frac{\partial L}{\partial K[m,n]} = \sum_{i,j} g[i,j]\; x[i+m, j+n],$$
#
# which is *the correlation of the input with the output gradient* (the gradient plays the kernel).
#
# **Input gradient.** Pixel $x[a,b]$ appears in output $y[a-m, b-n]$ with weight $K[m,n]$:
#
# $$\frac{\partial L}{\partial x[a,b]} = \sum_{m,n} g[a-m, b-n]\; K[m,n]
#   = \sum_{m',n'} \tilde K[m',n']\; g_{pad}[a+m', b+n'],$$
#
# with $\tilde K[m',n'] = K[k-1-m', k-1-n']$ the kernel **reflected** in both axes and $g_{pad}$
# the gradient zero-padded by $k-1$ on every side: *the full correlation of the output gradient
# with the reflected kernel*, i.e. a transposed convolution. With stride $s$, output $y[i]$ reads
# $x[s\,i + m]$; inserting $s-1$ zeros between the gradient's entries ("dilating" it) turns this
# back into the stride-1 formula; with padding $p$ the gradient is padded by $k-1-p$ instead.
#
# Let us check both formulas against `backward()`:

# %%
rng = np.random.default_rng(0)
x_np = rng.normal(size=(1, 1, 6, 6))
k_np = rng.normal(size=(1, 1, 3, 3))
g_np = rng.normal(size=(1, 1, 4, 4))  # dL/dy for the 4x4 output

xt = mt.tensor(x_np, requires_grad=True)
kt = mt.tensor(k_np, requires_grad=True)
F.conv2d(xt, kt).backward(mt.tensor(g_np))

# weight gradient = correlate the input with the output gradient
grad_k = conv_nd_reference(x_np, g_np)
# input gradient = full correlation of the output gradient with the reflected kernel
grad_x = conv_nd_reference(g_np, k_np[..., ::-1, ::-1], pads=((2, 2), (2, 2)))
print("dL/dK by formula == backward():", np.allclose(grad_k, kt.grad.numpy()))
print("dL/dx by formula == backward():", np.allclose(grad_x, xt.grad.numpy()))

# %% [markdown]
# With stride 2 and padding 1, the formula needs the dilated gradient. `conv_transpose2d` is
# exactly that operation (it is the input gradient of `conv2d`), so the two must agree:

# %%
xs = mt.tensor(rng.normal(size=(1, 2, 7, 7)), requires_grad=True)
ks = mt.tensor(rng.normal(size=(3, 2, 3, 3)))
ys = F.conv2d(xs, ks, stride=2, padding=1)
gs = mt.tensor(rng.normal(size=ys.shape))
ys.backward(gs)

dilated = np.zeros((1, 3, 7, 7))
dilated[..., ::2, ::2] = gs.numpy()  # s-1 = 1 zero between neighbours
reflected = ks.numpy()[..., ::-1, ::-1].transpose(1, 0, 2, 3)  # and swap in/out channels
by_formula = conv_nd_reference(dilated, reflected, pads=((1, 1), (1, 1)))  # pad k-1-p = 1
by_transpose = F.conv_transpose2d(gs, ks, stride=2, padding=1).numpy()
print("formula == backward():", np.allclose(by_formula, xs.grad.numpy()),
      " conv_transpose2d == backward():", np.allclose(by_transpose, xs.grad.numpy()))

# %% [markdown]
# ## 4. Checking gradients numerically
#
# A derivation can be wrong, so every op in this framework is checked against finite differences:
# $\partial L/\partial x_i \approx (L(x + \varepsilon e_i) - L(x - \varepsilon e_i)) / 2\varepsilon$
# in float64. `gradcheck` does that for every input element:

# %%
x64 = mt.randn(1, 2, 6, 5, dtype=mt.float64, requires_grad=True)
w64 = mt.randn(4, 1, 3, 2, dtype=mt.float64, requires_grad=True)
b64 = mt.randn(4, dtype=mt.float64, requires_grad=True)
print("conv2d (stride 2, dilation 2, groups 2):",
      gradcheck(lambda a, w, b: F.conv2d(a, w, b, stride=2, padding=(2, 1), dilation=(2, 1), groups=2),
                [x64, w64, b64]))
# max pooling is differentiable away from ties: use well-separated values
xp = mt.tensor(rng.permutation(49).reshape(1, 1, 7, 7) * 0.1, dtype=mt.float64, requires_grad=True)
print("max_pool2d (ceil_mode):", gradcheck(lambda a: F.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True), [xp]))
print("avg_pool2d:", gradcheck(lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=False), [xp]))
print("reflect padding:", gradcheck(lambda a: F.pad(a, (2, 1, 1, 3), "reflect"), [xp]))

# %% [markdown]
# BatchNorm (task 3.7) is checked the same way. Its training-mode input gradient is a derivation of
# its own: `mu` and `var` depend on every `x` of the channel, so with `m` values per channel and
# `g = dL/dy`, `dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))`. You write it
# in `BatchNormFunction.backward` (`ops/batch_norm.py`), the textbook code. The unit's CNN normally runs
# `fast/batchnorm.py` instead (the same formula in cache-sized pieces over threads); with the fast
# kernels switched off it is your formula that trains the network:

# %%
from minitorch_cnn import fast

xb = mt.randn(4, 3, 5, 5, dtype=mt.float64, requires_grad=True)
gb = mt.randn(3, dtype=mt.float64, requires_grad=True)
with fast.disabled():
    print("batch_norm (training, textbook):",
          gradcheck(lambda a, g: F.batch_norm(a, None, None, g, None, training=True), [xb, gb]))
print("batch_norm (training, fast kernel):",
      gradcheck(lambda a, g: F.batch_norm(a, None, None, g, None, training=True), [xb, gb]))

# %% [markdown]
# Padding's backward has a picture too: reflect padding copies pixels into the border, so the
# border's gradient is *folded back* onto the pixels it copied. Summing the padded output sends
# each pixel one unit per copy of it:

# %%
row = mt.tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
F.pad(row, (2, 1), "reflect").sum().backward()  # padded: 3 2 | 1 2 3 4 | 3
print("copies of each pixel:", row.grad.numpy()[0, 0])

# %% [markdown]
# ## Summary
#
# * Max pooling keeps each window's largest value and its backward sends each output gradient to
#   that one arg-max; average pooling divides by `Q` and its backward spreads `1/Q` of each
#   gradient over the window.
# * A convolution's input gradient is the output gradient correlated with the reflected kernel
#   (input and output channels swapped); its weight gradient correlates the input with the
#   output gradient.
# * Padding's backward folds the border's gradient back onto the pixels that were copied there.
# * `gradcheck` confirms each of these against finite differences in float64.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 3
#     cd ../my-course && python -m minitorch_cnn.grade --task 3.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 3.1 | Loop-reference max pooling with arg-max | `max_pool_nd_reference` in `minitorch_cnn/ops/pool_reference.py` | 2 | `python -m minitorch_cnn.grade --task 3.1` |
# | 3.2 | Loop-reference average pooling (the three divisors Q) | `avg_pool_nd_reference` in `minitorch_cnn/ops/pool_reference.py` | 2 | `python -m minitorch_cnn.grade --task 3.2` |
# | 3.3 | Max-pool backward: route each gradient to its arg-max | `max_pool_backward_array` in `minitorch_cnn/ops/pool.py` | 2 | `python -m minitorch_cnn.grade --task 3.3` |
# | 3.4 | Average-pool backward: spread 1/Q of each gradient | `_AvgPoolNdFunction.backward` in `minitorch_cnn/ops/pool.py` | 2 | `python -m minitorch_cnn.grade --task 3.4` |
# | 3.5 | Conv backward to the input: the padding of the transposed correlation | `conv_input_grad_array` in `minitorch_cnn/ops/conv.py` | 3 | `python -m minitorch_cnn.grade --task 3.5` |
# | 3.6 | Padding modes: reflect, replicate, circular | `pad_array` in `minitorch_cnn/ops/pad.py` | 2 | `python -m minitorch_cnn.grade --task 3.6` |
# | 3.7 | BatchNorm backward in training mode | `BatchNormFunction.backward` in `minitorch_cnn/ops/batch_norm.py` | 3 | `python -m minitorch_cnn.grade --task 3.7` |

# %% [markdown]
# ## Next
#
# Chapter 4 puts the pieces together and trains the unit's CNN on Fashion-MNIST.
