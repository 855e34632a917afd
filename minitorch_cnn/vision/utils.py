"""``make_grid`` and ``save_image`` with torchvision's layout and arguments.

``make_grid`` tiles a batch (N, C, H, W) -- or a list of (C, H, W) images, or one (C, H, W) / (H, W)
image -- into one (3 or C, rows * (H + padding) + padding, cols * (W + padding) + padding) Tensor,
``nrow`` images per row, gray images repeated to 3 channels, exactly as torchvision 0.28
(``tests/vision/oracle/make_grid.json``). ``save_image`` writes it as an image file atomically
(``x * 255 + 0.5`` clamped to uint8, as torchvision), with Pillow.
"""

from __future__ import annotations

import io
import math
import os
from typing import IO, Any

import numpy as np

from .. import backend
from ..data.fileio import atomic_write_bytes
from ..tensors import Tensor
from .transforms import require_pil

__all__ = ["make_grid", "save_image"]


def _as_array(tensor: Any) -> Any:
    if isinstance(tensor, Tensor):
        return tensor._array
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid: got an empty list of images")
        arrays = [_as_array(t) for t in tensor]
        return backend.get_array_module(arrays[0]).stack(arrays)
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"make_grid: expected a Tensor or a list of Tensors, got {type(tensor).__name__}")


def make_grid(tensor: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile images into a grid (torchvision's ``make_grid``).

    ``normalize`` shifts and scales to [0, 1] by ``value_range`` (default: the min and max of the whole
    batch, or of each image with ``scale_each``), clamping to the range first.
    """
    x = _as_array(tensor)
    xp = backend.get_array_module(x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        if x.shape[0] == 1:
            x = xp.concatenate([x] * 3, axis=0)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected (H, W), (C, H, W) or (N, C, H, W) images, got shape {x.shape}")
    if x.shape[1] == 1:
        x = xp.concatenate([x] * 3, axis=1)
    if value_range is not None and not (isinstance(value_range, (tuple, list)) and len(value_range) == 2):
        raise ValueError(f"make_grid: value_range must be a (min, max) pair, got {value_range!r}")
    if normalize:
        x = x.copy()

        def norm(img: Any, rng: Any) -> Any:
            low, high = (float(img.min()), float(img.max())) if rng is None else (float(rng[0]), float(rng[1]))
            return (xp.clip(img, low, high) - img.dtype.type(low)) / img.dtype.type(max(high - low, 1e-5))

        if scale_each:
            for i in range(x.shape[0]):
                x[i] = norm(x[i], value_range)
        else:
            x = norm(x, value_range)
    if x.shape[0] == 1:
        return Tensor._from_array(x[0])
    nmaps = x.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(nmaps / xmaps))
    height, width = int(x.shape[2] + padding), int(x.shape[3] + padding)
    grid = xp.full((x.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=x.dtype)
    for k in range(nmaps):
        y0, x0 = (k // xmaps) * height + padding, (k % xmaps) * width + padding
        grid[:, y0:y0 + height - padding, x0:x0 + width - padding] = x[k]
    return Tensor._from_array(grid)


def save_image(tensor: Any, fp: str | os.PathLike | IO[bytes], format: str | None = None, **kwargs: Any) -> None:
    """Save ``make_grid(tensor, **kwargs)`` as an image (PNG unless ``format`` or the suffix says otherwise).

    A path is written atomically (a temporary file renamed into place); a binary file object is
    written to directly. Values are taken to be in [0, 1] (``normalize=True`` rescales).
    """
    Image = require_pil("save_image")
    grid = backend.to_numpy(make_grid(tensor, **kwargs)._array).astype(np.float32)
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    im = Image.fromarray(np.ascontiguousarray(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr))
    if isinstance(fp, (str, os.PathLike)):
        suffix = os.path.splitext(os.fspath(fp))[1].lstrip(".").upper()
        fmt = format or ({"JPG": "JPEG", "TIF": "TIFF"}.get(suffix, suffix) or "PNG")
        buffer = io.BytesIO()
        im.save(buffer, format=fmt)
        atomic_write_bytes(fp, buffer.getvalue())
    else:
        im.save(fp, format=format or "PNG")
