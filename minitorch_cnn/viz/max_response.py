"""Max filter response: the input image that a channel likes best, found by gradient ascent.

Start from faint noise and repeat: run the model, take the mean activation ``a`` of ``channel`` in
``layer``, backpropagate ``d a / d x`` to the *input* (the weights stay fixed), and step uphill::

    x <- x + lr * g / ||g||         (g = d a / d x)

Normalising the gradient makes every step exactly ``lr`` long in input space, whatever the scale
of the activation, so one learning rate fits every layer; a small enough ``lr`` makes ``a`` grow
at every step (first-order ascent).

Plain ascent finds high-frequency, stripy patterns: the unit responds to them, but they look like
noise. Three regularisers from the feature-visualization literature (Yosinski et al. 2015,
"Understanding Neural Networks Through Deep Visualization") keep the image natural-looking:

* ``jitter``: shift the image by up to that many pixels before each step (and the gradient back),
  so a pattern must work at several positions, not exploit one pixel grid;
* ``decay``: L2 decay ``x <- (1 - decay) * x`` after each step, so pixels the unit does not need
  fade back to 0 instead of drifting;
* ``blur``: a Gaussian blur of that sigma every ``blur_every`` steps, which removes the stripes.

They trade the monotonic increase of ``a`` for pictures a person can read;
:data:`REGULARISED` holds settings that work for the 28x28 models here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import get_array_module, to_numpy
from ..tensors import Tensor
from ._util import eval_mode, frozen, get_layer, model_device

__all__ = ["max_filter_response", "MaxResponse", "gaussian_blur", "REGULARISED"]

# jitter + L2 decay + blur every 4 steps, as Yosinski et al.: pass as max_filter_response(..., **REGULARISED)
REGULARISED = {"steps": 100, "lr": 1.0, "jitter": 1, "decay": 0.01, "blur": 0.5, "blur_every": 4}


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


class _ChannelProbe:
    """Runs the model on an input array; returns ``channel``'s mean activation in the hooked layer
    and, when asked, its gradient with respect to that input."""

    def __init__(self, model: Any, layer: str | Any, channel: int) -> None:
        self.model, self.channel = model, channel
        self.name, module = get_layer(model, layer)
        self._captured: list = []
        self._handle = module.register_forward_hook(lambda m, i, o: self._captured.append(o))

    def __call__(self, arr: Any, need_grad: bool) -> tuple[float, Any]:
        import minitorch_cnn as mt

        self._captured.clear()
        leaf = Tensor._from_array(arr).requires_grad_(need_grad)
        with mt.set_grad_enabled(need_grad):
            self.model(leaf)
        out = self._captured[0]
        if out.ndim < 2 or not 0 <= self.channel < out.shape[1]:
            raise ValueError(f"max_filter_response: channel {self.channel} is not in {self.name!r}'s output "
                             f"{tuple(out.shape)}")
        act = out[:, self.channel].mean()
        if not need_grad:
            return float(act.item()), None
        act.backward()
        return float(act.item()), leaf.grad._array

    def remove(self) -> None:
        self._handle.remove()


def _check_arguments(steps: int, lr: float, jitter: int, decay: float, blur: float | None,
                     input_shape: Sequence[int]) -> tuple[int, ...]:
    if steps < 1 or lr <= 0:
        raise ValueError(f"max_filter_response: need steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    if jitter < 0 or (blur is not None and blur <= 0) or not 0 <= decay < 1:
        raise ValueError(f"max_filter_response: need jitter >= 0, 0 <= decay < 1 and blur > 0 or None, "
                         f"got jitter={jitter}, decay={decay}, blur={blur}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3:
        raise ValueError(f"max_filter_response: input_shape must be (C, H, W), got {tuple(input_shape)}")
    return shape


def max_filter_response(
    model: Any,
    layer: str | Any,
    channel: int,
    steps: int = 30,
    lr: float = 1.0,
    jitter: int = 0,
    decay: float = 0.0,
    blur: float | None = None,
    blur_every: int = 4,
    input_shape: Sequence[int] = (1, 28, 28),
    init_scale: float = 0.1,
    seed: int = 0,
) -> MaxResponse:
    """Gradient ascent on the input to maximise ``mean(layer_output[:, channel])``.

    ``input_shape`` is (C, H, W). ``lr`` is the length of each step in input space (L2 norm);
    ``jitter``, ``decay`` and ``blur`` are the regularisers of the module docstring (off by default:
    plain ascent; ``**REGULARISED`` turns them on).
    Runs in eval mode with the parameters frozen (their ``.grad`` is untouched); restores both.
    """
    shape = _check_arguments(steps, lr, jitter, decay, blur, input_shape)
    probe = _ChannelProbe(model, layer, channel)
    rng = np.random.default_rng(seed)
    x = Tensor._from_array(init_scale * rng.standard_normal((1, *shape)).astype(np.float32)).to(model_device(model))._array
    xp = get_array_module(x)
    history: list[float] = []
    try:
        with eval_mode(model), frozen(model):
            for step in range(steps):
                dy, dx = (int(v) for v in rng.integers(-jitter, jitter + 1, size=2)) if jitter else (0, 0)
                value, g = probe(xp.roll(x, (dy, dx), axis=(2, 3)), True)  # the jittered image's gradient...
                g = xp.roll(g, (-dy, -dx), axis=(2, 3))  # ...shifted back onto x
                history.append(value)
                norm = float(xp.sqrt((g * g).sum()))
                if norm == 0.0:  # a dead unit: nothing to climb
                    history.append(value)
                    break
                x = (1 - decay) * (x + (lr / norm) * g)  # a step of length lr uphill, then the L2 decay
                if blur is not None and (step + 1) % blur_every == 0:
                    x = gaussian_blur(x, blur)
            else:
                history.append(probe(x, False)[0])
    finally:
        probe.remove()
    return MaxResponse(to_numpy(x)[0].copy(), history)
