r"""The exact output law of a sampler run with the exact denoiser of Gaussian data.

For data :math:`x_0 \sim N(\mu, \Sigma)`, :math:`\Sigma = U\operatorname{diag}(\lambda)U^\top`,
the exact denoiser is affine, :math:`D(x, \sigma) - \mu = U\operatorname{diag}(a(\sigma))
U^\top(x - \mu)` with :math:`a_k(\sigma) = \lambda_k/(\lambda_k + \sigma^2)`, and every
step of every sampler of :mod:`sciddm.diffusion` is an affine combination of
:math:`x` and :math:`D` (coefficients summing to one) plus, for the stochastic
ones, independent Gaussian noise. In the coordinates :math:`y_k = u_k^\top(x - \mu)`
a sampler is therefore a scalar recursion per eigenvalue,

.. math::

    y_k^{out} = C_k\, y_k^{T} + \sqrt{V_k}\,\xi_k, \qquad \xi_k \sim N(0, 1),

and started from :math:`x_T = \sigma_T z`, :math:`z \sim N(0, I)` (mean
:math:`-u_k^\top\mu` and variance :math:`\sigma_T^2` for :math:`y_k^T`), its output is
:math:`N(\mu - U\operatorname{diag}(C)U^\top\mu,\; U\operatorname{diag}(C^2\sigma_T^2 + V)
U^\top)` exactly. Directions outside the range of a low-rank :math:`U` are the
eigenvalue 0 (:math:`a = 0`). The 2-Wasserstein distance to the data law is then
closed form because the two covariances commute:

.. math::

    W_2^2 = \sum_k C_k^2 (u_k^\top\mu)^2
    + \Big(\sqrt{C_k^2\sigma_T^2 + V_k} - \sqrt{\lambda_k}\Big)^2 .
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.validation import check_array, check_choice, check_psd, check_scalar
from sciddm.diffusion._schedules import check_sigmas
from sciddm.diffusion._solvers import check_plan, run_plan

__all__ = ["GaussianOutputLaw", "gaussian_output_law", "gaussian_w2"]

#: Options each sampler's closed form understands (the sampler's own keywords).
SAMPLER_OPTIONS: dict[str, tuple[str, ...]] = {
    "euler": ("s_churn", "s_tmin", "s_tmax", "s_noise"),
    "heun": ("s_churn", "s_tmin", "s_tmax", "s_noise"),
    "ddim": ("eta",),
    "ancestral": ("eta", "s_noise"),
    "dpmpp_2m": (),
}
#: The deterministic plan of each deterministic sampler (see :func:`sample_mixed`).
PLAN_OF = {"euler": "euler", "heun": "heun", "dpmpp_2m": "2m", "ddim": "euler"}


def gaussian_w2(mean1: Any, cov1: Any, mean2: Any, cov2: Any) -> float:
    r"""2-Wasserstein distance between two Gaussian laws.

    .. math::

        W_2^2 = \lVert m_1 - m_2\rVert^2 + \operatorname{tr}\Big(\Sigma_1 + \Sigma_2
        - 2\big(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}\big)^{1/2}\Big).

    Parameters
    ----------
    mean1, mean2 : array_like of shape (d,)
    cov1, cov2 : array_like of shape (d, d)
        Symmetric positive semi-definite.

    Returns
    -------
    float
        :math:`W_2` (not squared).

    References
    ----------
    .. [1] Dowson & Landau, "The Fréchet distance between multivariate normal
       distributions", J. Multivariate Anal. 12 (1982).

    Examples
    --------
    >>> from sciddm.diffusion import gaussian_w2
    >>> round(gaussian_w2([0.0, 0.0], [[1.0, 0.0], [0.0, 4.0]], [3.0, 0.0], [[4.0, 0.0], [0.0, 4.0]]), 6)
    3.162278
    """
    m1 = check_array(mean1, "mean1", ndim=1)
    m2 = check_array(mean2, "mean2", ndim=1)
    if m1.shape != m2.shape:
        raise ValueError(
            f"`mean1` and `mean2` must have the same shape, got {m1.shape}, {m2.shape}"
        )
    d = m1.size
    c1, c2 = check_psd(cov1, "cov1"), check_psd(cov2, "cov2")
    for name, c in (("cov1", c1), ("cov2", c2)):
        if c.shape != (d, d):
            raise ValueError(f"`{name}` must have shape ({d}, {d}), got {c.shape}")
    lam, U = np.linalg.eigh((c1 + c1.T) / 2)
    r1 = (U * np.sqrt(np.clip(lam, 0, None))) @ U.T
    M = r1 @ c2 @ r1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((M + M.T) / 2), 0, None)).sum()
    w2sq = float(((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * cross)
    return math.sqrt(max(w2sq, 0.0))


@dataclasses.dataclass(frozen=True, repr=False)
class GaussianOutputLaw(Result):
    r"""The exact law :math:`N(m, S)` of a sampler's output for Gaussian data.

    Attributes
    ----------
    mean : numpy.ndarray of shape (d,)
        :math:`m`.
    basis : numpy.ndarray of shape (d, d)
        Orthonormal eigenbasis shared by the data covariance and :math:`S`
        (the data's ``U`` completed by the orthogonal complement).
    variances : numpy.ndarray of shape (d,)
        Eigenvalues of :math:`S` in ``basis``: :math:`C_k^2\sigma_T^2 + V_k`.
    coef : numpy.ndarray of shape (d,)
        :math:`C_k`, the sampler's gain on :math:`y_k^T`.
    noise : numpy.ndarray of shape (d,)
        :math:`V_k`, the variance added by the sampler's own noise.
    data_variances : numpy.ndarray of shape (d,)
        :math:`\lambda_k` (0 outside the data's range).
    w2 : float
        :math:`W_2(N(m, S), N(\mu, \Sigma))`.
    nfe : int
        Denoiser evaluations the sampler would make.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import GaussianDenoiser, gaussian_output_law, karras_sigmas
    >>> g = GaussianDenoiser(np.zeros(2), np.diag([0.25, 1.0]))
    >>> law = gaussian_output_law(g, karras_sigmas(40), sampler="dpmpp_2m")
    >>> law.cov.shape, law.variances.round(3).tolist(), round(law.w2, 4)
    ((2, 2), [0.255, 1.017], 0.0098)
    """

    mean: np.ndarray
    basis: np.ndarray
    variances: np.ndarray
    coef: np.ndarray
    noise: np.ndarray
    data_variances: np.ndarray
    w2: float
    nfe: int

    @property
    def cov(self) -> np.ndarray:
        """The output covariance :math:`S`, shape ``(d, d)``."""
        return (self.basis * self.variances) @ self.basis.T


class _Spectrum:
    """Eigen-data of a GaussianDenoiser, the complement of a low rank U merged.

    ``lam`` (distinct directions; the complement, if any, as one entry of
    multiplicity ``mult``), ``mu2 = (u_k^T mu)^2`` (the complement's entry:
    ``|P_perp mu|^2``).
    """

    def __init__(self, gaussian: Any) -> None:
        U, lam, mu = gaussian.U_, gaussian.lam_, gaussian.mean_
        d, r = U.shape
        proj = U.T @ mu
        self.lam = np.asarray(lam, dtype=np.float64)
        self.mult = np.ones(r)
        self.mu2 = proj**2
        self.proj = proj
        self.perp = mu - U @ proj
        self.d, self.r = d, r
        if r < d:
            self.lam = np.append(self.lam, 0.0)
            self.mult = np.append(self.mult, d - r)
            self.mu2 = np.append(self.mu2, float(self.perp @ self.perp))


def _one_step_gain(
    sampler: str, a: np.ndarray, sigma: float, nxt: float, a_of: Any
) -> tuple[np.ndarray, float]:
    """Gain ``c`` of one deterministic step from ``sigma`` (denoiser gain ``a``) to ``nxt``."""
    if nxt == 0:
        return a.copy(), 0.0
    c_euler = 1.0 + (1.0 - a) * (nxt - sigma) / sigma
    if sampler != "heun":
        return c_euler, 0.0
    a2 = a_of(nxt)
    d1 = (1.0 - a) / sigma
    d2 = (1.0 - a2) * c_euler / nxt
    return 1.0 + (nxt - sigma) / 2 * (d1 + d2), 0.0


def _stochastic_recursion(
    sampler: str, s: np.ndarray, lam: np.ndarray, opts: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(C, V) of the one-step samplers: euler/heun (with churn), ddim, ancestral."""
    from sciddm.diffusion._samplers import get_ancestral_step

    def a_of(sig: float) -> np.ndarray:
        return lam / (lam + sig**2)

    C = np.ones_like(lam)
    V = np.zeros_like(lam)
    n = len(s) - 1
    for i in range(n):
        sigma, nxt = float(s[i]), float(s[i + 1])
        if sampler in ("euler", "heun"):
            churn = opts.get("s_churn", 0.0)
            gamma = 0.0
            if churn > 0 and opts.get("s_tmin", 0.0) <= sigma <= opts.get("s_tmax", math.inf):
                gamma = min(churn / n, math.sqrt(2.0) - 1.0)
            sig_hat = sigma * (gamma + 1.0)
            if gamma > 0:
                V = V + opts.get("s_noise", 1.0) ** 2 * (sig_hat**2 - sigma**2)
            c, _ = _one_step_gain(sampler, a_of(sig_hat), sig_hat, nxt, a_of)
            C, V = c * C, c**2 * V
            continue
        a = a_of(sigma)
        down, up = get_ancestral_step(
            sigma, nxt, opts.get("eta", 1.0 if sampler == "ancestral" else 0.0)
        )
        c = a + (1.0 - a) * (down / sigma)
        up = up * (opts.get("s_noise", 1.0) if sampler == "ancestral" else 1.0)
        C, V = c * C, c**2 * V + up**2
    return C, V


def _plan_gain(s: np.ndarray, plan: tuple[str, ...], lam: np.ndarray) -> np.ndarray:
    """``C`` of a deterministic plan: the plan's own step code run on the gains."""

    def evaluate(c: np.ndarray, sigma: float, step: int) -> np.ndarray:
        return c * (lam / (lam + sigma**2))

    out: np.ndarray = run_plan(np.ones_like(lam), s, plan, evaluate)
    return out


def _law_iv(
    gaussian: Any, sigmas: Any, sampler: str, solvers: Any, options: dict[str, Any]
) -> tuple[np.ndarray, str, tuple[str, ...] | None, dict[str, float]]:
    if not (hasattr(gaussian, "U_") and hasattr(gaussian, "lam_") and hasattr(gaussian, "pf_ode")):
        raise TypeError(
            f"`gaussian` must be a GaussianDenoiser (the exact law needs Gaussian data), got "
            f"{type(gaussian).__name__}"
        )
    s = check_sigmas(sigmas, "sigmas", require_zero=True)
    if s[0] <= 0:
        raise ValueError("`sigmas` must start above 0")
    if np.any(s[:-1] == 0):
        raise ValueError("`sigmas` may contain 0 only as its last entry")
    if solvers is not None:
        if options:
            raise ValueError(
                f"sampler options {sorted(options)} do not apply with `solvers` (a deterministic "
                "plan); drop them"
            )
        return s, "mixed", check_plan(solvers, len(s) - 1), {}
    sampler = check_choice(sampler, "sampler", tuple(SAMPLER_OPTIONS))
    opts: dict[str, float] = {}
    for k, v in options.items():
        if k not in SAMPLER_OPTIONS[sampler]:
            allowed = ", ".join(SAMPLER_OPTIONS[sampler]) or "none"
            raise TypeError(
                f"unexpected sampler option `{k}` for sampler={sampler!r} (allowed: {allowed})"
            )
        opts[k] = check_scalar(v, k, lo=0.0, allow_inf=(k == "s_tmax"))
    return s, sampler, None, opts


def output_gain(
    lam: np.ndarray,
    s: np.ndarray,
    sampler: str,
    plan: tuple[str, ...] | None,
    opts: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """``(C, V)`` per eigenvalue ``lam`` of a validated sampler (or plan) on ladder ``s``."""
    if plan is not None:
        return _plan_gain(s, plan, lam), np.zeros_like(lam)
    stochastic = opts.get("s_churn", 0.0) > 0 or sampler == "ancestral" or opts.get("eta", 0.0) > 0
    if sampler in PLAN_OF and not stochastic:
        return _plan_gain(s, (PLAN_OF[sampler],) * (len(s) - 1), lam), np.zeros_like(lam)
    return _stochastic_recursion(sampler, s, lam, opts)


def w2_from_gain(
    lam: np.ndarray, mult: np.ndarray, mu2: np.ndarray, C: np.ndarray, V: np.ndarray, sigma_T: float
) -> float:
    """The closed-form :math:`W_2` of the module docstring (multiplicities ``mult``)."""
    sd = np.sqrt(C**2 * sigma_T**2 + V)
    w2sq = float(np.sum(C**2 * mu2 + mult * (sd - np.sqrt(lam)) ** 2))
    return math.sqrt(max(w2sq, 0.0))


def sampler_nfe(s: np.ndarray, sampler: str, plan: tuple[str, ...] | None) -> int:
    """Evaluations of ``sampler`` (or ``plan``) on ladder ``s``."""
    from sciddm.diffusion._solvers import _cost

    if plan is not None:
        return _cost(s, plan)
    n = len(s) - 1
    if sampler == "heun":
        return int(2 * n - (1 if s[-1] == 0 else 0))
    return n


def gaussian_output_law(
    gaussian: Any,
    sigmas: Any,
    *,
    sampler: str = "heun",
    solvers: Any = None,
    **options: Any,
) -> GaussianOutputLaw:
    r"""Exact law of a sampler's output for Gaussian data, started from :math:`\sigma_T z`.

    Parameters
    ----------
    gaussian : GaussianDenoiser
        The data law :math:`N(\mu, \Sigma)` and its exact denoiser.
    sigmas : array_like
        Non-increasing ladder ending in 0; the sampler starts from
        ``x = sigmas[0] * z`` with :math:`z \sim N(0, I)`.
    sampler : {"heun", "euler", "ddim", "dpmpp_2m", "ancestral"}, default "heun"
        The sampler of :mod:`sciddm.diffusion` (stochastic ones included).
    solvers : str or sequence of str, optional
        A per-step plan of :func:`sample_mixed` instead of ``sampler``.
    **options
        The sampler's options: ``s_churn``, ``s_tmin``, ``s_tmax``, ``s_noise``
        (euler, heun), ``eta`` (ddim, ancestral), ``s_noise`` (ancestral).

    Returns
    -------
    GaussianOutputLaw
        Mean, covariance (``cov``), per-eigenvalue gains and the exact
        :math:`W_2` to the data law.

    Notes
    -----
    See the module docstring: per eigenvalue the output is
    :math:`C_k y_k^T + \sqrt{V_k}\xi_k`; deterministic samplers and plans have
    :math:`V = 0` and their gain :math:`C_k` is computed by running the step
    formulas on the scalar gains :math:`a_k(\sigma) = \lambda_k/(\lambda_k + \sigma^2)`;
    the stochastic ones (``ancestral``, ``ddim`` with ``eta > 0``, churn) carry
    the added variance :math:`V' = c^2 V + \sigma_{up}^2`. This is exact, not a
    simulation (``theory/35_schedule_transfer.md`` checks it against Monte Carlo).

    References
    ----------
    .. [1] Wang & Vastola, "The unreasonable effectiveness of Gaussian score
       approximation for diffusion models and its applications", TMLR 2024.
    .. [2] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022.

    Examples
    --------
    >>> from sciddm.diffusion import GaussianDenoiser, gaussian_output_law, karras_sigmas
    >>> g = GaussianDenoiser([1.0, 0.0], [[1.0, 0.0], [0.0, 0.25]])
    >>> law = gaussian_output_law(g, karras_sigmas(1000), sampler="heun")
    >>> law.nfe, law.mean.round(4).tolist(), law.variances.round(4).tolist()
    (1999, [0.9875, 0.0], [0.25, 0.9999])

    The mean is off by :math:`\mu\sqrt{\lambda/(\lambda + \sigma_T^2)} = 1/80`
    because the sampler starts from :math:`80 z` rather than from the data's
    noisy law; with few steps the schedule's error adds to it:

    >>> round(law.w2, 4), round(gaussian_output_law(g, karras_sigmas(5), sampler="euler").w2, 3)
    (0.0125, 0.579)
    """
    s, sampler, plan, opts = _law_iv(gaussian, sigmas, sampler, solvers, options)
    sp = _Spectrum(gaussian)
    C, V = output_gain(sp.lam, s, sampler, plan, opts)
    sigma_T = float(s[0])
    w2 = w2_from_gain(sp.lam, sp.mult, sp.mu2, C, V, sigma_T)
    d, r = sp.d, sp.r
    U = gaussian.U_
    if r < d:  # complete the basis with the orthogonal complement
        q, _ = np.linalg.qr(np.concatenate([U, np.eye(d)], axis=1))
        perp_basis = q[:, r:d]
        basis = np.concatenate([U, perp_basis], axis=1)
        reps = np.concatenate([np.arange(r), np.full(d - r, r)])
    else:
        basis, reps = U, np.arange(r)
    C_full, V_full, lam_full = C[reps], V[reps], sp.lam[reps]
    mu = gaussian.mean_
    mean = mu - U @ (C[:r] * sp.proj) - (C[r] * sp.perp if r < d else 0.0)
    return GaussianOutputLaw(
        mean=np.asarray(mean, dtype=np.float64),
        basis=basis,
        variances=C_full**2 * sigma_T**2 + V_full,
        coef=C_full,
        noise=V_full,
        data_variances=lam_full,
        w2=w2,
        nfe=sampler_nfe(s, sampler, plan),
    )
