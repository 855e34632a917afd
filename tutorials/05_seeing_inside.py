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
# # Chapter 5: Seeing inside a CNN
#
# A trained network is a pile of numbers. This chapter turns those numbers into pictures and
# tables you can reason about:
#
# 1. **The autograd graph**: every op that `backward()` will run, drawn with Graphviz.
# 2. **The model summary**: layers, output shapes, parameter counts and memory.
# 3. **Receptive fields**: which input pixels one unit of a feature map can see, computed
#    analytically and checked with autograd.
# 4. **Looking at a trained model**: feature maps, filters, the image a channel likes best,
#    saliency, Grad-CAM and occlusion.
#
# Run it as a script (`.venv/bin/python tutorials/05_seeing_inside.py`; it prints how long it took on
# your machine) or open it as a notebook with jupytext. Pictures go to `$TUTORIAL_OUT` (default:
# `tutorials/out/05_seeing_inside/`, which git ignores); the graph images need the Graphviz `dot`
# program, and a one-line notice says so when it is missing.

# %%
import os
import shutil
import time
from pathlib import Path

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import nn, viz
from minitorch_cnn.data import DataLoader, GlyphsInClutter
from minitorch_cnn.data import transforms as T
from minitorch_cnn.models import build_model
from minitorch_cnn.viz import plotting

mt.manual_seed(0)
try:
    REPO = Path(__file__).resolve().parents[1]
except NameError:  # running as a notebook: the working directory is tutorials/ or the repo root
    REPO = Path.cwd().parent if Path.cwd().name == "tutorials" else Path.cwd()
OUT = Path(os.environ.get("TUTORIAL_OUT") or REPO / "tutorials" / "out" / "05_seeing_inside")
OUT.mkdir(parents=True, exist_ok=True)
HAVE_DOT = shutil.which("dot") is not None
HAVE_MPL = plotting.have_matplotlib()
if not HAVE_DOT:
    print("graph pictures (.svg) skipped: the Graphviz `dot` program is not installed; the .dot text is written")
if not HAVE_MPL:
    print(plotting.skip_notice("the figures (.png)"))
start = time.time()
print("pictures go to", OUT)

# %% [markdown]
# ## 1. The autograd graph
#
# micrograd's picture first: for a tiny expression, each value node shows its data and its
# gradient. `retain_all_grads` asks every intermediate tensor to keep its `.grad` (normally only
# leaves do), so that the picture can show all of them after `backward()`.

# %%
a = mt.tensor(2.0, requires_grad=True)
b = mt.tensor(-3.0, requires_grad=True)
e = a * b
d = e + a
viz.retain_all_grads(d)
d.backward()
g = viz.draw_graph(d, params={"a": a, "b": b}, values=True, rankdir="LR")
print(g.source)

# %% [markdown]
# Op nodes are named after the function that runs in the backward pass (`MulBackward`,
# `AddBackward`). `a` feeds two ops, so its gradient is the sum of two paths:
# d d / d a = b + 1 = -2.
#
# Now a small CNN. `trace(model, x)` runs the model once with forward hooks on every module and
# remembers which module created which node, so the graph comes out grouped one cluster per
# module; parameters are labelled with their module path.

# %%
small = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3))
tr = viz.trace(small, mt.randn(2, 1, 8, 8))
loss = nn.functional.cross_entropy(tr.output, mt.tensor([0, 2]))
loss.backward(retain_graph=True)  # keep the saved arrays, so that the picture can show them
graph = viz.draw_graph(loss, params=small, trace=tr, show_saved=True, show_grads=True)
print("ops:", sorted({line.split("label=")[1].split()[0] for line in graph.source.splitlines()
                     if "label=" in line and "Backward" in line and "->" not in line}))
if HAVE_DOT:
    print("wrote", viz.render(graph, OUT / "small_cnn_graph.svg"))
viz.render(graph, OUT / "small_cnn_graph.dot")  # the DOT text needs no Graphviz

# %% [markdown]
# The dashed orange edges are what each op keeps for its backward pass (`show_saved=True`): the
# convolution keeps its input and weight, ReLU its output, max-pooling the positions of the
# maxima. That is the memory a forward pass with gradients costs, and it is exactly what the
# summary below measures. For a bigger model, `depth` collapses each module at that depth into one
# box: a ResNet then reads block by block.

# %%
resnet = build_model("resnet")
blocks = viz.draw_graph(viz.trace(resnet, mt.randn(1, 1, 28, 28)), depth=2)
print(sum("box3d" in line for line in blocks.source.splitlines()), "boxes at depth 2")
if HAVE_DOT:
    viz.render(blocks, OUT / "resnet_blocks.svg")
    viz.render(viz.forward_graph(resnet, (1, 28, 28)), OUT / "resnet_layers.svg")

# %% [markdown]
# ## 2. The model summary
#
# `mt.summary(model, input_size)` (input size without the batch dimension) prints the table that
# torchsummary and Keras print. For the unit's Fashion-MNIST CNN the totals are Keras's:
# BatchNorm's running mean and variance count as *non-trainable* parameters (1,408 of them).

# %%
cnn = build_model("cnn")
s = mt.summary(cnn, (1, 28, 28))
print(s)
assert (s.totals["total_params"], s.totals["trainable_params"], s.totals["non_trainable_params"]) == (
    1_679_082, 1_677_674, 1_408)

# %% [markdown]
# The "forward/backward pass size" is not a guess: it adds up the arrays that the autograd graph
# actually saved for the backward pass (each array once). Memory is in MiB (2**20 bytes;
# torchsummary prints the same unit under the name "MB").
#
# For a model with branches, the Keras style adds a "Connected to" column: in a residual block the
# last ReLU is fed by both the main path and the shortcut.

# %%
rs = mt.summary(resnet, (1, 28, 28), style="keras", depth=None)
for row in rs.rows[8:10]:
    print(row["name"], row["output_shape"], "<-", row["connected_to"])

# %% [markdown]
# ## 3. Receptive fields
#
# Each layer is described by four numbers per axis: the map size ``n``, the distance ``jump``
# between neighbouring units in input pixels, the receptive field ``rf`` and the centre ``start``
# of the first unit's field. A conv or pooling layer with kernel ``k``, stride ``s``, padding
# ``p`` and dilation ``d`` (effective kernel ``k_eff = d(k-1)+1``) maps them as
#
#     jump' = jump * s,  rf' = rf + (k_eff - 1) * jump,  start' = start + ((k_eff - 1)/2 - p) * jump
#
# The unit's example, the first layers of a ResNet on a 256x256 image:

# %%
stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(),
                     nn.MaxPool2d(3, stride=2, padding=1))
rf = mt.receptive_field(stem, (3, 256, 256))
print(rf.to_markdown())
print("unit (1, 1) of the ReLU sees", mt.receptive_field_for_unit(rf, "2", (1, 1)))

# %% [markdown]
# Unit (1, 1) is centred at 0.5 + 1 * 2 = 2.5 and sees 7 pixels, [-1, 6): clipped to the image,
# rows and columns 0 to 5, printed as the half-open ranges `(0, 6)` (end excluded, like Python's
# slices). Autograd can check this: the gradient of that one unit with respect to
# the input is non-zero exactly on the pixels it can see (the "inverse image").

# %%
small_rf = mt.receptive_field(stem, (3, 32, 32))
for layer, unit in [("2", (1, 1)), ("3", (3, 4))]:
    analytic = mt.receptive_field_for_unit(small_rf, layer, unit)
    empirical = viz.inverse_image(stem, (3, 32, 32), layer, unit)
    print(layer, unit, analytic, empirical)
    assert analytic == empirical

# %% [markdown]
# ## 4. Looking at a trained model
#
# The built-in "glyphs in clutter" data set hides one of ten small stroke figures at a random place
# among distractor strokes. A small CNN that ends in global max pooling learns a detector for each
# glyph and fires wherever it sees one. Two short epochs are enough for a picture worth looking at.

# %%
transform = T.Compose([T.ToTensor(), T.Normalize((0.1,), (0.2,))])
train_set = GlyphsInClutter(train=True, size=4000, transform=transform)
test_set = GlyphsInClutter(train=False, size=500, transform=transform)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
    nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 10),
)
optimizer = mt.optim.Adam(model.parameters(), lr=5e-3)
for epoch in range(2):
    model.train()
    for xb, yb in DataLoader(train_set, batch_size=64, shuffle=True, seed=epoch):
        loss = nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with mt.no_grad():
        correct = sum(int((model(xb).argmax(1) == yb).sum().item()) for xb, yb in DataLoader(test_set, batch_size=250))
    print(f"epoch {epoch + 1}: test accuracy {correct / len(test_set):.1%}")

x, label = next(iter(DataLoader(test_set, batch_size=1)))
image, true_name = x.numpy()[0], GlyphsInClutter.classes[int(label.item())]
with mt.no_grad():
    probs = model(x).softmax(dim=1).numpy()[0]
pred = int(probs.argmax())
pred_name = GlyphsInClutter.classes[pred]
print(f"test image 0: true class '{true_name}', predicted '{pred_name}' with p = {probs[pred]:.2f}")

# %% [markdown]
# **Feature maps** (forward hooks) and **filters** (the weights themselves). First-layer filters
# are 3x3 stroke detectors: in the picture red weights are positive (the filter likes bright
# pixels there) and blue ones negative, on one colour scale centred at 0, so a filter with a red
# column beside a blue one detects a vertical edge. Their feature maps light up on strokes of one
# orientation.

# %%
maps = viz.feature_maps(model, "1", x)
weights = viz.filters(model[0], normalize=False)  # raw weights: the sign matters
print("feature maps", maps.shape, " filters", weights.shape)
if HAVE_MPL:
    plotting.plot_feature_maps(maps, OUT / "feature_maps.png", title="after the first ReLU (layer 1)", image=image)
    plotting.plot_filters(weights, OUT / "filters.png", title="first-layer filters (layer 0)")

# %% [markdown]
# **Max filter response**: gradient ascent on the *input* (weights frozen) to maximise one
# channel's mean activation. Each step has length `lr` in input space (the gradient is normalised),
# so plain ascent climbs at every step. We climb the last convolution's output (before its ReLU: a
# ReLU that is off for the starting noise would pass no gradient at all).
#
# Plain ascent finds stripy high-frequency patterns that the unit likes but nobody can read. The
# regularisers of Yosinski et al. (2015), `viz.REGULARISED`: jitter the image by a pixel before
# each step, decay it towards 0 (L2), blur it every 4 steps. The activation then dips at every blur
# and climbs less, but the picture shows strokes. The cell measures both (and the *total
# variation*, the summed absolute difference between neighbouring pixels relative to the image's
# size: the stripes' signature).

# %%
plain = viz.max_filter_response(model, "6", channel=0, steps=30, lr=1.0, input_shape=(1, 28, 28))
nice = viz.max_filter_response(model, "6", channel=0, input_shape=(1, 28, 28), **viz.REGULARISED)


def roughness(img):
    """Total variation over the image's range: larger = more pixel-to-pixel stripes."""
    tv = np.abs(np.diff(img, axis=-1)).sum() + np.abs(np.diff(img, axis=-2)).sum()
    return float(tv / (img.size * (img.max() - img.min())))


assert np.all(np.diff(plain.history) > 0), "plain ascent climbs at every step"
assert np.any(np.diff(nice.history) < 0) and max(nice.history) < plain.history[-1], "dips, and climbs less"
assert roughness(nice.image) < roughness(plain.image)
print("plain:       activation", " -> ".join(f"{v:.2f}" for v in plain.history[::10]),
      f"  roughness {roughness(plain.image):.3f}")
print("regularised: activation", " -> ".join(f"{v:.2f}" for v in nice.history[::25]),
      f"  roughness {roughness(nice.image):.3f}")
if HAVE_MPL:
    plotting.plot_max_response(plain, "6", 0, OUT / "max_response_plain.png")
    plotting.plot_max_response(nice, "6", 0, OUT / "max_response.png", viz.REGULARISED)

# %% [markdown]
# **Saliency**, **Grad-CAM** and **occlusion** ask the same question in three ways: where in this
# image is the evidence for the class? Saliency differentiates the class score with respect to the
# pixels; Grad-CAM weighs the last conv layer's maps by the gradient flowing into them; occlusion
# hides patches and watches the probability drop. Occlusion is the most direct (it *measures* what
# hiding a region does), so we take the 8x8 patch whose hiding hurts most as the evidence region,
# and ask how much of each gradient map falls inside it.

# %%
sal = viz.saliency(model, x)[0]
with viz.GradCAM(model, "7") as cam:
    heat = cam(x)[0]  # target=None: the predicted class
occ = viz.occlusion_sensitivity(model, x, patch_sizes=[4, 8, 12], stride=2, batch_size=128)
for p, r in occ.items():
    rr, cc = np.unravel_index(r.probs[0].argmin(), r.probs[0].shape)
    print(f"{p}x{p} patch: p(class) {r.baseline[0]:.2f} -> {r.probs[0].min():.2f} when covering "
          f"rows {r.rows[rr]}..{r.rows[rr] + p - 1}, columns {r.cols[cc]}..{r.cols[cc] + p - 1}")

r8 = occ[8]
rr, cc = np.unravel_index(r8.probs[0].argmin(), r8.probs[0].shape)
region = np.zeros(image.shape[1:], dtype=bool)
region[r8.rows[rr]:r8.rows[rr] + 8, r8.cols[cc]:r8.cols[cc] + 8] = True


def share_inside(m):
    """The fraction of a map's total that lies in the evidence region (the region is 8x8/28x28 = 8% of the image)."""
    return float(m[region].sum() / m.sum())


def peak(m):
    return tuple(int(i) for i in np.unravel_index(m.argmax(), m.shape))


cam_share, sal_share = share_inside(heat), share_inside(sal)
print(f"share inside the evidence region: Grad-CAM {cam_share:.0%}, saliency {sal_share:.0%} "
      f"(area {region.mean():.0%}); peaks: Grad-CAM {peak(heat)} {'in' if region[peak(heat)] else 'outside'} it, "
      f"saliency {peak(sal)} {'in' if region[peak(sal)] else 'outside'} it")
assert cam_share > 2 * region.mean(), "Grad-CAM concentrates on the region occlusion found"
assert cam_share > sal_share, "saliency spreads over more of the image than Grad-CAM"
if HAVE_MPL:
    plotting.plot_heatmap(image, sal / max(sal.max(), 1e-12), OUT / "saliency.png",
                          plotting.prediction_title("Saliency", pred_name, probs[pred], true_name),
                          label="|gradient| / max")
    plotting.plot_heatmap(image, heat, OUT / "gradcam.png",
                          plotting.prediction_title("Grad-CAM (layer 7)", pred_name, probs[pred], true_name))
    plotting.plot_occlusion(occ, path=OUT / "occlusion.png", image=image, class_name=pred_name)

# %% [markdown]
# Occlusion and Grad-CAM point at the same place, the glyph (the printed shares say how strongly).
# Saliency spreads further: it is the gradient at this one image, so it also lights up distractor
# strokes and dots whose brightness would change the score (it takes the gradient's magnitude, so
# evidence *against* the class counts as much as evidence for it), and its single highest pixel
# may lie away from the glyph. Grad-CAM averages the gradient over a whole channel before weighing
# the maps, and occlusion changes a whole patch at once; both are less local, so less noisy.
#
# The same pictures for a model trained with `python -m minitorch_cnn.train` come from the
# `visualize` command, and the graph of the unit's CNN, one box per layer, from the `graph`
# command; README.md ("Seeing inside") gives both commands.

# %%
print(f"done in {time.time() - start:.1f} s; files: {sorted(p.name for p in OUT.iterdir())}")

# %% [markdown]
# ## Summary
#
# * The autograd graph and the model summary show what a forward pass builds and what it costs.
# * Receptive-field arithmetic (map size, jump, field size, start, with dilation in all three)
#   says which input pixels a unit can see; autograd's inverse image confirms it.
# * Feature maps, filters, the maximal response, saliency, Grad-CAM and occlusion each answer a
#   different question about what the network uses; none of them alone is the explanation.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 5
#     cd ../my-course && python -m minitorch_cnn.grade --task 5.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 5.1 | Receptive-field arithmetic: size, jump, rf, start | `conv_rf` in `minitorch_cnn/viz/receptive_field.py` | 3 | `python -m minitorch_cnn.grade --task 5.1` |
# | 5.2 | Grad-CAM channel weights and map | `GradCAM.__call__` in `minitorch_cnn/viz/gradcam.py` | 2 | `python -m minitorch_cnn.grade --task 5.2` |
# | 5.3 | Occlusion: patch positions and the averaged drop map | `patch_positions` in `minitorch_cnn/viz/occlusion.py`, `occlusion_sensitivity` in `minitorch_cnn/viz/occlusion.py` | 2 | `python -m minitorch_cnn.grade --task 5.3` |
# | 5.4 | Saliency: max over channels of |d score / d x| | `saliency` in `minitorch_cnn/viz/saliency.py` | 1 | `python -m minitorch_cnn.grade --task 5.4` |
# | 5.5 | Bilinear upsampling with aligned pixel centres | `upsample_bilinear` in `minitorch_cnn/viz/gradcam.py` | 2 | `python -m minitorch_cnn.grade --task 5.5` |

# %% [markdown]
# ## Next
#
# Chapter 8 (`tutorials/08_beyond_classification.py`) leaves single labels behind: sequences
# with causal dilated convolutions, segmentation with a U-Net, and volumes with `Conv3d`.
