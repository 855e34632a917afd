"""``python -m minitorch_cnn.visualize``: look inside a model trained by ``python -m minitorch_cnn.train``.

Examples::

    python -m minitorch_cnn.visualize --checkpoint runs/builtin-cnn-seed0/best.npz --what gradcam --out viz/
    python -m minitorch_cnn.visualize --checkpoint CKPT --what feature-maps filters occlusion --out viz/
    python -m minitorch_cnn.visualize --checkpoint CKPT --what all --layer features.3 --index 7 --out viz/

The checkpoint's configuration names the model (``cnn`` / ``mlp``) and the data set; the test image
``--index`` of that data set, normalised as in training, is the input. For each visualization the
arrays are saved as ``.npy`` and, when matplotlib is installed, a ``.png``. Defaults: the first
convolution for feature maps and filters, the last convolution for max response and Grad-CAM.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "build_parser", "load_model", "load_image"]

WHAT = ("feature-maps", "filters", "max-response", "gradcam", "occlusion", "saliency")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn.visualize", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="a .npz written by python -m minitorch_cnn.train")
    p.add_argument("--what", nargs="+", required=True, choices=WHAT + ("all",), help="what to draw")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--layer", default=None, help="layer name (e.g. features.3); default depends on --what")
    p.add_argument("--index", type=int, default=0, help="which test image to use")
    p.add_argument("--target", type=int, default=None, help="class for gradcam/occlusion/saliency (default: predicted)")
    p.add_argument("--channel", type=int, default=0, help="channel for max-response")
    p.add_argument("--steps", type=int, default=40, help="gradient-ascent steps for max-response")
    p.add_argument("--patch-sizes", type=int, nargs="+", default=(4, 8, 14), help="occlusion patch sizes")
    p.add_argument("--stride", type=int, default=None, help="occlusion stride (default: half the patch)")
    p.add_argument("--data-dir", default=None, help="directory of the IDX files (fashion-mnist / mnist)")
    return p


def load_model(path: str | Path) -> tuple[Any, dict, dict]:
    """(model in eval mode with the checkpoint's weights, its config dict, the whole checkpoint)."""
    from minitorch_cnn.checkpoint import load_checkpoint
    from minitorch_cnn.models import build_model

    ckpt = load_checkpoint(path)
    cfg = ckpt.get("config") or {}
    if "model" not in cfg or "model" not in ckpt:
        raise ValueError(f"{path}: not a training checkpoint (needs 'model' weights and a 'config' with 'model')")
    model = build_model(cfg["model"])
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, cfg, ckpt


def load_image(cfg: dict, ckpt: dict, index: int, data_dir: str | None = None) -> tuple[Any, int, str]:
    """(test image ``index`` as a normalised (1, 1, 28, 28) Tensor, its label, its class name)."""
    import minitorch_cnn as mt
    from minitorch_cnn.data import MNIST, FashionMNIST, GlyphsInClutter
    from minitorch_cnn.data import transforms as T

    dataset = cfg.get("dataset", "builtin")
    if dataset == "builtin":
        ds = GlyphsInClutter(train=False, size=max(index + 1, 10), seed=0)
    else:
        cls = FashionMNIST if dataset == "fashion-mnist" else MNIST
        ds = cls(data_dir or cfg.get("data_dir"), train=False)
    if not 0 <= index < len(ds.data):
        raise ValueError(f"--index {index} is outside the {len(ds.data)} test images")
    mean, std = ckpt.get("normalize") or (0.0, 1.0)
    batch = T.Normalize((mean,), (std,))(T.ToTensor()(ds.data[index : index + 1]))
    label = int(np.asarray(ds.targets)[index])
    return mt.tensor(batch), label, str(ds.classes[label])


def _default_layer(model: Any, what: str) -> str:
    convs = [n for n, m in model.named_modules() if type(m).__name__ == "Conv2d"]
    if not convs:
        raise ValueError(f"--what {what} needs a convolution layer; this model has none (use --layer)")
    return convs[0] if what in ("feature-maps", "filters") else convs[-1]


def _save(out: Path, name: str, array: np.ndarray, plot: Any) -> list[Path]:
    paths = [out / f"{name}.npy"]
    np.save(paths[0], array)
    try:
        plot(out / f"{name}.png")
        paths.append(out / f"{name}.png")
    except ImportError:
        pass  # no matplotlib: the arrays are the result
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from minitorch_cnn import viz
    from minitorch_cnn.viz import plotting

    try:
        model, cfg, ckpt = load_model(args.checkpoint)
        x, label, name = load_image(cfg, ckpt, args.index, args.data_dir)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    image = x.numpy()[0]
    whats = WHAT if "all" in args.what else tuple(dict.fromkeys(args.what))
    written: list[Path] = []
    try:
        for what in whats:
            layer = args.layer
            if what in ("feature-maps", "filters", "max-response", "gradcam") and layer is None:
                layer = _default_layer(model, what)
            if what == "feature-maps":
                maps = viz.feature_maps(model, layer, x)
                written += _save(out, f"feature_maps_{layer}", maps,
                                 lambda p, m=maps, la=layer: plotting.plot_feature_maps(m, p, title=la))
            elif what == "filters":
                w = viz.filters(layer, model=model)
                written += _save(out, f"filters_{layer}", w, lambda p, w=w, la=layer: plotting.plot_filters(w, p, title=la))
            elif what == "max-response":
                r = viz.max_filter_response(model, layer, args.channel, steps=args.steps, lr=1.0,
                                            input_shape=tuple(x.shape[1:]), jitter=1, blur=0.5)
                written += _save(out, f"max_response_{layer}_c{args.channel}", r.image,
                                 lambda p, r=r: plotting.plot_image(r.image, p, f"final activation {r.history[-1]:.3g}"))
            elif what == "gradcam":
                heat = viz.gradcam(model, layer, x, args.target)[0]
                written += _save(out, f"gradcam_{layer}", heat,
                                 lambda p, h=heat: plotting.plot_heatmap(image, h, p, f"Grad-CAM, true: {name}"))
            elif what == "saliency":
                sal = viz.saliency(model, x, args.target)[0]
                sal = sal / sal.max() if sal.max() > 0 else sal
                written += _save(out, "saliency", sal, lambda p, s=sal: plotting.plot_heatmap(image, s, p, "saliency"))
            elif what == "occlusion":
                res = viz.occlusion_sensitivity(model, x, args.target, patch_sizes=args.patch_sizes, stride=args.stride)
                stack = np.stack([res[p].heatmap[0] for p in sorted(res)])
                written += _save(out, "occlusion", stack, lambda p, r=res: plotting.plot_occlusion(r, 0, p))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"image {args.index} (true class {label}: {name}) from the {cfg.get('dataset')} test split")
    for p in written:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
