"""torchvision-style transforms of ONE image: a PIL image, a NumPy array (H, W) or (H, W, C), or a
Tensor (C, H, W) (any leading axes, as torchvision's tensor transforms allow).

Which transforms to use when:

* ``minitorch_cnn.vision.transforms`` (this module) -- per image, as torchvision: for data sets that
  yield one image at a time (``vision.datasets.ImageFolder``, ``vision.datasets.MNIST``), for images of
  different sizes, for the geometric transforms only these have (``Resize``, ``CenterCrop``,
  ``RandomResizedCrop``, ``Pad``, ``Grayscale``), and for code ported from PyTorch.
* ``minitorch_cnn.data.transforms`` -- per **batch** (first axis = images), one vectorised call per
  batch: for the in-memory 28x28 data sets (``data.FashionMNIST``, ``data.MNIST``, the built-in set),
  where a Python call per image would cost more than the training step. Same names, same meaning.

Each transform returns the kind of image it was given (PIL in, PIL out; array in, array out; Tensor
in, Tensor out), except ``ToTensor`` / ``PILToTensor`` (-> Tensor) and ``Normalize`` (Tensor only).
A PIL image is transformed with Pillow's own operations where torchvision uses them (resize, crop,
flip, grayscale), so PIL results equal torchvision's. Arrays take the Tensor code path in (H, W, C)
layout. Tensor results equal torchvision 0.28's (frozen in ``tests/vision/oracle/transforms.json``):

* ``Resize`` is bilinear (or ``interpolation="nearest"``) with **antialias on** by default, as
  torchvision >= 0.17: downscaling averages over the footprint of each output pixel with Pillow's
  triangle filter (``antialias=False`` gives ``F.interpolate(..., 'bilinear', align_corners=False)``).
  Pillow always antialiases. uint8 arrays/Tensors are resized in float32 and rounded, so they may
  differ by 1 from torchvision's fixed-point uint8 kernel.
* The transforms work on ``tensor.data`` and return a Tensor that does not require grad: they are data
  preparation, not differentiable ops.

Randomness (``RandomCrop``, ``RandomResizedCrop``, ``RandomHorizontalFlip``) comes from ``generator``
when given (a ``numpy.random.Generator``, an extension), else from the framework's global CPU
generator looked up at each call, so ``mt.manual_seed(s)`` makes every draw reproducible, as
``torch.manual_seed`` does for torchvision.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..data.transforms import Compose  # one Compose: it only chains callables, batch or single image
from ..ops._checks import is_int
from ..tensors import Tensor

__all__ = [
    "Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "RandomCrop",
    "RandomResizedCrop", "RandomHorizontalFlip", "Pad", "Grayscale", "Lambda", "InterpolationMode",
]

PIL_EXTRA = "pip install minitorch_cnn[vision]"


class InterpolationMode:
    """torchvision's names for the interpolation modes (plain strings here)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def require_pil(who: str) -> Any:
    """``PIL.Image``, or an ImportError that says how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(f"{who} needs Pillow, an optional dependency: {PIL_EXTRA} (or pip install Pillow)") from exc
    return Image


def _is_pil(img: Any) -> bool:
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(img, image_module.Image)


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else backend.random_state("cpu")


def _kind_error(who: str, img: Any) -> TypeError:
    return TypeError(f"{who}: expected a PIL image, a NumPy array (H, W) or (H, W, C), or a Tensor (C, H, W); "
                     f"got {type(img).__name__}")


def _to_chw(img: Any, who: str) -> tuple[Any, Callable[[Any], Any]]:
    """(array with channels before the last two axes, a function that turns such an array back into
    the kind of ``img``)."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"{who}: a Tensor image needs at least 2 dimensions (H, W), got shape {img.shape}")
        if img.ndim == 2:
            return img._array[None], lambda a: Tensor._from_array(a[0])
        return img._array, Tensor._from_array
    if _is_pil(img):
        arr = np.asarray(img)
        mode, palette = img.mode, img.getpalette() if img.mode == "P" else None
        Image = sys.modules["PIL.Image"]

        def back(a: Any) -> Any:
            out = Image.fromarray(np.ascontiguousarray(a[0] if a.shape[0] == 1 and arr.ndim == 2 else
                                                       a.transpose(1, 2, 0)), mode=mode)
            if palette is not None:
                out.putpalette(palette)
            return out

        return (arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)), back
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return img[None], lambda a: np.ascontiguousarray(a[0])
        if img.ndim == 3:
            return img.transpose(2, 0, 1), lambda a: np.ascontiguousarray(a.transpose(1, 2, 0))
        raise ValueError(f"{who}: a NumPy image must be (H, W) or (H, W, C), got shape {img.shape}")
    raise _kind_error(who, img)


def get_image_size(img: Any) -> tuple[int, int]:
    """(height, width) of a PIL image, an (H, W[, C]) array or a (..., C, H, W) Tensor."""
    if _is_pil(img):
        return img.height, img.width
    if isinstance(img, Tensor):
        return int(img.shape[-2]), int(img.shape[-1])
    if isinstance(img, np.ndarray) and img.ndim in (2, 3):
        return int(img.shape[0]), int(img.shape[1])
    raise _kind_error("get_image_size", img)


def _pair(size: Any, who: str, name: str = "size") -> tuple[int, int]:
    if is_int(size):
        out = (int(size), int(size))
    elif isinstance(size, Sequence) and len(size) == 1:
        out = (int(size[0]), int(size[0]))
    elif isinstance(size, Sequence) and len(size) == 2:
        out = (int(size[0]), int(size[1]))
    else:
        raise ValueError(f"{who}: {name} must be an int or a sequence (h, w), got {size!r}")
    if min(out) < 1:
        raise ValueError(f"{who}: {name} must be positive, got {size!r}")
    return out


def _cast_like(out: Any, dtype: Any) -> Any:
    xp = get_array_module(out)
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        return xp.clip(xp.floor(out + 0.5), info.min, info.max).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return out > 0.5
    return out.astype(dtype, copy=False)


# -- functional ops on one image ---------------------------------------------------------------------
def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height`` x ``width`` window at (top, left); ``img``'s kind. Must lie inside the image."""
    h, w = get_image_size(img)
    if top < 0 or left < 0 or top + height > h or left + width > w or height < 1 or width < 1:
        raise ValueError(f"crop: window top={top}, left={left}, {height}x{width} does not fit the {h}x{w} image")
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr, back = _to_chw(img, "crop")
    return back(arr[..., top:top + height, left:left + width].copy())


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    if _is_pil(img):
        return img.transpose(sys.modules["PIL.Image"].Transpose.FLIP_LEFT_RIGHT)
    arr, back = _to_chw(img, "hflip")
    return back(arr[..., ::-1].copy())


def _resize_matrix(n_in: int, n_out: int, mode: str, antialias: bool) -> np.ndarray:
    """(n_out, n_in) weights: output = W @ input along one axis (torch's index/weight formulas)."""
    W = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    if mode == "nearest":  # torch's legacy 'nearest': floor(i * scale)
        src = np.minimum(np.floor(np.arange(n_out) * np.float32(scale)).astype(np.int64), n_in - 1)
        W[np.arange(n_out), src] = 1.0
        return W
    if antialias:  # Pillow's / torch's separable triangle filter, widened by the scale when shrinking
        support_scale = max(scale, 1.0)
        for i in range(n_out):
            center = (i + 0.5) * scale
            lo = max(int(center - support_scale + 0.5), 0)
            hi = min(int(center + support_scale + 0.5), n_in)
            j = np.arange(lo, hi)
            wts = np.maximum(0.0, 1.0 - np.abs((j - center + 0.5) / support_scale))
            W[i, lo:hi] = wts / wts.sum()
        return W
    src = np.maximum((np.arange(n_out) + 0.5) * scale - 0.5, 0.0)  # half-pixel centres, clamped
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    np.add.at(W, (np.arange(n_out), i0), 1.0 - frac)
    np.add.at(W, (np.arange(n_out), i1), frac)
    return W


def resize(img: Any, size: Sequence[int], interpolation: str = "bilinear", antialias: bool = True) -> Any:
    """Resize to exactly ``size = (h, w)``."""
    h, w = int(size[0]), int(size[1])
    if _is_pil(img):
        Image = sys.modules["PIL.Image"]
        resample = Image.Resampling.NEAREST if interpolation == "nearest" else Image.Resampling.BILINEAR
        return img.resize((w, h), resample)
    arr, back = _to_chw(img, "resize")
    H, W = arr.shape[-2:]
    if (H, W) == (h, w):
        return back(arr.copy())
    xp = get_array_module(arr)
    work = np.float64 if arr.dtype == np.float64 else np.float32
    rows = xp.asarray(_resize_matrix(H, h, interpolation, antialias).astype(work))
    cols = xp.asarray(_resize_matrix(W, w, interpolation, antialias).astype(work))
    out = xp.matmul(xp.matmul(rows, arr.astype(work)), cols.T)
    return back(_cast_like(out, arr.dtype))


def _padding4(padding: Any, who: str) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if is_int(padding):
        p = (int(padding),) * 4
    elif isinstance(padding, Sequence) and len(padding) == 1:
        p = (int(padding[0]),) * 4
    elif isinstance(padding, Sequence) and len(padding) == 2:
        p = (int(padding[0]), int(padding[1])) * 2
    elif isinstance(padding, Sequence) and len(padding) == 4:
        p = tuple(int(v) for v in padding)
    else:
        raise ValueError(f"{who}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    if min(p) < 0:
        raise ValueError(f"{who}: padding must be non-negative, got {padding!r}")
    return p  # type: ignore[return-value]


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def pad(img: Any, padding: Any, fill: float | Sequence[float] = 0, padding_mode: str = "constant") -> Any:
    """Pad the borders: ``padding`` int (all sides), (left/right, top/bottom) or (left, top, right, bottom)."""
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"Pad: padding_mode must be one of {', '.join(_PAD_MODES)}, got {padding_mode!r}")
    left, top, right, bottom = _padding4(padding, "Pad")
    arr, back = _to_chw(img, "Pad")
    if padding_mode == "reflect" and (max(left, right) >= arr.shape[-1] or max(top, bottom) >= arr.shape[-2]):
        raise ValueError(f"Pad: reflect padding {(left, top, right, bottom)} must be smaller than the image "
                         f"{tuple(arr.shape[-2:])} on each axis")
    xp = get_array_module(arr)
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return back(xp.pad(arr, widths, mode=padding_mode))
    out = xp.empty(arr.shape[:-2] + (arr.shape[-2] + top + bottom, arr.shape[-1] + left + right), dtype=arr.dtype)
    fills = np.atleast_1d(np.asarray(fill, dtype=np.float64))
    if fills.size not in (1, arr.shape[-3]):
        raise ValueError(f"Pad: fill must be a number or one value per channel ({arr.shape[-3]}), got {fill!r}")
    out[...] = xp.asarray(fills.astype(arr.dtype)).reshape(-1, 1, 1)
    out[..., top:top + arr.shape[-2], left:left + arr.shape[-1]] = arr
    return back(out)


# -- the transforms ----------------------------------------------------------------------------------
class Lambda:
    """Wrap any function ``fn(img) -> img`` as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: the argument must be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.lambd, '__name__', self.lambd)!r})"


def _pil_array(pic: Any) -> np.ndarray:
    arr = np.asarray(pic)
    if pic.mode == "1":
        arr = arr.astype(np.uint8) * 255
    return arr


class ToTensor:
    """PIL image or (H, W[, C]) array -> Tensor (C, H, W); uint8 scaled to float32 in [0, 1].

    As torchvision: other dtypes (float arrays, 32-bit PIL modes) keep their values and dtype.
    A Tensor is refused (it is converted already).
    """

    def __call__(self, pic: Any) -> Tensor:
        if _is_pil(pic):
            arr = _pil_array(pic)
        elif isinstance(pic, np.ndarray):
            if pic.ndim not in (2, 3):
                raise ValueError(f"ToTensor: a NumPy image must be (H, W) or (H, W, C), got shape {pic.shape}")
            arr = pic
        else:
            raise TypeError(f"ToTensor: pic should be a PIL image or a NumPy array (H, W[, C]), got "
                            f"{type(pic).__name__}")
        chw = np.ascontiguousarray((arr[:, :, None] if arr.ndim == 2 else arr).transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32) / np.float32(255)
        return Tensor._from_array(chw)

    def __repr__(self) -> str:
        return "ToTensor()"


class PILToTensor:
    """PIL image -> Tensor (C, H, W) of the image's own dtype (uint8 for L/RGB), no scaling."""

    def __call__(self, pic: Any) -> Tensor:
        if not _is_pil(pic):
            raise TypeError(f"PILToTensor: pic should be a PIL image, got {type(pic).__name__}")
        arr = _pil_array(pic)
        return Tensor._from_array(np.ascontiguousarray((arr[:, :, None] if arr.ndim == 2 else arr).transpose(2, 0, 1)))

    def __repr__(self) -> str:
        return "PILToTensor()"


class ToPILImage:
    """Tensor (C, H, W) or array (H, W[, C]) -> PIL image; floats are taken to be in [0, 1] and become
    uint8 as torchvision does (``x * 255`` truncated). 1 channel -> mode L, 3 -> RGB, 4 -> RGBA."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        Image = require_pil("ToPILImage")
        if isinstance(pic, Tensor):
            arr = backend.to_numpy(pic._array)
            arr = arr[None] if arr.ndim == 2 else arr
            arr = arr.transpose(1, 2, 0)
        elif isinstance(pic, np.ndarray):
            arr = pic[:, :, None] if pic.ndim == 2 else pic
        else:
            raise TypeError(f"ToPILImage: pic should be a Tensor or a NumPy array, got {type(pic).__name__}")
        if arr.dtype.kind == "f":
            arr = (arr * 255).astype(np.uint8)
        if arr.shape[2] == 1:
            return Image.fromarray(np.ascontiguousarray(arr[:, :, 0]), mode=self.mode)
        return Image.fromarray(np.ascontiguousarray(arr), mode=self.mode)

    def __repr__(self) -> str:
        return f"ToPILImage(mode={self.mode!r})"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a float Tensor (..., C, H, W); the dtype is kept."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean and std must be equal-length sequences, one per channel; "
                             f"got mean {mean!r} and std {std!r}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float, leading to division "
                             f"by zero; got std {std!r}")
        self.inplace = inplace

    def __call__(self, tensor: Any) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: expected a Tensor (C, H, W), got {type(tensor).__name__}; "
                            "apply ToTensor() first")
        x = tensor._array
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: the Tensor must be floating point, got {x.dtype}; apply ToTensor() "
                            "(or .float()) first")
        if x.ndim < 3 or len(self.mean) not in (1, x.shape[-3]):
            raise ValueError(f"Normalize: {len(self.mean)} means/stds for an image of shape {tuple(x.shape)}; "
                             "give one per channel (C, H, W)")
        xp = get_array_module(x)
        mean = xp.asarray(self.mean.astype(x.dtype)).reshape(-1, 1, 1)
        std = xp.asarray(self.std.astype(x.dtype)).reshape(-1, 1, 1)
        return Tensor._from_array((x - mean) / std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def resized_output_size(h: int, w: int, size: int | Sequence[int], max_size: int | None = None) -> tuple[int, int]:
    """torchvision's rule: an int (or [int]) sets the shorter side, keeping the aspect ratio
    (the longer side truncated), capped by ``max_size``; (h, w) is taken as it is."""
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    s = int(size[0]) if isinstance(size, Sequence) else int(size)
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = s, int(s * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


class Resize:
    """Resize to ``size``: an int sets the shorter side (aspect ratio kept, as torchvision), (h, w) exact.

    ``interpolation``: ``"bilinear"`` (default) or ``"nearest"``; ``antialias`` (default True, as
    torchvision >= 0.17) widens the bilinear filter when shrinking; Pillow always antialiases.
    """

    def __init__(self, size: int | Sequence[int], interpolation: str = "bilinear", max_size: int | None = None,
                 antialias: bool = True) -> None:
        if isinstance(size, Sequence):
            if len(size) not in (1, 2) or min(int(s) for s in size) < 1:
                raise ValueError(f"Resize: size must be a positive int or (h, w), got {size!r}")
            if len(size) == 2 and max_size is not None:
                raise ValueError("Resize: max_size is only allowed when size is a single int (the shorter side)")
        elif not is_int(size) or size < 1:
            raise ValueError(f"Resize: size must be a positive int or (h, w), got {size!r}")
        interpolation = getattr(interpolation, "value", interpolation)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Resize: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = bool(antialias)

    def __call__(self, img: Any) -> Any:
        h, w = get_image_size(img)
        return resize(img, resized_output_size(h, w, self.size, self.max_size), self.interpolation, self.antialias)

    def __repr__(self) -> str:
        return (f"Resize(size={self.size}, interpolation={self.interpolation}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """The centre window (torchvision's rounding); an image smaller than it is zero-padded first."""
    ch, cw = _pair(output_size, "CenterCrop")
    h, w = get_image_size(img)
    if ch > h or cw > w:
        img = pad(img, [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                        (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0])
        h, w = get_image_size(img)
    return crop(img, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)


class CenterCrop:
    """Cut the central ``size`` window (int: square); pad with zeros if the image is smaller."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img: Any) -> Any:
        return center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class Pad:
    """Pad the borders with ``fill`` (``"constant"``) or by ``"edge"``, ``"reflect"``, ``"symmetric"``."""

    def __init__(self, padding: int | Sequence[int], fill: float | Sequence[float] = 0,
                 padding_mode: str = "constant") -> None:
        _padding4(padding, "Pad")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"Pad: padding_mode must be one of {', '.join(_PAD_MODES)}, got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img: Any) -> Any:
        return pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomCrop:
    """Pad by ``padding`` (optional), then cut a ``size`` window at a random position.

    ``pad_if_needed`` pads an image smaller than ``size``; ``fill`` / ``padding_mode`` as :class:`Pad`.
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float | Sequence[float] = 0, padding_mode: str = "constant",
                 generator: np.random.Generator | None = None) -> None:
        self.size = _pair(size, "RandomCrop")
        if padding is not None:
            _padding4(padding, "RandomCrop")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {', '.join(_PAD_MODES)}, got {padding_mode!r}")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode
        self.generator = generator

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int],
                   generator: np.random.Generator | None = None) -> tuple[int, int, int, int]:
        """(top, left, h, w) of a random window of ``output_size``."""
        h, w = get_image_size(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the input image size "
                             f"{(h, w)}; add padding or pad_if_needed=True")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        rng = _rng(generator)
        return int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1)), th, tw

    def __call__(self, img: Any) -> Any:
        if self.padding is not None:
            img = pad(img, self.padding, self.fill, self.padding_mode)
        h, w = get_image_size(img)
        if self.pad_if_needed and w < self.size[1]:
            img = pad(img, [self.size[1] - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            img = pad(img, [0, self.size[0] - h], self.fill, self.padding_mode)
        return crop(img, *self.get_params(img, self.size, self.generator))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomResizedCrop:
    """A random window of random area (``scale`` of the image) and aspect ratio (``ratio``), resized to
    ``size``: torchvision's algorithm (10 tries, then the central crop clamped to ``ratio``)."""

    def __init__(self, size: int | Sequence[int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0), interpolation: str = "bilinear",
                 antialias: bool = True, generator: np.random.Generator | None = None) -> None:
        self.size = _pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1] or scale[0] <= 0 or ratio[0] <= 0:
            raise ValueError(f"RandomResizedCrop: scale and ratio must be positive (min, max) ranges, got "
                             f"scale={scale!r}, ratio={ratio!r}")
        interpolation = getattr(interpolation, "value", interpolation)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomResizedCrop: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation, self.antialias, self.generator = interpolation, bool(antialias), generator

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float],
                   generator: np.random.Generator | None = None) -> tuple[int, int, int, int]:
        """(top, left, h, w) of the window to cut."""
        height, width = get_image_size(img)
        area = height * width
        rng = _rng(generator)
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img: Any) -> Any:
        top, left, h, w = self.get_params(img, self.scale, self.ratio, self.generator)
        return resize(crop(img, top, left, h, w), self.size, self.interpolation, self.antialias)

    def __repr__(self) -> str:
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be a probability in [0, 1], got {p}")
        self.p, self.generator = float(p), generator

    def __call__(self, img: Any) -> Any:
        return hflip(img) if _rng(self.generator).random() < self.p else img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class Grayscale:
    """RGB -> gray (``0.2989 R + 0.587 G + 0.114 B``; Pillow's ``convert("L")`` for PIL images), with
    1 or 3 (equal) output channels. An integer Tensor/array is truncated, as torchvision's ``.to(dtype)``."""

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels must be 1 or 3, got {num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        if _is_pil(img):
            gray = img.convert("L")
            if self.num_output_channels == 1:
                return gray
            return sys.modules["PIL.Image"].fromarray(np.dstack([np.asarray(gray)] * 3), "RGB")
        arr, back = _to_chw(img, "Grayscale")
        if arr.shape[-3] not in (1, 3):
            raise ValueError(f"Grayscale: the image must have 1 or 3 channels, got shape {tuple(arr.shape)}")
        xp = get_array_module(arr)
        if arr.shape[-3] == 3:
            work = arr.dtype.type if arr.dtype.kind == "f" else np.float32
            x = arr.astype(work, copy=False)
            gray = (work(0.2989) * x[..., 0, :, :] + work(0.587) * x[..., 1, :, :]
                    + work(0.114) * x[..., 2, :, :]).astype(arr.dtype)[..., None, :, :]
        else:
            gray = arr.copy()
        if self.num_output_channels == 3:
            gray = xp.concatenate([gray] * 3, axis=-3)
        return back(gray)

    def __repr__(self) -> str:
        return f"Grayscale(num_output_channels={self.num_output_channels})"
