"""Sandwich bounds, bounds on the total sensitivity and closed forms (theory/22)."""

from math import comb

import numpy as np
import pytest

from sciddm.sensitivity import (
    diabetes_design,
    heavy_tailed_matrix,
    hypercube_matrix,
    leverage_scores,
    lewis_weights,
    lp_sensitivities,
    stacked_identities,
    total_sensitivity,
)

RTOL = 1e-7  # slack for the solvers' rounding in the inequalities


def matrices():
    yield "heavy-tailed", heavy_tailed_matrix(60, 3, df=1.5, rng=0)
    yield "gaussian", np.random.default_rng(1).standard_normal((60, 4))
    A, _ = diabetes_design()
    yield "diabetes", A[:80, :4]


@pytest.mark.parametrize("p", [1.0, 1.5])
def test_sandwich_p_below_2(p):
    for _, A in matrices():
        d = A.shape[1]
        sig = lp_sensitivities(A, p)
        w = lewis_weights(A, p, tol=1e-12)
        tau = leverage_scores(A)
        assert np.all(sig <= w * (1 + RTOL))
        assert np.all(w <= d ** (1 - p / 2) * sig * (1 + RTOL))
        assert np.all(sig <= tau ** (p / 2) * (1 + RTOL))
        S = sig.sum()
        assert d ** (p / 2) * (1 - RTOL) <= S <= d * (1 + RTOL)


@pytest.mark.parametrize("p", [3.0, 6.0])
def test_sandwich_p_above_2(p):
    for _, A in matrices():
        n, d = A.shape
        sig = lp_sensitivities(A, p)
        w = lewis_weights(A, p, tol=1e-12)
        tau = leverage_scores(A)
        assert np.all(w <= sig * (1 + RTOL))
        assert np.all(sig <= d ** (p / 2 - 1) * w * (1 + RTOL))
        assert np.all(sig <= n ** (p / 2 - 1) * tau ** (p / 2) * (1 + RTOL))
        S = sig.sum()
        assert d * (1 - RTOL) <= S <= d ** (p / 2) * (1 + RTOL)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_stacked_identities(p):
    A = stacked_identities(5, 3)
    for scores in (lp_sensitivities(A, p), lewis_weights(A, p), leverage_scores(A)):
        np.testing.assert_allclose(scores, 0.2, atol=1e-10)
    assert abs(total_sensitivity(A, p) - 3) < 1e-9


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_one_column(p):
    v = np.random.default_rng(2).standard_normal((25, 1))
    expected = np.abs(v[:, 0]) ** p / np.sum(np.abs(v) ** p)
    np.testing.assert_allclose(lp_sensitivities(v, p), expected, rtol=1e-10)
    np.testing.assert_allclose(lewis_weights(v, p), expected, rtol=1e-8)
    assert abs(total_sensitivity(v, p) - 1) < 1e-10


@pytest.mark.parametrize(
    "d",
    [4, 6, pytest.param(8, marks=pytest.mark.slow), pytest.param(10, marks=pytest.mark.slow)],
)
def test_hypercube_p1(d):
    H = hypercube_matrix(d)
    S = total_sensitivity(H, 1.0)
    assert abs(S - 2**d / comb(d, d // 2)) < 1e-8
    np.testing.assert_allclose(lewis_weights(H, 1.0), d / 2**d, rtol=1e-8)
    np.testing.assert_allclose(leverage_scores(H), d / 2**d, rtol=1e-12)


def test_hypercube_reference_values():
    # the values listed in the spec: 8/3, 16/5, 128/35, 256/63
    assert [2**d / comb(d, d // 2) for d in (4, 6, 8, 10)] == pytest.approx(
        [8 / 3, 16 / 5, 128 / 35, 256 / 63], rel=1e-15
    )
