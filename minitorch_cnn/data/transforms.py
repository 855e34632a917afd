"""Image transforms that work on a whole batch at once.

torchvision's transforms take one image; calling a Python function 128 times per batch is a
visible cost in a NumPy framework, so every transform here takes a **batch**: an array whose first
axis indexes images. A data set applies its transform to ``images[indices]`` in one call (see
:class:`~minitorch_cnn.data.dataset.ImageArrayDataset.get_batch`), and to ``image[None]`` when a
single item is asked for.

==========================  ==================================================================
transform                   batch in -> batch out
==========================  ==================================================================
``ToTensor()``              uint8 (N, H, W) or (N, H, W, C) -> float32 (N, C, H, W) in [0, 1]
``Normalize(mean, std)``    float (N, C, H, W) -> (x - mean[c]) / std[c], same shape
``RandomCrop(s, padding)``  (N, C, H, W) -> pad by ``padding``, then an s x s window at a random
                            offset drawn **per image** -> (N, C, s, s)
``RandomHorizontalFlip(p)`` (N, C, H, W) -> each image mirrored left-right with probability p
``Compose([t1, t2])``       t2(t1(x))
``Lambda(fn)``              fn(x)
==========================  ==================================================================

The random transforms draw from ``generator`` when given (a ``numpy.random.Generator``), else from
the framework's global CPU generator (``backend.random_state("cpu")``, seeded by
``mt.manual_seed``), exactly as torchvision uses the global torch generator. Checkpoints save that
generator's state, so an interrupted and resumed run augments its images identically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from ..backend import get_array_module

__all__ = ["ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Compose", "Lambda", "image_transforms"]


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    # looked up at call time: mt.manual_seed replaces the global generator object
    return generator if generator is not None else backend.random_state("cpu")


def _check_nchw(x: Any, who: str) -> None:
    if getattr(x, "ndim", None) != 4:
        raise ValueError(
            f"{who}: expected a batch of images of shape (N, C, H, W), got shape "
            f"{tuple(getattr(x, 'shape', ()))}. Apply ToTensor() first, or add the batch axis with x[None]."
        )


class Compose:
    """Chain transforms: ``Compose([ToTensor(), Normalize((0.5,), (0.5,))])``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    """Wrap any batch function ``fn(x) -> x`` as a transform."""

    def __init__(self, fn: Callable) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: fn must be callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x: Any) -> Any:
        return self.fn(x)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"


class ToTensor:
    """Scale uint8 pixels to float32 in [0, 1] and put channels first.

    (N, H, W) uint8 gray images become (N, 1, H, W); (N, H, W, C) uint8 (the layout of image files)
    becomes (N, C, H, W). Floating input is taken to be (N, C, H, W) already and only cast to float32,
    as torchvision leaves non-uint8 data unscaled. The name is torchvision's; the result is a float32
    array that the DataLoader turns into a Tensor.
    """

    def __call__(self, x: Any) -> Any:
        xp = get_array_module(x)
        if x.dtype == np.uint8:
            if x.ndim == 3:
                return (x[:, None, :, :].astype(xp.float32)) * xp.float32(1.0 / 255.0)
            if x.ndim == 4:
                return xp.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(xp.float32) * xp.float32(1 / 255)
        elif x.dtype.kind == "f":
            if x.ndim == 3:  # a batch of gray float images
                return x[:, None, :, :].astype(xp.float32)
            if x.ndim == 4:
                return x.astype(xp.float32, copy=False)
        raise ValueError(
            f"ToTensor: expected a uint8 batch of shape (N, H, W) or (N, H, W, C), or a float batch "
            f"(N, C, H, W); got dtype {x.dtype} and shape {tuple(x.shape)}"
        )

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel c, on a float (N, C, H, W) batch.

    Fashion-MNIST's training-set statistics are mean 0.2860, std 0.3530 (after ToTensor).
    """

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float32))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float32))
        if self.mean.ndim != 1 or self.std.ndim != 1 or len(self.mean) != len(self.std):
            raise ValueError(
                f"Normalize: mean and std must be numbers or equal-length sequences, one per channel; "
                f"got mean {mean!r} and std {std!r}"
            )
        if np.any(self.std <= 0):
            raise ValueError(f"Normalize: every std must be positive (it divides), got {std!r}")

    def __call__(self, x: Any) -> Any:
        _check_nchw(x, "Normalize")
        c = x.shape[1]
        if len(self.mean) not in (1, c):
            raise ValueError(
                f"Normalize: {len(self.mean)} means/stds for a batch with {c} channels (shape "
                f"{tuple(x.shape)}); give one value per channel or a single value for all"
            )
        xp = get_array_module(x)
        mean = xp.asarray(self.mean).reshape(1, -1, 1, 1)
        inv_std = xp.asarray(1.0 / self.std, dtype=xp.float32).reshape(1, -1, 1, 1)
        return ((x - mean) * inv_std).astype(x.dtype, copy=False)

    def __repr__(self) -> str:
        return f"Normalize(mean={[round(float(v), 4) for v in self.mean]}, std={[round(float(v), 4) for v in self.std]})"


class RandomCrop:
    """Pad the batch, then cut a ``size`` window at an independent random offset for every image.

    With ``RandomCrop(28, padding=2)`` each 28x28 image is shifted by -2..2 pixels in each direction,
    the new border filled with ``fill``: the classic translation augmentation for MNIST-like data.

    Vectorised: the windows are gathered with one fancy-indexing expression,
    ``padded[n, :, top[n] + i, left[n] + j]``, instead of a loop over images.

    Args:
        size: output (h, w), or an int for a square.
        padding: pixels added on every side (int), or (left/right, top/bottom), or
            (left, top, right, bottom) as torchvision.
        fill: value of constant padding.
        padding_mode: ``"constant"``, ``"edge"`` or ``"reflect"``.
        generator: a ``numpy.random.Generator``; default the global CPU generator.
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        padding: int | Sequence[int] | None = None,
        fill: float = 0,
        padding_mode: str = "constant",
        generator: np.random.Generator | None = None,
    ) -> None:
        self.size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be a positive int or (h, w), got {size!r}")
        if padding is None:
            pad = (0, 0, 0, 0)
        elif np.isscalar(padding):
            pad = (int(padding),) * 4
        elif len(padding) == 2:
            pad = (int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1]))
        elif len(padding) == 4:
            pad = tuple(int(p) for p in padding)
        else:
            raise ValueError(f"RandomCrop: padding must be an int, 2 or 4 ints, got {padding!r}")
        if min(pad) < 0:
            raise ValueError(f"RandomCrop: padding must be non-negative, got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect"):
            raise ValueError(
                f"RandomCrop: padding_mode must be 'constant', 'edge' or 'reflect', got {padding_mode!r}"
            )
        self.padding = pad  # left, top, right, bottom
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def __call__(self, x: Any) -> Any:
        _check_nchw(x, "RandomCrop")
        xp = get_array_module(x)
        left, top, right, bottom = self.padding
        if any(self.padding):
            widths = ((0, 0), (0, 0), (top, bottom), (left, right))
            if self.padding_mode == "constant":
                x = xp.pad(x, widths, mode="constant", constant_values=self.fill)
            else:
                x = xp.pad(x, widths, mode=self.padding_mode)
        n, c, H, W = x.shape
        h, w = self.size
        if h > H or w > W:
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the padded image ({H}, {W}); "
                "use a smaller size or more padding"
            )
        rng = _rng(self.generator)
        tops = rng.integers(0, H - h + 1, size=n)
        lefts = rng.integers(0, W - w + 1, size=n)
        rows = xp.asarray(tops[:, None] + np.arange(h))  # (N, h)
        cols = xp.asarray(lefts[:, None] + np.arange(w))  # (N, w)
        batch = xp.arange(n)[:, None, None, None]
        chans = xp.arange(c)[None, :, None, None]
        return x[batch, chans, rows[:, None, :, None], cols[:, None, None, :]]

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding}, padding_mode={self.padding_mode!r})"


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p`` (drawn per image)."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be a probability in [0, 1], got {p}")
        self.p = float(p)
        self.generator = generator

    def __call__(self, x: Any) -> Any:
        _check_nchw(x, "RandomHorizontalFlip")
        xp = get_array_module(x)
        flip = _rng(self.generator).random(x.shape[0]) < self.p
        return xp.where(xp.asarray(flip)[:, None, None, None], x[..., ::-1], x)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def image_transforms(normalize: tuple[float, float], augment: bool = False, flip: bool = True) -> Compose:
    """The 28x28 grey-image pipeline of the train CLI (and of the compress CLI's fine-tuning):
    ``ToTensor -> [RandomCrop(28, padding=2) -> RandomHorizontalFlip] -> Normalize(mean, std)``.

    ``normalize``: ``(mean, std)`` of the training pixels in [0, 1]. ``augment``: add the random
    crop, and the flip when ``flip`` (mirrored clothes are still clothes; mirrored digits are not).
    """
    aug: list = []
    if augment:
        aug = [RandomCrop(28, padding=2)] + ([RandomHorizontalFlip()] if flip else [])
    return Compose([ToTensor(), *aug, Normalize((normalize[0],), (normalize[1],))])
