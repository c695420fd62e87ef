"""Exactly solvable toy problems for masked discrete diffusion.

A :class:`ToyProblem` is a denoiser over short sequences (``L`` positions,
``V`` tokens) whose :math:`p(x_0 \\mid x_t)` is a lookup table over all
:math:`(V+1)^L` partly masked states. On it the output law of every sampler of
:func:`sciddm.discrete.sample` can be computed *exactly*, by propagating the
distribution over the states (no sampling): :func:`exact_law`. The same
enumeration gives the exact quantities of reward-guided decoding — the soft
values :math:`h_i(x) = E[\\exp(r(x_0)/\alpha) \\mid x_{t_i} = x]`, the tilted law
:math:`p^\\star \\propto p^{\\mathrm{pre}} \\exp(r/\alpha)` (:func:`exact_tilt`)
and the exact output laws of SVDD (:func:`svdd_law`, :func:`svdd_argmax_law`)
and best-of-N (:func:`best_of_n_law`).

Tests, tutorials and the ``discrete.*`` reproductions compare samplers with
these laws by a chi-squared test or by total variation.

:func:`float32_win_probability` and :func:`float32_chain_token_probability`
give the exact effect of MDLM's float32 Gumbel-max draws (theory note 75), and
:class:`RandomDenoiser` is a random-weight network for cost measurements.

References
----------
.. [1] Sahoo et al., "Simple and Effective Masked Diffusion Language Models",
   NeurIPS 2024 (MDLM).
.. [2] Zheng et al., "Masked Diffusion Models are Secretly Time-Agnostic Masked
   Models and Exploit Inaccurate Categorical Sampling", ICLR 2025.
.. [3] Li et al., "Derivative-Free Guidance in Continuous and Discrete Diffusion
   Models with Soft Value-Based Decoding", 2024 (SVDD).

Examples
--------
>>> import numpy as np
>>> from sciddm.discrete.toys import exact_law, toy_problem
>>> prob = toy_problem(length=3, n_tokens=2, rng=0)
>>> law = exact_law(prob, "fhs")
>>> bool(np.allclose(law, prob.joint))       # first-hitting is exact
True
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import torch

from sciddm.discrete._protocol import FunctionModel
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = [
    "ExactTilt",
    "RandomDenoiser",
    "ToyProblem",
    "best_of_n_law",
    "exact_law",
    "exact_tilt",
    "float32_chain_token_probability",
    "float32_win_probability",
    "svdd_argmax_law",
    "svdd_law",
    "toy_problem",
    "toy_reward",
]


class ToyProblem:
    """A time-agnostic denoiser on ``{0..V-1}^L`` given by a table over all partly masked states.

    State ids encode a sequence in base ``V + 1`` (digit ``V`` is [MASK],
    first position most significant). ``table[state]`` is the ``(L, V)``
    matrix of ``p(x0^l | x_t = state)``. With ``joint`` given, the table is
    the exact conditional of that joint (``consistent=True``); otherwise it is
    an arbitrary function of the state.
    """

    def __init__(self, length: int, n_tokens: int, table: np.ndarray, joint: np.ndarray | None):
        self.length, self.n_tokens = length, n_tokens
        self.base = n_tokens + 1
        self.table = table
        self.joint = joint
        self.weights = self.base ** np.arange(length - 1, -1, -1)
        self.clean_ids = np.array(
            [self.encode(s) for s in itertools.product(range(n_tokens), repeat=length)]
        )

    def encode(self, seq: Any) -> int:
        return int(np.dot(np.asarray(seq), self.weights))

    def decode(self, state: int) -> np.ndarray:
        return (state // self.weights) % self.base

    def model(self, *, time_conditioned: bool = False) -> FunctionModel:
        w = torch.as_tensor(self.weights)
        logits = torch.as_tensor(np.log(np.maximum(self.table, 1e-300)))
        pad = torch.full((self.length, 1), -math.inf, dtype=torch.float64)

        def fn(x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
            ids = (x * w).sum(1)
            return torch.cat([logits[ids], pad.expand(len(x), -1, -1)], dim=2)

        return FunctionModel(
            fn,
            vocab_size=self.base,
            mask_id=self.n_tokens,
            length=self.length,
            time_conditioned=time_conditioned,
        )

    def counts(self, tokens: np.ndarray) -> np.ndarray:
        """Histogram of clean samples over the ``V^L`` sequences (lexicographic order)."""
        ids = np.asarray(tokens) @ (self.n_tokens ** np.arange(self.length - 1, -1, -1))
        return np.bincount(ids, minlength=self.n_tokens**self.length)


def toy_problem(
    length: int = 4,
    n_tokens: int = 3,
    *,
    rng: Any = 0,
    consistent: bool = True,
    concentration: float = 1.0,
) -> ToyProblem:
    """A random toy problem: a Dirichlet joint and its exact conditionals, or a random table."""
    g = np.random.default_rng(rng)
    base = n_tokens + 1
    n_states = base**length
    table = np.zeros((n_states, length, n_tokens))
    if not consistent:
        table = g.dirichlet(np.full(n_tokens, concentration), size=(n_states, length))
        prob = ToyProblem(length, n_tokens, table, None)
        for s in range(n_states):  # unmasked positions: one-hot (never used, SUBS copies)
            d = prob.decode(s)
            for pos in np.flatnonzero(d < n_tokens):
                table[s, pos] = np.eye(n_tokens)[d[pos]]
        return prob
    joint = g.dirichlet(np.full(n_tokens**length, concentration))
    seqs = np.array(list(itertools.product(range(n_tokens), repeat=length)))
    prob = ToyProblem(length, n_tokens, table, joint)
    for s in range(n_states):
        d = prob.decode(s)
        known = d < n_tokens
        ok = np.all(seqs[:, known] == d[known], axis=1)
        w = joint * ok
        w = w / w.sum()
        for j in range(length):
            table[s, j] = np.bincount(seqs[:, j], weights=w, minlength=n_tokens)
    return prob


def _position_kernels(prob: ToyProblem, stay: float) -> np.ndarray:
    """(n_states, L, V+1): per-position law of the next state, masked ones stay masked w.p. ``stay``."""
    n_states = prob.base**prob.length
    ker = np.zeros((n_states, prob.length, prob.base))
    for s in range(n_states):
        d = prob.decode(s)
        for pos in range(prob.length):
            if d[pos] == prob.n_tokens:
                ker[s, pos, : prob.n_tokens] = (1 - stay) * prob.table[s, pos]
                ker[s, pos, prob.n_tokens] = stay
            else:
                ker[s, pos, d[pos]] = 1.0
    return ker


def _product_matrix(ker: np.ndarray) -> np.ndarray:
    n_states, length, base = ker.shape
    mat = ker[:, 0]
    for pos in range(1, length):
        mat = (mat[:, :, None] * ker[:, pos][:, None, :]).reshape(n_states, -1)
    return mat


def exact_law(
    prob: ToyProblem,
    method: str,
    *,
    steps: int | None = None,
    k: int = 1,
    t_min: float = 1e-5,
    schedule: Any = None,
) -> np.ndarray:
    """Exact output law (over the ``V^L`` clean sequences) of a sampler on a :class:`ToyProblem`.

    ``method`` is "ancestral"/"cached" (same law; ``steps`` steps on
    ``linspace(1, t_min, steps + 1)`` then exact noise removal) or
    "fhs"/"fhs-parallel" (``k`` uniformly chosen masked positions per call).
    """
    sch = schedule or LogLinearSchedule()
    n_states = prob.base**prob.length
    dist = np.zeros(n_states)
    dist[-1] = 1.0  # all masked: every digit equals V
    if method in ("ancestral", "cached"):
        assert steps is not None
        grid = list(np.linspace(1.0, t_min, steps + 1)) + [0.0]
        k0 = _position_kernels(prob, 0.0)
        k1 = _position_kernels(prob, 1.0) - k0
        for t, s in itertools.pairwise(grid):
            stay = (1 - sch.alpha(s)) / (1 - sch.alpha(t))
            dist = dist @ _product_matrix(k0 + stay * k1)
    else:
        mat = np.zeros((n_states, n_states))
        for s in range(n_states):
            d = prob.decode(s)
            masked = np.flatnonzero(d == prob.n_tokens)
            if masked.size == 0:
                mat[s, s] = 1.0
                continue
            kk = min(k, masked.size)
            subsets = list(itertools.combinations(masked, kk))
            for sub in subsets:
                for toks in itertools.product(range(prob.n_tokens), repeat=kk):
                    w = np.prod([prob.table[s, p, v] for p, v in zip(sub, toks)]) / len(subsets)
                    nd = d.copy()
                    nd[list(sub)] = toks
                    mat[s, prob.encode(nd)] += w
        for _ in range(prob.length):
            dist = dist @ mat
    return dist[prob.clean_ids]


_E32_SMALL: np.ndarray | None = None


def _small_float32_noises(cut: float = 1e-2) -> np.ndarray:
    """All values below ``cut`` of MDLM's float32 noise ``1e-10 - log(u + 1e-10)``, u = k 2**-24."""
    global _E32_SMALL
    if _E32_SMALL is None:
        from sciddm.discrete._sampling import gumbel_norm32

        k0 = int(2**24 * (1 - 1.1 * cut))
        u = torch.arange(k0, 2**24, dtype=torch.float64).to(torch.float32) * 2.0**-24
        e = gumbel_norm32(u).to(torch.float64).numpy()
        _E32_SMALL = np.sort(e[e < cut])
    return _E32_SMALL


def float32_win_probability(r: Any) -> np.ndarray:
    """Exact probability that a category wins MDLM's float32 Gumbel-max draw.

    ``r`` is the ratio of the category's weight to the total weight of the
    others. The category wins iff ``q_i / E_i > q_o / E_o`` for all others;
    with the others' noises exponential, ``P = E[exp(-E_i / r)]`` where
    ``E_i`` runs over the 2**24 float32 values of the uniform. For ``r <= 1e-4``
    the sum over the grid is exact (terms with ``E_i >= 0.01`` are below
    ``e**-100``); for larger ``r`` the float32 effect is below 3e-4 relative
    and the exact continuous value ``r / (1 + r)`` is returned.
    """
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    out = r / (1 + r)
    small = r <= 1e-4
    if small.any():
        e = _small_float32_noises()
        ends = np.searchsorted(e, 100 * r[small])  # exp(-E / r) < e**-100 beyond
        out[small] = [np.exp(-e[:j] / ri).sum() * 2.0**-24 for j, ri in zip(ends, r[small])]
    return out


def float32_chain_token_probability(
    p_token: float, p_rest: float, steps: int, *, t_min: float = 1e-5, schedule: Any = None
) -> tuple[float, float]:
    """Probability that one position ends as a given token, float32 Gumbel vs exact.

    For a time-agnostic model whose ``p_theta(x0 | x_t)`` is the same at every
    step (``p_token`` for the token, ``p_rest`` for all other tokens), the
    ancestral chain of :func:`~sciddm.discrete.sample` offers the token at
    step ``t -> s`` with weight ``p_token * move`` against ``p_rest * move`` and
    ``stay`` for [MASK]. Returns ``(float32, exact)``: the chain probability
    with MDLM's float32 Gumbel-max draws (:func:`float32_win_probability` per
    step; [MASK] survival taken exact, its weight being large) and the exact
    value ``p_token / (p_token + p_rest)``.
    """
    sch = schedule or LogLinearSchedule()
    grid = list(np.linspace(1.0, t_min, steps + 1))
    surv, total = 1.0, 0.0
    for t, s in itertools.pairwise(grid):
        a_t, a_s = sch.alpha(t), sch.alpha(s)
        move, stay = (a_s - a_t) / (1 - a_t), (1 - a_s) / (1 - a_t)
        qt = p_token * move
        total += surv * float(float32_win_probability(qt / (p_rest * move + stay))[0])
        surv *= stay / (stay + (p_token + p_rest) * move)
    # final noise removal: no [MASK] competitor, ratio p_token / p_rest
    total += surv * float(float32_win_probability(p_token / p_rest)[0])
    return total, p_token / (p_token + p_rest)


class RandomDenoiser(torch.nn.Module):
    """A transformer-free random-weight denoiser for cost measurements.

    Token + position embeddings, one mixing layer with a mean-pooled context,
    and an output projection to ``vocab_size`` logits. Time-agnostic. Its cost
    per call, ``O(n L d (d + V))``, is that of a small transformer's output head.
    """

    def __init__(self, vocab_size: int, length: int, *, width: int = 64, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.vocab_size, self.mask_id, self.length = vocab_size, vocab_size - 1, length
        self.time_conditioned = False
        self.emb = torch.nn.Parameter(torch.randn(vocab_size, width, generator=g) / 4)
        self.pos = torch.nn.Parameter(torch.randn(length, width, generator=g) / 4)
        self.mix = torch.nn.Parameter(torch.randn(width, width, generator=g) / width**0.5)
        self.out = torch.nn.Parameter(torch.randn(width, vocab_size, generator=g) * 2 / width**0.5)

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        h = self.emb[x] + self.pos[: x.shape[1]]
        h = h + torch.tanh((h + h.mean(1, keepdim=True)) @ self.mix)
        return h @ self.out


def toy_reward(prob: ToyProblem, values: np.ndarray) -> Any:
    """Reward on token arrays (m, L) given its ``values`` on the ``V^L`` clean sequences."""
    w = prob.n_tokens ** np.arange(prob.length - 1, -1, -1)
    vals = np.asarray(values, dtype=np.float64)

    def reward(tokens: np.ndarray) -> np.ndarray:
        return vals[np.asarray(tokens) @ w]

    reward.__name__ = "toy_reward"
    return reward


@dataclasses.dataclass
class ExactTilt:
    """Exact quantities of the ancestral chain on a toy problem tilted by ``exp(r/alpha)``.

    Attributes
    ----------
    grid : list of float
        ``linspace(1, t_min, steps + 1)`` then 0 (the chain of :func:`sample`).
    kernels : list of ndarray (S, S)
        Transition matrix of each step over the ``S = (V+1)^L`` states.
    h : list of ndarray (S,)
        ``h[i](x) = E[exp(r(x_0)/alpha) | x_{grid[i]} = x]`` (``h[-1]`` on clean states).
    pretrained, tilted : ndarray (V^L,)
        Output law of the chain and ``p* ∝ pretrained exp(r/alpha)``.
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
        """The exact soft value ``v = alpha log h`` as a value model ``f(x, t)`` for svdd/smc."""
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
    reward: np.ndarray,
    alpha: float,
    *,
    steps: int = 3,
    t_min: float = 1e-5,
) -> ExactTilt:
    """Enumerate the chain, the soft values and the tilted law on a toy problem (``alpha > 0``)."""
    sch = LogLinearSchedule()
    grid = [*np.linspace(1.0, t_min, steps + 1).tolist(), 0.0]
    k0 = _position_kernels(prob, 0.0)
    k1 = _position_kernels(prob, 1.0) - k0
    kernels = []
    for t, s in zip(grid[:-1], grid[1:]):
        stay = (1 - sch.alpha(s)) / (1 - sch.alpha(t)) if s > 0 else 0.0
        kernels.append(_product_matrix(k0 + stay * k1))
    n_states = prob.base**prob.length
    last = np.zeros(n_states)
    r = np.asarray(reward, dtype=np.float64)
    last[prob.clean_ids] = np.exp((r - r.max()) / alpha)
    h = [last]
    for k in reversed(kernels):
        h.insert(0, k @ h[0])
    pre = exact_law(prob, "ancestral", steps=steps, t_min=t_min)
    til = pre * last[prob.clean_ids]
    return ExactTilt(prob, r, alpha, grid, kernels, h, pre, til / til.sum())


def svdd_law(tilt: ExactTilt, M: int | None) -> np.ndarray:
    """Exact output law of SVDD with ``M`` candidates, exact values and ``alpha > 0``.

    One step from ``x`` picks ``y`` with probability
    ``M q(y) w(y) E[1 / (w(y) + S_{M-1})]`` where ``S_{M-1}`` sums the
    weights of ``M - 1`` independent candidates; with
    ``1/a = ∫_0^∞ e^{-λ a} dλ`` this is
    ``M q(y) w(y) ∫_0^∞ e^{-λ w(y)} φ(λ)^{M-1} dλ``, ``φ(λ) = Σ_c q(c) e^{-λ w(c)}``,
    integrated numerically (``scipy.integrate.quad_vec``). ``M=None``: the
    limit ``M -> ∞``, ``q(y) w(y) / Σ q w`` (the soft-optimal policy).
    """
    from scipy.integrate import quad_vec

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

            def f(lam: float, q: np.ndarray = q, w: np.ndarray = w) -> np.ndarray:
                phi = float(np.dot(q, np.exp(-lam * w)))
                return np.exp(-lam * w) * phi ** (M - 1)

            integral, _ = quad_vec(f, 0.0, np.inf, epsabs=1e-13, epsrel=1e-11)
            out[x, sup] = M * q * w * integral
        mats.append(out)
    return tilt.chain_law(mats)


def svdd_argmax_law(tilt: ExactTilt, M: int) -> np.ndarray:
    """Exact output law of SVDD with ``alpha = 0`` (argmax of the exact values, first on ties).

    ``P(y) = q(y)/q(C_y) [F(w_y)^M - F(w_y^-)^M]``, ``C_y`` the candidates of
    weight ``w_y`` and ``F`` the CDF of the weight of one candidate.
    """
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
                out[x, sup[j]] = q[j] / q[tie].sum() * (f_le**M - f_lt**M)
        mats.append(out)
    return tilt.chain_law(mats)


def best_of_n_law(p: np.ndarray, reward: np.ndarray, N: int) -> np.ndarray:
    """Law of the best of ``N`` i.i.d. draws from ``p`` by ``reward`` (first on ties)."""
    p = np.asarray(p, dtype=np.float64)
    r = np.asarray(reward, dtype=np.float64)
    out = np.zeros_like(p)
    for j in range(p.size):
        tie = r == r[j]
        if p[tie].sum() == 0:
            continue
        out[j] = p[j] / p[tie].sum() * (p[r <= r[j]].sum() ** N - p[r < r[j]].sum() ** N)
    return out
