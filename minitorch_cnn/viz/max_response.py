"""Max filter response: the input image that a channel likes best, found by gradient ascent.

Start from faint noise and repeat: run the model, take the mean activation ``a`` of ``channel`` in
``layer``, backpropagate ``d a / d x`` to the *input* (the weights stay fixed), and step uphill::

    x <- x + lr * g / ||g||         (g = d a / d x)

Normalising the gradient makes every step exactly ``lr`` long in input space, whatever the scale
of the activation, so one learning rate fits every layer; a small enough ``lr`` makes ``a`` grow
at every step (first-order ascent). Two optional regularisers from the feature-visualization
literature make the pictures less noisy: ``jitter`` (shift the image by up to that many pixels
before each step, then shift the gradient back) and ``blur`` (a Gaussian blur of that sigma every
``blur_every`` steps). Both trade the monotonic increase for nicer images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import get_array_module, to_numpy
from ..tensors import Tensor
from ._util import eval_mode, frozen, get_layer, model_device

__all__ = ["max_filter_response", "MaxResponse", "gaussian_blur"]


@dataclass
class MaxResponse:
    """``image`` (C, H, W) NumPy array; ``history``: the mean activation before each step and after
    the last one (``steps + 1`` values)."""

    image: np.ndarray
    history: list[float] = field(default_factory=list)


def gaussian_blur(x: Any, sigma: float) -> Any:
    """Blur (N, C, H, W) array ``x`` over H and W with a Gaussian of std ``sigma`` (reflect edges)."""
    xp = get_array_module(x)
    radius = max(1, int(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = taps / taps.sum()
    for axis in (2, 3):
        padded = xp.pad(x, [(radius, radius) if a == axis else (0, 0) for a in range(4)], mode="reflect")
        n = x.shape[axis]
        out = xp.zeros_like(x)
        for k, w in enumerate(taps):  # a separable convolution: one shifted slice per tap
            sl = [slice(None)] * 4
            sl[axis] = slice(k, k + n)
            out = out + float(w) * padded[tuple(sl)]
        x = out
    return x


def max_filter_response(
    model: Any,
    layer: str | Any,
    channel: int,
    steps: int = 30,
    lr: float = 1.0,
    jitter: int = 0,
    blur: float | None = None,
    blur_every: int = 4,
    input_shape: Sequence[int] = (1, 28, 28),
    init_scale: float = 0.1,
    seed: int = 0,
) -> MaxResponse:
    """Gradient ascent on the input to maximise ``mean(layer_output[:, channel])``.

    ``input_shape`` is (C, H, W). ``lr`` is the length of each step in input space (L2 norm).
    Runs in eval mode with the parameters frozen (their ``.grad`` is untouched); restores both.
    """
    name, module = get_layer(model, layer)
    if steps < 1 or lr <= 0:
        raise ValueError(f"max_filter_response: need steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    if jitter < 0 or (blur is not None and blur <= 0):
        raise ValueError(f"max_filter_response: jitter must be >= 0 and blur > 0 or None, got {jitter}, {blur}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3:
        raise ValueError(f"max_filter_response: input_shape must be (C, H, W), got {tuple(input_shape)}")
    import minitorch_cnn as mt

    rng = np.random.default_rng(seed)
    start = mt.tensor((init_scale * rng.standard_normal((1, *shape))).astype(np.float32),
                      device=model_device(model))
    x = start.data
    xp = get_array_module(x)
    captured: list = []
    handle = module.register_forward_hook(lambda m, i, o: captured.append(o))
    history: list[float] = []

    def activation(arr: Any, need_grad: bool) -> tuple[float, Any]:
        captured.clear()
        leaf = Tensor._from_array(arr).requires_grad_(need_grad)
        with mt.set_grad_enabled(need_grad):
            model(leaf)
        out = captured[0]
        if out.ndim < 2 or not 0 <= channel < out.shape[1]:
            raise ValueError(f"max_filter_response: channel {channel} is not in {name!r}'s output {tuple(out.shape)}")
        act = out[:, channel].mean()
        if need_grad:
            act.backward()
            return float(act.item()), leaf.grad.data
        return float(act.item()), None

    try:
        with eval_mode(model), frozen(model):
            for step in range(steps):
                dy, dx = (int(v) for v in rng.integers(-jitter, jitter + 1, size=2)) if jitter else (0, 0)
                shifted = xp.roll(x, (dy, dx), axis=(2, 3)) if jitter else x
                value, g = activation(shifted, True)
                history.append(value)
                if jitter:
                    g = xp.roll(g, (-dy, -dx), axis=(2, 3))
                norm = float(xp.sqrt((g * g).sum()))
                if norm == 0.0:  # a dead unit: nothing to climb
                    history.append(value)
                    break
                x = x + (lr / norm) * g
                if blur is not None and (step + 1) % blur_every == 0:
                    x = gaussian_blur(x, blur)
            else:
                history.append(activation(x, False)[0])
    finally:
        handle.remove()
    return MaxResponse(to_numpy(x)[0].copy(), history)
