"""A procedurally generated 28x28 data set that runs offline: "Glyphs in clutter".

Why it exists: the tests, the default ``python -m minitorch_cnn.train`` and the tutorials must run on
a fresh machine with no download, and the data should teach the same lesson as Fashion-MNIST, that
a small CNN beats an MLP of similar size. So it is built around what convolution is good at.

How an image is made (all of it vectorised over the images; no per-image Python loop):

1. **The class glyph.** Each of the 10 classes is a small figure of 2-4 straight strokes inside a
   7x7 box: ``+``, ``x``, ``T``, ``L``, ``=``, ``||``, ``V``, ``^``, a square and a ``Z``. Every
   stroke endpoint is jittered by up to +-0.6 px and the stroke width varies, and the glyph is
   rendered anti-aliased (intensity falls off with the distance of a pixel to the segment).
2. **At a random place.** The glyph is stamped at a uniformly random position (22 x 22 possible
   top-left corners), so the same class lights up completely different pixels from image to image.
3. **Clutter.** 3 to 5 distractor strokes (single segments, 2-5 px long, any orientation, at 25-60%
   of the glyph's brightness, which is 90-100%) and sparse dots are stamped at random places,
   combined with ``max``. The distractors share every *local* feature with the glyphs (a short
   line at some angle) but never the *combination* that defines a class.
4. **Noise.** Each image gets a random contrast in [0.6, 1.0], Gaussian pixel noise (sigma 0.08)
   and is quantised to uint8, like a scanned image.

What a network must learn is therefore "is there a conjunction of strokes shaped like X anywhere
in the image": a local pattern detector that is the same at every position. A convolution has
that built in (weight sharing + max pooling); a fully connected layer must learn the detector
separately for every position from the examples that happen to put a glyph there. Mean
brightness and the location of the brightest pixel carry (almost) no class information
(``tests/data/test_builtin.py`` checks this).

Determinism and speed: image ``i`` of a split depends only on ``(seed, split, i // 1000)``: images
are generated in chunks of 1000, each from its own ``numpy.random.SeedSequence``. So ``size=6000``
is exactly the first 6000 images of ``size=60000``. 60,000 images take about 3 s on a 2-core CPU.
Labels are balanced: every chunk holds 100 images of each class.

Accuracies (measured with this framework, seed 0) are in the README section "The built-in data
set" and asserted, with a margin, by ``tests/test_train.py::test_cnn_clearly_beats_mlp_on_builtin``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .dataset import ImageArrayDataset

__all__ = ["GlyphsInClutter", "generate", "GLYPHS"]

_BOX = 7  # glyphs and distractors live in a 7x7 box
_SIZE = 28
_CHUNK = 1000
_MIN_CLUTTER, _MAX_CLUTTER = 3, 5

#: class name -> strokes as ((x0, y0), (x1, y1)) in the 7x7 box's pixel coordinates (0..6)
GLYPHS: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {
    "plus": [((3, 0.5), (3, 5.5)), ((0.5, 3), (5.5, 3))],
    "cross": [((0.5, 0.5), (5.5, 5.5)), ((0.5, 5.5), (5.5, 0.5))],
    "tee": [((0.5, 1), (5.5, 1)), ((3, 1), (3, 5.5))],
    "ell": [((1, 0.5), (1, 5.5)), ((1, 5.5), (5.5, 5.5))],
    "equals": [((0.5, 2), (5.5, 2)), ((0.5, 4.5), (5.5, 4.5))],
    "bars": [((2, 0.5), (2, 5.5)), ((4.5, 0.5), (4.5, 5.5))],
    "vee": [((0.5, 0.5), (3, 5.5)), ((3, 5.5), (5.5, 0.5))],
    "caret": [((0.5, 5.5), (3, 0.5)), ((3, 0.5), (5.5, 5.5))],
    "square": [((1, 1), (5, 1)), ((5, 1), (5, 5)), ((5, 5), (1, 5)), ((1, 5), (1, 1))],
    "zed": [((0.5, 1), (5.5, 1)), ((5.5, 1), (0.5, 5)), ((0.5, 5), (5.5, 5))],
}
_CLASSES = list(GLYPHS)
_MAX_STROKES = max(len(s) for s in GLYPHS.values())

def _render_segments(p0: np.ndarray, p1: np.ndarray, width: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Anti-aliased strokes in a 7x7 box.

    p0, p1: (N, S, 2) endpoints (x, y); width: (N, 1, 1, 1) half-width in px; valid: (N, S) bool.
    Returns (N, 7, 7) float32 in [0, 1], the max over the S strokes of
    ``clip(1 + width - distance(pixel, segment), 0, 1)``.
    """
    g = np.arange(_BOX, dtype=np.float32)
    py, px = np.meshgrid(g, g, indexing="ij")  # (7, 7)
    pix = np.stack([px, py], axis=-1)[None, None]  # (1, 1, 7, 7, 2)
    a, b = p0[:, :, None, None, :], p1[:, :, None, None, :]  # (N, S, 1, 1, 2)
    ab = b - a
    t = np.clip(((pix - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-6), 0.0, 1.0)
    d = np.linalg.norm(pix - (a + t[..., None] * ab), axis=-1)  # (N, S, 7, 7)
    ink = np.clip(1.0 + width - d, 0.0, 1.0) * valid[:, :, None, None]
    return ink.max(axis=1).astype(np.float32)


def _stamp(canvas: np.ndarray, patch: np.ndarray, rng: np.random.Generator) -> None:
    """``canvas[n, r:r+7, c:c+7] = max(canvas, patch[n])`` at a random (r, c) per image, no loop."""
    n = canvas.shape[0]
    r = rng.integers(0, _SIZE - _BOX + 1, size=n)
    c = rng.integers(0, _SIZE - _BOX + 1, size=n)
    k = np.arange(_BOX)
    rows = (r[:, None] + k)[:, :, None]  # (N, 7, 1)
    cols = (c[:, None] + k)[:, None, :]  # (N, 1, 7)
    idx = np.arange(n)[:, None, None]
    canvas[idx, rows, cols] = np.maximum(canvas[idx, rows, cols], patch)


def _chunk(seed: int, split: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk ``chunk`` (images ``1000*chunk ...``) of a split; always whole, so prefixes agree."""
    n = _CHUNK
    rng = np.random.default_rng(np.random.SeedSequence([seed, split, chunk]))
    labels = rng.permutation(np.arange(n) % len(_CLASSES)).astype(np.int64)

    # 1. the class glyph, jittered, in its 7x7 box
    strokes = np.zeros((len(_CLASSES), _MAX_STROKES, 2, 2), dtype=np.float32)
    valid = np.zeros((len(_CLASSES), _MAX_STROKES), dtype=bool)
    for k, segs in enumerate(GLYPHS.values()):
        strokes[k, : len(segs)] = np.asarray(segs, dtype=np.float32)
        valid[k, : len(segs)] = True
    s = strokes[labels] + rng.uniform(-0.6, 0.6, size=(n, _MAX_STROKES, 2, 2)).astype(np.float32)
    s = np.clip(s, 0.0, _BOX - 1.0)
    width = rng.uniform(0.1, 0.6, size=(n, 1, 1, 1)).astype(np.float32)
    glyph = _render_segments(s[:, :, 0], s[:, :, 1], width, valid[labels])
    glyph *= rng.uniform(0.9, 1.0, size=(n, 1, 1)).astype(np.float32)

    canvas = np.zeros((n, _SIZE, _SIZE), dtype=np.float32)
    # 2./3. clutter first, glyph on top (max-combined, so order only matters for ties)
    n_strokes = rng.integers(_MIN_CLUTTER, _MAX_CLUTTER + 1, size=n)
    for j in range(_MAX_CLUTTER):  # slot j is used by the images that have more than j distractors
        angle = rng.uniform(0, np.pi, size=n)
        length = rng.uniform(2.0, 5.0, size=n)
        centre = rng.uniform(1.5, 4.5, size=(n, 2))
        half = 0.5 * length[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        p0 = (centre - half)[:, None].astype(np.float32)
        p1 = (centre + half)[:, None].astype(np.float32)
        w = rng.uniform(0.1, 0.6, size=(n, 1, 1, 1)).astype(np.float32)
        patch = _render_segments(p0, p1, w, (n_strokes > j)[:, None])
        patch *= rng.uniform(0.25, 0.6, size=(n, 1, 1)).astype(np.float32)
        _stamp(canvas, patch, rng)
    dots = (rng.random((n, _SIZE, _SIZE)) < 0.01) * rng.uniform(0.3, 0.9, size=(n, _SIZE, _SIZE))
    np.maximum(canvas, dots.astype(np.float32), out=canvas)
    _stamp(canvas, glyph, rng)

    # 4. contrast, sensor noise, quantisation
    canvas *= rng.uniform(0.6, 1.0, size=(n, 1, 1)).astype(np.float32)
    canvas += rng.normal(0.0, 0.08, size=canvas.shape).astype(np.float32)
    images = np.clip(np.rint(canvas * 255.0), 0, 255).astype(np.uint8)
    return images, labels


def generate(n: int, seed: int = 0, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` images (uint8, (n, 28, 28)) and labels (int64, (n,)) of a split."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"generate: n must be a non-negative int, got {n!r}")
    split = 0 if train else 1
    parts = [_chunk(seed, split, c) for c in range(-(-n // _CHUNK))]
    if not parts:
        return np.zeros((0, _SIZE, _SIZE), np.uint8), np.zeros((0,), np.int64)
    return np.concatenate([p[0] for p in parts])[:n], np.concatenate([p[1] for p in parts])[:n]


class GlyphsInClutter(ImageArrayDataset):
    """The built-in offline data set (see the module docstring for how it is made).

    Args:
        train: the training split (default 60,000 images) or the test split (default 10,000).
        size: how many images to generate (the first ``size`` of the split).
        seed: the data set's seed; the two splits use different streams of it.
        transform / target_transform: as for :class:`~minitorch_cnn.data.mnist.FashionMNIST`.
    """

    classes = _CLASSES

    def __init__(
        self,
        train: bool = True,
        size: int | None = None,
        seed: int = 0,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.train = bool(train)
        self.seed = int(seed)
        size = (60000 if train else 10000) if size is None else size
        images, labels = generate(size, seed=self.seed, train=self.train)
        super().__init__(images, labels, transform, target_transform)
