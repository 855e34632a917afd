"""The explorer's numbers: everything the page shows, computed by the framework, as one JSON-able dict.

Arrays travel as base64 strings (``{"b64": ..., "dtype": "u1" | "f4", "shape": [...]}``). Feature
maps, gradients and heat maps are quantized to uint8 with a scale per layer (per map for gradients):
``value = lo + q * scale``, so a reconstructed value is within ``scale / 2`` of the framework's. The
numbers a drill-down multiplies (a convolution's padded input, kernels and bias; a pooling's padded
input) are float32, so the page's sum equals the framework's activation to float32 rounding.

Layout of the dict (see ``explorer.js``, which only reads it)::

    meta        title, source, input size, class names, notes (what was left out and why)
    images      [{index, label, pixels (u1 N,C,H,W as 0..255 for display), ...}]
    layers      the summary / receptive-field table: name, type, output_shape, params, mult_adds,
                rf, jump, start, global, shown (has maps)
    maps        per shown layer: channels, left_out, lo, scale, q (u1 N,K,h,w), rf_rows/rf_cols
                (clipped, half-open, from receptive_field_for_unit) and rf_rows_raw/rf_cols_raw
                (unclipped), argmax (N,K,2), top (K x 4 patches: image, i, j, value), grads
                (cropped d unit / d input at each channel's arg-max unit), drill (conv / pool data)
    predictions probs (N, classes)
    explain     classes explained, gradcam / saliency / occlusion (u1 per class: N,H,W), scales
    graph       inline SVG of draw_graph, or a note
"""

from __future__ import annotations

import base64
import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Budget", "export", "encode", "decode", "TOP_K", "quantize"]

#: image patches shown per channel (the channel's top-k among the bundled images)
TOP_K = 4
#: a conv drill-down needs the conv's whole padded input (float32); left out above this many bytes
DRILL_BYTES = 6_000_000
#: input-gradient maps, cropped to each unit's field: left out above this many pixels in all
GRAD_PIXELS = 3_000_000
#: layers whose arg-max units get a precomputed input gradient (and every pooling layer)
GRAD_TYPES = ("Conv2d",)


@dataclass
class Budget:
    max_layers: int = 32
    max_channels: int = 16
    max_classes: int = 10
    occlusion_patch: int | None = None  # None: a quarter of the image side


def encode(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    code = {np.dtype(np.uint8): "u1", np.dtype(np.float32): "f4"}[a.dtype]
    return {"b64": base64.b64encode(a.tobytes()).decode("ascii"), "dtype": code, "shape": list(a.shape)}


def decode(d: dict) -> np.ndarray:
    dtype = {"u1": np.uint8, "f4": np.float32}[d["dtype"]]
    return np.frombuffer(base64.b64decode(d["b64"]), dtype=dtype).reshape(d["shape"])


def quantize(a: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(uint8 codes, lo, scale) with ``a ~ lo + q * scale`` to within ``scale / 2``."""
    a = np.asarray(a, dtype=np.float64)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    scale = (hi - lo) / 255 if hi > lo else 1.0
    q = np.clip(np.rint((a - lo) / scale), 0, 255).astype(np.uint8)
    return q, lo, scale


class _StopForwardError(Exception):
    """Raised by a hook to end a forward pass once the layer of interest has run."""


def _modules(model: Any) -> dict[str, Any]:
    return dict(model.named_modules())


def _layer_table(model: Any, input_size: tuple, summ: Any, rf: Any) -> list[dict]:
    rows = []
    for r in summ.rows:
        rf_row = rf[r["name"]] if r["name"] in rf else None
        rows.append({
            "name": r["name"], "type": r["type"], "output_shape": r["output_shape"], "params": r["params"],
            "mult_adds": r["mult_adds"],
            "rf": rf_row["rf"] if rf_row else None, "jump": rf_row["jump"] if rf_row else None,
            "start": rf_row["start"] if rf_row else None, "global": rf_row["global"] if rf_row else None,
            "block": rf_row.get("block") if rf_row else None, "shown": False,
        })
    return rows


def _capture(model: Any, names: list[str], x: Any) -> tuple[dict, dict, np.ndarray]:
    """One forward pass (eval, no grad): each named module's first output and input, and the logits."""
    import minitorch_cnn as mt

    from ..backend import to_numpy

    mods = _modules(model)
    outs: dict[str, np.ndarray] = {}
    ins: dict[str, np.ndarray] = {}
    handles = []
    for n in names:
        def hook(m: Any, inp: tuple, out: Any, n: str = n) -> None:
            if n not in outs:
                outs[n] = to_numpy(out._array).astype(np.float32)
                ins[n] = to_numpy(inp[0]._array).astype(np.float32)
        handles.append(mods[n].register_forward_hook(hook))
    try:
        with mt.no_grad():
            logits = to_numpy(model(x)._array).astype(np.float64)
    finally:
        for h in handles:
            h.remove()
    return outs, ins, logits


def _rf_lookup(rf: Any, name: str, shape: tuple[int, int]) -> dict:
    """Per row i and column j of ``name``'s map: the clipped field (``receptive_field_for_unit``)
    and the unclipped one (the same centre +- rf/2 before clipping)."""
    from ..viz import receptive_field_for_unit

    row = rf[name]
    h, w = shape
    out: dict[str, list] = {"rf_rows": [], "rf_cols": [], "rf_rows_raw": [], "rf_cols_raw": []}
    for axis, n, key in ((0, h, "rows"), (1, w, "cols")):
        for i in range(n):
            pos = (i, 0) if axis == 0 else (0, i)
            out[f"rf_{key}"].append(list(receptive_field_for_unit(rf, name, pos)[axis]))
            if row["global"]:
                out[f"rf_{key}_raw"].append([0, int(rf.input_size[axis])])
            else:
                centre = row["start"][axis] + i // row.get("block", [1, 1])[axis] * row["jump"][axis]
                out[f"rf_{key}_raw"].append([math.floor(centre - row["rf"][axis] / 2 + 1e-9),
                                             math.ceil(centre + row["rf"][axis] / 2 - 1e-9)])
    return out


def _window(model: Any, name: str, x1: Any) -> Any:
    """The ``Window`` the op of module ``name`` declared on its graph node (None if it declared none)."""
    import minitorch_cnn as mt

    from ..ops.geometry import declared

    got: list = []
    mod = _modules(model)[name]

    def hook(m: Any, inp: tuple, out: Any) -> None:
        if not got:
            d = declared(out.grad_fn)
            got.append(d.geometry if d is not None else None)
            raise _StopForwardError

    h = mod.register_forward_hook(hook)
    leaf = x1.detach().requires_grad_(True)
    try:
        with mt.enable_grad(), contextlib.suppress(_StopForwardError):
            model(leaf)
    finally:
        h.remove()
    return got[0] if got else None


def _drill(model: Any, name: str, kind: str, inp: np.ndarray, channels: list[int], x1: Any,
           notes: list[str]) -> dict | None:
    """What the conv / pool drill-down multiplies or compares: the padded input, kernels, bias, geometry."""
    from .. import nn

    mod = _modules(model)[name]
    win = _window(model, name, x1)
    if win is None or len(win.kernel) != 2 or win.transposed:
        return None
    pads = [list(p) for p in win.pads]
    if kind == "conv":
        padded = inp
        mode = getattr(mod, "padding_mode", "zeros")
        frame = pads
        if mode != "zeros":  # the pad op ran before the conv: redo it with the framework's F.pad
            import minitorch_cnn as mt

            from ..backend import to_numpy

            p = mod._reversed_padding_repeated_twice
            padded = to_numpy(nn.functional.pad(mt.tensor(inp), tuple(p), mode=mode)._array)
            frame = [[p[2], p[3]], [p[0], p[1]]]
        else:
            padded = np.pad(inp, ((0, 0), (0, 0), tuple(pads[0]), tuple(pads[1])))
        if padded.nbytes > DRILL_BYTES:
            notes.append(f"{name}: the convolution drill-down is left out (its padded input is "
                         f"{padded.nbytes / 1e6:.1f} MB > {DRILL_BYTES / 1e6:.0f} MB)")
            return None
        from ..backend import to_numpy

        w = to_numpy(mod.weight._array).astype(np.float32)[channels]
        b = (to_numpy(mod.bias._array).astype(np.float32)[channels] if getattr(mod, "bias", None) is not None
             else np.zeros(len(channels), np.float32))
        return {"kind": "conv", "input": encode(padded.astype(np.float32)), "weight": encode(w),
                "bias": [float(v) for v in b], "kernel": list(win.kernel), "stride": list(win.stride),
                "pads": frame, "dilation": list(win.dilation), "groups": int(getattr(mod, "groups", 1)),
                "in_channels": int(inp.shape[1]), "out_channels": int(getattr(mod, "out_channels", 0)),
                "padding_mode": mode}
    is_max = "Max" in type(mod).__name__
    fill = -np.inf if is_max else 0.0
    sub = inp[:, channels]
    padded = np.pad(sub, ((0, 0), (0, 0), tuple(pads[0]), tuple(pads[1])), constant_values=fill)
    if padded.nbytes > DRILL_BYTES:
        notes.append(f"{name}: the pooling drill-down is left out ({padded.nbytes / 1e6:.1f} MB of input)")
        return None
    return {"kind": "max" if is_max else "avg", "input": encode(padded.astype(np.float32)),
            "kernel": list(win.kernel), "stride": list(win.stride), "pads": pads, "dilation": list(win.dilation),
            "in_size": list(inp.shape[2:]),
            "count_include_pad": bool(getattr(mod, "count_include_pad", True)),
            "divisor_override": getattr(mod, "divisor_override", None)}


def _unit_grads(model: Any, name: str, x: np.ndarray, channels: list[int], argmax: np.ndarray,
                boxes: np.ndarray) -> tuple[list, list]:
    """d unit / d input (summed over the input's channels) for each (shown channel, image) at the
    channel's arg-max unit in that image, cropped to the unit's clipped field: one forward/backward
    pass on the images repeated once per channel, stopped after the layer."""
    import minitorch_cnn as mt

    from ..backend import to_numpy
    from ..viz._util import eval_mode, frozen

    N, K = x.shape[0], len(channels)
    mod = _modules(model)[name]
    got: list = []

    def hook(m: Any, inp: tuple, out: Any) -> None:
        got.append(out)
        raise _StopForwardError

    rep = mt.tensor(np.tile(x, (K, 1, 1, 1))).requires_grad_(True)
    h = mod.register_forward_hook(hook)
    try:
        with eval_mode(model), frozen(model), mt.enable_grad():
            with contextlib.suppress(_StopForwardError):
                model(rep)
            out = got[0]
            mask = np.zeros(out.shape, np.float32)
            for k, c in enumerate(channels):
                for n in range(N):
                    i, j = argmax[n, k]
                    mask[k * N + n, c, i, j] = 1
            (out * mt.tensor(mask)).sum().backward()
    finally:
        h.remove()
    g = to_numpy(rep.grad._array).astype(np.float64).sum(axis=1)  # (K*N, H, W)
    codes, scales = [], []
    for k in range(K):
        for n in range(N):
            r0, r1, c0, c1 = boxes[n, k]
            crop = g[k * N + n, r0:r1, c0:c1]
            s = float(np.abs(crop).max()) / 127 if crop.size and np.abs(crop).max() > 0 else 1.0
            codes.append(np.clip(np.rint(crop / s) + 128, 0, 255).astype(np.uint8).ravel())
            scales.append(s)
    return codes, scales


def export(model: Any, x: np.ndarray, labels: list[int], image_ids: list[int], class_names: list[str],
           budget: Budget, meta: dict) -> dict:
    """Every number of the page for ``model`` (eval mode) on images ``x`` (N, C, H, W), normalised."""
    import minitorch_cnn as mt

    from .. import viz

    model.eval()
    input_size = tuple(int(v) for v in x.shape[1:])
    notes: list[str] = list(meta.get("notes", []))
    summ = viz.summary(model, input_size, mult_adds=True)
    rf = viz.receptive_field(model, input_size)
    layers = _layer_table(model, input_size, summ, rf)
    mods = _modules(model)
    spatial = [r for r in layers if r["name"] in mods and r["rf"] is not None and not r["global"]
               and len(r["output_shape"]) == 4]
    seen: set[str] = set()
    spatial = [r for r in spatial if not (r["name"] in seen or seen.add(r["name"]))]
    shown, left = spatial[: budget.max_layers], spatial[budget.max_layers:]
    if left:
        notes.append(f"--max-layers {budget.max_layers}: feature maps of {len(left)} of the {len(spatial)} spatial "
                     f"layers are left out ({', '.join(r['name'] for r in left[:6])}{' ...' if len(left) > 6 else ''})")
    names = [r["name"] for r in shown]
    xt = mt.tensor(x)
    outs, ins, logits = _capture(model, names, xt)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    maps = []
    grad_pixels = 0
    for r in shown:
        name = r["name"]
        r["shown"] = True
        a = outs[name]  # (N, C, h, w)
        N, C, h, w = a.shape
        flat = a.reshape(N, C, -1)
        score = flat.max(axis=2).mean(axis=0)
        channels = [int(c) for c in np.argsort(-score, kind="stable")[: budget.max_channels]]
        q, lo, scale = quantize(a[:, channels])
        look = _rf_lookup(rf, name, (h, w))
        am = flat[:, channels].argmax(axis=2)  # (N, K)
        argmax = np.stack([am // w, am % w], axis=-1)  # (N, K, 2)
        top = []
        for k, c in enumerate(channels):
            per_image = flat[:, c].max(axis=1)
            order = np.argsort(-per_image, kind="stable")[:TOP_K]
            top.append([{"image": int(n), "i": int(argmax[n, k, 0]), "j": int(argmax[n, k, 1]),
                         "value": float(per_image[n])} for n in order])
        boxes = np.array([[look["rf_rows"][argmax[n, k, 0]] + look["rf_cols"][argmax[n, k, 1]]
                           for k in range(len(channels))] for n in range(N)])  # (N, K, 4)
        area = int(((boxes[..., 1] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 2])).sum())
        entry = {"name": name, "type": r["type"], "shape": [C, h, w], "channels": channels,
                 "left_out": C - len(channels), "lo": lo, "scale": scale, "q": encode(q), **look,
                 "argmax": argmax.tolist(), "top": top, "grads": None, "drill": None}
        has_geometry = r["type"] in GRAD_TYPES or "Pool" in r["type"]
        if not has_geometry:
            pass  # pointwise layers (ReLU, BatchNorm, Dropout): the page points to the layer before
        elif grad_pixels + area <= GRAD_PIXELS:
            codes, scales = _unit_grads(model, name, x, channels, argmax, boxes)
            entry["grads"] = {"boxes": boxes.tolist(), "scales": scales,
                              "q": encode(np.concatenate(codes) if codes else np.zeros(0, np.uint8))}
            grad_pixels += area
        else:
            notes.append(f"{name}: input gradients left out (budget of {GRAD_PIXELS:,} gradient pixels spent)")
        kind = "conv" if r["type"] == "Conv2d" else "pool" if "Pool" in r["type"] and "Adaptive" not in r["type"] \
            else None
        if kind is not None:
            entry["drill"] = _drill(model, name, kind, ins[name], channels, xt[:1], notes)
        maps.append(entry)
    explain = _explain(model, x, probs, class_names, budget, maps, notes)
    return {"meta": {**meta, "input_size": list(input_size), "classes": class_names, "notes": notes,
                     "top_k": TOP_K, "totals": {k: summ.totals[k] for k in ("total_params", "mult_adds")}},
            "images": [{"index": int(i), "label": int(lab)} for i, lab in zip(image_ids, labels)],
            "pixels": encode(_display_pixels(x)), "layers": layers, "maps": maps,
            "probs": probs.astype(np.float64).round(6).tolist(), "explain": explain}


def _display_pixels(x: np.ndarray) -> np.ndarray:
    """The images as 0..255 per image (min-max of the normalised input), for drawing only."""
    lo = x.min(axis=(1, 2, 3), keepdims=True)
    hi = x.max(axis=(1, 2, 3), keepdims=True)
    return np.clip(np.rint((x - lo) / np.where(hi > lo, hi - lo, 1) * 255), 0, 255).astype(np.uint8)


def _explain(model: Any, x: np.ndarray, probs: np.ndarray, class_names: list[str], budget: Budget,
             maps: list[dict], notes: list[str]) -> dict:
    """Grad-CAM (last conv layer), saliency and occlusion for the explained classes, uint8 per class."""
    from .. import viz

    n_classes = probs.shape[1]
    if n_classes <= budget.max_classes:
        classes = list(range(n_classes))
    else:
        classes = [int(c) for c in np.argsort(-probs.mean(axis=0), kind="stable")[: budget.max_classes]]
        notes.append(f"--max-classes {budget.max_classes}: Grad-CAM, saliency and occlusion for the "
                     f"{len(classes)} classes of highest mean probability of {n_classes}")
    convs = [n for n, m in model.named_modules() if type(m).__name__ == "Conv2d"]
    layer = convs[-1] if convs else None
    H, W = x.shape[2:]
    patch = budget.occlusion_patch or max(1, min(H, W) // 4)
    stride = max(1, patch // 2) if H * W <= 64 * 64 else patch  # big images: non-overlapping patches
    out: dict[str, Any] = {"classes": classes, "gradcam_layer": layer, "occlusion_patch": patch,
                           "occlusion_stride": stride, "gradcam": [], "saliency": [], "occlusion": [],
                           "saliency_max": [], "occlusion_scale": []}
    import warnings

    occ_all = occlusion_all_classes(model, x, patch, stride)
    for k in classes:
        if layer is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                cam = viz.gradcam(model, layer, x, k)
            out["gradcam"].append(encode(np.clip(np.rint(cam * 255), 0, 255).astype(np.uint8)))
        sal = viz.saliency(model, x, k)
        peak = sal.max(axis=(1, 2))
        out["saliency_max"].append([float(v) for v in peak])
        out["saliency"].append(encode(np.clip(np.rint(sal / np.where(peak > 0, peak, 1)[:, None, None] * 255),
                                              0, 255).astype(np.uint8)))
        occ = occ_all[:, k]
        s = np.abs(occ).max(axis=(1, 2))
        s = np.where(s > 0, s, 1) / 127
        out["occlusion_scale"].append([float(v) for v in s])
        out["occlusion"].append(encode(np.clip(np.rint(occ / s[:, None, None]) + 128, 0, 255).astype(np.uint8)))
    return out


def occlusion_all_classes(model: Any, x: np.ndarray, patch: int, stride: int) -> np.ndarray:
    """``viz.occlusion_sensitivity(model, x, k, (patch,), stride)[patch].heatmap`` for every class k at
    once, (N, classes, H, W): the same patch positions (``viz.occlusion.patch_positions``), zero fill
    and averaged probability drop, but one forward pass per occluded image serves all classes."""
    import minitorch_cnn as mt

    from ..backend import to_numpy
    from ..viz._util import eval_mode
    from ..viz.occlusion import patch_positions

    N, C, H, W = x.shape
    rows, cols = patch_positions(H, patch, stride), patch_positions(W, patch, stride)
    corners = [(r, c) for r in rows for c in cols]
    with eval_mode(model), mt.no_grad():
        base = to_numpy(model(mt.tensor(x)).softmax(dim=1)._array).astype(np.float64)
        total = np.zeros((N, base.shape[1], H, W))
        count = np.zeros((H, W))
        for n in range(N):
            imgs = np.repeat(x[n : n + 1], len(corners), axis=0)
            for k, (r, c) in enumerate(corners):
                imgs[k, :, r : r + patch, c : c + patch] = 0.0
            for b0 in range(0, len(corners), 64):
                probs = to_numpy(model(mt.tensor(imgs[b0 : b0 + 64])).softmax(dim=1)._array).astype(np.float64)
                for k in range(len(probs)):
                    r, c = corners[b0 + k]
                    total[n, :, r : r + patch, c : c + patch] += (base[n] - probs[k])[:, None, None]
        for r, c in corners:
            count[r : r + patch, c : c + patch] += 1
    return total / count
