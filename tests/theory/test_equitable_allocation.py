"""Checks of theory/50_equitable_allocation.md."""

import numpy as np

from sciddm.equitable import allocate, power_law


def test_closed_form_is_the_constrained_minimum():
    # 20 random two-group problems with a shared exponent: the closed form
    # n_g = B k_g / sum c k, k_g = (w_g a_g / c_g)^(1/(1+b)) equals the minimum found by a
    # fine search along the budget line (resolution B/c_1 / 2e5)
    rng = np.random.default_rng(2022)
    for _ in range(20):
        a = rng.uniform(0.5, 10, 2)
        b = rng.uniform(0.2, 1.5)
        e = rng.uniform(0, 0.3, 2)
        w = rng.dirichlet([1, 1])
        c = rng.uniform(0.5, 5, 2)
        B = rng.uniform(500, 5000)
        k = (w * a / c) ** (1 / (1 + b))
        closed = B * k / (c @ k)
        res = allocate([dict(a=a[i], b=b, e=e[i]) for i in range(2)], c, B, weights=w)
        np.testing.assert_allclose(res.n_continuous, closed, rtol=1e-12)
        n1 = np.linspace(1, (B - c[1]) / c[0], 200001)
        n2 = (B - c[0] * n1) / c[1]
        val = w[0] * power_law(n1, a[0], b, e[0]) + w[1] * power_law(n2, a[1], b, e[1])
        step = n1[1] - n1[0]
        assert abs(n1[np.argmin(val)] - closed[0]) <= 2 * step


def test_lagrange_condition_with_group_specific_exponents():
    # at the optimum, marginal gain per unit cost w a b n^(-b-1) / c is the same for all groups
    rng = np.random.default_rng(7)
    for _ in range(20):
        G = 4
        a, b = rng.uniform(0.5, 10, G), rng.uniform(0.1, 1.5, G)
        w, c = rng.dirichlet(np.ones(G)), rng.uniform(0.5, 5, G)
        B = 10_000.0
        curves = [dict(a=a[i], b=b[i], e=0.0) for i in range(G)]
        n = allocate(curves, c, B, weights=w).n_continuous
        if np.any(n <= 1 + 1e-9):  # a lower bound is active: the condition is an inequality
            continue
        ratio = w * a * b * n ** (-b - 1) / c
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-8)
        assert abs(c @ n - B) < 1e-8 * B


def test_maxmin_common_level_is_optimal():
    # the max-min optimum puts every group at one level t; any budget-feasible perturbation
    # (random directions that keep sum c n = B) raises the largest error
    rng = np.random.default_rng(3)
    a, b, e = np.array([1.0, 3.0, 2.0]), np.array([0.5, 0.4, 0.7]), np.array([0.1, 0.2, 0.05])
    c, B = np.array([1.0, 2.0, 1.5]), 1500.0
    res = allocate([dict(a=a[i], b=b[i], e=e[i]) for i in range(3)], c, B, objective="maxmin")
    n = res.n_continuous
    err = a * n ** (-b) + e
    assert np.ptp(err) < 1e-10
    for _ in range(2000):
        d = rng.normal(size=3)
        d -= (c @ d) / (c @ c) * c  # stay on the budget plane
        m = n + rng.uniform(0.01, 20) * d / np.linalg.norm(d)
        if np.any(m < 1):
            continue
        assert (a * m ** (-b) + e).max() >= err.max() - 1e-12


def test_disparity_cap_value_is_convex_in_the_level():
    # V(M) = min { w.u : u in [M - cap, M], budget } is convex: check midpoint convexity
    # on a grid of M by solving each inner problem through allocate(lower, upper)
    a, b, e = np.array([1.0, 4.0]), np.array([0.5, 0.5]), np.array([0.05, 0.1])
    w, c, B, cap = np.array([0.8, 0.2]), np.array([1.0, 1.0]), 500.0, 0.05
    curves = [dict(a=a[i], b=b[i], e=e[i]) for i in range(2)]

    def V(M):
        lo = (a / (M - e)) ** (1 / b)
        hi = np.where(M - cap > e, (a / np.maximum(M - cap - e, 1e-300)) ** (1 / b), np.inf)
        lo, hi = np.maximum(lo, 1), np.maximum(hi, 1)
        if c @ lo > B:
            return np.inf
        n = allocate(curves, c, B, weights=w, lower=lo, upper=hi).n_continuous
        return float(w @ (a * n ** (-b) + e))

    Ms = np.linspace(0.2, 0.4, 41)
    v = np.array([V(M) for M in Ms])
    fin = np.isfinite(v)
    vf = v[fin]
    assert vf.size > 10
    assert np.all(vf[1:-1] <= 0.5 * (vf[:-2] + vf[2:]) + 1e-10)
    best = allocate(curves, c, B, weights=w, objective="disparity-cap", cap=cap)
    assert best.value_continuous <= vf.min() + 1e-9
