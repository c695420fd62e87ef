"""Exactness: each sampler's output law equals the law it defines (exact enumeration).

Toy problem: sequences of length L = 4 over |V| = 3 tokens (+ [MASK]); the
denoiser is a lookup table over all 4**4 partly masked states, either the
exact conditionals of a random joint (``consistent``) or an arbitrary table.
The exact output law of every sampler is computed by propagating the
distribution over the 256 states (``exact_law``), independently of the
sampler code. Each chi-squared test uses a fixed seed; its false-alarm rate
(the chance that a correct sampler fails it with a random seed) is 1e-3.
"""

import numpy as np
import pytest

from sciddm.discrete import sample
from sciddm.discrete.toys import exact_law, toy_problem
from sciddm.reproduce import chisquare_gof, total_variation

N = 20000
RUNS = [
    ("fhs", None, 1, "float64"),
    ("fhs-parallel", None, 2, "float64"),
    ("fhs-parallel", None, 3, "float64"),
    ("ancestral", 3, 1, "float64"),
    ("ancestral", 16, 1, "float64"),
    ("cached", 16, 1, "float64"),
    ("fhs", None, 1, "float32"),
    ("ancestral", 8, 1, "float32"),
]


@pytest.mark.parametrize("consistent", [True, False], ids=["joint", "arbitrary"])
@pytest.mark.parametrize(("method", "steps", "k", "precision"), RUNS)
def test_sampler_matches_exact_law(consistent, method, steps, k, precision):
    prob = toy_problem(rng=11 if consistent else 12, consistent=consistent)
    law = exact_law(prob, method, steps=steps, k=k)
    assert law.sum() == pytest.approx(1.0)
    res = sample(
        prob.model(),
        N,
        method=method,
        steps=steps,
        k=k,
        precision=precision,
        seeds=np.arange(N) + 1000,
    )
    assert chisquare_gof(prob.counts(res.tokens), law) > 1e-3


def test_laws_differ_so_the_tests_have_power():
    # the chi-squared tests above would detect the confusions between these laws:
    # with N = 20000 a TV of 0.02 is far beyond the test's resolution (~0.005)
    prob = toy_problem(rng=11)
    fhs = exact_law(prob, "fhs")
    assert total_variation(fhs, prob.joint) < 1e-12  # FHS samples the joint exactly
    assert total_variation(exact_law(prob, "ancestral", steps=3), fhs) > 0.05
    assert total_variation(exact_law(prob, "fhs-parallel", k=2), fhs) > 0.05
    res = sample(prob.model(), N, method="ancestral", steps=3, seeds=np.arange(N))
    assert chisquare_gof(prob.counts(res.tokens), fhs) < 1e-6


def test_fhs_matches_ancestral_with_many_steps():
    prob = toy_problem(rng=12, consistent=False)
    fhs = exact_law(prob, "fhs")
    tv = [total_variation(exact_law(prob, "ancestral", steps=s), fhs) for s in (10, 100, 1000)]
    assert tv[2] < 2e-3
    assert tv[0] > 5 * tv[1] > 25 * tv[2]  # O(1/steps)
    # and a 250-step ancestral sampler's samples pass the test against the FHS law
    res = sample(prob.model(), 8000, method="cached", steps=250, seeds=np.arange(8000) + 5)
    assert chisquare_gof(prob.counts(res.tokens), fhs) > 1e-3
