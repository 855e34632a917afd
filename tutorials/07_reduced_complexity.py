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
# # Chapter 7: Reduced complexity
#
# A trained CNN is mostly weights that are stored as 32-bit floats and multiplied one by one. The
# unit names two ways to make it cheaper:
#
# 1. **Constrained filter structures**, chosen before training: depth-wise, group-wise and
#    point-wise convolutions (MobileNet, ShuffleNet), and *pre-defined sparsity* (some filter
#    coefficients fixed at zero through training and inference).
# 2. **Post-training processing** of a trained network: *pruning* near-zero weights and
#    retraining, *quantization* (similar weights share one value, or 8-bit integers replace
#    floats), and *binarization* (one bit per weight).
#
# Everything here is in `minitorch_cnn.compress`. This chapter runs in seconds on the built-in
# data set, so its accuracies are those of a briefly trained network; the figures on the real
# Fashion-MNIST come from `python -m minitorch_cnn.compress` (README, "Reduced complexity").
#
# Run it as a script (`python tutorials/07_reduced_complexity.py`) or as a notebook with jupytext.

# %%
import copy
import tempfile
from pathlib import Path

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import compress, nn, optim
from minitorch_cnn.compress import binarize, int8, kmeans, layers, predefined, qat
from minitorch_cnn.data import DataLoader, GlyphsInClutter
from minitorch_cnn.data import transforms as T
from minitorch_cnn.models import FashionCNN
from minitorch_cnn.models.blocks import ChannelShuffle

mt.manual_seed(0)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# %% [markdown]
# ## 1. Parameter arithmetic of constrained convolutions
#
# A standard `Conv2d(16, 32, 3)` connects every output channel to every input channel through a
# 3x3 kernel: `32 * 16 * 9` weights plus 32 biases. A **depth-wise separable** convolution
# splits that into a depth-wise 3x3 convolution (`groups=16`: one kernel per input channel, no
# mixing) and a point-wise 1x1 convolution that mixes the channels. A **grouped** convolution
# (`groups=4`) connects each output only to the 16/4 inputs of its group; a **channel shuffle**
# (no parameters) then lets the next grouped layer see every group (ShuffleNet).

# %%
standard = nn.Conv2d(16, 32, 3)
separable = nn.Sequential(nn.Conv2d(16, 16, 3, groups=16, bias=False), nn.Conv2d(16, 32, 1))
grouped = nn.Sequential(nn.Conv2d(16, 32, 3, groups=4), ChannelShuffle(4))
n_std, n_sep, n_grp = count(standard), count(separable), count(grouped)
print(f"standard 3x3:              32*16*9 + 32            = {n_std:,}")
print(f"depth-wise + point-wise:   16*9 + (32*16 + 32)     = {n_sep:,}  ({n_std / n_sep:.1f}x fewer)")
print(f"grouped (4) + shuffle:     32*(16/4)*9 + 32        = {n_grp:,}  ({n_std / n_grp:.1f}x fewer)")
assert (n_std, n_sep, n_grp) == (4640, 688, 1184)

# %% [markdown]
# The multiplies shrink by the same factors: each weight is used once per output position.
#
# **Pre-defined sparsity** keeps the dense layer shape but fixes most kernel taps at zero before
# training. With 4 of the 9 taps kept, the pattern cycling over filters and input channels so
# that every tap of the 3x3 window is used by some kernel (Kundu et al. 2020):

# %%
sparse_conv = predefined.predefined_sparse_(nn.Conv2d(16, 32, 3), density=4 / 9)
mask = compress.get_mask(sparse_conv, "weight").numpy()
print("kernel (0, 0):\n", mask[0, 0].astype(int), "\nkernel (0, 1):\n", mask[0, 1].astype(int))
nonzero = int(mask.sum()) + 32
print(f"pre-defined 4/9 sparse 3x3: 32*16*4 + 32 = {nonzero:,} non-zero parameters")
assert nonzero == 32 * 16 * 4 + 32 and mask.reshape(-1, 9).any(axis=0).all()

# %% [markdown]
# The mask is a buffer that `compress.masks` enforces in forward *and* on the gradient, so the
# zeros survive any optimizer (momentum and weight decay included) and the parameter keeps its
# name: `state_dict()` loads with `strict=True` into an unmasked layer.

# %%
opt = optim.SGD(sparse_conv.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
for _ in range(20):
    opt.zero_grad()
    (sparse_conv(mt.randn(2, 16, 6, 6)) ** 2).mean().backward()
    opt.step()
still_zero = bool(np.all(sparse_conv.weight.detach().numpy()[~mask] == 0))
print("masked weights exactly zero after 20 SGD steps with momentum and weight decay:", still_zero)
assert still_zero
nn.Conv2d(16, 32, 3).load_state_dict(sparse_conv.state_dict(), strict=True)

# %% [markdown]
# ## 2. A briefly trained unit CNN
#
# The post-training methods need a trained network. We train the unit's CNN for 40 steps of 32
# built-in images and test it on 256 more. That takes seconds but is far from converged (the
# chapter's accuracies only show that each step runs; compare methods with the Fashion-MNIST
# table in the README, "Reduced complexity").

# %%
transform = T.Compose([T.ToTensor(), T.Normalize((0.2,), (0.3,))])
train_set = GlyphsInClutter(train=True, size=1280, seed=0, transform=transform)
test_set = GlyphsInClutter(train=False, size=256, seed=0, transform=transform)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, seed=0)
test_loader = DataLoader(test_set, batch_size=256)


def fine_tune(model: nn.Module, steps: int, lr: float) -> nn.Module:
    opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    done = 0
    while done < steps:
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            done += 1
            if done == steps:
                break
    return model.eval()


float_model = fine_tune(FashionCNN(), 40, 2e-3)
float_acc = compress.reporting.accuracy(float_model, test_loader)
print(f"float model: {100 * float_acc:.1f}% test accuracy")

# %% [markdown]
# ## 3. Pruning, then retraining
#
# Magnitude pruning removes the weights with the smallest `|w|`; `global_unstructured` ranks all
# layers together, so the huge `Linear(3136, 512)` (96% of the weights) gives up the most. The
# functions have `torch.nn.utils.prune`'s signatures. Three rounds of prune-then-retrain reach
# 90% sparsity.

# %%
state = {k: v.numpy().copy() for k, v in float_model.state_dict().items()}


def fresh_copy() -> nn.Module:
    model = FashionCNN()
    model.load_state_dict(state)
    return model.eval()


pruned = fresh_copy()
history = compress.iterative_prune(pruned, 0.9, 3, lambda m, r: fine_tune(m, 5, 5e-4))
pruned_acc = compress.reporting.accuracy(pruned, test_loader)
print("sparsity after each round:", [f"{s:.3f}" for s in history])
print(f"90% pruned + retrained: {100 * pruned_acc:.1f}%  (float {100 * float_acc:.1f}%)")
assert abs(history[-1] - 0.9) < 1e-3

# %% [markdown]
# *How fast* to prune matters as much as *how far*. Equal steps cut the same fraction every round.
# Zhu & Gupta's cubic schedule, `s_r = s_f (1 - (1 - r/n)^3)`, cuts most while the network still
# has many redundant weights and little near the end, so the last round's retraining has little
# to recover. The convolutions hold 4% of the weights, and every one of them is reused at each
# position. `conv_sparsity=0.5` prunes each Conv2d to 50% by its own magnitudes, and the Linear
# layers take the rest of the 90%. (Han et al. pruned AlexNet's convolutions far less than its
# fully connected layers.) The CLI's `--schedule cubic --conv-sparsity 0.5` runs this recipe on the
# real data. README's table gives what it measured.

# %%
print("equal steps:", [f"{s:.3f}" for s in compress.schedule_targets(0.9, 4, "linear")])
print("cubic:      ", [f"{s:.3f}" for s in compress.schedule_targets(0.9, 4, "cubic")])

# %% [markdown]
# ## 4. Quantization
#
# **int8** maps each real value to an 8-bit integer code, `q = clamp(round(x / scale) + zp, qmin,
# qmax)`, with per-channel scales for weights and a scale and zero point per activation tensor
# that an *observer* measures on a few calibration batches. The integer model multiplies codes and
# adds in int32; the fake-quantized float model computes exactly the same codes.

# %%
fake = qat.prepare_qat(fresh_copy(), activation_observer=compress.observers.PercentileObserver)
qat.calibrate(fake, train_loader, max_batches=1)
qat.freeze(fake)
integer = int8.convert(fake)
x_test = next(iter(test_loader))[0][:16]  # the integer GEMMs are slow in NumPy: a few images
with mt.no_grad():
    same = np.array_equal(fake(x_test).numpy(), integer(x_test).numpy())
int8_acc = compress.reporting.accuracy(fake, test_loader)
print(f"int8: {100 * int8_acc:.1f}%; integer model's outputs identical to the fake-quant model's: {same}")
assert same

# %% [markdown]
# **Weight sharing** (Deep Compression): k-means clusters each layer's surviving weights into
# 16 values (4-bit indices); fine-tuning then trains only the 16 centroids per layer, each by the
# sum of the gradients of the weights that share it.

# %%
shared = kmeans.share_weights(copy.deepcopy(pruned), bits=4)  # a copy: `pruned` stays for the table
fine_tune(shared, 3, 1e-4)
shared_acc = compress.reporting.accuracy(shared, test_loader)
values = np.unique(layers.used_weight(shared.classifier[1]).detach().numpy())
print(f"pruned + 4-bit shared: {100 * shared_acc:.1f}%; classifier.1 takes {len(values)} distinct values "
      "(0 and the centroids that kept some weights: at most 16)")
assert len(values) <= 17

# %% [markdown]
# ## 5. Binarization
#
# BWN keeps one bit per weight and one scale per filter, `alpha * sign(w)` with `alpha = mean
# |w|`; the real-valued weights stay as "shadow" weights that the optimizer updates through a
# straight-through gradient. The first and the last layer stay in float, as in the papers.

# %%
binary = binarize.binarize(fresh_copy(), "bwn")
fine_tune(binary, 10, 5e-4)
binary_acc = compress.reporting.accuracy(binary, test_loader)
print(f"binary weights (BWN): {100 * binary_acc:.1f}%")

# %% [markdown]
# ## 6. What each method bought: bytes on disk
#
# `compress.export` stores pruned weights as non-zero values plus delta-encoded positions, shared
# weights as 4-bit indices plus a codebook, int8 layers as codes plus scales, binary weights as
# packed bits; `compress.report` counts bytes and the mult-adds that remain when zeros are skipped.

# %%
out = Path(tempfile.mkdtemp())
np.savez(out / "float32.npz", **state)
float_bytes = (out / "float32.npz").stat().st_size
rows = [("float32 (np.savez)", float_bytes, float_acc, count(float_model))]
for name, model, acc in [("pruned 90%", pruned, pruned_acc), ("int8", integer, int8_acc),
                         ("pruned + 4-bit shared", shared, shared_acc), ("binary (BWN)", binary, binary_acc)]:
    result = compress.report(model, path=out / f"{name.split()[0]}.npz")
    rows.append((name, result["file_bytes"], acc, result["total"]["mult_adds"]))
print(f"{'model':24s} {'file bytes':>11s} {'ratio':>7s} {'accuracy':>9s}")
for name, size, acc, _ in rows:
    print(f"{name:24s} {size:11,d} {float_bytes / size:6.1f}x {100 * acc:8.1f}%")
sizes = {name: size for name, size, _, _ in rows}
assert sizes["pruned + 4-bit shared"] < sizes["pruned 90%"] < float_bytes / 5
assert sizes["int8"] < float_bytes / 3 and sizes["binary (BWN)"] < float_bytes / 10

# %% [markdown]
# The full table, per layer, for the Deep-Compression model:

# %%
compress.print_report(compress.report(shared), title="pruned 90% + 4-bit shared weights")

# %% [markdown]
# ## Exercises
#
# 1. Prune with `compress.random_unstructured` instead of magnitude at the same sparsity. How much
#    accuracy does the choice of *which* weights to remove matter?
# 2. Calibrate int8 with `MinMaxObserver` after adding one huge activation to a calibration batch.
#    What happens to the scale, and to the accuracy?
# 3. `compress.prune_filters(model, 0.25)` kills whole filters; `compress.shrink(model)` returns a
#    smaller dense model with the same outputs. Compare the parameter counts.

# %% [markdown]
# ## Summary
#
# * Pruning sets weights to zero through a mask; magnitude pruning removes the smallest `|w|`
#   first, and retraining lets the surviving weights make up for the lost ones.
# * Quantization stores integer codes with a scale and a zero point; fake quantization rounds in
#   the forward pass and lets the gradient through unchanged (the straight-through estimator), so
#   a network can train while seeing its own rounding.
# * Binarization keeps only a sign per weight (and a scale per filter); its gradient also passes
#   straight through, cut where `|w| > 1`.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 7
#     cd ../my-course && python -m minitorch_cnn.grade --task 7.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 7.1 | Magnitude pruning: mask the k smallest surviving weights | `_smallest_mask` in `minitorch_cnn/compress/prune.py` | 2 | `python -m minitorch_cnn.grade --task 7.1` |
# | 7.2 | Fake quantization with a straight-through estimator | `FakeQuantizeFunction.forward` in `minitorch_cnn/compress/quantize.py`, `FakeQuantizeFunction.backward` in `minitorch_cnn/compress/quantize.py` | 2 | `python -m minitorch_cnn.grade --task 7.2` |
# | 7.3 | Sign with a straight-through estimator (binary weights) | `SignSTE.forward` in `minitorch_cnn/compress/binarize.py`, `SignSTE.backward` in `minitorch_cnn/compress/binarize.py` | 1 | `python -m minitorch_cnn.grade --task 7.3` |

# %% [markdown]
# ## Next
#
# Chapter 8 (`tutorials/08_beyond_classification.py`) leaves single labels behind: sequences,
# segmentation and volumes.
