"""theory/73: masked diffusion posteriors do not depend on t (exact enumeration)."""

import itertools

import numpy as np
import torch

from sciddm.discrete import LogLinearSchedule, transition_probs

L, V = 3, 2  # tokens 0..V-1, mask id V
M = V


class Cosine:
    def alpha(self, t):
        return torch.cos(torch.pi * t / 2) if torch.is_tensor(t) else np.cos(np.pi * t / 2)

    def alpha_inv(self, a):
        return 2 * torch.arccos(a) / torch.pi if torch.is_tensor(a) else 2 * np.arccos(a) / np.pi


def _forward(x0, xt, a):
    """q(x_t | x0) of the masking process keeping a token with probability a (masks stay)."""
    p = 1.0
    for u, v in zip(x0, xt):
        if u == M:
            p *= 1.0 if v == M else 0.0
        else:
            p *= a if v == u else (1 - a) if v == M else 0.0
    return p


def _setup(seed):
    rng = np.random.default_rng(seed)
    clean = list(itertools.product(range(V), repeat=L))
    states = list(itertools.product(range(V + 1), repeat=L))
    pi = dict(zip(clean, rng.dirichlet(np.ones(len(clean)))))
    return clean, states, pi


def _posterior(clean, pi, xt, a):
    w = np.array([pi[x0] * _forward(x0, xt, a) for x0 in clean])
    return w / w.sum()


def test_posterior_is_time_agnostic():
    clean, states, pi = _setup(0)
    for sch in (LogLinearSchedule(), Cosine()):
        for xt in states:
            p1 = _posterior(clean, pi, xt, sch.alpha(0.3))
            p2 = _posterior(clean, pi, xt, sch.alpha(0.85))
            assert np.max(np.abs(p1 - p2)) < 1e-12


def test_reverse_marginals_equal_transition_probs():
    clean, states, pi = _setup(1)
    for sch, (t, s) in ((LogLinearSchedule(), (0.8, 0.35)), (Cosine(), (0.6, 0.2))):
        a_t, a_s = sch.alpha(t), sch.alpha(s)
        for xt in states:
            if all(v != M for v in xt):
                continue
            # exact joint reverse kernel q(x_s | x_t) by Bayes over (x0, x_s)
            rev = {}
            for x0 in clean:
                for xs in states:
                    w = pi[x0] * _forward(x0, xs, a_s) * _forward(xs, xt, a_t / a_s)
                    rev[xs] = rev.get(xs, 0.0) + w
            z = sum(rev.values())
            marg = np.zeros((L, V + 1))
            for xs, w in rev.items():
                for pos, v in enumerate(xs):
                    marg[pos, v] += w / z
            post = _posterior(clean, pi, xt, a_t)
            p_x0 = np.zeros((L, V + 1))
            for x0, w in zip(clean, post):
                for pos, v in enumerate(x0):
                    p_x0[pos, v] += w
            x = torch.tensor([xt])
            q = transition_probs(torch.tensor(p_x0[None]), x, t, s, mask_id=M, schedule=sch)
            assert np.max(np.abs(q[0].numpy() - marg)) < 1e-12
