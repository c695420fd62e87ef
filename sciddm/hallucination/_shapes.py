"""SIMPLE SHAPES: images made of three vertical strips, each with its own shape.

Strip 0 may hold a triangle, strip 1 a square and strip 2 a pentagon, each
present independently with probability 1/2; the empty image is dropped, so
training images show 7 combinations. A generated image whose strips show a
combination never seen in training (a shape in a foreign strip, a duplicated
or a half-formed shape) is a hallucination.

References
----------
.. [1] Aithal et al., "Understanding Hallucinations in Diffusion Models through
   Mode Interpolation", NeurIPS 2024, Section 4 (SIMPLE SHAPES).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar

__all__ = ["SHAPES", "ShapeLabels", "classify_shapes", "render_shape", "simple_shapes"]

SHAPES = ("triangle", "square", "pentagon")
EMPTY, UNKNOWN = "empty", "unknown"


def _polygon(shape: str, center: tuple[float, float], radius: float) -> np.ndarray:
    n_vertices = {"triangle": 3, "square": 4, "pentagon": 5}[shape]
    offset = {"triangle": np.pi / 2, "square": np.pi / 4, "pentagon": np.pi / 2}[shape]
    ang = offset + 2 * np.pi * np.arange(n_vertices) / n_vertices
    return np.stack([center[0] + radius * np.cos(ang), center[1] - radius * np.sin(ang)], axis=1)


def render_shape(shape: str, size: int, center: tuple[float, float], radius: float) -> np.ndarray:
    """A ``size x size`` binary image of a filled regular polygon (x right, y down).

    Parameters
    ----------
    shape : {"triangle", "square", "pentagon"}
    size : int
        Image side in pixels, ``1..4096``.
    center : (float, float)
        Centre of the polygon in pixel coordinates.
    radius : float
        Circumradius in pixels, ``> 0``.

    Returns
    -------
    ndarray of shape (size, size)
        1 inside the polygon, 0 outside.

    Examples
    --------
    >>> from sciddm.hallucination import render_shape
    >>> img = render_shape("square", 8, (4.0, 4.0), 3.0)
    >>> img.shape, int(img.sum())
    ((8, 8), 16)
    """
    from matplotlib.path import Path

    if not isinstance(shape, str) or shape not in SHAPES:
        raise ValueError(f"`shape` must be one of {SHAPES}, got {shape!r}")
    size = check_int(size, "size", lo=1, hi=4096)
    c = check_array(center, "center", ndim=1, shape=(2,))
    radius = check_scalar(radius, "radius", lo=0.0, hi=1e6, closed="right")
    center = (float(c[0]), float(c[1]))
    yy, xx = np.mgrid[0:size, 0:size]
    pts = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1)
    inside = Path(_polygon(shape, center, radius)).contains_points(pts)
    return inside.reshape(size, size).astype(float)


def _strip_centers(size: int) -> list[tuple[float, float]]:
    w = size / 3
    return [((j + 0.5) * w, size / 2) for j in range(3)]


def simple_shapes(
    n: int, *, size: int = 64, p: float = 0.5, rng: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` SIMPLE SHAPES images in [-1, 1] and their presence labels.

    Parameters
    ----------
    n : int
        Number of images, ``0..10**6``.
    size : int, default 64
        Image side, ``12..4096``.
    p : float, default 0.5
        Probability that a strip holds its shape, in (0, 1] (the empty image is
        redrawn).
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    images : ndarray, shape (n, size, size)
        Background -1, shapes +1.
    present : ndarray of bool, shape (n, 3)
        Whether strip j holds its shape (triangle, square, pentagon).

    References
    ----------
    .. [1] Aithal et al., NeurIPS 2024, Sec. 4 (SIMPLE SHAPES).

    Examples
    --------
    >>> from sciddm.hallucination import simple_shapes
    >>> images, present = simple_shapes(4, size=12, rng=0)
    >>> images.shape, bool(present.any(axis=1).all())
    ((4, 12, 12), True)
    """
    n = check_int(n, "n", lo=0, hi=10**6)
    size = check_int(size, "size", lo=12, hi=4096)
    p = check_scalar(p, "p", lo=0, hi=1, closed="right")
    g = as_generator(rng)
    radius = 0.3 * size / 3 * 1.4
    templates = [render_shape(s, size, c, radius) for s, c in zip(SHAPES, _strip_centers(size))]
    present = np.zeros((0, 3), dtype=bool)
    while len(present) < n:
        draw = g.random((2 * (n - len(present)) + 8, 3)) < p
        draw = draw[draw.any(axis=1)]
        present = np.concatenate([present, draw])[:n]
    img = np.einsum("nk,kij->nij", present.astype(float), np.stack(templates))
    return 2.0 * img - 1.0, present


@dataclasses.dataclass(frozen=True, repr=False)
class ShapeLabels(Result):
    """What each strip of each image shows.

    Attributes
    ----------
    strips : ndarray of str, shape (n, 3)
        ``"empty"``, a shape name, or ``"unknown"`` (ink that matches no shape).
    combination : list of tuple
        The strips of each image as a tuple.
    hallucination : ndarray of bool
        The combination is not among ``training_combinations``.

    Examples
    --------
    >>> from sciddm.hallucination import classify_shapes, simple_shapes
    >>> labels = classify_shapes(simple_shapes(2, size=24, rng=1)[0])
    >>> len(labels.combination), labels.hallucination.tolist()
    (2, [False, False])
    """

    strips: np.ndarray
    combination: list[tuple[str, ...]]
    hallucination: np.ndarray


def classify_shapes(
    images: np.ndarray,
    *,
    training_combinations: Any = None,
    min_correlation: float = 0.75,
    min_ink: float = 0.25,
) -> ShapeLabels:
    """Read each strip of generated images by template matching.

    For strip ``j`` the ink (pixels above 0, midway between background -1 and
    shape +1) is compared with the three shape
    templates rendered at the strip's centre by the cosine similarity; the strip
    shows shape ``s`` when its best similarity exceeds ``min_correlation``, is
    empty when its ink mass is below ``min_ink`` times a template's mass, and is
    ``"unknown"`` otherwise. An image is a hallucination when its triple of strip
    labels is not in ``training_combinations`` (default: the 7 combinations of
    the training distribution, shape ``j`` in strip ``j`` or empty).

    Parameters
    ----------
    images : array_like of shape (n, size, size)
        Images in [-1, 1] (``size >= 12``).
    training_combinations : iterable of 3-tuples of str, optional
        The strip triples seen in training.
    min_correlation : float, default 0.75
        Cosine similarity, in [0, 1], above which a strip shows a shape.
    min_ink : float, default 0.25
        Fraction of a template's mass, in [0, 1], below which a strip is empty.

    Returns
    -------
    ShapeLabels

    References
    ----------
    .. [1] Aithal et al., NeurIPS 2024, Sec. 4 (hallucinated shape combinations).

    Examples
    --------
    >>> from sciddm.hallucination import classify_shapes, simple_shapes
    >>> images, present = simple_shapes(5, size=24, rng=0)
    >>> labels = classify_shapes(images)
    >>> bool(labels.hallucination.any()), labels.strips.shape
    (False, (5, 3))
    """
    x = check_array(images, "images", ndim=3)
    n, size, size2 = x.shape
    if size != size2 or size < 12:
        raise ValueError(f"`images` must be square, at least 12 x 12, got shape {x.shape}")
    min_correlation = check_scalar(min_correlation, "min_correlation", lo=0, hi=1)
    min_ink = check_scalar(min_ink, "min_ink", lo=0, hi=1)
    radius = 0.3 * size / 3 * 1.4
    ink = (x > 0).astype(float)  # binarised at the midpoint between background (-1) and ink (+1)
    w = size / 3
    strips = np.empty((n, 3), dtype=object)
    for j, center in enumerate(_strip_centers(size)):
        lo, hi = int(round(j * w)), int(round((j + 1) * w))
        part = ink[:, :, lo:hi].reshape(n, -1)
        temps = np.stack([render_shape(s, size, center, radius)[:, lo:hi].ravel() for s in SHAPES])
        mass = part.sum(1)
        cos = (
            part
            @ temps.T
            / (np.linalg.norm(part, axis=1, keepdims=True) * np.linalg.norm(temps, axis=1) + 1e-12)
        )
        best = cos.argmax(1)
        labels = np.where(
            cos.max(1) >= min_correlation, np.array(SHAPES, dtype=object)[best], UNKNOWN
        )
        labels = np.where(mass < min_ink * temps.sum(1).min(), EMPTY, labels)
        strips[:, j] = labels
    if training_combinations is not None:
        try:
            allowed_in = {tuple(str(v) for v in c) for c in training_combinations}
        except TypeError:
            raise TypeError("`training_combinations` must be an iterable of 3-tuples") from None
        if any(len(c) != 3 for c in allowed_in):
            raise ValueError("`training_combinations` must hold 3-tuples (one label per strip)")
        training_combinations = allowed_in
    if training_combinations is None:
        training_combinations = {
            tuple(SHAPES[j] if b else EMPTY for j, b in enumerate(bits))
            for bits in np.ndindex(2, 2, 2)
            if any(bits)
        }
    combos = [tuple(str(s) for s in row) for row in strips]
    allowed = {tuple(c) for c in training_combinations}
    hall = np.array([c not in allowed for c in combos], dtype=bool)
    return ShapeLabels(strips=strips.astype(str), combination=combos, hallucination=hall)
