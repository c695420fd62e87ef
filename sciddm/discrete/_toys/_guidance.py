"""Exact references of reward-guided decoding on a toy problem: soft values, the tilted law,
and the output laws of SVDD and best-of-N."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_array, check_int, check_probabilities, check_scalar
from sciddm.discrete._schedule import LogLinearSchedule
from sciddm.discrete._toys._problem import ToyProblem, exact_law, position_kernels, product_matrix

__all__ = ["ExactTilt", "best_of_n_law", "exact_tilt", "svdd_argmax_law", "svdd_law"]


@dataclasses.dataclass
class ExactTilt:
    r"""Exact quantities of the ancestral chain on a toy problem tilted by :math:`e^{r/\alpha}`.

    Built by :func:`exact_tilt`.

    Attributes
    ----------
    prob : ToyProblem
        The model.
    reward : ndarray (V^L,)
        The reward of each clean sequence.
    alpha : float
        The temperature.
    grid : list of float
        ``linspace(1, t_min, steps + 1)`` then 0 (the chain of :func:`~sciddm.discrete.sample`).
    kernels : list of ndarray (S, S)
        Transition matrix of each step over the :math:`S = (V+1)^L` states.
    h : list of ndarray (S,)
        :math:`h_i(x) = \mathbb E[e^{r(x_0)/\alpha} \mid x_{t_i} = x]` (up to a
        common factor; ``h[-1]`` on clean states).
    pretrained, tilted : ndarray (V^L,)
        Output law :math:`p^{\mathrm{pre}}` of the chain and
        :math:`p^\star \propto p^{\mathrm{pre}} e^{r/\alpha}`.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete.toys import exact_tilt, toy_problem
    >>> prob = toy_problem(length=2, n_tokens=2, rng=0)
    >>> tilt = exact_tilt(prob, np.array([0.0, 1.0, 1.0, 2.0]), 1.0, steps=2)
    >>> bool(np.isclose(tilt.tilted.sum(), 1.0)), len(tilt.kernels)
    (True, 3)
    """

    prob: ToyProblem
    reward: np.ndarray
    alpha: float
    grid: list[float]
    kernels: list[np.ndarray]
    h: list[np.ndarray]
    pretrained: np.ndarray
    tilted: np.ndarray

    def value_model(self) -> Any:
        r"""The exact soft value :math:`v = \alpha \log h` as a value model ``f(x, t)`` for svdd/smc."""
        w = torch.as_tensor(self.prob.weights)
        grid = np.asarray(self.grid)
        logs = [torch.as_tensor(self.alpha * np.log(np.maximum(h, 1e-300))) for h in self.h]

        def value(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            i = int(np.abs(grid - float(t[0])).argmin())
            return logs[i][(x.cpu() * w).sum(1)]

        return value

    def chain_law(self, kernels: list[np.ndarray]) -> np.ndarray:
        """Output law over clean sequences of a chain with these per-step matrices."""
        d = np.zeros(self.prob.base**self.prob.length)
        d[-1] = 1.0
        for k in kernels:
            d = d @ k
        return d[self.prob.clean_ids]


def exact_tilt(
    prob: ToyProblem,
    reward: Any,
    alpha: float,
    *,
    steps: int = 3,
    t_min: float = 1e-5,
) -> ExactTilt:
    r"""Enumerate the chain, the soft values and the tilted law on a toy problem.

    Parameters
    ----------
    prob : ToyProblem
        The pretrained model.
    reward : array_like (V^L,)
        Finite reward of each clean sequence (lexicographic order).
    alpha : float
        Temperature (> 0) of :math:`p^\star \propto p^{\mathrm{pre}} e^{r/\alpha}`.
    steps : int, default 3
        Steps of the ancestral chain (as in :func:`~sciddm.discrete.svdd`).
    t_min : float, default 1e-5
        Last time of the grid, in (0, 1).

    Returns
    -------
    ExactTilt

    Notes
    -----
    With the step kernels :math:`K_i`, the soft values satisfy the backward
    recursion :math:`h_i = K_i h_{i+1}`, :math:`h_{\mathrm{last}} = e^{r/\alpha}`
    on clean states (theory note 76).

    References
    ----------
    .. [1] X. Li et al., "Derivative-free guidance in continuous and discrete
       diffusion models with soft value-based decoding", arXiv:2408.08252 (2024).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete.toys import exact_tilt, toy_problem
    >>> prob = toy_problem(length=2, n_tokens=2, rng=0)
    >>> r = np.array([0.0, 0.0, 0.0, 5.0])
    >>> tilt = exact_tilt(prob, r, 0.5)
    >>> bool(tilt.tilted[3] > tilt.pretrained[3])
    True
    """
    if not isinstance(prob, ToyProblem):
        raise TypeError(f"`prob` must be a ToyProblem, got {type(prob).__name__}")
    r = check_array(reward, "reward", shape=(prob.n_tokens**prob.length,))
    alpha = check_scalar(alpha, "alpha", lo=0.0, closed="neither")
    n_states = prob.base**prob.length
    steps = check_int(steps, "steps", lo=1, hi=max(1, int(5e7 // n_states**2)))
    t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="neither")
    sch = LogLinearSchedule()
    grid = [*np.linspace(1.0, t_min, steps + 1).tolist(), 0.0]
    k0 = position_kernels(prob, 0.0)
    k1 = position_kernels(prob, 1.0) - k0
    kernels = []
    for t, s in zip(grid[:-1], grid[1:]):
        stay = (1 - sch.alpha(s)) / (1 - sch.alpha(t)) if s > 0 else 0.0
        kernels.append(product_matrix(k0 + stay * k1))
    last = np.zeros(n_states)
    last[prob.clean_ids] = np.exp((r - r.max()) / alpha)
    h = [last]
    for k in reversed(kernels):
        h.insert(0, k @ h[0])
    pre = exact_law(prob, "ancestral", steps=steps, t_min=t_min)
    til = pre * last[prob.clean_ids]
    return ExactTilt(prob, r, alpha, grid, kernels, h, pre, til / til.sum())


def _tilt_iv(tilt: Any, M: Any, *, allow_none: bool) -> int | None:
    if not isinstance(tilt, ExactTilt):
        raise TypeError(f"`tilt` must be an ExactTilt, got {type(tilt).__name__}")
    if M is None and allow_none:
        return None
    return check_int(M, "M", lo=1, hi=10**6)


def svdd_law(tilt: ExactTilt, M: int | None) -> np.ndarray:
    r"""Exact output law of SVDD with ``M`` candidates, exact values and :math:`\alpha > 0`.

    Parameters
    ----------
    tilt : ExactTilt
        The chain and its soft values (:func:`exact_tilt`).
    M : int or None
        Candidates per step (>= 1); ``None`` is the limit :math:`M \to \infty`,
        the soft-optimal policy.

    Returns
    -------
    ndarray (V^L,)
        The law over clean sequences.

    Notes
    -----
    One step from :math:`x` picks :math:`y` with probability
    :math:`M q(y) w(y)\, \mathbb E[1/(w(y) + S_{M-1})]`, where :math:`S_{M-1}`
    sums the weights of :math:`M - 1` independent candidates; with
    :math:`1/a = \int_0^\infty e^{-\lambda a} d\lambda` this is

    .. math:: M q(y) w(y) \int_0^\infty e^{-\lambda w(y)} \varphi(\lambda)^{M-1} d\lambda,
       \qquad \varphi(\lambda) = \sum_c q(c) e^{-\lambda w(c)},

    integrated numerically (``scipy.integrate.quad_vec``). For
    :math:`M \to \infty`: :math:`q(y) w(y) / \sum_c q(c) w(c)`.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete.toys import exact_tilt, svdd_law, toy_problem
    >>> tilt = exact_tilt(toy_problem(length=2, n_tokens=2, rng=0), np.arange(4.0), 1.0)
    >>> bool(np.allclose(svdd_law(tilt, None), tilt.tilted))   # soft-optimal policy
    True
    >>> bool(np.allclose(svdd_law(tilt, 1), tilt.pretrained))  # one candidate: no guidance
    True
    """
    from scipy.integrate import quad_vec

    M = _tilt_iv(tilt, M, allow_none=True)
    mats = []
    for i, k in enumerate(tilt.kernels):
        w_all = tilt.h[i + 1]
        out = np.zeros_like(k)
        for x in range(k.shape[0]):
            sup = np.flatnonzero(k[x] > 0)
            q, w = k[x, sup], w_all[sup]
            if sup.size == 1:
                out[x, sup] = 1.0
                continue
            w = w / w.max()
            if M is None:
                out[x, sup] = q * w / np.dot(q, w)
                continue
            if M == 1:
                out[x, sup] = q
                continue

            def f(lam: float, q: np.ndarray = q, w: np.ndarray = w, m: int = M) -> np.ndarray:
                phi = float(np.dot(q, np.exp(-lam * w)))
                return np.exp(-lam * w) * phi ** (m - 1)

            integral, _ = quad_vec(f, 0.0, np.inf, epsabs=1e-13, epsrel=1e-11)
            out[x, sup] = M * q * w * integral
        mats.append(out)
    return tilt.chain_law(mats)


def svdd_argmax_law(tilt: ExactTilt, M: int) -> np.ndarray:
    r"""Exact output law of SVDD with :math:`\alpha = 0` (argmax of the exact values, first on ties).

    Parameters
    ----------
    tilt : ExactTilt
        The chain and its soft values (:func:`exact_tilt`).
    M : int
        Candidates per step (>= 1).

    Returns
    -------
    ndarray (V^L,)
        The law over clean sequences.

    Notes
    -----
    One step picks :math:`y` with probability
    :math:`\frac{q(y)}{q(C_y)} [F(w_y)^M - F(w_y^-)^M]`, :math:`C_y` the
    candidates of weight :math:`w_y` and :math:`F` the CDF of the weight of one candidate.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete.toys import exact_tilt, svdd_argmax_law, toy_problem
    >>> tilt = exact_tilt(toy_problem(length=2, n_tokens=2, rng=0), np.arange(4.0), 1.0)
    >>> law = svdd_argmax_law(tilt, 8)
    >>> bool(np.isclose(law.sum(), 1.0)), bool(law[3] > tilt.pretrained[3])
    (True, True)
    """
    m_cand = _tilt_iv(tilt, M, allow_none=False)
    assert m_cand is not None
    mats = []
    for i, k in enumerate(tilt.kernels):
        w_all = tilt.h[i + 1]
        out = np.zeros_like(k)
        for x in range(k.shape[0]):
            sup = np.flatnonzero(k[x] > 0)
            q, w = k[x, sup], w_all[sup]
            for j in range(sup.size):
                tie = w == w[j]
                f_le = q[w <= w[j]].sum()
                f_lt = q[w < w[j]].sum()
                out[x, sup[j]] = q[j] / q[tie].sum() * (f_le**m_cand - f_lt**m_cand)
        mats.append(out)
    return tilt.chain_law(mats)


def best_of_n_law(p: Any, reward: Any, N: int) -> np.ndarray:
    r"""Law of the best of ``N`` i.i.d. draws from ``p`` by ``reward`` (the first on ties).

    Parameters
    ----------
    p : array_like (n,)
        A probability vector.
    reward : array_like (n,)
        Finite reward of each outcome.
    N : int
        Number of draws (>= 1).

    Returns
    -------
    ndarray (n,)
        :math:`P(Y = y) = \frac{p(y)}{p(C_y)} [F(r_y)^N - F(r_y^-)^N]`, with
        :math:`C_y` the outcomes of reward :math:`r_y` and :math:`F` the CDF of
        the reward of one draw.

    Examples
    --------
    >>> from sciddm.discrete.toys import best_of_n_law
    >>> best_of_n_law([0.5, 0.5], [0.0, 1.0], 2).tolist()
    [0.25, 0.75]
    """
    p = check_probabilities(np.asarray(p, dtype=np.float64).reshape(-1), "p")
    r = check_array(reward, "reward", shape=(p.size,))
    N = check_int(N, "N", lo=1)
    out = np.zeros_like(p)
    for j in range(p.size):
        tie = r == r[j]
        if p[tie].sum() == 0:
            continue
        out[j] = p[j] / p[tie].sum() * (p[r <= r[j]].sum() ** N - p[r < r[j]].sum() ** N)
    return out
