"""Toy problems with an exact law: a lookup-table denoiser over all partly masked states."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar
from sciddm.discrete._protocol import FunctionModel
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = ["MAX_STATES", "ToyProblem", "exact_law", "toy_problem", "toy_reward"]

#: Largest state space ``(V + 1)^L`` of a toy problem (the exact laws use dense matrices).
MAX_STATES = 4096


def _sizes_iv(length: Any, n_tokens: Any) -> tuple[int, int]:
    length = check_int(length, "length", lo=1, hi=12)
    n_tokens = check_int(n_tokens, "n_tokens", lo=2, hi=MAX_STATES)
    if (n_tokens + 1) ** length > MAX_STATES:
        raise ValueError(
            f"`length` = {length} and `n_tokens` = {n_tokens} give {(n_tokens + 1) ** length} "
            f"partly masked states; exact enumeration is limited to {MAX_STATES}"
        )
    return length, n_tokens


class ToyProblem:
    r"""A time-agnostic denoiser on :math:`\{0, \dots, V-1\}^L` given by a table over all partly masked states.

    State ids encode a sequence in base :math:`V + 1` (digit :math:`V` is
    [MASK], first position most significant). ``table[state]`` is the
    ``(L, V)`` matrix of :math:`p(x_0^\ell \mid x_t = \mathrm{state})`. With
    ``joint`` given, the table is the exact conditional of that joint
    (``toy_problem(consistent=True)``); otherwise it is an arbitrary function
    of the state.

    Parameters
    ----------
    length : int
        Sequence length :math:`L` (>= 1).
    n_tokens : int
        Number of tokens :math:`V` (>= 2), [MASK] excluded;
        :math:`(V+1)^L \le 4096`.
    table : ndarray, shape ((V+1)^L, L, V)
        Conditional probabilities; every row sums to one.
    joint : ndarray, shape (V^L,), optional
        The joint law the table conditions (lexicographic order), if any.

    Attributes
    ----------
    base : int
        :math:`V + 1`.
    weights : ndarray (L,)
        Place values of the base-:math:`(V+1)` state ids.
    clean_ids : ndarray (V^L,)
        State ids of the clean sequences, in lexicographic order.

    Examples
    --------
    >>> from sciddm.discrete.toys import toy_problem
    >>> prob = toy_problem(length=2, n_tokens=2, rng=0)
    >>> prob.encode([2, 2]), prob.decode(8).tolist()       # all masked is the last state
    (8, [2, 2])
    >>> prob.counts([[0, 1], [0, 1], [1, 1]]).tolist()
    [0, 2, 0, 1]
    """

    def __init__(
        self, length: int, n_tokens: int, table: np.ndarray, joint: np.ndarray | None = None
    ) -> None:
        self.length, self.n_tokens = _sizes_iv(length, n_tokens)
        self.base = self.n_tokens + 1
        n_states = self.base**self.length
        self.table = check_array(table, "table", shape=(n_states, self.length, self.n_tokens))
        if (self.table < 0).any():
            raise ValueError("`table` must hold probabilities (non-negative)")
        self.joint = None
        if joint is not None:
            self.joint = check_array(joint, "joint", shape=(self.n_tokens**self.length,))
            if (self.joint < 0).any() or abs(self.joint.sum() - 1) > 1e-8:
                raise ValueError("`joint` must be a probability vector over the V^L sequences")
        self.weights = self.base ** np.arange(self.length - 1, -1, -1)
        self.clean_ids = np.array(
            [self.encode(s) for s in itertools.product(range(self.n_tokens), repeat=self.length)]
        )

    def encode(self, seq: Any) -> int:
        """State id of a sequence of ``L`` digits in ``[0, V]`` (``V`` is [MASK])."""
        arr = np.asarray(seq)
        if arr.shape != (self.length,) or arr.dtype.kind not in "iu":
            raise ValueError(f"`seq` must be {self.length} integer digits, got {seq!r}")
        if arr.min() < 0 or arr.max() > self.n_tokens:
            raise ValueError(f"`seq` digits must be in [0, {self.n_tokens}], got {seq!r}")
        return int(np.dot(arr, self.weights))

    def decode(self, state: int) -> np.ndarray:
        """The digits of a state id (inverse of :meth:`encode`)."""
        state = check_int(state, "state", lo=0, hi=self.base**self.length - 1)
        return (state // self.weights) % self.base

    def model(self, *, time_conditioned: bool = False) -> FunctionModel:
        """The table as a :class:`~sciddm.discrete.FunctionModel` (logits; [MASK] at ``-inf``)."""
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

    def counts(self, tokens: Any) -> np.ndarray:
        """Histogram of clean samples (m, L) over the ``V^L`` sequences (lexicographic order)."""
        arr = np.asarray(tokens)
        if arr.ndim != 2 or arr.shape[1] != self.length or arr.dtype.kind not in "iu":
            raise ValueError(f"`tokens` must be integer ids of shape (m, {self.length})")
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_tokens):
            raise ValueError(f"`tokens` must be clean ids in [0, {self.n_tokens})")
        ids = arr @ (self.n_tokens ** np.arange(self.length - 1, -1, -1))
        return np.bincount(ids, minlength=self.n_tokens**self.length)


def toy_problem(
    length: int = 4,
    n_tokens: int = 3,
    *,
    rng: SeedLike = 0,
    consistent: bool = True,
    concentration: float = 1.0,
) -> ToyProblem:
    r"""A random toy problem: a Dirichlet joint and its exact conditionals, or a random table.

    Parameters
    ----------
    length : int, default 4
        Sequence length :math:`L`.
    n_tokens : int, default 3
        Tokens :math:`V`; :math:`(V+1)^L \le 4096`.
    rng : None, int or numpy.random.Generator, default 0
        Random source of the joint (or the table).
    consistent : bool, default True
        ``True``: a joint :math:`p \sim \mathrm{Dirichlet}(c\,\mathbf 1)` over the
        :math:`V^L` sequences and its exact conditionals
        :math:`p(x_0^\ell \mid x_t)` (a model that FHS samples exactly).
        ``False``: every masked position of every state gets an independent
        Dirichlet row (a model of no joint law).
    concentration : float, default 1.0
        Dirichlet concentration :math:`c > 0`.

    Returns
    -------
    ToyProblem

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete.toys import toy_problem
    >>> prob = toy_problem(length=3, n_tokens=2, rng=1)
    >>> prob.table.shape, bool(np.isclose(prob.joint.sum(), 1.0))
    ((27, 3, 2), True)
    """
    length, n_tokens = _sizes_iv(length, n_tokens)
    concentration = check_scalar(concentration, "concentration", lo=0.0, closed="neither")
    g = as_generator(rng)
    base = n_tokens + 1
    n_states = base**length
    if not consistent:
        table = g.dirichlet(np.full(n_tokens, concentration), size=(n_states, length))
        prob = ToyProblem(length, n_tokens, table, None)
        for s in range(n_states):  # unmasked positions: one-hot (never used, SUBS copies)
            d = prob.decode(s)
            for pos in np.flatnonzero(d < n_tokens):
                prob.table[s, pos] = np.eye(n_tokens)[d[pos]]
        return prob
    joint = g.dirichlet(np.full(n_tokens**length, concentration))
    joint = np.maximum(joint, 1e-300)
    joint /= joint.sum()
    seqs = np.array(list(itertools.product(range(n_tokens), repeat=length)))
    prob = ToyProblem(
        length, n_tokens, np.full((n_states, length, n_tokens), 1.0 / n_tokens), joint
    )
    for s in range(n_states):
        d = prob.decode(s)
        known = d < n_tokens
        ok = np.all(seqs[:, known] == d[known], axis=1)
        w = joint * ok
        w = w / w.sum()
        for j in range(length):
            prob.table[s, j] = np.bincount(seqs[:, j], weights=w, minlength=n_tokens)
    return prob


def position_kernels(prob: ToyProblem, stay: float) -> np.ndarray:
    """(n_states, L, V+1): per-position law of the next state; masked ones stay masked w.p. ``stay``."""
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


def product_matrix(ker: np.ndarray) -> np.ndarray:
    """The (S, S) transition matrix of independent per-position kernels (S = n_states)."""
    n_states, length, base = ker.shape
    mat = ker[:, 0]
    for pos in range(1, length):
        mat = (mat[:, :, None] * ker[:, pos][:, None, :]).reshape(n_states, -1)
    return mat


def _fhs_matrix(prob: ToyProblem, k: int) -> np.ndarray:
    """One first-hitting call: ``k`` uniformly chosen masked positions unmasked together."""
    n_states = prob.base**prob.length
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
    return mat


def exact_law(
    prob: ToyProblem,
    method: str,
    *,
    steps: int | None = None,
    k: int = 1,
    t_min: float = 1e-5,
    schedule: LogLinearSchedule | None = None,
) -> np.ndarray:
    r"""Exact output law (over the :math:`V^L` clean sequences) of a sampler on a :class:`ToyProblem`.

    The distribution over all :math:`(V+1)^L` partly masked states is
    propagated through the sampler's chain (no sampling).

    Parameters
    ----------
    prob : ToyProblem
        The model.
    method : {"ancestral", "cached", "fhs", "fhs-parallel"}
        As in :func:`~sciddm.discrete.sample`. "ancestral" and "cached" have
        the same law: ``steps`` steps on ``linspace(1, t_min, steps + 1)``,
        then exact noise removal. "fhs"/"fhs-parallel": ``k`` uniformly chosen
        masked positions per call.
    steps : int, optional
        Steps of the ancestral chain (default ``L``; at most 100000).
    k : int, default 1
        Positions per call of "fhs-parallel" (``1 <= k <= L``).
    t_min : float, default 1e-5
        Last time of the ancestral grid, in [0, 1).
    schedule : LogLinearSchedule, optional
        Log-linear by default.

    Returns
    -------
    ndarray (V^L,)
        The law, in lexicographic order of the sequences (sums to one).

    References
    ----------
    .. [1] K. Zheng et al., "Masked diffusion models are secretly time-agnostic
       masked models and exploit inaccurate categorical sampling",
       arXiv:2409.02908 (2024), Prop. 3.1 (FHS is exact).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete.toys import exact_law, toy_problem
    >>> prob = toy_problem(length=3, n_tokens=2, rng=0)
    >>> bool(np.allclose(exact_law(prob, "fhs"), prob.joint))   # first-hitting is exact
    True
    >>> round(float(abs(exact_law(prob, "ancestral", steps=2) - prob.joint).sum() / 2), 3)
    0.083
    """
    if not isinstance(prob, ToyProblem):
        raise TypeError(f"`prob` must be a ToyProblem, got {type(prob).__name__}")
    check_choice(method, "method", ("ancestral", "cached", "fhs", "fhs-parallel"))
    k = check_int(k, "k", lo=1, hi=prob.length)
    if method == "fhs" and k != 1:
        raise ValueError(f"`k` must be 1 for method='fhs' (use 'fhs-parallel'), got {k}")
    steps = prob.length if steps is None else check_int(steps, "steps", lo=1, hi=100_000)
    t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="left")
    sch = schedule or LogLinearSchedule()
    n_states = prob.base**prob.length
    dist = np.zeros(n_states)
    dist[-1] = 1.0  # all masked: every digit equals V
    if method in ("ancestral", "cached"):
        grid = list(np.linspace(1.0, t_min, steps + 1)) + [0.0]
        k0 = position_kernels(prob, 0.0)
        k1 = position_kernels(prob, 1.0) - k0
        for t, s in itertools.pairwise(grid):
            stay = (1 - sch.alpha(s)) / (1 - sch.alpha(t))
            dist = dist @ product_matrix(k0 + stay * k1)
    else:
        mat = _fhs_matrix(prob, k)
        for _ in range(prob.length):
            dist = dist @ mat
    return dist[prob.clean_ids]


def toy_reward(prob: ToyProblem, values: Any) -> Any:
    """A reward on token arrays (m, L), given its ``values`` on the ``V^L`` clean sequences.

    Parameters
    ----------
    prob : ToyProblem
        The problem whose sequences are scored.
    values : array_like (V^L,)
        Finite reward of each clean sequence, in lexicographic order.

    Returns
    -------
    callable
        ``reward(tokens) -> ndarray (m,)``, usable by the guidance methods.

    Examples
    --------
    >>> from sciddm.discrete.toys import toy_problem, toy_reward
    >>> prob = toy_problem(length=2, n_tokens=2)
    >>> toy_reward(prob, [0.0, 1.0, 2.0, 3.0])([[1, 0], [1, 1]]).tolist()
    [2.0, 3.0]
    """
    if not isinstance(prob, ToyProblem):
        raise TypeError(f"`prob` must be a ToyProblem, got {type(prob).__name__}")
    vals = check_array(values, "values", shape=(prob.n_tokens**prob.length,))

    w = prob.n_tokens ** np.arange(prob.length - 1, -1, -1)

    def reward(tokens: Any) -> np.ndarray:
        arr = np.asarray(tokens)
        if arr.ndim != 2 or arr.shape[1] != prob.length or arr.dtype.kind not in "iu":
            raise ValueError(f"`tokens` must be integer ids of shape (m, {prob.length})")
        if arr.size and (arr.min() < 0 or arr.max() >= prob.n_tokens):
            raise ValueError(f"`tokens` must be clean ids in [0, {prob.n_tokens})")
        return vals[arr @ w]

    reward.__name__ = "toy_reward"
    return reward
