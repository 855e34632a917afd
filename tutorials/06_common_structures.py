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
# # Chapter 6: Common CNN structures
#
# The ImageNet years (2012-2018) produced a handful of designs every CNN since reuses. All of them
# are in `minitorch_cnn.models` with torchvision's names, layouts and state-dict keys, so weights
# converted from torchvision (`tools/convert_torchvision_weights.py`) load key for key.
#
# 1. **The model table**, rebuilt from our own `summary`: parameters, layers, mult-adds.
# 2. **Why VGG stacks 3x3 convolutions.**
# 3. **The residual block**: the gradient reaching the first layer of a 20-layer plain network
#    and of a residual one.
# 4. **The Inception module's branch arithmetic.**
# 5. **Receptive-field growth** per stage of ResNet-18.
# 6. **Global pooling** and what a GAP head saves.
# 7. **Transfer learning**: freeze a feature extractor, replace the head, train only the head.
#
# Run it as a script (`python tutorials/06_common_structures.py`) or as a notebook with jupytext.

# %%
import tempfile
from pathlib import Path

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn.utils import skip_init

mt.manual_seed(0)


def n_params(module: nn.Module) -> int:
    return sum(int(np.prod(p.shape)) for p in module.parameters())


# %% [markdown]
# ## 1. The model table
#
# `skip_init` builds a model without drawing its random weights (they stay zero), so even VGG-19's
# 143 million parameters cost an allocation, not a minute of random numbers: enough to count them.
# "Layers" counts the convolution and linear layers. Mult-adds need a forward pass at 224x224,
# which takes seconds per model here; we run it for three small models and list the rest from
# `tools/zoo_table.py` (README's zoo table) -- every count there comes from the same `summary`.

# %%
rows = []
for name in ["alexnet", "vgg16", "vgg16_bn", "resnet18", "resnet50", "googlenet", "inception_v3",
             "densenet121", "mobilenet_v1", "mobilenet_v2", "shufflenet_v2_x1_0", "squeezenet1_0"]:
    model = skip_init(models.build_model, name, **({"aux_logits": False} if name == "googlenet" else {}))
    layers = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    rows.append((name, n_params(model), layers))
    print(f"{name:>20}  {n_params(model):>12,} parameters  {layers:>4} conv/linear layers")
counts = dict((r[0], r[1]) for r in rows)
assert counts["vgg16"] == 138_357_544 and counts["resnet50"] == 25_557_032 and counts["googlenet"] == 6_624_904

# %%
for name, published in [("squeezenet1_0", 0.819), ("mobilenet_v2", 0.301), ("resnet18", 1.814)]:
    model = skip_init(models.build_model, name).eval()
    macs = mt.summary(model, (3, 224, 224), batch_size=1).to_dict()["totals"]["mult_adds"] / 1e9
    print(f"{name:>14}: {macs:.3f} GMACs at 224x224 (torchvision publishes {published})")
    assert abs(macs / published - 1) < 0.01

# %% [markdown]
# Mult-adds count convolutions (`C_out*H_out*W_out * C_in/groups*k*k` per image) and linear layers,
# not pooling, BatchNorm or activations -- the convention behind torchvision's numbers. Parameters
# and compute are very different things. With torchvision's GMACs (README's zoo table reproduces
# them with our `summary`: vgg16 15.47, mobilenet_v2 0.301, alexnet 0.714, resnet50 4.089):

# %%
gmacs = {"vgg16": 15.47, "mobilenet_v2": 0.301, "alexnet": 0.714, "resnet50": 4.089}
for a, b in [("vgg16", "mobilenet_v2"), ("alexnet", "resnet50")]:
    print(f"{a} / {b}: {counts[a] / counts[b]:.1f}x the parameters, {gmacs[a] / gmacs[b]:.2f}x the mult-adds")
assert counts["alexnet"] > 2 * counts["resnet50"] and gmacs["alexnet"] < gmacs["resnet50"] / 5

# %% [markdown]
# AlexNet has more than twice ResNet-50's parameters but under a fifth of its compute: most of
# AlexNet's (and VGG's) weights sit in the first fully connected layer, which runs once per image.

# %% [markdown]
# ## 2. Why VGG stacks 3x3 convolutions
#
# Two 3x3 convolutions in a row see a 5x5 window of the input, three see 7x7, with fewer weights
# than one big kernel and a non-linearity between each:

# %%
c = 64
for k, n in [(5, 2), (7, 3)]:
    stacked = nn.Sequential(*[nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(n)])
    single = nn.Conv2d(c, c, k, padding=k // 2, bias=False)
    rf = mt.receptive_field(stacked, (c, 16, 16))
    print(f"{n} x 3x3: receptive field {rf[f'{n - 1}']['rf'][0]}, {n_params(stacked):,} weights;"
          f"  one {k}x{k}: {n_params(single):,} weights")
    assert rf[f"{n - 1}"]["rf"][0] == k and n_params(stacked) == n * 9 * c * c < n_params(single) == k * k * c * c

# %% [markdown]
# ## 3. The residual block
#
# A plain deep network multiplies the gradient by every layer's Jacobian on the way back; with
# PyTorch's default initialisation each layer shrinks the signal a little, and 20 layers shrink it
# to nothing. A residual block computes `relu(x + F(x))`: the identity path carries the gradient
# past `F` unchanged. Same layers, same initialisation, one batch, with and without the skips:


# %%
class Deep(nn.Module):
    """A stem conv, 18 convs in pairs, global pooling and a linear layer: 20 weighted layers."""

    def __init__(self, residual: bool, depth: int = 20, c: int = 16) -> None:
        super().__init__()
        self.residual = residual
        self.stem = nn.Conv2d(1, c, 3, padding=1)
        self.convs = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1) for _ in range(depth - 2)])
        self.fc = nn.Linear(c, 10)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        x = self.stem(x).relu()
        for first, second in zip(self.convs[::2], self.convs[1::2]):
            y = second(first(x).relu())
            x = (x + y).relu() if self.residual else y.relu()
        return self.fc(x.mean((2, 3)))


x, target = mt.randn(16, 1, 12, 12), mt.tensor(np.arange(16) % 10)
norms = {}
for residual in (False, True):
    mt.manual_seed(0)
    net = Deep(residual)
    nn.functional.cross_entropy(net(x), target).backward()
    norms[residual] = float((net.stem.weight.grad ** 2).sum().sqrt())
    print(f"{'residual' if residual else 'plain   '}: |dL/d stem.weight| = {norms[residual]:.3g}")
assert norms[True] > 1e4 * norms[False]

# %% [markdown]
# ResNet-18's `BasicBlock` is this block with BatchNorm after each conv, and a 1x1 conv on the
# shortcut where the shape changes (`downsample`):

# %%
print(models.resnet18().layer2[0])

# %% [markdown]
# ## 4. The Inception module
#
# GoogLeNet runs 1x1, 3x3, 5x5 convolutions and a max-pool side by side and concatenates the
# results along channels, so the output has `ch1x1 + ch3x3 + ch5x5 + pool_proj` channels. The 1x1
# "reduce" convolutions in front of the big kernels are what makes it affordable. Inception 3a
# takes 192 channels at 28x28 and gives 64 + 128 + 32 + 32 = 256:

# %%
paper = models.InceptionModule(192, 64, 96, 128, 16, 32, 32)  # the paper's module, a real 5x5
out = paper(mt.randn(1, 192, 28, 28))
print("output", tuple(out.shape), "parameters", f"{n_params(paper):,}")
assert out.shape == (1, 256, 28, 28)
no_reduce = nn.Conv2d(192, 128, 3, padding=1), nn.Conv2d(192, 32, 5, padding=2)
print("3x3 and 5x5 branches without 1x1 reduction:", f"{sum(n_params(m) for m in no_reduce):,}",
      " with it:", f"{n_params(paper.branch2) + n_params(paper.branch3):,}")
assert n_params(paper.branch2) + n_params(paper.branch3) < sum(n_params(m) for m in no_reduce) / 2

# %% [markdown]
# torchvision's GoogLeNet departs from the paper in two ways: every conv is followed by BatchNorm
# (`BasicConv2d`), and its "5x5" branch is a 3x3 convolution -- kept so its released weights load.
# Our `models.googlenet` reproduces that layout; `models.InceptionModule` is the paper's block:

# %%
tv_3a = models.googlenet(aux_logits=False).inception3a
print("torchvision 3a 'ch5x5' kernel:", tv_3a.branch3[1].conv.kernel_size, " paper:", paper.branch3[2].kernel_size)
assert tv_3a.branch3[1].conv.kernel_size == (3, 3) and paper.branch3[2].kernel_size == (5, 5)

# %% [markdown]
# ## 5. Receptive-field growth in ResNet-18
#
# `receptive_field` follows the graph through the residual additions. After each stage, at 224x224:

# %%
rf = mt.receptive_field(skip_init(models.resnet18), (3, 224, 224))
growth = {}
for layer in ["relu", "maxpool", "layer1.1.relu#2", "layer2.1.relu#2", "layer3.1.relu#2", "layer4.1.relu#2"]:
    r = rf[layer]
    growth[layer] = r["rf"][0]
    print(f"{layer:>16}: map {r['map_size'][0]:>3}x{r['map_size'][0]:<3} jump {r['jump'][0]:>2}  receptive field {r['rf'][0]}")
values = list(growth.values())
assert values == sorted(values) and growth["layer4.1.relu#2"] > 224

# %% [markdown]
# Each stride-2 stage doubles the jump, so every later 3x3 conv adds twice as many pixels. By
# layer4 one unit "sees" more than the whole 224x224 image (the field includes the zero padding);
# global pooling then combines all of them.
#
# ## 6. Global pooling
#
# A max or average pool whose window is the whole feature map, followed by `squeeze()`, gives one
# number per channel: exactly `AdaptiveAvgPool2d(1)` (which works for any map size):

# %%
fmap = mt.randn(4, 128, 7, 7)
by_window = nn.AvgPool2d(kernel_size=7)(fmap).squeeze()
adaptive = nn.AdaptiveAvgPool2d(1)(fmap).squeeze()
print(tuple(by_window.shape), float((by_window - adaptive).abs().max()))
assert np.allclose(by_window.numpy(), adaptive.numpy(), atol=1e-6)
assert np.allclose(adaptive.numpy(), fmap.numpy().mean((2, 3)), atol=1e-6)
assert np.array_equal(nn.MaxPool2d(7)(fmap).squeeze().numpy(), fmap.numpy().max((2, 3)))

# %% [markdown]
# A head on the pooled vector needs `C * classes` weights; flattening the map first needs
# `C * H * W * classes`. For our small Fashion-MNIST ResNet (`models.resnet_gap`, a 128x7x7 map;
# README's "A small ResNet" section trains it to 93.79% with its 289,514 parameters):

# %%
gap_head = nn.Linear(128, 10)
dense_head = nn.Linear(128 * 7 * 7, 10)
print(f"GAP head {n_params(gap_head):,} vs flatten + dense {n_params(dense_head):,} parameters")
vgg = skip_init(models.vgg16)
print(f"VGG-16's first dense layer alone: {n_params(vgg.classifier[0]):,} of {n_params(vgg):,}")
assert n_params(dense_head) == 49 * n_params(gap_head) - 48 * 10

# %% [markdown]
# ## 7. Transfer learning
#
# Reuse a trained feature extractor for a new task: freeze everything, replace the classifier,
# train only the new head. (Here the "trained" weights are a saved random ResNet-18 -- a real
# run converts torchvision's ImageNet weights with `tools/convert_torchvision_weights.py`.)

# %%
tmp = Path(tempfile.mkdtemp())
mt.save(models.resnet18(in_channels=1, small_input=True).state_dict(), tmp / "resnet18.safetensors")

net = models.resnet18(in_channels=1, small_input=True)
print(net.load_state_dict(mt.load(tmp / "resnet18.safetensors")))
net.requires_grad_(False)          # freeze the feature extractor
net.fc = nn.Linear(512, 10)        # a new, trainable head for 10 classes
totals = mt.summary(net, (1, 28, 28), count_bn_stats_as_params=False).to_dict()["totals"]
print(f"trainable {totals['trainable_params']:,}, frozen {totals['non_trainable_params']:,}")
assert totals["trainable_params"] == 5_130

# %% [markdown]
# An optimizer given all parameters skips the frozen ones (they never get a gradient). A few steps
# on one batch: the loss falls, and only the head's weights move. `eval()` keeps BatchNorm's
# running statistics frozen too.

# %%
opt = mt.optim.Adam(net.parameters(), lr=1e-2)
images, labels = mt.randn(32, 1, 28, 28), mt.tensor(np.arange(32) % 10)
net.eval()
with mt.no_grad():
    features = net.layer4(net.layer3(net.layer2(net.layer1(net.relu(net.bn1(net.conv1(images)))))))
before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
losses = []
for _ in range(15):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net.fc(net.avgpool(features).flatten(1)), labels)
    loss.backward()
    opt.step()
    losses.append(float(loss.item()))
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
moved = [k for k, v in net.state_dict().items() if not np.array_equal(v.numpy(), before[k])]
print("changed:", moved)
assert losses[-1] < losses[0] and moved == ["fc.weight", "fc.bias"]

# %% [markdown]
# (The frozen extractor's features were computed once, under `no_grad`: with nothing to train
# below the head, running it every step would only repeat the same numbers.) Loading weights
# saved for a different model names what does not fit:

# %%
try:
    models.resnet34(in_channels=1, small_input=True).load_state_dict(mt.load(tmp / "resnet18.safetensors"))
except RuntimeError as err:
    print(str(err)[:160], "...")

# %% [markdown]
# ## Summary
#
# * The model table is our own `summary` and `receptive_field`, run on every builder.
# * Stacked 3x3 convolutions see as far as one bigger kernel with fewer weights and a
#   non-linearity between each (VGG).
# * A residual block adds its input back, `relu(x + F(x))`: the identity path carries the gradient
#   past `F`, so a 20-layer residual network's first layer still receives one.
# * An Inception module runs parallel branches and concatenates their channels.
# * Every stride-2 stage doubles the jump of the receptive field; global pooling then reduces each
#   channel to one number, so the head needs `C * classes` weights instead of `C * H * W * classes`.
# * Transfer learning freezes a trained extractor and trains a new head.

# %% [markdown]
# ## Graded exercises
#
# Make your own copy of the project with this chapter's tasks stubbed out, write each one,
# and let the grader check it (each task's tests are in `tests/tasks/`):
#
#     python -m minitorch_cnn.assignments make --out ../my-course --chapter 6
#     cd ../my-course && python -m minitorch_cnn.grade --task 6.1
#
# | task | write | where | points | check |
# |---|---|---|---|---|
# | 6.1 | Residual block: the shortcut added before the last ReLU | `BasicBlock.forward` in `minitorch_cnn/models/blocks.py` | 2 | `python -m minitorch_cnn.grade --task 6.1` |
# | 6.2 | Channel shuffle: reshape, transpose, reshape | `channel_shuffle` in `minitorch_cnn/models/blocks.py` | 1 | `python -m minitorch_cnn.grade --task 6.2` |

# %% [markdown]
# ## Next
#
# Chapter 7 (`tutorials/07_reduced_complexity.py`) makes networks smaller: depth-wise separable and
# grouped convolutions, pruning, quantization and binarization.
