"""The exact output law of a learned sampler (LSD / LSD+) on a toy problem."""

from __future__ import annotations

import numpy as np

from sciddm.discrete._sampling import LSDSampler
from sciddm.discrete._toys._problem import ToyProblem, product_matrix

__all__ = ["lsd_law"]


def _digits(prob: ToyProblem) -> np.ndarray:
    """(S, L) digits of every state id (``V`` is [MASK])."""
    ids = np.arange(prob.base**prob.length)
    return (ids[:, None] // prob.weights[None, :]) % prob.base


def _step_matrix(prob: ToyProblem, digits: np.ndarray, beta: float, stay: float) -> np.ndarray:
    """One step: masked positions stay w.p. ``stay``, else draw from ``table ** beta`` (normalised)."""
    if beta == 1.0:
        tab = prob.table
    else:
        tab = prob.table**beta
        tab = tab / tab.sum(-1, keepdims=True)
    v = prob.n_tokens
    masked = digits == v
    ker = np.zeros((*digits.shape, prob.base))
    ker[..., :v] = np.where(masked[..., None], (1.0 - stay) * tab, 0.0)
    ker[..., v] = np.where(masked, stay, 0.0)
    rows, cols = np.nonzero(~masked)
    ker[rows, cols, digits[rows, cols]] = 1.0
    return product_matrix(ker)


def lsd_law(prob: ToyProblem, sampler: LSDSampler) -> np.ndarray:
    r"""Exact output law (over the :math:`V^L` clean sequences) of an :class:`~sciddm.discrete.LSDSampler`.

    The distribution over all :math:`(V+1)^L` partly masked states is
    propagated through the sampler's chain: step ``k`` keeps a masked
    position masked with probability
    :math:`(1 - \alpha_{t_{k+1}})/(1 - \alpha_{t_k})` and otherwise draws its
    token from the table raised to the power :math:`\beta_k` (renormalised);
    then noise removal from :math:`t_{\min}` to 0 with :math:`\beta = 1`.

    Parameters
    ----------
    prob : ToyProblem
        The model.
    sampler : LSDSampler
        The sampler (e.g. ``distill_sampler(prob.model(), K).sampler``).

    Returns
    -------
    ndarray (V^L,)
        The law, in lexicographic order of the sequences (sums to one).
        :meth:`LSDSampler.identity(K) <sciddm.discrete.LSDSampler.identity>`
        gives ``exact_law(prob, "ancestral", steps=K)``.

    References
    ----------
    .. [1] F. Fu, T. Guo, Z. Liu, "Learnable sampler distillation for discrete
       diffusion models", NeurIPS 2025, arXiv:2509.19962.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import LSDSampler
    >>> from sciddm.discrete.toys import exact_law, lsd_law, toy_problem
    >>> prob = toy_problem(length=3, n_tokens=2, rng=0)
    >>> law = lsd_law(prob, LSDSampler.identity(2))
    >>> bool(np.allclose(law, exact_law(prob, "ancestral", steps=2)))
    True
    >>> sharp = LSDSampler([1.0, 0.4, 1e-5], [1.0, 3.0])
    >>> round(float(lsd_law(prob, sharp).sum()), 12)
    1.0
    """
    if not isinstance(prob, ToyProblem):
        raise TypeError(f"`prob` must be a ToyProblem, got {type(prob).__name__}")
    if not isinstance(sampler, LSDSampler):
        raise TypeError(f"`sampler` must be an LSDSampler, got {type(sampler).__name__}")
    digits = _digits(prob)
    dist = np.zeros(prob.base**prob.length)
    dist[-1] = 1.0  # all masked
    grid = [float(t) for t in sampler.times] + [0.0]
    sch = sampler.schedule
    for k in range(len(grid) - 1):
        t, s = grid[k], grid[k + 1]
        if t == 0.0:  # t_min = 0: the last learned step unmasked everything
            break
        beta = float(sampler.logit_scales[k]) if k < sampler.steps else 1.0
        stay = 0.0 if s == 0.0 else float((1 - sch.alpha(s)) / (1 - sch.alpha(t)))
        dist = dist @ _step_matrix(prob, digits, beta, stay)
    law: np.ndarray = dist[prob.clean_ids]
    return law
