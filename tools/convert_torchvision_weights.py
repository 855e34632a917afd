"""Turn a torchvision checkpoint into a ``.safetensors`` file that minitorch_cnn loads, keys unchanged.

Run it where PyTorch and torchvision are installed (minitorch_cnn itself never needs torch and never
downloads weights)::

    python tools/convert_torchvision_weights.py resnet18 --weights IMAGENET1K_V1 --out resnet18.safetensors
    python tools/convert_torchvision_weights.py densenet121 --checkpoint densenet121-a639ec97.pth --out d.safetensors
    python tools/convert_torchvision_weights.py resnet18 --weights none --out random.safetensors  # random init

then, with minitorch_cnn::

    model = mt.models.resnet18()
    model.load_state_dict(mt.load("resnet18.safetensors"))

(torchvision's pretrained GoogLeNet comes without its auxiliary heads: build
``mt.models.googlenet(aux_logits=False, transform_input=True)`` for it, as torchvision does.)

``--weights NAME`` asks torchvision for that weight enum member (it downloads into torch's cache
the first time; ``DEFAULT`` is the best one); ``--checkpoint FILE`` reads a local ``.pth`` state
dict with ``torch.load(weights_only=True)`` (no pickle code runs). The state dict is checked
against ``torchvision.models.<model>()`` before it is written, and old DenseNet key names
(``norm.1``) are renamed as torchvision does. Errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def _fail(message: str) -> None:
    print(f"convert_torchvision_weights: {message}", file=sys.stderr)
    sys.exit(2)


def _densenet_keys(state: dict) -> dict:
    """torchvision's own renaming of pre-0.3 DenseNet checkpoints: ``...norm.1.weight`` -> ``...norm1.weight``."""
    pattern = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")
    out = {}
    for key, value in state.items():
        m = pattern.match(key)
        out[m.group(1) + m.group(2) if m else key] = value
    return out


def _state_dict(args: argparse.Namespace, models) -> dict:
    import torch

    if args.checkpoint:
        if not Path(args.checkpoint).is_file():
            _fail(f"--checkpoint {args.checkpoint!r} does not exist")
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        if not isinstance(state, dict):
            _fail(f"--checkpoint {args.checkpoint!r} does not hold a state dict")
        return _densenet_keys(state) if args.model.startswith("densenet") else state
    if args.weights.lower() == "none":
        return models.get_model(args.model, weights=None).state_dict()
    try:
        weights = models.get_model_weights(args.model)[args.weights]
    except KeyError:
        names = ", ".join(w.name for w in models.get_model_weights(args.model))
        _fail(f"--weights {args.weights!r} is not one of {args.model}'s weights: {names}, DEFAULT or none")
    return models.get_model(args.model, weights=weights).state_dict()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="torchvision checkpoint -> .safetensors for minitorch_cnn")
    p.add_argument("model", help="torchvision builder name, e.g. resnet18, vgg16_bn, googlenet")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", help="torchvision weight name (IMAGENET1K_V1, DEFAULT) or 'none' for random init")
    src.add_argument("--checkpoint", help="a local .pth state-dict file instead")
    p.add_argument("--out", required=True, help="output .safetensors file")
    args = p.parse_args(argv)
    if not args.out.endswith(".safetensors"):
        _fail(f"--out {args.out!r} must end in .safetensors")
    try:
        import safetensors.torch
        from torchvision import models
    except ImportError as exc:
        _fail(f"needs torch, torchvision and safetensors installed ({exc})")
    if args.model not in models.list_models(module=models):
        _fail(f"{args.model!r} is not a torchvision classification model")
    state = _state_dict(args, models)
    extra = {}
    if args.model in ("googlenet", "inception_v3"):  # torchvision drops googlenet's untrained aux heads
        extra = {"aux_logits": any(k.startswith(("aux1.", "AuxLogits.")) for k in state), "init_weights": False}
    reference = models.get_model(args.model, weights=None, **extra)
    try:  # same keys and shapes as torchvision's own model, or a clear message
        reference.load_state_dict(state)
    except RuntimeError as exc:
        _fail(f"the state dict does not fit torchvision's {args.model}: {str(exc).splitlines()[0]}")
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    tmp = Path(args.out + ".tmp")
    safetensors.torch.save_file(tensors, str(tmp), metadata={"source": f"torchvision {args.model}"})
    tmp.replace(args.out)
    print(f"wrote {args.out}: {len(tensors)} tensors, {sum(t.numel() for t in tensors.values()):,} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
