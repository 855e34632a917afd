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
# # Chapter 8: Beyond classification
#
# Everything so far mapped one image to one label. The same convolution does far more, because it
# only assumes that nearby values belong together and that a pattern means the same thing wherever
# it appears. This chapter changes the shape of the data and of the answer:
#
# 1. **Sequences**: a stack of *causal* 1-d convolutions with dilations 1, 2, 4, 8 reads a
#    spectrogram frame by frame and classifies the sound it came from.
# 2. **Segmentation**: a tiny U-Net answers "which pixels?" instead of "which class?", upsampling
#    with `ConvTranspose2d` back to the input's resolution.
# 3. **Volumes**: `Conv3d` slides a 3x3x3 kernel through a 3-d grid exactly as `Conv2d` slides
#    a 3x3 one over an image.
#
# All data are synthetic and small, so every part runs in seconds on a CPU. Run it as a script
# (`python tutorials/08_beyond_classification.py`) or as a notebook
# (`python -m minitorch_cnn.assignments notebooks`). Pictures go to `$TUTORIAL_OUT` (default
# `tutorials/out/08_beyond_classification/`) and, in a notebook, appear under their cell.

# %%
import os
import time
from pathlib import Path

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.models.beyond import CausalConv1d, TinyUNet, dilated_stack_receptive_field, mask_iou
from minitorch_cnn.viz import plotting

try:
    import matplotlib.pyplot as plt
except ImportError:  # pictures are optional: the numbers below do not need them
    plt = None

_default_out = Path("tutorials") / "out" if Path("tutorials").is_dir() else Path("out")
OUT = Path(os.environ.get("TUTORIAL_OUT") or _default_out) / "08_beyond_classification"
OUT.mkdir(parents=True, exist_ok=True)
mt.manual_seed(0)
rng = np.random.default_rng(0)
start = time.time()
print("pictures go to", OUT)


def show(fig, name):
    """Save ``fig`` under OUT; in a notebook also draw it under the cell (``plotting.show``)."""
    plotting.show(fig, OUT / name, dpi=90)


# %% [markdown]
# ## 1. Sequences: causal, dilated 1-d convolutions
#
# A signal sampled in time is a 1-d "image". A spectrogram turns it into `F` frequency channels
# over `T` time frames: frame `t` holds the magnitudes of the short-time Fourier transform of the
# samples around time `t`. `Conv1d` then slides along time with the frequencies as input channels,
# shape `(N, F, T)`.
#
# Two changes make a convolution fit for sequences:
#
# * **causal**: output `t` may depend only on inputs `<= t` (a model that runs live cannot see the
#   future). Pad `d*(k-1)` zeros on the left only, then a plain convolution;
# * **dilated**: a kernel of size `k` with dilation `d` reads `t, t-d, ..., t-d(k-1)`. Doubling `d`
#   from layer to layer (1, 2, 4, 8) doubles the reach each time, so the receptive field grows
#   *exponentially* with depth: `rf = 1 + sum_l d_l (k - 1)`, 16 steps for `k = 2` and four layers
#   (a plain stack of four `k = 2` layers sees 5).
#
# The synthetic sounds: a rising chirp, a falling chirp, and a steady tone, each with a random
# pitch and noise.

# %%
SAMPLES, FRAME, HOP = 256, 32, 16
CLASSES = ["rising chirp", "falling chirp", "steady tone"]


def make_signals(n):
    """``n`` noisy signals of 256 samples and their labels (0, 1, 2 as in CLASSES)."""
    labels = rng.integers(0, 3, n)
    t = np.arange(SAMPLES) / SAMPLES
    f0 = rng.uniform(0.15, 0.25, (n, 1)) * SAMPLES / 2  # start frequency, cycles per signal
    sweep = np.select([labels[:, None] == 0, labels[:, None] == 1], [1.0, -1.0], 0.0) * 0.35 * SAMPLES / 2
    phase = 2 * np.pi * (f0 * t + sweep * t**2 / 2)  # instantaneous frequency f0 + sweep * t
    return np.sin(phase) + 0.5 * rng.standard_normal((n, SAMPLES)), labels


def spectrogram(signals):
    """Log-magnitude STFT, Hann window of 32 samples, hop 16: ``(N, 17 frequencies, 15 frames)``."""
    starts = np.arange(0, SAMPLES - FRAME + 1, HOP)
    frames = signals[:, starts[:, None] + np.arange(FRAME)] * np.hanning(FRAME)  # (N, T, FRAME)
    return np.log1p(np.abs(np.fft.rfft(frames, axis=-1))).transpose(0, 2, 1).astype(np.float32)


train_sig, train_y = make_signals(300)
test_sig, test_y = make_signals(150)
train_x, test_x = spectrogram(train_sig), spectrogram(test_sig)
F_BINS, T_FRAMES = train_x.shape[1:]
print("spectrograms:", train_x.shape, "(N, frequencies, frames)")

# %%
fig = None
if plt is not None:
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
    for c, ax in enumerate(axes):
        ax.imshow(train_x[np.argmax(train_y == c)], origin="lower", aspect="auto", cmap="magma")
        ax.set(title=CLASSES[c], xlabel="frame", ylabel="frequency bin" if c == 0 else None)
    fig.tight_layout()
show(fig, "spectrograms.png")

# %% [markdown]
# The model: four causal convolutions (`k = 2`, dilations 1, 2, 4, 8), ReLU between them, then
# a linear layer reading the **last** time step, which has seen the whole past.

# %%
KERNEL, DILATIONS, WIDTH = 2, (1, 2, 4, 8), 24


class DilatedClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        chans = [F_BINS] + [WIDTH] * len(DILATIONS)
        self.convs = nn.ModuleList([CausalConv1d(a, b, KERNEL, dilation=d)
                                    for a, b, d in zip(chans[:-1], chans[1:], DILATIONS)])
        self.head = nn.Linear(WIDTH, len(CLASSES))

    def features(self, x, relu=True):
        for conv in self.convs:
            x = conv(x)
            x = x.relu() if relu else x
        return x

    def forward(self, x):
        return self.head(self.features(x)[:, :, -1])


# %% [markdown]
# One causal convolution in the autograd graph: the left padding is an op of its own, so its
# backward (cropping the gradient) is part of the chain. In a notebook `plotting.show` draws the
# graph under the cell (as SVG, when the Graphviz `dot` program is installed); as a script the
# cell just builds it.

# %%
one = CausalConv1d(1, 1, kernel_size=2, dilation=4)
graph = mt.viz.draw_graph(one(mt.randn(1, 1, 12)).sum(), params=one)
plotting.show(graph)

# %%
rf = dilated_stack_receptive_field(KERNEL, DILATIONS)
print(f"receptive field of the last output: {rf} frames (the spectrogram has {T_FRAMES})")
assert rf == 16 and rf >= T_FRAMES, "the last step must see every frame"

# %% [markdown]
# Check the formula with autograd: on a longer input, the gradient of one output with respect to
# the input is non-zero exactly on the frames that output can see (without the ReLUs, so that no
# path is switched off by chance).

# %%
model = DilatedClassifier()
probe = mt.randn(1, F_BINS, 40, requires_grad=True)
model.features(probe, relu=False)[0, :, 30].sum().backward()
seen = np.nonzero(np.abs(probe.grad.numpy()).sum(axis=1)[0] > 0)[0]
print(f"output at t = 30 depends on frames {seen.min()}..{seen.max()} ({len(seen)} frames)")
assert (seen.min(), seen.max(), len(seen)) == (30 - rf + 1, 30, rf), "causal, and exactly rf frames"

# %%
opt = mt.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
part_start = time.time()
for _ in range(50):
    idx = rng.choice(len(train_x), 64, replace=False)
    loss = loss_fn(model(mt.tensor(train_x[idx])), mt.tensor(train_y[idx]))
    opt.zero_grad()
    loss.backward()
    opt.step()
with mt.no_grad():
    pred = model(mt.tensor(test_x)).numpy().argmax(axis=1)
seq_accuracy = float((pred == test_y).mean())
print(f"test accuracy on {len(test_y)} new signals: {seq_accuracy:.1%} (chance: {1 / len(CLASSES):.0%}); "
      f"trained in {time.time() - part_start:.1f} s")
assert seq_accuracy > 0.85, "a chirp's direction is a pattern in time: the dilated stack should find it"

# %% [markdown]
# ## 2. Segmentation: a tiny U-Net
#
# Segmentation labels every pixel. The network must keep the spatial layout, so after shrinking
# the map (to see context) it grows it back: `ConvTranspose2d(k=2, s=2)` turns each pixel into a
# learned 2x2 patch, doubling height and width. Its output is concatenated with the encoder's
# full-resolution maps (the *skip connection*), which carry the exact edges the pooling lost.
#
# Data: 16x16 images with one bright rectangle or disc on a background with a random brightness
# gradient and noise; the target is the shape's mask. The score is the *intersection over union*
# (IoU) of the predicted and true masks.

# %%
SIZE = 16


def make_shapes(n):
    yy, xx = np.mgrid[:SIZE, :SIZE]
    images = np.empty((n, 1, SIZE, SIZE), dtype=np.float32)
    masks = np.empty((n, 1, SIZE, SIZE), dtype=np.float32)
    for i in range(n):
        cy, cx = rng.integers(4, SIZE - 4, 2)
        if rng.random() < 0.5:
            h, w = rng.integers(2, 5, 2)
            mask = (abs(yy - cy) <= h) & (abs(xx - cx) <= w)
        else:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= rng.integers(2, 5) ** 2
        slope = rng.uniform(-0.05, 0.05, 2)
        background = slope[0] * (yy - SIZE / 2) + slope[1] * (xx - SIZE / 2)
        images[i, 0] = background + 0.9 * mask + 0.3 * rng.standard_normal((SIZE, SIZE))
        masks[i, 0] = mask
    return images, masks


train_img, train_mask = make_shapes(256)
test_img, test_mask = make_shapes(64)
unet = TinyUNet(in_channels=1, width=8)
print(f"TinyUNet: {sum(p.numel() for p in unet.parameters()):,} parameters; output",
      tuple(unet(mt.tensor(test_img[:2])).shape), "for input", test_img[:2].shape)

# %%
opt = mt.optim.Adam(unet.parameters(), lr=0.01)
bce = nn.BCEWithLogitsLoss()
part_start = time.time()
for _ in range(80):
    idx = rng.choice(len(train_img), 24, replace=False)
    loss = bce(unet(mt.tensor(train_img[idx])), mt.tensor(train_mask[idx]))
    opt.zero_grad()
    loss.backward()
    opt.step()
with mt.no_grad():
    pred_mask = unet(mt.tensor(test_img)).numpy() > 0
unet_iou = mask_iou(pred_mask, test_mask > 0)
everything_iou = mask_iou(np.ones_like(pred_mask), test_mask > 0)  # "all foreground": the chance level
threshold_iou = mask_iou(test_img > 0.45, test_mask > 0)  # a hand-tuned brightness threshold
print(f"IoU on {len(test_img)} new images: U-Net {unet_iou:.2f}, brightness threshold {threshold_iou:.2f}, "
      f"'everything is foreground' {everything_iou:.2f}; trained in {time.time() - part_start:.1f} s")
assert unet_iou > everything_iou + 0.4 and unet_iou > threshold_iou, "the U-Net beats both baselines"

# %%
fig = None
if plt is not None:
    fig, axes = plt.subplots(3, 6, figsize=(9, 4.8))
    for j in range(6):
        for row, (pic, title) in enumerate([(test_img[j, 0], "image"), (test_mask[j, 0], "true mask"),
                                            (pred_mask[j, 0], "U-Net")]):
            axes[row, j].imshow(pic, cmap="gray")
            axes[row, j].set_axis_off()
            if j == 0:
                axes[row, j].set_title(title, loc="left", fontsize=9)
    fig.tight_layout()
show(fig, "unet_masks.png")

# %% [markdown]
# ## 3. Volumes: 3-d convolution
#
# A CT scan or a video is a 3-d grid; `Conv3d` takes `(N, C, D, H, W)` and a kernel
# `(C_out, C_in, kd, kh, kw)`, and the formula is the 2-d one with one more sum. Here a fixed
# 3x3x3 kernel, the discrete Laplacian (6 at the centre, -1 at the six face neighbours), runs over
# a 12x12x12 volume holding a solid cube: it is zero wherever the volume is locally constant, so
# it lights up exactly the voxels on either side of the cube's surface.

# %%
vol = np.zeros((1, 1, 12, 12, 12), dtype=np.float32)
vol[..., 3:9, 3:9, 3:9] = 1.0
laplace = np.zeros((1, 1, 3, 3, 3), dtype=np.float32)
laplace[0, 0, 1, 1, 1] = 6.0
for axis in range(3):
    for side in (0, 2):
        index = [1, 1, 1]
        index[axis] = side
        laplace[(0, 0, *index)] = -1.0
conv3 = nn.Conv3d(1, 1, kernel_size=3, padding=1, bias=False)
conv3.weight.data[...] = laplace
with mt.no_grad():
    response = conv3(mt.tensor(vol)).numpy()[0, 0]
inside = vol[0, 0] > 0
solid = np.pad(inside, 1)
# a voxel touches the surface when one of its six face neighbours is on the other side of it
neighbours = [np.roll(solid, s, axis=a)[1:-1, 1:-1, 1:-1] for a in range(3) for s in (1, -1)]
surface = np.logical_or.reduce([n != inside for n in neighbours])
print(f"Conv3d output {response.shape}; non-zero at {int((response != 0).sum())} voxels, "
      f"{int(surface.sum())} voxels touch the cube's surface")
assert np.array_equal(response != 0, surface), "the Laplacian answers exactly on the surface"
assert (response[inside & surface] > 0).all() and (response[~inside & surface] < 0).all()

# %%
fig = None
if plt is not None:
    fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
    for ax, d in zip(axes, (2, 3, 5, 8)):
        ax.imshow(response[d], cmap="coolwarm", vmin=-3, vmax=3)
        ax.set(title=f"depth slice {d}")
        ax.set_axis_off()
    fig.tight_layout()
show(fig, "conv3d_slices.png")

# %%
elapsed = time.time() - start
print(f"chapter ran in {elapsed:.1f} s; pictures: {sorted(p.name for p in OUT.iterdir())}")

# %% [markdown]
# ## Summary
#
# * A causal convolution pads on the left only; dilations 1, 2, 4, 8 give a receptive field of
#   `1 + sum_l d_l (k - 1)` (16 frames here), checked above with autograd.
# * A U-Net shrinks to see context, grows back with `ConvTranspose2d`, and uses skip connections
#   for detail; it is scored per pixel with IoU.
# * `Conv3d` is `Conv2d` with one more axis; a fixed Laplacian kernel finds a cube's surface.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 8
#     cd ../my-course && python -m minitorch_cnn.grade --task 8.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 8.1 | Causal 1-d convolution (left padding only) | `CausalConv1d.forward` in `minitorch_cnn/models/beyond.py` | 2 | `python -m minitorch_cnn.grade --task 8.1` |
# | 8.2 | Receptive field of a dilated stack | `dilated_stack_receptive_field` in `minitorch_cnn/models/beyond.py` | 1 | `python -m minitorch_cnn.grade --task 8.2` |
# | 8.3 | Intersection over union of two masks | `mask_iou` in `minitorch_cnn/models/beyond.py` | 1 | `python -m minitorch_cnn.grade --task 8.3` |

# %% [markdown]
# Then rerun this chapter: the assertions above check your code on real models.
#
# ## Next
#
# Try dilations 1, 2, 4 only and watch the last output miss the first frames (the receptive-field
# assertion fails, and so may the accuracy); give the U-Net no skip connection and compare the IoU.
