"""The heterogeneous Gaussian mixture of the ambient reproductions, and one seed of its table.

Daras et al. [1]_ compare four training sets — 100 % clean, 100 % noisy, 10 %
clean only, and 90 % noisy + 10 % clean — and find that the mixed set is
nearly as good as the clean one. :func:`heterogeneous_mixture` is a 2-D
mixture whose narrow component is the hard part to learn from noisy data
(its variance is far below the noise), :func:`sample_heterogeneous_mixture`
draws from it, and :func:`mixture_scenario_errors` fits
:class:`~sciddm.ambient.NoisyGaussianMixture` on each training set of one
seed and returns the errors of the fitted mixture. Tutorials, tests and the
``ambient.mixture-table`` reproduction share them.

References
----------
.. [1] Daras, Cherapanamjeri & Daskalakis, "How much is a noisy image worth?
   Data scaling laws for ambient diffusion", ICLR 2025, Table 1.

Examples
--------
>>> from sciddm.ambient.toys import heterogeneous_mixture
>>> w, m, c = heterogeneous_mixture(4)
>>> w.tolist(), c[:, 0, 0].tolist()
([0.25, 0.25, 0.25, 0.25], [0.01, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import warnings

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import ConvergenceWarning, check_int, check_scalar
from sciddm.ambient._checks import SCALE_CAP, mixture_iv
from sciddm.ambient._data import paper_scenarios
from sciddm.ambient._metrics import mixture_error
from sciddm.ambient._mixture import NoisyGaussianMixture

__all__ = ["heterogeneous_mixture", "mixture_scenario_errors", "sample_heterogeneous_mixture"]


def heterogeneous_mixture(
    k: int = 6, *, radius: float = 4.0, narrow: float = 0.01, wide: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""A 2-D mixture on a circle: one narrow component and ``k - 1`` wide ones.

    Component :math:`j` has weight :math:`1/k`, mean
    :math:`r(\cos(2\pi j/k), \sin(2\pi j/k))` and covariance :math:`s_j^2 I_2`
    with :math:`s_0^2 = ` ``narrow`` and :math:`s_j^2 = ` ``wide`` for :math:`j \ge 1`.

    Parameters
    ----------
    k : int, default 6
        Number of components.
    radius : float, default 4.0
        Radius :math:`r` of the circle of means.
    narrow, wide : float
        Variances of the first and of the other components.

    Returns
    -------
    weights : ndarray of shape (k,)
    means : ndarray of shape (k, 2)
    covariances : ndarray of shape (k, 2, 2)

    Examples
    --------
    >>> from sciddm.ambient.toys import heterogeneous_mixture
    >>> heterogeneous_mixture(3)[1].round(3).tolist()
    [[4.0, 0.0], [-2.0, 3.464], [-2.0, -3.464]]
    """
    k = check_int(k, "k", lo=1, hi=10**6)
    radius = check_scalar(radius, "radius", lo=0.0, hi=SCALE_CAP)
    narrow = check_scalar(narrow, "narrow", lo=0.0, hi=SCALE_CAP, closed="right")
    wide = check_scalar(wide, "wide", lo=0.0, hi=SCALE_CAP, closed="right")
    ang = np.arange(k) * 2 * np.pi / k
    means = radius * np.c_[np.cos(ang), np.sin(ang)]
    s2 = np.r_[narrow, np.full(k - 1, wide)]
    return np.full(k, 1.0 / k), means, s2[:, None, None] * np.eye(2)


def sample_heterogeneous_mixture(
    mixture: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, *, rng: SeedLike = None
) -> np.ndarray:
    """Draw ``n`` points from a mixture of isotropic Gaussians.

    Parameters
    ----------
    mixture : (weights, means, covariances)
        As returned by :func:`heterogeneous_mixture` (covariances isotropic).
    n : int
        Number of points.
    rng : numpy.random.Generator, int or None
        Random source (SPEC 7).

    Returns
    -------
    ndarray of shape (n, d)

    Examples
    --------
    >>> from sciddm.ambient.toys import heterogeneous_mixture, sample_heterogeneous_mixture
    >>> sample_heterogeneous_mixture(heterogeneous_mixture(), 5, rng=0).shape
    (5, 2)
    """
    n = check_int(n, "n", lo=0, hi=10**8)
    w, m, c = mixture_iv(mixture, "mixture")
    if not np.allclose(c, c[:, :1, :1] * np.eye(m.shape[1]), atol=1e-12):
        raise ValueError("`mixture` covariances must be isotropic (s^2 I)")
    w = w / w.sum()
    g = as_generator(rng)
    comp = g.choice(len(w), size=n, p=w)
    return m[comp] + np.sqrt(c[comp, 0, 0])[:, None] * g.standard_normal((n, m.shape[1]))


def mixture_scenario_errors(
    n: int, sigma: float, k: int = 6, n_init: int = 1, *, rng: SeedLike = None
) -> dict[str, float]:
    """One seed of the ambient mixture table: fit each training set and score the fit.

    Draws ``n`` points of :func:`heterogeneous_mixture` ``(k)``, builds the four
    training sets of :func:`~sciddm.ambient.paper_scenarios` with noise level
    ``sigma``, fits :class:`~sciddm.ambient.NoisyGaussianMixture` with the
    known per-sample noise, and measures :func:`~sciddm.ambient.mixture_error`.

    Parameters
    ----------
    n : int
        Size of the pool of clean samples.
    sigma : float
        Noise standard deviation of the noisy samples.
    k : int, default 6
        Components of the true mixture and of the fit.
    n_init : int, default 1
        EM restarts.
    rng : numpy.random.Generator, int or None
        Random source (SPEC 7).

    Returns
    -------
    dict
        ``"rel|<scenario>"``: relative parameter error, and ``"w2|<scenario>"``:
        the mixture Wasserstein-2 distance, for each scenario of
        :data:`~sciddm.ambient.SCENARIOS`.

    Examples
    --------
    >>> from sciddm.ambient.toys import mixture_scenario_errors
    >>> out = mixture_scenario_errors(600, 0.5, k=3, rng=0)
    >>> sorted(out)[:2]
    ['rel|10% clean only', 'rel|100% clean']
    """
    k = check_int(k, "k", lo=1, hi=1000)
    n = check_int(n, "n", lo=1, hi=10**7)
    if n < 2 * k:
        raise ValueError(f"`n` ({n}) must be at least 2 `k` ({2 * k}): two points per component")
    sigma = check_scalar(sigma, "sigma", lo=0.0, hi=1e6, closed="right")
    n_init = check_int(n_init, "n_init", lo=1, hi=1000)
    g = as_generator(rng)
    mix = heterogeneous_mixture(k)
    x = sample_heterogeneous_mixture(mix, n, rng=g)
    out: dict[str, float] = {}
    for name, ds in paper_scenarios(x, sigma=sigma, rng=g).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm = NoisyGaussianMixture(k, n_init=n_init, tol=1e-7, max_iter=500, random_state=g).fit(
                ds.y, sigma_n=ds.sigma_n
            )
        err = mixture_error(mix, (gm.weights_, gm.means_, gm.covariances_))
        out[f"rel|{name}"] = err.relative_error
        out[f"w2|{name}"] = err.w2
    return out
