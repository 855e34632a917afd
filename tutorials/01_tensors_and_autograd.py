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
# # Chapter 1: Tensors and autograd
#
# A neural network is a long chain of array operations followed by one number, the loss.
# Training needs the derivative of that number with respect to every weight. This chapter
# builds up the machinery that computes those derivatives automatically:
#
# 1. **Tensors**: arrays that remember how they were computed.
# 2. **The computational graph** that this memory forms.
# 3. **Backward by hand versus `backward()`**: the chain rule, done twice.
# 4. **Writing your own op** as a `Function` with a `forward` and a `backward`.
# 5. **`gradcheck`**: how to know that a `backward` you wrote is right.
#
# Run it as a script (`python tutorials/01_tensors_and_autograd.py`) or open it as a notebook
# with jupytext. Everything here runs in a couple of seconds on a CPU.

# %%
import numpy as np

import minitorch_cnn as mt
from minitorch_cnn.autograd import Function
from minitorch_cnn.backend import get_array_module
from minitorch_cnn.testing import GradcheckError, gradcheck

mt.manual_seed(0)

# %% [markdown]
# ## 1. Tensors
#
# A `Tensor` wraps an n-dimensional array (a NumPy array on the CPU or a CuPy array on a GPU;
# `t.numpy()` returns it) together with a `dtype`, a `shape` and a `device`. The names follow PyTorch.

# %%
x = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(x)
print("shape:", x.shape, " dtype:", x.dtype, " device:", x.device)

# Factories take a shape, and optionally dtype= and device=
print(mt.zeros(2, 3))
print(mt.arange(5))  # integers default to int64
print(mt.randn(2, 2, dtype=mt.float64))

# %% [markdown]
# Arithmetic works element by element and **broadcasts** like NumPy: a `(2, 3)` tensor plus a
# `(3,)` tensor adds the vector to each row. Reductions take a `dim`, and `keepdim=True`
# keeps the reduced axis with size 1 so that the result broadcasts back against the input.

# %%
row = mt.tensor([10.0, 20.0, 30.0])
print(x + row)
print("column sums:", x.sum(dim=0))
print("row means:", x.mean(dim=1, keepdim=True))
centered = x - x.mean(dim=1, keepdim=True)  # (2, 3) - (2, 1)
print(centered)

# %% [markdown]
# Converting to and from NumPy is explicit: `mt.tensor(array)` copies, `t.numpy()` gives the
# numbers back. (On a GPU, `.numpy()` copies to the host; everywhere else in the library the
# data stays on its device.)

# %%
a = np.linspace(0, 1, 4)
t = mt.tensor(a)  # a NumPy array keeps its dtype (float64 here), as torch.tensor does
print(t, t.dtype)
assert t.dtype == mt.float64 and mt.tensor([0.5]).dtype == mt.float32  # Python floats: float32
print(type(t.numpy()), t.numpy())

# %% [markdown]
# ## 2. The computational graph
#
# Mark a tensor with `requires_grad=True` and every operation on it is *recorded*. Each result
# remembers the op that made it in `grad_fn`, and each op knows its inputs
# (`grad_fn.next_functions`). Together they form a graph from the inputs to the output.

# %%
w = mt.tensor([0.5, -1.0], requires_grad=True)
b = mt.tensor(0.1, requires_grad=True)
inp = mt.tensor([2.0, 3.0])

z = (w * inp).sum() + b
y = z.sigmoid()
print(y)  # note grad_fn=<SigmoidBackward>
print("is_leaf:", w.is_leaf, y.is_leaf)


# %%
def show_graph(node, depth=0):
    """Print the graph below ``node``: the path gradients will travel backwards."""
    print("  " * depth + node.name())
    for child, _ in node.next_functions:
        if child is None:
            continue
        if isinstance(child, mt.Tensor):  # a leaf: gradients are accumulated into child.grad
            print("  " * (depth + 1) + f"leaf {tuple(child.shape)}")
        else:
            show_graph(child, depth + 1)


show_graph(y.grad_fn)

# %% [markdown]
# The input `inp` does not appear: it does not require a gradient, so nothing needs to flow
# into it. Inside `with mt.no_grad():` nothing is recorded at all, which is what evaluation
# and optimizer updates use.

# %%
with mt.no_grad():
    y_eval = ((w * inp).sum() + b).sigmoid()
print(y_eval, "grad_fn:", y_eval.grad_fn)

# %% [markdown]
# ## 3. Backward by hand versus `backward()`
#
# Take the little neuron above with a squared-error loss against a target `target`:
#
# $$ z = w \cdot x + b, \qquad y = \sigma(z), \qquad L = (y - \text{target})^2 $$
#
# The chain rule, one factor per op, read from the loss backwards:
#
# $$ \frac{\partial L}{\partial y} = 2 (y - \text{target}), \quad
#    \frac{\partial y}{\partial z} = \sigma(z)(1 - \sigma(z)), \quad
#    \frac{\partial z}{\partial w} = x, \quad \frac{\partial z}{\partial b} = 1 $$
#
# so $\partial L / \partial w = 2 (y - \text{target})\, \sigma(z) (1 - \sigma(z))\, x$.

# %%
target = 1.0
x_np, w_np, b_np = np.array([2.0, 3.0]), np.array([0.5, -1.0]), 0.1

z_np = w_np @ x_np + b_np
y_np = 1 / (1 + np.exp(-z_np))
grad_y = 2 * (y_np - target)
sigmoid_slope = y_np * (1 - y_np)
grad_w_by_hand = grad_y * sigmoid_slope * x_np
grad_b_by_hand = grad_y * sigmoid_slope
print("by hand:    dL/dw =", grad_w_by_hand, " dL/db =", grad_b_by_hand)

# %% [markdown]
# `loss.backward()` does exactly this walk for us: it visits the graph from the loss towards the
# leaves, multiplies each incoming gradient by the local derivative of each op, and adds the
# result into `.grad` of every leaf that requires a gradient.

# %%
w = mt.tensor(w_np, dtype=mt.float64, requires_grad=True)
b = mt.tensor(b_np, dtype=mt.float64, requires_grad=True)
loss = ((w * mt.tensor(x_np, dtype=mt.float64)).sum() + b).sigmoid().sub(target) ** 2
loss.backward()
print("backward(): dL/dw =", w.grad.numpy(), " dL/db =", b.grad.item())
assert np.allclose(w.grad.numpy(), grad_w_by_hand) and np.isclose(b.grad.item(), grad_b_by_hand)

# %% [markdown]
# Three rules of the game, all as in PyTorch:
#
# * Gradients **accumulate**: a second backward adds to `.grad`, which is why training loops
#   zero the gradients every step.
# * The graph is **freed** after backward; pass `retain_graph=True` to walk it twice.
# * Only **leaves** keep `.grad`; call `retain_grad()` on an intermediate tensor to keep its own.

# %%
u = mt.tensor([1.0, 2.0], requires_grad=True)
h = u * u  # an intermediate (non-leaf) tensor
h.retain_grad()
s = h.sum()
s.backward(retain_graph=True)
s.backward()  # allowed: the graph was retained
print("u.grad after two backwards:", u.grad, " h.grad:", h.grad)
try:
    s.backward()  # the second call freed the graph
except RuntimeError as err:
    print("third backward:", str(err)[:80], "...")

# %% [markdown]
# Gradient descent is now three lines: compute the loss, `backward()`, step against the gradient
# under `no_grad()`. Here we fit a line $y = a x + c$ to noisy points.

# %%
xs = mt.linspace(-1, 1, 50)
ys = 3.0 * xs - 0.5 + 0.1 * mt.randn(50)
slope = mt.zeros(1, requires_grad=True)
offset = mt.zeros(1, requires_grad=True)
for _ in range(200):
    loss = ((slope * xs + offset - ys) ** 2).mean()
    slope.grad = offset.grad = None  # zero the accumulated gradients
    loss.backward()
    with mt.no_grad():
        slope -= 0.5 * slope.grad  # in place: the same tensor, new values
        offset -= 0.5 * offset.grad
print(f"fitted slope {slope.item():.3f} (true 3.0), offset {offset.item():.3f} (true -0.5)")
assert abs(slope.item() - 3.0) < 0.1 and abs(offset.item() + 0.5) < 0.1

# %% [markdown]
# ### In-place operations and the version counter
#
# `slope -= ...` changed `slope`'s memory: it is still the same leaf, and `slope._version` counts
# the in-place changes. The same line *outside* `no_grad` is refused, because the graph would
# then describe a leaf whose value it never saw. On a non-leaf an in-place op is simply recorded.
# And if a value an op saved for backward is overwritten afterwards, `backward` refuses to return
# a wrong gradient:

# %%
print("slope is still a leaf:", slope.is_leaf, "| in-place changes so far:", slope._version)
assert slope.is_leaf and slope._version == 200  # one change per step
try:
    slope -= 0.5 * slope.grad  # outside no_grad
except RuntimeError as err:
    print("outside no_grad:", str(err)[:74])

a = mt.tensor([1.0, 2.0, 3.0])
w = mt.ones(3, requires_grad=True)
y = (a * w).sum()  # MulBackward saves a: dy/dw = a
a[0] = 100.0  # ...which is then overwritten
try:
    y.backward()
except RuntimeError as err:
    print("after a[0] = 100:", str(err)[:150], "...")

# %% [markdown]
# ## 4. Writing a custom `Function`
#
# Every op in minitorch_cnn, from `+` to `conv2d`, is a `Function` with two static methods:
#
# * `forward(ctx, *inputs)` gets **plain arrays** (NumPy or CuPy), computes the output, and stashes
#   what backward will need with `ctx.save_for_backward(...)`.
# * `backward(ctx, grad_output)` gets $\partial L/\partial \text{output}$ and returns
#   $\partial L/\partial \text{input}$, one per positional input of `forward`.
#
# `ctx.needs_input_grad[i]` says whether input `i` will get a gradient (all False under
# `no_grad`, where `save_for_backward` keeps nothing and `ctx.needs_backward` is False: a forward
# can skip work that only backward needs).
#
# `MyOp.apply(tensor)` runs `forward` and records the graph node. The node is named after the
# class minus the `Function` suffix: `SoftplusFunction` shows up as `SoftplusBackward`.
#
# Let us write **softplus**, $\text{softplus}(x) = \log(1 + e^x)$, a smooth ReLU. Its derivative is
# the sigmoid, $\sigma(x) = 1 / (1 + e^{-x})$. Two details make it production-quality:
#
# * Numerical stability: $\log(1 + e^x)$ overflows for large $x$; the identity
#   $\log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})$ never does.
# * GPU safety: use `xp = get_array_module(x)` and `xp.exp`, never `np.exp`, so the same code
#   runs on CuPy arrays. (The test suite runs every op on a "strict" backend that raises on `np.*`.)


# %%
class SoftplusFunction(Function):
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        xp = get_array_module(x)
        sigmoid = xp.exp(-xp.logaddexp(0, -x))  # 1 / (1 + e^-x), also without overflow
        return grad_out * sigmoid


def softplus(t):
    return SoftplusFunction.apply(t)


v = mt.tensor([-1000.0, -1.0, 0.0, 1.0, 1000.0], requires_grad=True)
out = softplus(v)
print(out)  # finite even at +-1000
out.sum().backward()
print("d softplus / dx = sigmoid(x):", v.grad)

# %% [markdown]
# ## 5. Checking a backward with `gradcheck`
#
# How do we know `backward` is right? The definition of the derivative gives an independent
# witness that needs only `forward`: the central difference
#
# $$ \frac{\partial L}{\partial x_i} \approx \frac{L(x + \varepsilon e_i) - L(x - \varepsilon e_i)}{2 \varepsilon} $$
#
# with an error of order $\varepsilon^2$. `gradcheck(fn, inputs)` compares this with what
# `backward` returns, element by element, in float64 (in float32 the rounding error would swamp
# the difference).

# %%
probe = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
print("softplus gradcheck:", gradcheck(softplus, [probe]))


# %% [markdown]
# Now a classic bug: forgetting that the derivative of softplus is the sigmoid and returning
# $e^x$ (the derivative of the *inside* of the log) instead. `gradcheck` catches it and reports
# the element where analytic and numerical gradients disagree most.


# %%
class BuggySoftplusFunction(SoftplusFunction):
    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * get_array_module(x).exp(x)  # wrong: missing the 1 / (1 + e^x)


try:
    gradcheck(BuggySoftplusFunction.apply, [probe])
except GradcheckError as err:
    print(err)
    print("worst element:", err.report.element)

# %% [markdown]
# For big inputs, checking every element costs two forward passes per element. The
# `mode="directional"` check perturbs all elements at once along one random direction $d$ and
# compares the slope with $\langle \nabla L, d \rangle$: two forward passes in total.

# %%
big = mt.randn(64, 64, dtype=mt.float64, requires_grad=True)
print("directional, correct:", gradcheck(softplus, [big], mode="directional"))
print("directional, buggy:  ", gradcheck(BuggySoftplusFunction.apply, [big], mode="directional", raise_exception=False))

# %% [markdown]
# ## Summary
#
# * A `Tensor` is an array plus the bookkeeping for gradients (`requires_grad`, `grad_fn`, `grad`).
# * Running operations builds the graph; `backward()` walks it in reverse applying the chain rule
#   and accumulates into the leaves' `.grad`.
# * A new op is a `Function`: array code in `forward`, its derivative in `backward`, using
#   `get_array_module` so that it also runs on a GPU.
# * Never trust a `backward` that has not passed `gradcheck`.
#
# Next, chapter 2 uses the same `Function` API for the operation that gives CNNs their name:
# convolution.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 1
#     cd ../my-course && python -m minitorch_cnn.grade --task 1.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 1.1 | Mul forward and backward | `MulFunction.forward` in `minitorch_cnn/ops/elementwise.py`, `MulFunction.backward` in `minitorch_cnn/ops/elementwise.py` | 2 | `python -m minitorch_cnn.grade --task 1.1` |
# | 1.2 | Exp forward and backward | `ExpFunction.forward` in `minitorch_cnn/ops/elementwise.py`, `ExpFunction.backward` in `minitorch_cnn/ops/elementwise.py` | 1 | `python -m minitorch_cnn.grade --task 1.2` |
# | 1.3 | Sum backward: copy the gradient over the reduced axes | `_expand_back` in `minitorch_cnn/ops/reduce.py` | 2 | `python -m minitorch_cnn.grade --task 1.3` |
# | 1.4 | unbroadcast: sum a gradient back to the input's shape | `unbroadcast` in `minitorch_cnn/ops/_util.py` | 2 | `python -m minitorch_cnn.grade --task 1.4` |
# | 1.5 | Topological order of the graph | `topological_order` in `minitorch_cnn/autograd.py` | 3 | `python -m minitorch_cnn.grade --task 1.5` |
# | 1.6 | ReLU forward and backward | `ReLUFunction.forward` in `minitorch_cnn/ops/elementwise.py`, `ReLUFunction.backward` in `minitorch_cnn/ops/elementwise.py` | 1 | `python -m minitorch_cnn.grade --task 1.6` |
# | 1.7 | Softmax backward | `SoftmaxFunction.backward` in `minitorch_cnn/ops/elementwise.py` | 2 | `python -m minitorch_cnn.grade --task 1.7` |
