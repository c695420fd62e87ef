r"""One-dimensional orthonormal families and exact sampling from :math:`p_k^2\,d\mu`.

Every family is orthonormal in :math:`L^2(\mu)` for its probability measure
:math:`\mu` and is evaluated by its three-term recurrence (never a Vandermonde
matrix):

.. math:: t\,p_k(t) = \sqrt{b_{k+1}}\,p_{k+1}(t) + a_k\,p_k(t) + \sqrt{b_k}\,p_{k-1}(t),
          \qquad p_0 = 1.

``sample_squared(k, size, rng=...)`` draws exactly from the density
:math:`p_k^2\,d\mu`, the building block of the optimal (Christoffel) sampler: by
rejection from the arcsine law with the Chow-Gatteschi-Wong envelope for Jacobi
weights with :math:`|\alpha|, |\beta| \le 1/2`, by rejection from the uniform law
(bound 2) for the trigonometric system, and otherwise by inverting a CDF
computed to machine precision (closed form for Hermite, Gauss quadrature on
:math:`[lo, x]` for the other Jacobi weights and for Laguerre) with a
safeguarded Newton iteration.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int

from ._guards import check_size
from ._measures import BetaMeasure, GammaMeasure, GaussianMeasure, UniformMeasure, _Measure1D
from ._rejection import ProposalBudgetError, _inverse_cdf, _rejection, _rejection_many

#: highest degree a family evaluates or samples (far beyond any least-squares basis)
MAX_DEGREE = 10_000

__all__ = [
    "Chebyshev",
    "Family",
    "Hermite",
    "Jacobi",
    "Laguerre",
    "Legendre",
    "ProposalBudgetError",
    "Trigonometric",
]


class Family:
    r"""Base class: a one-dimensional :math:`L^2(\mu)`-orthonormal family :math:`p_0, p_1, \dots`.

    A family knows its probability measure :math:`\mu` (``measure``), evaluates
    :math:`p_0, \dots, p_K` by its three-term recurrence, and draws exactly from
    :math:`p_k^2\,d\mu`. Subclasses: :class:`Legendre`, :class:`Chebyshev`,
    :class:`Jacobi`, :class:`Hermite`, :class:`Laguerre`, :class:`Trigonometric`.

    Attributes
    ----------
    measure : Measure
        The one-dimensional probability measure :math:`\mu`.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Family, Hermite
    >>> fam = Hermite()
    >>> isinstance(fam, Family), fam(np.array([0.0, 1.0]), 2).shape
    (True, (2, 3))
    """

    measure: _Measure1D

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        r"""Coefficients of the monic three-term recurrence.

        Parameters
        ----------
        K : int
            Highest degree needed.

        Returns
        -------
        a, b : ndarray of shape (K + 2,)
            :math:`a_0, \dots, a_{K+1}` and :math:`b_0, \dots, b_{K+1}`
            (:math:`b_0` unused).
        """
        raise NotImplementedError

    def eval_std(self, t: np.ndarray, K: int) -> np.ndarray:
        r"""Values of :math:`p_0, \dots, p_K` at points of the standard variable.

        Parameters
        ----------
        t : array_like
            Points in the standard variable (e.g. :math:`[-1, 1]` for Jacobi).
        K : int
            Highest degree.

        Returns
        -------
        ndarray of shape (len(t), K + 1)
            Column ``k`` holds :math:`p_k(t)`.
        """
        t = check_array(t, "t", ndim=None, finite=False).ravel()
        if not np.all(np.isfinite(t)):
            raise ValueError("`t` must not contain NaN or inf")
        K = check_int(K, "K", lo=0, hi=MAX_DEGREE)
        check_size(t.size, "K", per_item=K + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            P = self._eval(t, K)
        if not np.all(np.isfinite(P)):
            raise ValueError("`t` is too large: the polynomials overflow float64 there")
        return P

    def _recurrence(self, t: np.ndarray, K: int, table: bool) -> np.ndarray:
        r"""The three-term recurrence at ``t`` up to degree ``K``: all of
        :math:`p_0, \dots, p_K` as the rows of a ``(K + 1, len(t))`` C array
        (``table``), or :math:`p_K` alone, kept on two running vectors; the same
        operations, so the same values, either way."""
        t = np.asarray(t, float).ravel()
        a, b = self.recurrence(K)
        sb = np.sqrt(b)
        P = np.empty((K + 1, t.size)) if table else None
        prev = np.ones(t.size)
        cur = prev if K == 0 else (t - a[0]) / sb[1]
        if P is not None:
            P[0] = prev
            if K >= 1:
                P[1] = cur
        for k in range(1, K):
            prev, cur = cur, ((t - a[k]) * cur - sb[k] * prev) / sb[k + 1]
            if P is not None:
                P[k + 1] = cur
        return cur if P is None else P

    def _eval(self, t: np.ndarray, K: int) -> np.ndarray:
        """:meth:`eval_std` without validation: ``(len(t), K + 1)``, one column per degree."""
        return np.ascontiguousarray(self._recurrence(t, K, table=True).T)

    def _eval_one(self, t: np.ndarray, k: int) -> np.ndarray:
        """``_eval(t, k)[:, k]`` alone (the samplers' densities and CDFs), without the
        table of lower degrees."""
        if type(self)._eval is not Family._eval:
            return self._eval(t, k)[:, k]
        return self._recurrence(t, k, table=False)

    def _eval_rows(self, t: np.ndarray, K: int) -> np.ndarray:
        """:meth:`_eval` transposed, ``(K + 1, len(t))`` in C order (one row per degree,
        the layout of the tensor basis's tables)."""
        if type(self)._eval is not Family._eval:
            return np.ascontiguousarray(self._eval(t, K).T)
        return self._recurrence(t, K, table=True)

    def __call__(self, x: Any, K: int) -> np.ndarray:
        r"""Values of :math:`p_0, \dots, p_K` at points ``x`` (original variable).

        Parameters
        ----------
        x : array_like
            Points.
        K : int
            Highest degree.

        Returns
        -------
        ndarray of shape (len(x), K + 1)
        """
        x = check_array(x, "x", ndim=None, finite=False).ravel()
        if not np.all(np.isfinite(x)):
            raise ValueError("`x` must not contain NaN or inf")
        K = check_int(K, "K", lo=0, hi=MAX_DEGREE)
        check_size(x.size, "K", per_item=K + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            P = self._eval(self.measure.to_standard(x), K)
        if not np.all(np.isfinite(P)):
            raise ValueError("`x` is too large: the polynomials overflow float64 there")
        return P

    # -- exact sampling from p_k^2 dmu ---------------------------------------------------
    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _std_bracket(self, k: int) -> tuple[float, float]:  # pragma: no cover
        raise NotImplementedError

    def _std_density(self, k: int, t: np.ndarray) -> np.ndarray:
        p = self._eval_one(t, k)
        return p * p * self.measure.std_pdf(t)  # type: ignore[attr-defined]

    def _std_sample_squared(
        self, k: int, size: int, g: np.random.Generator, budget: int
    ) -> np.ndarray:
        u = g.random(size)
        lo, hi = self._std_bracket(k)
        return _inverse_cdf(
            lambda t, i: self._std_cdf(k, t), lambda t, i: self._std_density(k, t), u, lo, hi
        )

    def sample_squared_many(
        self, ks: Any, *, rng: SeedLike = None, budget: int | None = None
    ) -> np.ndarray:
        r"""One point from :math:`p_{k_i}^2\,d\mu` for each degree :math:`k_i` in ``ks``.

        The draws are independent and in the order of ``ks``; rejection
        samplers treat all degrees in one vectorised loop.

        Parameters
        ----------
        ks : array_like of int
            Degrees (non-negative).
        rng : numpy.random.Generator, int or None
            Random source.
        budget : int, optional
            Proposal budget of a rejection sampler (default ``1000 len(ks) + 10000``).

        Returns
        -------
        ndarray of shape (len(ks),)
            The points, in the original variable.

        Raises
        ------
        ProposalBudgetError
            When a rejection sampler exceeds ``budget``.

        Examples
        --------
        >>> from sciddm.leastsquares import Legendre
        >>> Legendre().sample_squared_many([0, 3, 3], rng=0).shape
        (3,)
        """
        ks = check_array(ks, "ks", ndim=(0, 1), dtype=None).ravel()
        if ks.dtype.kind not in "iuf" or (ks.dtype.kind == "f" and not np.all(ks == np.round(ks))):
            raise ValueError("`ks` must hold integer degrees")
        ks = ks.astype(int)
        if np.any(ks < 0) or np.any(ks > MAX_DEGREE):
            raise ValueError(f"`ks` must hold degrees in [0, {MAX_DEGREE}], got {ks.tolist()[:5]}")
        check_size(ks.size, "ks", per_item=1)
        g = as_generator(rng)
        budget = 1000 * ks.size + 10_000 if budget is None else check_int(budget, "budget", lo=1)
        out = np.empty(ks.size)
        zero = ks == 0
        out[zero] = self.measure.sample(int(zero.sum()), rng=g)[:, 0]
        rest = np.flatnonzero(~zero)
        if rest.size:
            out[rest] = self.measure.from_standard(self._std_many(ks[rest], g, budget))
        return out

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        out = np.empty(ks.size)
        for k in np.unique(ks):
            sel = np.flatnonzero(ks == k)
            out[sel] = self._std_sample_squared(int(k), sel.size, g, budget)
        return out

    def sample_squared(
        self, k: int, size: int, *, rng: SeedLike = None, budget: int | None = None
    ) -> np.ndarray:
        r"""Draw ``size`` i.i.d. points from the density :math:`p_k(x)^2\,d\mu(x)`.

        Parameters
        ----------
        k : int
            Degree.
        size : int
            Number of points.
        rng : numpy.random.Generator, int or None
            Random source.
        budget : int, optional
            Maximal number of proposals of a rejection sampler
            (default ``1000 * size + 10_000``); exceeding it raises
            :class:`ProposalBudgetError`.

        Returns
        -------
        ndarray of shape (size,)
            The points, in the original variable.

        Examples
        --------
        >>> import numpy as np
        >>> from sciddm.leastsquares import Hermite
        >>> x = Hermite().sample_squared(2, 20000, rng=0)
        >>> bool(abs(np.mean(x**2) - 5) < 0.2)   # E[x^2] = 2k + 1 under h_k^2 dN(0, 1)
        True
        """
        k = check_int(k, "k", lo=0, hi=MAX_DEGREE)
        size = check_int(size, "size", lo=0)
        check_size(size, "size", per_item=1)
        g = as_generator(rng)
        budget = 1000 * size + 10_000 if budget is None else check_int(budget, "budget", lo=1)
        if size == 0:
            return np.empty(0)
        if k == 0:
            return self.measure.sample(size, rng=g)[:, 0]
        t = self._std_sample_squared(k, size, g, budget)
        return self.measure.from_standard(t)


class Jacobi(Family):
    r"""Orthonormal Jacobi polynomials for :class:`BetaMeasure` :math:`(\alpha, \beta)`.

    Parameters
    ----------
    alpha, beta : float, default 0.0
        Exponents of the Jacobi weight :math:`(1-t)^\alpha (1+t)^\beta`, both
        :math:`> -1`.
    low, high : float, default -1.0, 1.0
        The interval.

    Attributes
    ----------
    measure : BetaMeasure
        The orthogonality measure.
    alpha, beta : float
        The exponents.

    Notes
    -----
    Monic recurrence coefficients (Gautschi 2004, Table 1.1), with
    :math:`s = 2n + \alpha + \beta`:

    .. math::
        a_n = \frac{\beta^2 - \alpha^2}{s(s + 2)}, \quad
        a_0 = \frac{\beta - \alpha}{\alpha + \beta + 2}, \quad
        b_n = \frac{4n(n+\alpha)(n+\beta)(n+\alpha+\beta)}{s^2(s+1)(s-1)}, \quad
        b_1 = \frac{4(1+\alpha)(1+\beta)}{(2+\alpha+\beta)^2(3+\alpha+\beta)}.

    For :math:`|\alpha|, |\beta| \le 1/2`, :math:`p_k^2\,d\mu` is sampled by
    rejection from the arcsine law with the bound of Chow, Gatteschi and Wong
    (1994) as given by Gautschi (2009), with :math:`q = \max(\alpha, \beta)`,

    .. math::
        \pi (1-t)^{\alpha+1/2}(1+t)^{\beta+1/2}\,\tilde p_k(t)^2 \le
        \frac{2\,\Gamma(k+\alpha+\beta+1)\,\Gamma(k+q+1)}
             {k!\,(k+(\alpha+\beta+1)/2)^{2q}\,\Gamma(k+\min(\alpha,\beta)+1)},

    the bound DPPy uses.

    References
    ----------
    .. [1] W. Gautschi, *Orthogonal Polynomials: Computation and Approximation*, 2004.
    .. [2] Y. Chow, L. Gatteschi, R. Wong, "A Bernstein-type inequality for the Jacobi
       polynomial", Proc. AMS 121 (1994).
    .. [3] W. Gautschi, "How sharp is Bernstein's inequality for Jacobi polynomials?",
       ETNA 36 (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Jacobi
    >>> fam = Jacobi(0.5, -0.5)
    >>> t, w = fam.measure.quadrature(10)
    >>> P = fam(t[:, 0], 4)
    >>> bool(np.allclose(P.T @ (w[:, None] * P), np.eye(5)))
    True
    """

    def __init__(
        self, alpha: float = 0.0, beta: float = 0.0, low: float = -1.0, high: float = 1.0
    ) -> None:
        self.measure: BetaMeasure = BetaMeasure(alpha, beta, low, high)
        self.alpha, self.beta = self.measure.alpha, self.measure.beta

    def __repr__(self) -> str:
        m = self.measure
        return f"Jacobi(alpha={self.alpha:g}, beta={self.beta:g}, low={m.low:g}, high={m.high:g})"

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        al, be = self.alpha, self.beta
        n = np.arange(K + 2, dtype=float)
        s = 2 * n + al + be
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (be * be - al * al) / (s * (s + 2))
            b = 4 * n * (n + al) * (n + be) * (n + al + be) / (s * s * (s + 1) * (s - 1))
        a[0] = (be - al) / (al + be + 2)
        b[0] = 0.0
        if K + 2 > 1:
            b[1] = 4 * (1 + al) * (1 + be) / ((2 + al + be) ** 2 * (3 + al + be))
        return a, b

    def _cgw_bound(self, k: int) -> float:
        al, be = self.alpha, self.beta
        q, mn = max(al, be), min(al, be)
        logc = (
            math.log(2.0)
            + special.gammaln(k + al + be + 1)
            + special.gammaln(k + q + 1)
            - special.gammaln(k + 1)
            - 2 * q * math.log(k + (al + be + 1) / 2)
            - special.gammaln(k + mn + 1)
        )
        return float(math.exp(logc))

    def _std_sample_squared(
        self, k: int, size: int, g: np.random.Generator, budget: int
    ) -> np.ndarray:
        al, be = self.alpha, self.beta
        if abs(al) <= 0.5 and abs(be) <= 0.5:
            bound = self._cgw_bound(k)

            def ratio(t: np.ndarray) -> np.ndarray:
                p = self._eval_one(t, k)
                return math.pi * p * p * self.measure.std_pdf(t) * np.sqrt((1 - t) * (1 + t))

            return _rejection(
                lambda n: np.cos(math.pi * g.random(n)), ratio, bound, size, g, budget
            )
        return super()._std_sample_squared(k, size, g, budget)

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        if not (abs(self.alpha) <= 0.5 and abs(self.beta) <= 0.5):
            return super()._std_many(ks, g, budget)
        bounds, inv_h = self._rejection_tables(int(ks.max()))
        al, be = self.alpha, self.beta

        # scipy evaluates P_k^{(alpha, beta)} by its three-term recurrence in C; for
        # alpha = beta = 0 it is P_k itself, which eval_legendre computes 2.4x faster
        evaluate = (
            (lambda kk, t: special.eval_legendre(kk, t))
            if al == 0 and be == 0
            else (lambda kk, t: special.eval_jacobi(kk, al, be, t))
        )

        # the uniform density is one constant inside (-1, 1), and the factor
        # sqrt((1 - t)(1 + t)) vanishes at the ends where std_pdf is 0: its value there
        # (the same float) spares two logarithms and an exponential per proposal
        flat = float(self.measure.std_pdf(np.zeros(1))[0]) if al == 0 and be == 0 else None

        def ratio(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
            kk = ks[idx]
            P = evaluate(kk, t)
            pdf = self.measure.std_pdf(t) if flat is None else flat
            return math.pi * P * P * inv_h[kk] * pdf * np.sqrt((1 - t) * (1 + t))

        return _rejection_many(
            lambda n: np.cos(math.pi * g.random(n)), ratio, bounds[ks], g, budget
        )

    def _rejection_tables(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        """Envelope bounds and inverse squared norms of degrees 0..K (cached per K: the
        i.i.d. sampler asks for the same tables at every call)."""
        cache = self.__dict__.setdefault("_tables", {})
        if K in cache:
            return cache[K]
        bounds = np.array([self._cgw_bound(k) if k > 0 else 1.0 for k in range(K + 1)])
        al, be = self.alpha, self.beta
        kr = np.arange(1, K + 1)
        # squared norms of scipy's P_k^{(alpha, beta)} under the normalised measure
        log_h = (
            special.gammaln(kr + al + 1)
            + special.gammaln(kr + be + 1)
            - np.log(2 * kr + al + be + 1)
            - special.gammaln(kr + al + be + 1)
            - special.gammaln(kr + 1)
            - special.betaln(al + 1, be + 1)
        )
        inv_h = np.concatenate([[1.0], np.exp(-log_h)])
        if len(cache) < 64:
            cache[K] = (bounds, inv_h)
        return bounds, inv_h

    def _std_bracket(self, k: int) -> tuple[float, float]:
        return -1.0, 1.0

    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        out = np.empty_like(t)
        left = t <= 0
        out[left] = self._left_cdf(k, t[left], self.alpha, self.beta, 1.0)
        out[~left] = 1.0 - self._left_cdf(k, -t[~left], self.beta, self.alpha, -1.0)
        return np.clip(out, 0.0, 1.0)

    def _left_cdf(self, k: int, x: np.ndarray, al: float, be: float, sign: float) -> np.ndarray:
        # ∫_{-1}^{x} p_k(sign*t)^2 c (1-t)^al (1+t)^be dt for x <= 0, via t = -1 + (x+1)(1+s)/2
        if x.size == 0:
            return x
        s, w = special.roots_jacobi(k + 30, 0.0, be)
        h = (x + 1) / 2
        tt = -1 + h[:, None] * (1 + s[None, :])
        p = self._eval_one(sign * tt.ravel(), k).reshape(tt.shape)
        logc = (al + be + 1) * math.log(2.0) + special.betaln(al + 1, be + 1)
        with np.errstate(divide="ignore"):
            pref = np.exp((be + 1) * np.log(h) - logc)
        return pref * ((p * p * (1 - tt) ** al) @ w)


class Legendre(Jacobi):
    r"""Orthonormal Legendre polynomials for the uniform measure on :math:`[low, high]`.

    :math:`p_k = \sqrt{2k+1}\,P_k` in the standard variable, with :math:`P_k`
    the classical Legendre polynomial.

    Parameters
    ----------
    low, high : float, default -1.0, 1.0
        The interval.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre
    >>> np.round(Legendre()([1.0], 2), 6).tolist()   # sqrt(2k + 1) at t = 1
    [[1.0, 1.732051, 2.236068]]
    """

    def __init__(self, low: float = -1.0, high: float = 1.0) -> None:
        super().__init__(0.0, 0.0, low, high)
        self.measure = UniformMeasure(low, high)

    def __repr__(self) -> str:
        return f"Legendre(low={self.measure.low:g}, high={self.measure.high:g})"


class Chebyshev(Jacobi):
    r"""Orthonormal Chebyshev polynomials (first kind) for the arcsine measure.

    :math:`p_0 = 1` and :math:`p_k(\cos\theta) = \sqrt 2 \cos(k\theta)`.

    Parameters
    ----------
    low, high : float, default -1.0, 1.0
        The interval.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Chebyshev
    >>> th = 0.3
    >>> bool(np.isclose(Chebyshev()([np.cos(th)], 3)[0, 3], np.sqrt(2) * np.cos(3 * th)))
    True
    """

    def __init__(self, low: float = -1.0, high: float = 1.0) -> None:
        super().__init__(-0.5, -0.5, low, high)

    def __repr__(self) -> str:
        return f"Chebyshev(low={self.measure.low:g}, high={self.measure.high:g})"


class Hermite(Family):
    r"""Orthonormal (probabilists') Hermite polynomials for :class:`GaussianMeasure`.

    Parameters
    ----------
    mean : float, default 0.0
        Mean of the Gaussian measure.
    std : float, default 1.0
        Standard deviation (positive).

    Attributes
    ----------
    measure : GaussianMeasure
        The orthogonality measure.

    Notes
    -----
    Recurrence :math:`a_k = 0`, :math:`b_k = k`. The CDF of :math:`h_k^2\,dN(0, 1)`
    has the closed form

    .. math:: G_k(t) = \Phi(t) - \varphi(t) \sum_{j=1}^{k} \frac{h_j(t)\,h_{j-1}(t)}{\sqrt j},

    which follows from :math:`\frac{d}{dt}[\psi_j \psi_{j-1}] = \sqrt j\,
    (\psi_{j-1}^2 - \psi_j^2)` for the Hermite functions
    :math:`\psi_j = h_j \sqrt{\varphi}`; it has no cancellation, and is inverted
    by Newton's method (using :math:`G_k(t) = 1 - G_k(-t)` for :math:`t > 0`).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Hermite
    >>> np.round(Hermite()([2.0], 2), 6).tolist()   # 1, t, (t^2 - 1)/sqrt(2)
    [[1.0, 2.0, 2.12132]]
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        self.measure: GaussianMeasure = GaussianMeasure(mean, std)

    def __repr__(self) -> str:
        return f"Hermite(mean={self.measure.shift:g}, std={self.measure.scale:g})"

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        n = np.arange(K + 2, dtype=float)
        return np.zeros(K + 2), n

    def _std_bracket(self, k: int) -> tuple[float, float]:
        L = math.sqrt(4 * k + 2) + 40.0
        return -L, L

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        # one Newton iteration for all degrees at once: the CDF terms are cumulated
        # up to max(ks) and read off at each point's own degree
        u = g.random(ks.size)
        lo, hi = self._std_bracket(int(ks.max()))
        return _inverse_cdf(
            lambda t, i: self._cdf_mixed(ks[i], t),
            lambda t, i: self._density_mixed(ks[i], t),
            u,
            lo,
            hi,
            t0=special.ndtri(u) * np.sqrt(2 * ks + 1.0),  # h_k^2 dN has variance 2k + 1
        )

    def _cdf_mixed(self, kk: np.ndarray, t: np.ndarray) -> np.ndarray:
        s = -np.abs(t)
        K = int(kk.max())
        P = self._eval_rows(s, K)  # one row per degree: contiguous products and sums
        csum = np.zeros((K + 1, s.size))
        np.cumsum(P[1:] * P[:-1] / np.sqrt(np.arange(1, K + 1))[:, None], axis=0, out=csum[1:])
        corr = csum[kk, np.arange(s.size)]
        G = special.ndtr(s) - np.exp(-0.5 * s * s) / math.sqrt(2 * math.pi) * corr
        G = np.clip(G, 0.0, 1.0)
        return np.where(t <= 0, G, 1.0 - G)

    def _density_mixed(self, kk: np.ndarray, t: np.ndarray) -> np.ndarray:
        P = self._eval_rows(t, int(kk.max()))
        p = P[kk, np.arange(t.size)]
        return p * p * self.measure.std_pdf(t)

    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        s = -np.abs(t)
        P = self._eval(s, k)
        j = np.arange(1, k + 1)
        corr = (P[:, 1:] * P[:, :-1] / np.sqrt(j)).sum(axis=1)
        G = special.ndtr(s) - np.exp(-0.5 * s * s) / math.sqrt(2 * math.pi) * corr
        G = np.clip(G, 0.0, 1.0)
        return np.where(t <= 0, G, 1.0 - G)


class Laguerre(Family):
    r"""Orthonormal (generalised) Laguerre polynomials for :class:`GammaMeasure` :math:`(\alpha)`.

    Parameters
    ----------
    alpha : float, default 0.0
        Exponent of the weight :math:`t^\alpha e^{-t}`, :math:`> -1`.
    scale : float, default 1.0
        Scale of the variable (positive).

    Attributes
    ----------
    measure : GammaMeasure
        The orthogonality measure.
    alpha : float
        The exponent.

    Notes
    -----
    Monic recurrence :math:`a_k = 2k + \alpha + 1`, :math:`b_k = k(k + \alpha)`.
    The CDF of :math:`p_k^2\,d\mu` is computed by Gauss-Jacobi quadrature on
    :math:`[0, x]` (weight :math:`s^\alpha`) for :math:`x` below
    :math:`2k + \alpha + 1` and by Gauss-Laguerre quadrature of the upper tail
    beyond it.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Laguerre
    >>> fam = Laguerre(0.5)
    >>> t, w = fam.measure.quadrature(8)
    >>> P = fam(t[:, 0], 3)
    >>> bool(np.allclose(P.T @ (w[:, None] * P), np.eye(4)))
    True
    """

    def __init__(self, alpha: float = 0.0, scale: float = 1.0) -> None:
        self.measure: GammaMeasure = GammaMeasure(alpha, scale)
        self.alpha = self.measure.alpha

    def __repr__(self) -> str:
        return f"Laguerre(alpha={self.alpha:g}, scale={self.measure.scale:g})"

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        n = np.arange(K + 2, dtype=float)
        return 2 * n + self.alpha + 1, n * (n + self.alpha)

    def _std_bracket(self, k: int) -> tuple[float, float]:
        return 0.0, 4.0 * k + 2 * self.alpha + 120.0

    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        al = self.alpha
        split = 2 * k + al + 1
        out = np.empty_like(t)
        lg = special.gammaln(al + 1)
        left = t <= split
        x = t[left]
        if x.size:
            s, w = special.roots_jacobi(2 * k + 40, 0.0, al)
            tt = x[:, None] * (1 + s[None, :]) / 2
            p = self._eval_one(tt.ravel(), k).reshape(tt.shape)
            with np.errstate(divide="ignore"):
                pref = np.exp((al + 1) * np.log(x / 2) - lg)
            out[left] = pref * ((p * p * np.exp(-tt)) @ w)
        x = t[~left]
        if x.size:
            u, w = special.roots_laguerre(2 * k + 40)
            tt = x[:, None] + u[None, :]
            p = self._eval_one(tt.ravel(), k).reshape(tt.shape)
            tail = np.exp(-x - lg) * ((p * p * tt**al) @ w)
            out[~left] = 1.0 - tail
        return np.clip(out, 0.0, 1.0)


class Trigonometric(Family):
    r"""Orthonormal trigonometric system on :math:`[low, high]` with the uniform measure.

    With :math:`u = (x - low)/(high - low)`: :math:`p_0 = 1`,
    :math:`p_{2j-1} = \sqrt 2 \cos(2\pi j u)`, :math:`p_{2j} = \sqrt 2 \sin(2\pi j u)`.
    Since :math:`p_k^2 \le 2`, :math:`p_k^2\,d\mu` is sampled by rejection from
    :math:`\mu` with bound 2.

    Parameters
    ----------
    low, high : float, default 0.0, 1.0
        The period interval.

    Attributes
    ----------
    measure : UniformMeasure
        The orthogonality measure.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Trigonometric
    >>> fam = Trigonometric()
    >>> x = (np.arange(16) + 0.5) / 16
    >>> P = fam(x, 4)
    >>> bool(np.allclose(P.T @ P / 16, np.eye(5)))
    True
    """

    def __init__(self, low: float = 0.0, high: float = 1.0) -> None:
        self.measure: UniformMeasure = UniformMeasure(low, high)

    def __repr__(self) -> str:
        return f"Trigonometric(low={self.measure.low:g}, high={self.measure.high:g})"

    def _eval(self, t: np.ndarray, K: int) -> np.ndarray:
        u = (np.asarray(t, float).ravel() + 1) / 2
        P = np.empty((u.size, K + 1))
        P[:, 0] = 1.0
        j = np.arange(1, K // 2 + 2)
        ang = 2 * math.pi * u[:, None] * j[None, :]
        c, s = math.sqrt(2) * np.cos(ang), math.sqrt(2) * np.sin(ang)
        P[:, 1::2] = c[:, : (K + 1) // 2]
        P[:, 2::2] = s[:, : K // 2]
        return P

    def _std_sample_squared(
        self, k: int, size: int, g: np.random.Generator, budget: int
    ) -> np.ndarray:
        def ratio(t: np.ndarray) -> np.ndarray:
            p = self._eval_one(t, k)
            return p * p

        return _rejection(lambda n: 2 * g.random(n) - 1, ratio, 2.0, size, g, budget)

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        def ratio(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
            kk = ks[idx]
            P = self._eval(t, int(kk.max()))
            p = P[np.arange(t.size), kk]
            return p * p

        return _rejection_many(
            lambda n: 2 * g.random(n) - 1, ratio, np.full(ks.size, 2.0), g, budget
        )


def _family_iv(family: Any, name: str = "family") -> Family:
    if isinstance(family, Family):
        return family
    if isinstance(family, str):
        table = {
            "legendre": Legendre,
            "chebyshev": Chebyshev,
            "hermite": Hermite,
            "laguerre": Laguerre,
            "trigonometric": Trigonometric,
            "jacobi": Jacobi,
        }
        key = family.lower()
        if key in table:
            return table[key]()
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, table))}, got {family!r}")
    raise ValueError(f"`{name}` must be a Family or a family name, got {family!r}")
