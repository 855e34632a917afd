"""Freeze torchvision 0.28's facts about the zoo into test data (run by hand, never in CI).

    $(../shared/tools/oracle-venv.sh) tests/models/freeze_torchvision.py

writes ``tests/models/data/zoo_keys.json.gz`` (every builder's state-dict keys and shapes, in
order) and ``tests/models/data/zoo_outputs.npz`` (eval-mode outputs of the smaller models for the
deterministic weights and input of ``zoo_weights.py``, computed in float64), plus known values of
the layers the zoo added (``zoo_layers.npz``).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision import models

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from zoo_weights import deterministic_input, deterministic_state  # noqa: E402

KEY_MODELS = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
              "resnet18", "resnet34", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "googlenet",
              "inception_v3", "densenet121", "mobilenet_v2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
              "squeezenet1_0"]
# model -> input size (H = W) for the output check
OUTPUT_MODELS = {"alexnet": 64, "resnet18": 64, "resnet34": 48, "resnet50": 48, "resnext50_32x4d": 48,
                 "googlenet": 64, "inception_v3": 80, "densenet121": 48, "mobilenet_v2": 48,
                 "shufflenet_v2_x0_5": 48, "shufflenet_v2_x1_0": 48, "squeezenet1_0": 48, "alexnet_paper": 64}


def alexnet_paper() -> nn.Module:
    """The 2012 paper's AlexNet written with torch layers, the same layout as ours."""
    m = models.alexnet()
    m.features = nn.Sequential(
        nn.Conv2d(3, 96, 11, 4, 2), nn.ReLU(), nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0),
        nn.MaxPool2d(3, 2), nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1, groups=2),
        nn.ReLU(), nn.MaxPool2d(3, 2),
    )
    return m


def build(name: str) -> nn.Module:
    if name == "alexnet_paper":
        return alexnet_paper()
    kwargs = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
    return getattr(models, name)(**kwargs)


def freeze_layers() -> dict[str, np.ndarray]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 7, 3, 4, generator=g, dtype=torch.float64) * 3
    out = {"x": x.numpy()}
    out["lrn"] = nn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=1.5)(x).numpy()
    out["lrn_paper"] = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)(x).numpy()
    x3 = x[:, :, 0]  # (2, 7, 4): a 3-d input
    out["x3"] = x3.numpy()
    out["lrn_3d"] = nn.LocalResponseNorm(4, alpha=0.2)(x3).numpy()
    out["relu6"] = nn.ReLU6()(x * 3).numpy()
    out["hardswish"] = nn.Hardswish()(x).numpy()
    t1 = nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1, dilation=1).double()
    x1 = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    out.update(ct1_x=x1.numpy(), ct1_w=t1.weight.detach().numpy(), ct1_b=t1.bias.detach().numpy(),
               ct1_y=t1(x1).detach().numpy())
    t3 = nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), groups=2).double()
    x3d = torch.randn(1, 2, 2, 3, 4, generator=g, dtype=torch.float64)
    out.update(ct3_x=x3d.numpy(), ct3_w=t3.weight.detach().numpy(), ct3_b=t3.bias.detach().numpy(),
               ct3_y=t3(x3d).detach().numpy())
    return out


def main() -> None:
    keys = {}
    for name in KEY_MODELS:
        sd = build(name).state_dict()
        keys[name] = [[k, list(v.shape)] for k, v in sd.items()]
    keys["googlenet_no_aux"] = [[k, list(v.shape)] for k, v in models.googlenet(aux_logits=False, init_weights=False)
                                .state_dict().items()]
    (HERE / "data").mkdir(exist_ok=True)
    with gzip.open(HERE / "data" / "zoo_keys.json.gz", "wt") as f:
        json.dump({"torchvision": __import__("torchvision").__version__, "models": keys}, f, separators=(",", ":"))
    outputs = {}
    for name, size in OUTPUT_MODELS.items():
        model = build(name).eval()
        shapes = [(k, list(v.shape)) for k, v in model.state_dict().items()]
        state = {k: torch.from_numpy(v) for k, v in deterministic_state(shapes).items()}
        model.load_state_dict(state)
        x = torch.from_numpy(deterministic_input((2, 3, size, size)))
        with torch.no_grad():
            y = model.double()(x.double())
        outputs[name] = y.numpy()
        print(name, tuple(y.shape), float(y.abs().max()))
    np.savez_compressed(HERE / "data" / "zoo_outputs.npz", **outputs)
    np.savez_compressed(HERE / "data" / "zoo_layers.npz", **freeze_layers())


if __name__ == "__main__":
    main()
