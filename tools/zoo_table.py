"""Print the model zoo's table -- parameters, layers, mult-adds at ImageNet size, receptive field --
from our own ``summary`` and ``receptive_field`` (README's zoo table is this script's output).

    .venv/bin/python tools/zoo_table.py [--models resnet18,vgg16]

Mult-adds count convolutions (``C_out*H_out*W_out * C_in/groups*kh*kw``) and linear layers
(``in*out``) per image; pooling, BatchNorm, activations, additions and concatenations count 0 --
the convention of torchvision's published GMACs. "conv+linear layers" counts the model's Conv2d and
Linear modules (googlenet without its aux heads, inception_v3 with its one); the receptive field
is that of the last spatial feature map (it can exceed the image: it counts padding). Weights are
not initialised (``skip_init``): only shapes matter.
"""

from __future__ import annotations

import argparse
import sys
import time

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn.utils import skip_init

# torchvision 0.28's published GMACs ("_ops") for the ones it lists
PUBLISHED_GMACS = {"alexnet": 0.714, "vgg16": 15.47, "resnet18": 1.814, "resnet50": 4.089, "googlenet": 1.498,
                   "mobilenet_v2": 0.301, "shufflenet_v2_x1_0": 0.145, "squeezenet1_0": 0.819,
                   "densenet121": 2.834, "inception_v3": 5.713}


def row(name: str) -> str:
    size = 299 if name == "inception_v3" else 224
    model = skip_init(models.build_model, name, **({"aux_logits": False} if name == "googlenet" else {})).eval()
    params = sum(int(p.numel()) for p in model.parameters())
    weighted = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    t = time.time()
    macs = mt.summary(model, (3, size, size), batch_size=1).to_dict()["totals"]["mult_adds"] / 1e9
    rf = mt.receptive_field(model, (3, size, size))
    last_spatial = [r for r in rf.to_dict()["rows"] if not r["global"]][-1]
    pub = PUBLISHED_GMACS.get(name)
    versus = f"{pub:.3f} ({100 * (macs / pub - 1):+.2f}%)" if pub else "-"
    print(f"  {name}: {time.time() - t:.1f} s", file=sys.stderr)
    return (f"| {name} | {params:,} | {weighted} | {size} | {macs:.3f} | {versus} | "
            f"{last_spatial['rf'][0]} px |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(models.ZOO))
    names = p.parse_args().models.split(",")
    print("| model | parameters | conv+linear layers | input | GMACs (ours) | torchvision GMACs | "
          "receptive field of the last map |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name in names:
        print(row(name), flush=True)


if __name__ == "__main__":
    main()
