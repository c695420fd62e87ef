"""Noisy datasets with known per-sample noise levels.

Each sample ``i`` has a known noise level ``sigma_n[i]`` (0 for a clean
sample) and is observed as ``y_i = x_i + sigma_n[i] * eps_i`` with
``eps_i ~ N(0, I)`` drawn *once*, with a fixed seed: the dataset is the fixed,
corrupted sample a scientist would hold, never re-noised between epochs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int, check_scalar
from sciddm.ambient._checks import as_array

__all__ = ["SCENARIOS", "NoisyDataset", "corrupt", "make_clean_noisy", "paper_scenarios"]

#: The four training sets of Daras et al. (2025), Table 1, by name.
SCENARIOS = ("100% clean", "100% noisy", "10% clean only", "90% noisy + 10% clean")


def _sigma_iv(sigma_n: Any, n: int, name: str = "sigma_n") -> np.ndarray:
    s = as_array(sigma_n, name, ndim=(0, 1))
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape[0] != n:
        raise ValueError(f"`{name}` must have one entry per sample ({n}), got shape {s.shape}")
    if np.any(s < 0):
        raise ValueError(f"`{name}` must be non-negative, found {float(s.min())!r}")
    return s


@dataclasses.dataclass(frozen=True, repr=False)
class NoisyDataset(Result):
    """A dataset whose sample ``i`` carries Gaussian noise of known level ``sigma_n[i]``.

    Attributes
    ----------
    y : ndarray of shape (n, ...)
        The observations ``x + sigma_n * eps`` (the only thing a learner sees).
    sigma_n : ndarray of shape (n,)
        Known per-sample noise standard deviations; 0 marks a clean sample.
    x : ndarray of shape (n, ...) or None
        The clean samples, kept for evaluation only (``None`` when unknown).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import NoisyDataset
    >>> ds = NoisyDataset(y=np.zeros((3, 2)), sigma_n=np.array([0.0, 0.5, 0.5]))
    >>> ds.n, ds.n_clean, ds.min_sigma
    (3, 1, 0.0)
    """

    y: np.ndarray
    sigma_n: np.ndarray
    x: np.ndarray | None = None

    def __post_init__(self) -> None:
        y = as_array(self.y, "y", min_rows=1)
        if y.ndim < 1:
            raise ValueError(f"`y` must have at least 1 dimension, got shape {y.shape}")
        s = _sigma_iv(self.sigma_n, y.shape[0])
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "sigma_n", s)
        if self.x is not None:
            x = as_array(self.x, "x")
            if x.shape != y.shape:
                raise ValueError(
                    f"`x` and `y` must have the same shape, got {x.shape} and {y.shape}"
                )
            object.__setattr__(self, "x", x)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.y.shape[0])

    @property
    def is_clean(self) -> np.ndarray:
        """Boolean mask of the clean samples (``sigma_n == 0``)."""
        return self.sigma_n == 0

    @property
    def n_clean(self) -> int:
        return int(self.is_clean.sum())

    @property
    def n_noisy(self) -> int:
        return self.n - self.n_clean

    @property
    def min_sigma(self) -> float:
        """Smallest noise level in the set (0 as soon as one sample is clean)."""
        return float(self.sigma_n.min())

    def subset(self, index: Any) -> NoisyDataset:
        """The samples selected by ``index`` (a mask or integer indices)."""
        idx = np.asarray(index)
        return NoisyDataset(
            y=self.y[idx], sigma_n=self.sigma_n[idx], x=None if self.x is None else self.x[idx]
        )

    def clean_only(self) -> NoisyDataset:
        """The clean samples only."""
        return self.subset(self.is_clean)

    def noisy_only(self) -> NoisyDataset:
        """The noisy samples only."""
        return self.subset(~self.is_clean)

    def oversample_clean(self, factor: int) -> NoisyDataset:
        r"""Repeat every clean sample ``factor`` times (noisy samples once).

        For training a diffusion model with the ambient loss on a small clean
        fraction: clean and noisy samples have the same minimiser
        :math:`E[x_0 \mid x_t]` wherever both supervise, so re-weighting them leaves
        the minimiser unchanged, while the clean samples -- the only ones that
        supervise :math:`\sigma_t < \min \sigma_n` -- appear more often in each
        minibatch.

        Examples
        --------
        >>> import numpy as np
        >>> from sciddm.ambient import corrupt
        >>> ds = corrupt(np.zeros((4, 1)), [0.0, 1.0, 1.0, 1.0], rng=0)
        >>> big = ds.oversample_clean(3)
        >>> big.n, big.n_clean
        (6, 3)
        """
        f = check_int(factor, "factor", lo=1, hi=10**6)
        idx = np.r_[np.arange(self.n), np.repeat(np.nonzero(self.is_clean)[0], f - 1)]
        return self.subset(idx)

    def as_tensors(self, *, dtype: Any = None, device: Any = "cpu") -> tuple[Any, Any]:
        """``(y, sigma_n)`` as torch tensors, the ``data`` of ``train_denoiser``."""
        import torch

        dtype = torch.float32 if dtype is None else dtype
        y = torch.as_tensor(self.y, dtype=dtype, device=device)
        s = torch.as_tensor(self.sigma_n, dtype=dtype, device=device)
        return y, s


def corrupt(x: Any, sigma_n: Any, *, rng: SeedLike = None) -> NoisyDataset:
    """Corrupt clean samples once with Gaussian noise of known per-sample level.

    Parameters
    ----------
    x : array_like of shape (n, ...)
        Clean samples.
    sigma_n : float or array_like of shape (n,)
        Noise standard deviation of each sample (0 keeps it clean).
    rng : numpy.random.Generator, int or None
        Seed of the single noise draw.

    Returns
    -------
    NoisyDataset
        ``y = x + sigma_n * eps`` with the clean ``x`` kept for evaluation.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import corrupt
    >>> ds = corrupt(np.zeros((4, 2)), [0.0, 0.0, 1.0, 1.0], rng=0)
    >>> ds.n_clean, ds.n_noisy, bool(np.all(ds.y[:2] == 0))
    (2, 2, True)
    """
    xa = as_array(x, "x", min_rows=1)
    if xa.ndim < 1:
        raise ValueError(f"`x` must have at least 1 dimension, got shape {xa.shape}")
    s = _sigma_iv(sigma_n, xa.shape[0])
    eps = as_generator(rng).standard_normal(xa.shape)
    y = xa + s.reshape((-1,) + (1,) * (xa.ndim - 1)) * eps
    return NoisyDataset(y=y, sigma_n=s, x=xa)


def make_clean_noisy(
    x: Any, *, clean_fraction: float, sigma: float, keep_noisy: bool = True, rng: SeedLike = None
) -> NoisyDataset:
    """A random ``clean_fraction`` of ``x`` kept clean, the rest noised at ``sigma``.

    Parameters
    ----------
    x : array_like of shape (n, ...)
        Clean samples.
    clean_fraction : float in [0, 1]
        Fraction of samples left clean (rounded to the nearest integer count).
    sigma : float >= 0
        Noise level of the other samples.
    keep_noisy : bool, default True
        ``False`` drops the noisy samples ("10 % clean only").
    rng : numpy.random.Generator, int or None
        Seeds the choice of clean samples and the single noise draw.

    Returns
    -------
    NoisyDataset

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import make_clean_noisy
    >>> ds = make_clean_noisy(np.zeros((10, 1)), clean_fraction=0.3, sigma=0.2, rng=0)
    >>> ds.n_clean, ds.n_noisy
    (3, 7)
    """
    xa = as_array(x, "x", min_rows=1)
    f = check_scalar(clean_fraction, "clean_fraction", lo=0.0, hi=1.0)
    sig = check_scalar(sigma, "sigma", lo=0.0)
    gen = as_generator(rng)
    n = xa.shape[0]
    n_clean = int(round(f * n))
    perm = gen.permutation(n)
    s = np.full(n, sig)
    s[perm[:n_clean]] = 0.0
    ds = corrupt(xa, s, rng=gen)
    if not keep_noisy:
        ds = ds.subset(np.sort(perm[:n_clean]))
    return ds


def paper_scenarios(
    x: Any, *, sigma: float, clean_fraction: float = 0.1, rng: SeedLike = None
) -> dict[str, NoisyDataset]:
    """The four training sets of the paper's table, from one pool of clean samples.

    The same clean subset and the same noise draw are shared by all four, so
    the scenarios differ only in which samples are used:

    - ``"100% clean"``: all of ``x``;
    - ``"100% noisy"``: all of ``x`` noised at ``sigma``;
    - ``"10% clean only"``: the clean subset alone;
    - ``"90% noisy + 10% clean"``: the clean subset plus the others noised.

    Parameters
    ----------
    x : array_like of shape (n, ...)
        The pool of clean samples.
    sigma : float
        Noise level of the noisy samples, ``> 0``.
    clean_fraction : float, default 0.1
        Fraction kept clean, in (0, 1] (at least one sample).
    rng : numpy.random.Generator, int or None
        Seeds the clean subset and the single noise draw.

    Returns
    -------
    dict of str to NoisyDataset
        Keyed by :data:`SCENARIOS`.

    References
    ----------
    .. [1] Daras, Cherapanamjeri, Daskalakis, ICLR 2025, Table 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import paper_scenarios
    >>> sc = paper_scenarios(np.zeros((20, 2)), sigma=0.5, rng=0)
    >>> [(k, v.n_clean, v.n_noisy) for k, v in sc.items()]
    [('100% clean', 20, 0), ('100% noisy', 0, 20), ('10% clean only', 2, 0), ('90% noisy + 10% clean', 2, 18)]
    """
    xa = as_array(x, "x", min_rows=1)
    f = check_scalar(clean_fraction, "clean_fraction", lo=0.0, hi=1.0, closed="right")
    sig = check_scalar(sigma, "sigma", lo=0.0, closed="neither")
    gen = as_generator(rng)
    n = xa.shape[0]
    n_clean = max(1, int(round(f * n)))
    clean_idx = np.zeros(n, dtype=bool)
    clean_idx[gen.permutation(n)[:n_clean]] = True
    noisy_all = corrupt(xa, sig, rng=gen)
    mixed_y = np.where(clean_idx.reshape((-1,) + (1,) * (xa.ndim - 1)), xa, noisy_all.y)
    mixed = NoisyDataset(y=mixed_y, sigma_n=np.where(clean_idx, 0.0, sig), x=xa)
    return {
        SCENARIOS[0]: NoisyDataset(y=xa, sigma_n=np.zeros(n), x=xa),
        SCENARIOS[1]: noisy_all,
        SCENARIOS[2]: mixed.subset(clean_idx),
        SCENARIOS[3]: mixed,
    }
