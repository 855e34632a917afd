"""Freeze torchvision's outputs of the deterministic transforms and of make_grid into oracle/*.json.

Run with the oracle's Python (PyTorch + torchvision), never in CI:
    $(/work/shared/tools/oracle-venv.sh) tests/vision/freeze_oracle.py
"""

import json
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T
from torchvision.utils import make_grid

OUT = Path(__file__).resolve().parent / "oracle"


def lst(t):
    return t.detach().cpu().numpy().astype(np.float64).tolist() if torch.is_tensor(t) else np.asarray(t).tolist()


def transforms_oracle():
    rng = np.random.default_rng(0)
    x = np.round(rng.random((3, 7, 9)), 4).astype(np.float32)
    u8 = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    xt = torch.from_numpy(x)
    cases = {}
    tensor_cases = {
        "resize_4x5_aa": T.Resize((4, 5), antialias=True),
        "resize_4x5_noaa": T.Resize((4, 5), antialias=False),
        "resize_short5_aa": T.Resize(5, antialias=True),
        "resize_short3_noaa": T.Resize(3, antialias=False),
        "resize_10x13_aa": T.Resize((10, 13), antialias=True),
        "resize_10x13_noaa": T.Resize((10, 13), antialias=False),
        "resize_short4_max5": T.Resize(4, max_size=5),
        "resize_nearest_5x4": T.Resize((5, 4), interpolation=T.InterpolationMode.NEAREST),
        "resize_nearest_12x20": T.Resize((12, 20), interpolation=T.InterpolationMode.NEAREST),
        "centercrop_4": T.CenterCrop(4),
        "centercrop_3x6": T.CenterCrop((3, 6)),
        "centercrop_10": T.CenterCrop(10),
        "centercrop_6x12": T.CenterCrop((6, 12)),
        "pad_2_fill": T.Pad(2, fill=0.5),
        "pad_1_2_edge": T.Pad((1, 2), padding_mode="edge"),
        "pad_1230_reflect": T.Pad((1, 2, 3, 0), padding_mode="reflect"),
        "pad_2103_symmetric": T.Pad((2, 1, 0, 3), padding_mode="symmetric"),
        "gray_1": T.Grayscale(1),
        "gray_3": T.Grayscale(3),
        "normalize": T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5)),
        "hflip": T.RandomHorizontalFlip(p=1.0),
        "resized_crop_1_2_5_4_to_6x3": lambda im: T.functional.resized_crop(im, 1, 2, 5, 4, [6, 3]),
        "resized_crop_noaa": lambda im: T.functional.resized_crop(im, 0, 1, 6, 7, [3, 4], antialias=False),
    }
    for name, t in tensor_cases.items():
        cases[name] = lst(t(xt))
    pil = Image.fromarray(u8)
    pil_cases = {
        "resize_4x5": T.Resize((4, 5)),
        "resize_10x13": T.Resize((10, 13)),
        "resize_short5": T.Resize(5),
        "centercrop_4": T.CenterCrop(4),
        "pad_1230_reflect": T.Pad((1, 2, 3, 0), padding_mode="reflect"),
        "gray_1": T.Grayscale(1),
        "hflip": T.RandomHorizontalFlip(p=1.0),
    }
    pil_out = {name: np.asarray(t(pil)).tolist() for name, t in pil_cases.items()}
    totensor = lst(T.ToTensor()(u8))
    json.dump({"x": x.tolist(), "u8": u8.tolist(), "tensor": cases, "pil": pil_out, "to_tensor_u8": totensor,
               "torchvision": torchvision.__version__}, open(OUT / "transforms.json", "w"))


def grid_oracle():
    rng = np.random.default_rng(1)
    b1 = np.round(rng.random((5, 1, 3, 4)) * 2 - 0.5, 4).astype(np.float32)
    b3 = np.round(rng.random((3, 3, 2, 3)), 4).astype(np.float32)
    t1, t3 = torch.from_numpy(b1), torch.from_numpy(b3)
    cases = {
        "b1_default": make_grid(t1),
        "b1_nrow2_pad1_pv05": make_grid(t1, nrow=2, padding=1, pad_value=0.5),
        "b1_nrow3_pad0": make_grid(t1, nrow=3, padding=0),
        "b1_normalize": make_grid(t1, nrow=4, normalize=True),
        "b1_normalize_range": make_grid(t1, nrow=2, normalize=True, value_range=(0.0, 0.8)),
        "b1_scale_each": make_grid(t1, nrow=2, normalize=True, scale_each=True),
        "b3_nrow2": make_grid(t3, nrow=2, padding=3, pad_value=1.0),
        "b3_list": make_grid(list(t3), nrow=1),
        "single_3d": make_grid(t1[0]),
        "single_2d": make_grid(t1[0, 0]),
        "single_4d_c3": make_grid(t3[:1]),
    }
    json.dump({"b1": b1.tolist(), "b3": b3.tolist(), "cases": {k: lst(v) for k, v in cases.items()}},
              open(OUT / "make_grid.json", "w"))


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    transforms_oracle()
    grid_oracle()
    print("wrote", sorted(p.name for p in OUT.glob("*.json")))
