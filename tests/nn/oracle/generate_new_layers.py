"""Regenerate new_layers.json with the PyTorch oracle (never run in CI; torch is not a dependency):

    $(../shared/tools/oracle-venv.sh) tests/nn/oracle/generate_new_layers.py

Fixed float64 inputs; for each op the output and the gradients of ``sum(output * c)`` for a fixed
random ``c``, so the tests can check values and backward against PyTorch 2.13 without torch.
"""

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(1234)
out: dict = {"torch": torch.__version__}


def arr(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape)


def run(name, fn, inputs, **meta):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs]
    y = fn(*ts)
    c = rng.uniform(-1, 1, tuple(y.shape))
    (y * torch.tensor(c)).sum().backward()
    out[name] = {"inputs": [a.tolist() for a in inputs], "c": c.tolist(), "y": y.detach().numpy().tolist(),
                 "grads": [t.grad.numpy().tolist() for t in ts], **meta}


x = np.concatenate([np.linspace(-6, 6, 25), [0.0, 1e-3, -1e-3, 3.7, -8.0]])
run("gelu_none", lambda t: F.gelu(t), [x])
run("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), [x])
run("layer_norm", lambda t, w, b: F.layer_norm(t, [4, 5], w, b, eps=1e-5), [arr(2, 3, 4, 5), arr(4, 5), arr(4, 5)])
run("group_norm", lambda t, w, b: F.group_norm(t, 3, w, b, eps=1e-5), [arr(2, 6, 3, 3), arr(6), arr(6)])
p = rng.uniform(0.02, 0.98, (3, 4))
p[0, 0], p[0, 1] = 1e-9, 1 - 1e-9
tgt = rng.uniform(0, 1, (3, 4))
run("bce_mean", lambda a, t: F.binary_cross_entropy(a, t), [p, tgt])
w = rng.uniform(0.5, 2, (4,))
run("bce_weight_sum", lambda a, t: F.binary_cross_entropy(a, t, torch.tensor(w), reduction="sum"), [p, tgt],
    weight=w.tolist())
img = arr(1, 2, 5, 7)
cases = {
    "nearest_size": dict(size=(8, 11), mode="nearest"),
    "nearest_x2": dict(scale_factor=2, mode="nearest"),
    "nearest_1.7": dict(scale_factor=1.7, mode="nearest"),
    "nearest_down": dict(size=(3, 4), mode="nearest"),
    "bilinear_size": dict(size=(8, 11), mode="bilinear", align_corners=False),
    "bilinear_align": dict(size=(8, 11), mode="bilinear", align_corners=True),
    "bilinear_x2": dict(scale_factor=2, mode="bilinear", align_corners=False),
    "bilinear_x3": dict(scale_factor=3, mode="bilinear", align_corners=False),
    "bilinear_0.6": dict(scale_factor=0.6, mode="bilinear", align_corners=False),
    "bilinear_1.7_recompute": dict(scale_factor=1.7, mode="bilinear", align_corners=False,
                                   recompute_scale_factor=True),
    "bilinear_down_align": dict(size=(3, 4), mode="bilinear", align_corners=True),
}
for name, kw in cases.items():
    run("interp_" + name, lambda t, kw=kw: F.interpolate(t, **kw), [img], kwargs=kw)
run("interp_linear_1d", lambda t: F.interpolate(t, size=9, mode="linear", align_corners=False), [arr(2, 3, 4)],
    kwargs=dict(size=9, mode="linear", align_corners=False))

# ReduceLROnPlateau: the rates after each step for a fixed metric sequence
metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.93, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.5, 0.5, 0.5, 0.5]
plateau = {}
for name, kw in {
    "min_rel": dict(mode="min", factor=0.5, patience=2),
    "min_abs_cooldown": dict(mode="min", factor=0.1, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2,
                             min_lr=[0.002, 0.0]),
    "max_rel": dict(mode="max", factor=0.3, patience=0, threshold=0.01),
}.items():
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append([g["lr"] for g in opt.param_groups])
    plateau[name] = {"kwargs": kw, "lrs": lrs}
out["plateau"] = {"metrics": metrics, "cases": plateau}

path = Path(__file__).with_name("new_layers.json")
path.write_text(json.dumps(out))
print("wrote", path, path.stat().st_size, "bytes")
