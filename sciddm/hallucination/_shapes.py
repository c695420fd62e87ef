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
    """A ``size x size`` binary image of a filled regular polygon (x right, y down)."""
    from matplotlib.path import Path

    if shape not in SHAPES:
        raise ValueError(f"`shape` must be one of {SHAPES}, got {shape!r}")
    yy, xx = np.mgrid[0:size, 0:size]
    pts = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1)
    inside = Path(_polygon(shape, center, radius)).contains_points(pts)
    return inside.reshape(size, size).astype(float)


def _strip_centers(size: int) -> list[tuple[float, float]]:
    w = size / 3
    return [((j + 0.5) * w, size / 2) for j in range(3)]


def simple_shapes(n: int, *, size: int = 64, p: float = 0.5, rng: SeedLike = None):
    """Draw ``n`` SIMPLE SHAPES images in [-1, 1] and their presence labels.

    Returns
    -------
    images : ndarray, shape (n, size, size)
        Background -1, shapes +1.
    present : ndarray of bool, shape (n, 3)
        Whether strip j holds its shape (triangle, square, pentagon).
    """
    n = check_int(n, "n", lo=0)
    size = check_int(size, "size", lo=12)
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
    """

    strips: np.ndarray
    combination: list[tuple[str, ...]]
    hallucination: np.ndarray


def classify_shapes(
    images: np.ndarray,
    *,
    training_combinations=None,
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
    """
    x = check_array(images, "images", ndim=3)
    n, size, size2 = x.shape
    if size != size2:
        raise ValueError(f"`images` must be square, got shape {x.shape}")
    min_correlation = check_scalar(min_correlation, "min_correlation", lo=0, hi=1)
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
