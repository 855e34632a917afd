"""``python -m minitorch_cnn.visualize``: look inside a model trained by ``python -m minitorch_cnn.train``.

Examples::

    python -m minitorch_cnn.visualize --checkpoint runs/builtin-cnn-seed0/best.npz --what gradcam --out viz/
    python -m minitorch_cnn.visualize --checkpoint CKPT --what feature-maps filters occlusion --out viz/
    python -m minitorch_cnn.visualize --checkpoint CKPT --what all --layer features.3 --index 7 --out viz/

The checkpoint's configuration names the model (``cnn`` / ``mlp``) and the data set; the test image
``--index`` of that data set, normalised as in training, is the input. For each visualization the
arrays are saved as ``.npy`` and each picture as a ``.png`` (titled with the layer, channel or the
explained class and its probability; without matplotlib a one-line notice says it was skipped).
Defaults: the first convolution for feature maps and filters, the last convolution for max
response (regularised gradient ascent, ``viz.REGULARISED``) and Grad-CAM.

Several commands may write into one ``--out`` (``--what gradcam``, then ``--what filters``), but a
file an earlier command wrote there is never replaced silently: the command refuses, naming it,
unless ``--overwrite`` is given. While it writes, ``--out`` holds a lock (``.lock``), so a second
command on the same folder at the same time is refused (``cli.claim_out_dir``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .cli import (
    ArgumentParser,
    UsageError,
    check_input_file,
    check_name_in_dir,
    check_out_dir,
    check_range,
    claim_out_dir,
    refuse_earlier_results,
    run_main,
    user_errors,
)

__all__ = ["main", "build_parser", "load_model", "load_image", "TEST_SPLIT_SIZE"]

PROG = "minitorch_cnn.visualize"
WHAT = ("feature-maps", "filters", "max-response", "gradcam", "occlusion", "saliency")
#: images in the test split of every data set the trainer knows (built-in, Fashion-MNIST, MNIST)
TEST_SPLIT_SIZE = 10_000


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m minitorch_cnn.visualize", description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="a .npz written by python -m minitorch_cnn.train")
    p.add_argument("--what", nargs="+", required=True, choices=WHAT + ("all",), help="what to draw")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--max-load-bytes", type=int, metavar="N", help="let --checkpoint decode to up to N bytes "
                   "(default: max(256 MiB, 100 x the file's size))")
    p.add_argument("--overwrite", action="store_true", help="replace files an earlier command wrote to --out "
                   "(without it, the command refuses to)")
    p.add_argument("--layer", default=None, help="layer name (e.g. features.3); default depends on --what")
    p.add_argument("--index", type=int, default=0, help=f"which test image to use, 0 to {TEST_SPLIT_SIZE - 1}")
    p.add_argument("--target", type=int, default=None, help="class for gradcam/occlusion/saliency (default: predicted)")
    p.add_argument("--channel", type=int, default=0, help="channel for max-response")
    p.add_argument("--steps", type=int, default=100, help="gradient-ascent steps for max-response (1 to 10000)")
    p.add_argument("--patch-sizes", type=int, nargs="+", default=(4, 8, 14), help="occlusion patch sizes (1 to 28)")
    p.add_argument("--stride", type=int, default=None, help="occlusion stride (default: half the patch)")
    p.add_argument("--data-dir", default=None, help="directory of the IDX files (fashion-mnist / mnist)")
    return p


def _check(args: argparse.Namespace) -> None:
    """Every flag and path, before the checkpoint or any data is read."""
    check_input_file("--checkpoint", args.checkpoint)
    check_range("--index", args.index, 0, TEST_SPLIT_SIZE - 1, f"the test split holds {TEST_SPLIT_SIZE:,} images")
    check_range("--target", args.target, 0, 9, "a class index of the 10 classes")
    check_range("--channel", args.channel, 0, None)
    check_range("--steps", args.steps, 1, 10_000)
    for size in args.patch_sizes:
        check_range("--patch-sizes", size, 1, 28, "a patch must fit in the 28x28 image")
    check_range("--stride", args.stride, 1, 28)
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        raise UsageError(f"--data-dir {args.data_dir!r} is not a directory")
    check_out_dir("--out", args.out)


def load_model(path: str | Path) -> tuple[Any, dict, dict]:
    """(model in eval mode with the checkpoint's weights, its config dict, the whole checkpoint)."""
    from minitorch_cnn.checkpoint import load_checkpoint, state_dict_mismatch
    from minitorch_cnn.models import build_model

    ckpt = load_checkpoint(path)
    cfg = ckpt.get("config") or {}
    if "model" not in cfg or "model" not in ckpt:
        raise ValueError(f"{path}: not a training checkpoint (needs 'model' weights and a 'config' with 'model')")
    model = build_model(cfg["model"])
    mismatch = state_dict_mismatch(model.state_dict(), ckpt["model"])
    if mismatch:
        raise ValueError(f"{path}: its weights do not fit the model {cfg['model']!r}: {mismatch}")
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, cfg, ckpt


def load_image(cfg: dict, ckpt: dict, index: int, data_dir: str | None = None) -> tuple[Any, int, list[str]]:
    """(test image ``index`` as a normalised (1, 1, 28, 28) Tensor, its label, the data set's class names)."""
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
    return mt.tensor(batch), label, [str(c) for c in ds.classes]


def _stem(what: str, layer: str | None, channel: int) -> str:
    """The file name (without .npy / .png) of one visualization."""
    if what == "max-response":
        return f"max_response_{layer}_c{channel}"
    if what in ("saliency", "occlusion"):
        return what
    return f"{what.replace('-', '_')}_{layer}"


def _layer_for(model: Any, what: str, layer: str | None) -> str | None:
    """``--layer``, or the default layer of ``what`` (None for the visualizations that need no layer)."""
    if what in ("feature-maps", "filters", "max-response", "gradcam") and layer is None:
        return _default_layer(model, what)
    return layer


def _planned_files(model: Any, args: argparse.Namespace, whats: Sequence[str]) -> list[str]:
    """The names of every file this command will write in ``--out``; each must stay inside it."""
    names = []
    for what in whats:
        stem = _stem(what, _layer_for(model, what, args.layer), args.channel)
        names += [check_name_in_dir("--layer", args.out, f"{stem}{ext}").name for ext in (".npy", ".png")]
    return names


def _default_layer(model: Any, what: str) -> str:
    convs = [n for n, m in model.named_modules() if type(m).__name__ == "Conv2d"]
    if not convs:
        raise UsageError(f"--what {what} needs a convolution layer; this model has none (use --layer)")
    return convs[0] if what in ("feature-maps", "filters") else convs[-1]


def _save(out: Path, name: str, array: np.ndarray, plot: Any) -> list[Path]:
    from minitorch_cnn.data.fileio import atomic_open

    paths = [out / f"{name}.npy"]
    with atomic_open(paths[0], "wb") as f:
        np.save(f, array, allow_pickle=False)
    from minitorch_cnn.viz import plotting

    if plotting.have_matplotlib():
        plot(out / f"{name}.png")
        paths.append(out / f"{name}.png")
    else:
        print(plotting.skip_notice(f"{name}.png"))
    return paths


def _check_layer(model: Any, layer: str | None, channel: int, whats: Sequence[str]) -> None:
    modules = dict(model.named_modules())
    if layer is not None and layer not in modules:
        names = ", ".join(n for n in modules if n)
        raise UsageError(f"--layer {layer!r} is not in the model; its layers: {names}")
    if "max-response" in whats:
        target = modules[layer] if layer is not None else modules[_default_layer(model, "max-response")]
        channels = getattr(target, "out_channels", None)
        if channels is not None and channel >= channels:
            raise UsageError(f"--channel {channel} is outside [0, {channels - 1}]: the layer has {channels} channels")


@dataclasses.dataclass
class Subject:
    """What the pictures explain: the model, the input and the class (``--target`` or predicted)."""

    model: Any
    x: Any
    true_name: str
    k: int
    k_name: str
    k_prob: float
    predicted: bool

    @classmethod
    def of(cls, model: Any, x: Any, label: int, classes: Sequence[str], target: int | None) -> Subject:
        import minitorch_cnn as mt

        with mt.no_grad():
            probs = model(x).softmax(dim=1).numpy()[0]
        k = int(probs.argmax()) if target is None else int(target)
        return cls(model, x, classes[label], k, classes[k], float(probs[k]), target is None)

    def title(self, method: str) -> str:
        from minitorch_cnn.viz import plotting

        return plotting.prediction_title(method, self.k_name, self.k_prob, self.true_name, self.predicted)


def _draw(what: str, args: argparse.Namespace, sub: Subject, out: Path) -> list[Path]:
    """Compute one visualization, save its array (``.npy``) and its figure (``.png``)."""
    from minitorch_cnn import viz
    from minitorch_cnn.viz import plotting

    model, x, image = sub.model, sub.x, sub.x.numpy()[0]
    layer = _layer_for(model, what, args.layer)
    name = _stem(what, layer, args.channel)
    if what == "feature-maps":
        maps = viz.feature_maps(model, layer, x)
        title = f"Feature maps of layer {layer} for a '{sub.true_name}' test image"
        return _save(out, name, maps, lambda p: plotting.plot_feature_maps(maps, p, title=title, image=image))
    if what == "filters":
        w = viz.filters(layer, model=model, normalize=False)  # raw weights: the sign matters
        return _save(out, name, w, lambda p: plotting.plot_filters(w, p, title=f"Filters of layer {layer}"))
    if what == "max-response":
        settings = {**viz.REGULARISED, "steps": args.steps}
        r = viz.max_filter_response(model, layer, args.channel, input_shape=tuple(x.shape[1:]), **settings)
        return _save(out, name, r.image, lambda p: plotting.plot_max_response(r, layer, args.channel, p, settings))
    if what == "gradcam":
        heat = viz.gradcam(model, layer, x, sub.k)[0]
        return _save(out, name, heat,
                     lambda p: plotting.plot_heatmap(image, heat, p, sub.title(f"Grad-CAM ({layer})")))
    if what == "saliency":
        sal = viz.saliency(model, x, sub.k)[0]
        sal = sal / sal.max() if sal.max() > 0 else sal
        return _save(out, name, sal, lambda p: plotting.plot_heatmap(
            image, sal, p, sub.title("Saliency |d logit / d pixel|"), label="|gradient| / max"))
    res = viz.occlusion_sensitivity(model, x, sub.k, patch_sizes=args.patch_sizes, stride=args.stride)
    stack = np.stack([res[p].heatmap[0] for p in sorted(res)])
    return _save(out, name, stack,
                 lambda p: plotting.plot_occlusion(res, 0, p, image=image, class_name=sub.k_name))


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    check_range("--max-load-bytes", args.max_load_bytes, 0)
    from minitorch_cnn import safe_load

    with safe_load.allowing(args.max_load_bytes), claim_out_dir("--out", args.out, markers=(), prog=PROG) as out:
        return _visualize(args, out)


def _visualize(args: argparse.Namespace, out: Path) -> int:
    """Load, check the files to be written against earlier ones, draw and save (``--out`` is claimed)."""
    whats = WHAT if "all" in args.what else tuple(dict.fromkeys(args.what))
    with user_errors(f"--checkpoint {args.checkpoint!r}"):
        model, cfg, ckpt = load_model(args.checkpoint)
    _check_layer(model, args.layer, args.channel, whats)
    planned = _planned_files(model, args, whats)
    refuse_earlier_results("--out", out, planned, overwrite=args.overwrite)
    with user_errors(f"--index {args.index}"):
        x, label, classes = load_image(cfg, ckpt, args.index, args.data_dir)
    sub = Subject.of(model, x, label, classes, args.target)
    written: list[Path] = []
    for what in whats:
        with user_errors(f"--what {what}"):
            written += _draw(what, args, sub, out)
    explained = "predicted" if sub.predicted else "target"
    print(f"image {args.index} (true class {label}: {sub.true_name}) from the {cfg.get('dataset')} test split; "
          f"{explained} class {sub.k}: {sub.k_name} (p = {sub.k_prob:.2f})")
    for p in written:
        print(f"wrote {p}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m minitorch_cnn.visualize``: 0 written, 2 bad usage (one line on stderr)."""
    return run_main(PROG, lambda: _main(argv))


if __name__ == "__main__":
    sys.exit(main())
