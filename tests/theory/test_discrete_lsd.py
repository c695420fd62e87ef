"""theory/77: what a learned few-step masked-diffusion sampler (LSD) can learn."""

import itertools

import numpy as np
import pytest

from sciddm.discrete import LSDSampler, sample
from sciddm.discrete.toys import ToyProblem, exact_law, lsd_law, toy_problem
from sciddm.reproduce import total_variation


def _marginals(law, length, v):
    j = law.reshape((v,) * length)
    return [j.sum(axis=tuple(a for a in range(length) if a != i)) for i in range(length)]


def _product(margs):
    out = margs[0]
    for m in margs[1:]:
        out = np.multiply.outer(out, m)
    return out.ravel()


@pytest.mark.parametrize("k", [1, 2, 5])
def test_identity_student_is_the_ancestral_chain(k):
    prob = toy_problem(length=4, n_tokens=3, rng=3)
    law = lsd_law(prob, LSDSampler.identity(k))
    np.testing.assert_allclose(law, exact_law(prob, "ancestral", steps=k), atol=1e-12)
    a = sample(prob.model(), 200, method=LSDSampler.identity(k), seeds=range(200))
    b = sample(prob.model(), 200, method="ancestral", steps=k, seeds=range(200))
    assert np.array_equal(a.tokens, b.tokens)


def test_factorised_model_has_no_gap():
    length, v = 3, 3
    g = np.random.default_rng(0)
    m = g.dirichlet(np.ones(v), size=length)  # context-free predictions m_l
    table = np.broadcast_to(m, ((v + 1) ** length, length, v)).copy()
    prob = ToyProblem(length, v, table, None)
    want = _product(list(m))
    for k in (1, 3, 1000):
        np.testing.assert_allclose(exact_law(prob, "ancestral", steps=k), want, atol=1e-12)


@pytest.mark.parametrize("beta", [0.3, 1.0, 4.0])
def test_one_step_student_law_is_a_product(beta):
    length, v = 4, 3
    prob = toy_problem(length=length, n_tokens=v, rng=5)
    law = lsd_law(prob, LSDSampler([1.0, 0.0], [beta]))
    np.testing.assert_allclose(law, _product(_marginals(law, length, v)), atol=1e-12)
    teacher = exact_law(prob, "ancestral", steps=1000)
    assert total_variation(teacher, _product(_marginals(teacher, length, v))) > 0.05


def test_distillation_kernel_is_strictly_positive_definite():
    length, v, lams = 4, 3, (1.0, 4.0, 16.0)
    seqs = np.array(list(itertools.product(range(v), repeat=length)))
    d = (seqs[:, None, :] != seqs[None, :, :]).sum(-1) / length
    gram = sum(np.exp(-lam * d) for lam in lams)
    lo = np.linalg.eigvalsh(gram).min()
    closed = sum((1 - np.exp(-lam / length)) ** length for lam in lams)
    assert lo > 0 and lo == pytest.approx(closed, rel=1e-9)
