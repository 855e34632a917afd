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
# 5. **One unit, end to end**: which input pixels one unit of the unit's CNN sees, and why it
#    fires on an image.
#
# Run it as a script (`.venv/bin/python tutorials/05_seeing_inside.py`; it prints how long it took on
# your machine) or as a notebook (`python -m minitorch_cnn.assignments notebooks --execute`, or open
# it with jupytext). Pictures go to `$TUTORIAL_OUT` (default: `tutorials/out/05_seeing_inside/`,
# which git ignores) and, in a notebook, also appear under the cell that draws them
# (`plotting.show`); the graph images need the Graphviz `dot` program, and a one-line notice says
# so when it is missing.

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
plotting.show(g)  # in a notebook: the picture of that DOT text (needs `dot`); in a script: nothing

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
    plotting.show(graph, OUT / "small_cnn_graph.svg")  # written, and drawn under the cell in a notebook
    print("wrote", OUT / "small_cnn_graph.svg")
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
    plotting.show(blocks, OUT / "resnet_blocks.svg")
    plotting.show(viz.forward_graph(resnet, (1, 28, 28)), OUT / "resnet_layers.svg")

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
    plotting.show(plotting.plot_feature_maps(maps, title="after the first ReLU (layer 1)", image=image),
                  OUT / "feature_maps.png")
    plotting.show(plotting.plot_filters(weights, title="first-layer filters (layer 0)"), OUT / "filters.png")

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
    plotting.show(plotting.plot_max_response(plain, "6", 0), OUT / "max_response_plain.png")
    plotting.show(plotting.plot_max_response(nice, "6", 0, settings=viz.REGULARISED), OUT / "max_response.png")

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
    plotting.show(plotting.plot_heatmap(image, sal / max(sal.max(), 1e-12),
                                        title=plotting.prediction_title("Saliency", pred_name, probs[pred], true_name),
                                        label="|gradient| / max"), OUT / "saliency.png")
    plotting.show(plotting.plot_heatmap(
        image, heat, title=plotting.prediction_title("Grad-CAM (layer 7)", pred_name, probs[pred], true_name)),
        OUT / "gradcam.png")
    plotting.show(plotting.plot_occlusion(occ, image=image, class_name=pred_name), OUT / "occlusion.png")

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

# %% [markdown]
# ## 5. One unit, end to end: what does unit (3, 5, 5) of `features.7` see, and why does it fire?
#
# The question, for the unit's Fashion-MNIST CNN (`build_model("cnn")`, the `cnn` of section 2):
# *which input pixels does unit (channel 3, row 5, column 5) of layer `features.7` see, and why
# does it fire on this image?* First, does that unit exist? The layer names are the module paths
# that `mt.summary` printed above; the cell looks the layer up in the summary and checks that
# channel 3 and position (5, 5) fit in its output.

# %%
LAYER, CHANNEL, UNIT = "features.7", 3, (5, 5)
cnn.eval()  # Dropout off, BatchNorm on its running statistics: the model as it predicts
row = next(r for r in s.rows if r["name"] == LAYER)
print(f"{LAYER}: {row['type']}, output {row['output_shape']}, fed by {row['connected_to']}")
print("the layers before it:", ", ".join(f"{r['name']} {r['type']}" for r in s.rows
                                          if r["name"].startswith("features.") and r["index"] < row["index"]))
_, n_channels, map_h, map_w = row["output_shape"]
assert CHANNEL < n_channels and UNIT[0] < map_h and UNIT[1] < map_w, "the unit exists"
assert row["type"] == "Dropout" and row["connected_to"] == ["features.6"], "the text below describes this layer"

# %% [markdown]
# The printed type says what kind of layer `features.7` is. In this CNN it is the Dropout right
# after the first max-pooling: in eval mode it passes its input through unchanged, so its unit
# *is* the max-pooled value of channel 3 of the second conv block (conv, ReLU, BatchNorm). That is
# a fine unit to ask about (it is what the second half of the network reads), so we keep the
# question as asked rather than moving to a conv layer.
#
# **Which pixels it can see** (architecture only, no weights): the receptive-field table of the
# layers up to `features.7`, the unit's field, and autograd's check of it (`inverse_image`: the
# gradient, summed over all channels, for a random input).

# %%
cnn_rf = mt.receptive_field(cnn, (1, 28, 28))
for name in ("features.0", "features.3", "features.6", LAYER):
    r = cnn_rf[name]
    print(f"{name:11s} {r['type']:12s} map {r['map_size']}  jump {r['jump']}  rf {r['rf']}  start {r['start']}")
field = mt.receptive_field_for_unit(cnn_rf, LAYER, UNIT)
checked = viz.inverse_image(cnn, (1, 28, 28), LAYER, UNIT)
(f_r0, f_r1), (f_c0, f_c1) = field
print(f"unit {UNIT} of {LAYER} sees rows {f_r0}..{f_r1 - 1}, columns {f_c0}..{f_c1 - 1} "
      f"({f_r1 - f_r0}x{f_c1 - f_c0} pixels); inverse image {checked}")
assert field == checked
assert (cnn_rf["features.3"]["rf"], cnn_rf[LAYER]["rf"], cnn_rf[LAYER]["jump"]) == ([5, 5], [6, 6], [2, 2])

# %% [markdown]
# Two 3x3 convolutions give a field of 5 pixels, the 2x2 max-pool adds one more input step (the
# printed `rf`), and its stride 2 doubles the `jump`: neighbouring units of `features.7` are two
# pixels apart. The printed field is that many pixels around the unit's centre `start + 5 * jump`.
#
# **Why it fires on this image**: which image? A ReLU unit is often exactly 0 (silent), so the
# cell first reads the unit on all 500 test images, prints its value on the chapter's test image 0
# and how many images leave it silent, and then asks "why" about the test image on which it fires
# most. On that image it backpropagates *the unit's value* (not a class score) to the pixels:
# `d unit / d x` is the unit's own "inverse image" for this input. Max-pooling passes the gradient to the winner of its 2x2
# window only, so the gradient lives on the field of the one conv unit that won, a sub-square of
# the field above. Everything between the pixels and the unit is piecewise linear here (conv, ReLU,
# BatchNorm in eval mode, max-pool, Dropout off), so the activation splits exactly into
# `sum(gradient * pixel)` plus a constant that the biases and BatchNorm shifts add: the pixels with
# the largest `gradient * pixel` are *why* it fires.

# %%
test_images, test_labels = (t.numpy() for t in next(iter(DataLoader(test_set, batch_size=len(test_set)))))
all_maps = viz.feature_maps(cnn, LAYER, test_images)[:, CHANNEL]  # (500, 14, 14): channel 3 on every test image
on_unit = all_maps[:, UNIT[0], UNIT[1]]
fire = int(on_unit.argmax())
print(f"unit on test image 0: {on_unit[0]:.4f}; silent (0) on {int((on_unit == 0).sum())} of {len(on_unit)} "
      f"test images; it fires most, {on_unit[fire]:.4f}, on test image {fire}, a '{GlyphsInClutter.classes[int(test_labels[fire])]}'")
x_fire = test_images[fire:fire + 1]
modules = dict(cnn.named_modules())
pool = modules["features.6"]
k, st = int(np.ravel(pool.kernel_size)[0]), int(np.ravel(pool.stride)[0])
unit_map = all_maps[fire]  # this channel's 14x14 map for that image
before_pool = viz.feature_maps(cnn, "features.5", x_fire)[0, CHANNEL]
window = before_pool[UNIT[0] * st:UNIT[0] * st + k, UNIT[1] * st:UNIT[1] * st + k]
wr, wc = np.unravel_index(window.argmax(), window.shape)
winner = (UNIT[0] * st + int(wr), UNIT[1] * st + int(wc))
activation = float(unit_map[UNIT])

xg = mt.tensor(x_fire, requires_grad=True)
caught = []
hook = modules[LAYER].register_forward_hook(lambda m, i, o: caught.append(o))
try:
    cnn(xg)
finally:
    hook.remove()
caught[0][0, CHANNEL, UNIT[0], UNIT[1]].backward()
cnn.zero_grad()  # the parameters' .grad were a side effect; the question is about the input
grad = xg.grad.numpy()[0, 0]
pixels = x_fire[0, 0]
contrib = grad * pixels
nz_r, nz_c = np.nonzero(grad)
grad_box = [(int(nz_r.min()), int(nz_r.max()) + 1), (int(nz_c.min()), int(nz_c.max()) + 1)]
winner_field = mt.receptive_field_for_unit(cnn_rf, "features.5", winner)

print(f"activation of unit ({CHANNEL}, {UNIT[0]}, {UNIT[1]}): {activation:.4f}; channel {CHANNEL}'s map ranges "
      f"{unit_map.min():.4f}..{unit_map.max():.4f} (mean {unit_map.mean():.4f}) on this image")
print(f"the 2x2 window it pools (features.5, rows {UNIT[0] * st}..{UNIT[0] * st + k - 1}):",
      np.array2string(window, precision=4), f"-> winner {winner}")
print(f"non-zero gradient: {grad_box} = field of the winner {winner_field}, inside the unit's field {field}")
linear, rest = float(contrib.sum()), activation - float(contrib.sum())
print(f"activation {activation:.4f} = sum(gradient * pixel) {linear:.4f} + constant {rest:.4f}")
order = np.argsort(contrib, axis=None)[::-1][:5]
for flat in order:
    pr, pc = np.unravel_index(flat, contrib.shape)
    print(f"  pixel ({pr:2d}, {pc:2d}): value {pixels[pr, pc]:+.3f} x gradient {grad[pr, pc]:+.4f} "
          f"= {contrib[pr, pc]:+.4f}")
assert grad_box == winner_field and all(a >= b0 and z <= b1 for (a, z), (b0, b1) in zip(grad_box, field))
assert activation > 0 and window.max() == activation

# %% [markdown]
# Read the printout from the top: the unit's value, the four values of the 2x2 window it pooled
# (the largest one *is* the activation, the assert checks it), the square where the gradient is
# non-zero (the winner's field, inside the unit's full field), and the split of the activation
# into what the pixels contribute plus the constant. The five pixels listed are the ones that push
# the unit up most: bright stroke pixels (positive value, after normalisation) where the weights
# give a positive gradient, or dark background pixels where the gradient is negative.
#
# The weights here are the CNN's *initial* ones (it is not trained in this chapter), so channel 3
# detects whatever local pattern its random filters happen to weigh; the method does not change
# with training. Load a checkpoint from `python -m minitorch_cnn.train` into `cnn` and run these
# cells again to ask the same question of a trained unit.
#
# **What the channel likes elsewhere**: the channel's whole map for this image (the unit is one
# of its values), and, over the 500 test images, the input patches (each unit's receptive field)
# where channel 3 fires most, wherever in the image that is.

# %%
best = np.argsort(all_maps.reshape(len(all_maps), -1).max(axis=1))[::-1][:8]
patches, patch_titles = [], []
for i in best:
    ur, uc = np.unravel_index(all_maps[i].argmax(), all_maps[i].shape)
    (r0, r1), (c0, c1) = mt.receptive_field_for_unit(cnn_rf, LAYER, (int(ur), int(uc)))
    patches.append(test_images[i, 0, r0:r1, c0:c1])
    patch_titles.append(f"img {i}, unit ({ur},{uc})\n{all_maps[i].max():.2f}")
rank = int((all_maps.reshape(len(all_maps), -1).max(axis=1) > unit_map.max()).sum())
print(f"channel {CHANNEL}'s strongest units on the test set: "
      + ", ".join(f"{all_maps[i].max():.3f} (image {i})" for i in best[:4]))
print(f"this image's strongest unit of channel {CHANNEL}, {unit_map.max():.3f}, is beaten by {rank} of "
      f"{len(all_maps)} test images; unit {UNIT} itself gave {activation:.3f}")
if HAVE_MPL:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(10.5, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    axes[0].imshow(pixels, cmap="gray")
    axes[0].add_patch(Rectangle((f_c0 - 0.5, f_r0 - 0.5), f_c1 - f_c0, f_r1 - f_r0, fill=False, ec="yellow", lw=2))
    axes[0].set_title(f"input; yellow: field of unit {UNIT}", fontsize=9)
    m = float(np.abs(contrib).max()) or 1e-6
    shown = axes[1].imshow(contrib, cmap=plotting.DIVERGING, vmin=-m, vmax=m)
    axes[1].set_title("gradient x pixel (red pushes the unit up)", fontsize=9)
    fig.colorbar(shown, ax=axes[1], shrink=0.8)
    shown = axes[2].imshow(unit_map, cmap="viridis")
    axes[2].plot([UNIT[1]], [UNIT[0]], "rx", ms=10)
    axes[2].set_title(f"channel {CHANNEL} of {LAYER} (x: the unit)", fontsize=9)
    fig.colorbar(shown, ax=axes[2], shrink=0.8, label="activation")
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(f"Unit ({CHANNEL}, {UNIT[0]}, {UNIT[1]}) of {LAYER}: activation {activation:.3f}", fontsize=10)
    plotting.show(fig, OUT / "unit_3_5_5.png")
    plotting.show(plotting.plot_grid(patches, patch_titles, cols=8, suptitle=(
        f"Test-set patches (receptive fields) where channel {CHANNEL} of {LAYER} fires most")),
        OUT / "unit_top_patches.png")

# %%
print(f"done in {time.time() - start:.1f} s; files: {sorted(p.name for p in OUT.iterdir())}")

# %% [markdown]
# ## 6. Explore it yourself: the model explorer
#
# Everything above, for *your* model, in one page: `python -m minitorch_cnn.explore` writes a single
# self-contained HTML file (no network needed; open it in any browser or hand it in) with every
# layer's feature maps, the receptive field and input gradient of a clicked unit, the convolution's
# arithmetic for a clicked output pixel (window x kernel, summed, plus bias = the activation), the
# pooling windows, and Grad-CAM, saliency and occlusion for any class. Here a CNN trained for a few
# seconds on 1,024 built-in images stands in for yours (its test accuracy is printed below: far
# from a real run's); pass the `best.npz` of README's first command to see a trained network.
# README's "Model explorer" describes each panel.

# %%
from minitorch_cnn import explore
from minitorch_cnn.train import main as train_main

run = OUT / "explorer_run"
assert train_main(["--epochs", "1", "--limit", "1024", "--out", str(run), "--overwrite", "--no-progress"]) == 0
page = OUT / "explorer.html"
assert explore.main(["--checkpoint", str(run / "best.npz"), "--out", str(page), "--images", "8",
                     "--overwrite"]) == 0
if plotting.in_notebook():  # under the cell in Jupyter; a script just writes the file
    from IPython.display import IFrame, display

    display(IFrame(os.path.relpath(page), width="100%", height=900))
print("open", page, "in a browser")

# %% [markdown]
# ## Summary
#
# * The autograd graph and the model summary show what a forward pass builds and what it costs.
# * Receptive-field arithmetic (map size, jump, field size, start, with dilation in all three)
#   says which input pixels a unit can see; autograd's inverse image confirms it.
# * Feature maps, filters, the maximal response, saliency, Grad-CAM and occlusion each answer a
#   different question about what the network uses; none of them alone is the explanation.
# * One unit end to end: its receptive field from the arithmetic, checked by autograd; its value on
#   one image split into what each pixel contributes (its input gradient times the pixel); and the
#   patches where its channel fires most.

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
