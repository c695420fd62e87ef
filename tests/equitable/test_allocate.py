import numpy as np
import pytest

from sciddm.equitable import (
    allocate,
    equal_allocation,
    evaluate_objective,
    fit_learning_curve,
    greedy_allocate,
    oracle_allocation,
    power_law,
    proportional_allocation,
)


def _brute_best(curves, w, B):
    """Best utilitarian value over all integer allocations with n_g >= 1 and sum n <= B."""
    grids = np.meshgrid(*[np.arange(1, B + 1)] * len(curves), indexing="ij")
    ok = sum(grids) <= B
    val = sum(wi * power_law(g[ok], **k) for wi, g, k in zip(w, grids, curves))
    return float(val.min())


def _err(curves, n):
    return np.array([power_law(k, c["a"], c["b"], c["e"]) for c, k in zip(curves, n)])


def test_closed_form_reference_example():
    # issue 6 / spec: a = (2, 5), b = 0.5, w = (0.7, 0.3), c = (1, 3), B = 1000
    curves = [dict(a=2, b=0.5, e=0.0), dict(a=5, b=0.5, e=0.0)]
    res = allocate(curves, [1, 3], 1000, weights=[0.7, 0.3])
    assert res.method == "closed-form"
    np.testing.assert_allclose(res.n_continuous, [398.38, 200.54], atol=0.005)
    assert res.cost <= 1000
    assert np.all(np.abs(res.n - res.n_continuous) < 3)


def test_closed_form_equals_bisection_and_brute_force():
    curves = [dict(a=2, b=0.5, e=0.1), dict(a=5, b=0.5, e=0.3)]
    w, c, B = np.array([0.7, 0.3]), np.array([1.0, 3.0]), 1000.0
    closed = allocate(curves, c, B, weights=w).n_continuous
    # same problem through the bisection path (a bound that is not active)
    bis = allocate(curves, c, B, weights=w, upper=[1e9, 1e9 + 1])
    np.testing.assert_allclose(closed, bis.n_continuous, rtol=1e-9)
    # brute force along the budget line
    n1 = np.linspace(1, (B - c[1]) / c[0], 200001)
    n2 = (B - c[0] * n1) / c[1]
    val = w[0] * power_law(n1, 2, 0.5, 0.1) + w[1] * power_law(n2, 5, 0.5, 0.3)
    assert closed[0] == pytest.approx(n1[np.argmin(val)], abs=0.02)


def test_utilitarian_kkt_with_different_exponents():
    curves = [dict(a=2, b=0.3, e=0.1), dict(a=5, b=0.6, e=0.2), dict(a=1, b=0.9, e=0.0)]
    w, c, B = np.array([0.5, 0.3, 0.2]), np.array([1.0, 2.0, 0.5]), 2000.0
    res = allocate(curves, c, B, weights=w)
    n = res.n_continuous
    assert res.method == "bisection"
    assert c @ n == pytest.approx(B, rel=1e-10)
    gain = (
        w
        * np.array([k["a"] * k["b"] for k in curves])
        * n ** (-np.array([k["b"] for k in curves]) - 1)
        / c
    )
    np.testing.assert_allclose(gain, gain[0], rtol=1e-8)


def test_lower_bound_is_active():
    curves = [dict(a=2, b=0.5, e=0.0), dict(a=0.01, b=0.5, e=0.0)]
    res = allocate(curves, [1, 1], 100, lower=[1, 30])
    assert res.n_continuous[1] == pytest.approx(30)
    assert res.n_continuous.sum() == pytest.approx(100)


def test_maxmin_equalises_errors_and_matches_brute_force():
    curves = [dict(a=1, b=0.5, e=0.1), dict(a=3, b=0.4, e=0.2), dict(a=2, b=0.7, e=0.05)]
    c, B = np.array([1.0, 2.0, 1.5]), 1500.0
    res = allocate(curves, c, B, objective="maxmin")
    err = _err(curves, res.n_continuous)
    assert np.ptp(err) < 1e-9
    assert c @ res.n_continuous == pytest.approx(B, rel=1e-9)
    # integer solution: exhaustive search over the budget simplex (the third count takes
    # what the first two leave)
    small = allocate(curves, c, 300.0, objective="maxmin")
    n1, n2 = np.meshgrid(np.arange(1, 300), np.arange(1, 150), indexing="ij")
    n3 = np.floor((300.0 - c[0] * n1 - c[1] * n2) / c[2] + 1e-9)
    ok = n3 >= 1
    err = np.stack([power_law(x[ok], **k) for x, k in zip((n1, n2, n3), curves)])
    best = err.max(axis=0).min()
    assert small.value == pytest.approx(best, rel=1e-12)


def test_disparity_cap_matches_brute_force():
    curves = [dict(a=1, b=0.5, e=0.05), dict(a=4, b=0.5, e=0.1)]
    w, c, B, cap = np.array([0.8, 0.2]), np.array([1.0, 1.0]), 500.0, 0.05
    unc = allocate(curves, c, B, weights=w)
    assert unc.disparity > cap  # the cap binds
    res = allocate(curves, c, B, weights=w, objective="disparity-cap", cap=cap)
    assert res.method == "nested-bisection"
    n1 = np.linspace(1, B - 1, 400001)
    e1, e2 = power_law(n1, 1, 0.5, 0.05), power_law(B - n1, 4, 0.5, 0.1)
    ok = np.abs(e1 - e2) <= cap
    val = np.where(ok, w[0] * e1 + w[1] * e2, np.inf)
    # the grid cannot sit exactly on the binding cap: allow its resolution
    assert val.min() - 1e-5 <= res.value_continuous <= val.min() + 1e-9
    assert abs(np.ptp(_err(curves, res.n_continuous))) <= cap + 1e-7
    # a loose cap returns the utilitarian optimum
    loose = allocate(curves, c, B, weights=w, objective="disparity-cap", cap=1.0)
    np.testing.assert_allclose(loose.n_continuous, unc.n_continuous)


def test_disparity_cap_three_groups_is_optimal_among_random_feasible_points():
    curves = [dict(a=1, b=0.5, e=0.05), dict(a=4, b=0.4, e=0.1), dict(a=2, b=0.6, e=0.0)]
    w, c, B, cap = np.array([0.6, 0.3, 0.1]), np.array([1.0, 2.0, 3.0]), 1200.0, 0.03
    res = allocate(curves, c, B, weights=w, objective="disparity-cap", cap=cap)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=200000)
    n = p * B / c
    err = (
        np.stack([_err(curves, row) for row in n.T], axis=0)
        if False
        else np.stack([power_law(n[:, i], **curves[i]) for i in range(3)], axis=1)
    )
    ok = np.ptp(err, axis=1) <= cap
    assert ok.any()
    assert res.value_continuous <= (err[ok] @ w).min() + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_integer_utilitarian_equal_costs_is_exactly_optimal(seed):
    rng = np.random.default_rng(seed)
    G, B = 3, 40
    curves = [dict(a=float(rng.uniform(0.5, 3)), b=float(rng.uniform(0.2, 1.2)),
                   e=float(rng.uniform(0, 0.2))) for _ in range(G)]  # fmt: skip
    w = rng.dirichlet(np.ones(G))
    res = allocate(curves, [1, 1, 1], B, weights=w)
    assert res.value == pytest.approx(_brute_best(curves, w, B), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_greedy_equals_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    G, B = 3, 30
    curves = [dict(a=float(rng.uniform(0.5, 3)), b=float(rng.uniform(0.2, 1.5)),
                   e=float(rng.uniform(0, 0.2))) for _ in range(G)]  # fmt: skip
    w = rng.dirichlet(np.ones(G))
    res = greedy_allocate(curves, [2, 2, 2], 2 * B, weights=w)
    assert res.value == pytest.approx(_brute_best(curves, w, B), rel=1e-12)
    assert res.cost <= 2 * B


def test_greedy_accepts_model_free_curves():
    n = np.array([5, 10, 20, 40, 80])
    c1 = fit_learning_curve(n, 1 / np.sqrt(n), model="monotone")
    c2 = fit_learning_curve(n, 2 / np.sqrt(n), model="monotone")
    # the monotone curves are flat below their first size, so start there
    res = greedy_allocate({"x": c1, "y": c2}, {"x": 1, "y": 1}, 60, lower=[5, 5])
    assert res.groups == ["x", "y"]
    assert res.n[1] > res.n[0]
    assert res.cost <= 60


def test_baselines():
    curves = [dict(a=1, b=0.5, e=0.1), dict(a=3, b=0.5, e=0.2)]
    eq = equal_allocation([1, 3], 1000, curves=curves)
    assert eq.n.tolist() == [250, 250]
    pr = proportional_allocation([1, 1], 1000, [0.9, 0.1], curves=curves, objective="maxmin")
    assert pr.n.tolist() == [900, 100]
    assert pr.value == pytest.approx(_err(curves, [900, 100]).max())
    orc = oracle_allocation(curves, [1, 1], 1000, objective="maxmin")
    assert orc.value <= pr.value and orc.value <= equal_allocation([1, 1], 1000, curves=curves, objective="maxmin").value  # fmt: skip
    no_curves = equal_allocation([1, 2], 10)
    assert np.isnan(no_curves.value) and no_curves.cost <= 10


def test_evaluate_objective():
    assert evaluate_objective([0.1, 0.4], objective="disparity-cap", cap=0.1) == pytest.approx(
        0.25 + 0.2
    )
    with pytest.raises(ValueError, match="`cap` is required"):
        evaluate_objective([0.1, 0.4], objective="disparity-cap")


def test_bad_inputs_name_the_group():
    curves = {"A": dict(a=1, b=0.5, e=0), "B": dict(a=2, b=0.5, e=0)}
    with pytest.raises(ValueError, match="group 'B' has cost -1"):
        allocate(curves, [1, -1], 100)
    with pytest.raises(ValueError, match="group 'A' has cost 0"):
        allocate(curves, [0, 1], 100)
    with pytest.raises(ValueError, match="below the cost of the minimum allocation"):
        allocate(curves, [1, 1], 1.5)
    with pytest.raises(ValueError, match="group 'B' has no learning curve"):
        allocate({"A": dict(a=1, b=0.5, e=0), "B": None}, [1, 1], 100)
    mono = fit_learning_curve([1, 2, 4], [0.5, 0.4, 0.3], model="monotone")
    with pytest.raises(ValueError, match="group 'B' has a 'monotone' curve"):
        allocate({"A": dict(a=1, b=0.5, e=0), "B": mono}, [1, 1], 100)
    with pytest.raises(ValueError, match="group 'A': `b` must be positive"):
        allocate({"A": dict(a=1, b=0, e=0), "B": dict(a=1, b=1, e=0)}, [1, 1], 100)
    with pytest.raises(ValueError, match="`cap` is required"):
        allocate(curves, [1, 1], 100, objective="disparity-cap")
    with pytest.raises(ValueError, match="`objective` must be one of"):
        allocate(curves, [1, 1], 100, objective="fair")
    with pytest.raises(ValueError, match="`weights` must be non-negative"):
        allocate(curves, [1, 1], 100, weights=[-1, 2])
    with pytest.raises(ValueError, match="`costs` has no entry for group 'B'"):
        allocate(curves, {"A": 1}, 100)
    with pytest.raises(ValueError, match="one curve per group"):
        allocate(dict(a=1, b=0.5, e=0), [1], 100)
    with pytest.raises(ValueError, match="`upper` must be >= `lower`; group 'A'"):
        allocate(curves, [1, 1], 100, lower=[5, 1], upper=[2, 10])
    with pytest.raises(ValueError, match="group 1 has cost 0"):
        equal_allocation([1, 0], 100)
    with pytest.raises(ValueError, match="`shares` must be positive"):
        proportional_allocation([1, 1], 100, [1, 0])


def test_unmeetable_cap_warns():
    # group 1 cannot go below 0.81 and group 0 (at least 50 samples) not above 0.15
    curves = [dict(a=1, b=0.5, e=0.0), dict(a=1, b=0.5, e=0.5)]
    with pytest.warns(RuntimeWarning, match="cannot be met"):
        allocate(curves, [1, 1], 100, objective="disparity-cap", cap=0.01, lower=[50, 1],
                 upper=[100, 10])  # fmt: skip


def test_binding_cap_may_level_down():
    # meeting the cap by starving the easy group is optimal here, leaving budget unspent
    curves = [dict(a=1, b=0.5, e=0.0), dict(a=1, b=0.5, e=0.5)]
    res = allocate(curves, [1, 1], 100, objective="disparity-cap", cap=0.01, upper=[100, 10])
    assert np.ptp(_err(curves, res.n_continuous)) <= 0.01 + 1e-7
    assert res.cost < 100


def _brute_unequal(curves, w, c, B, lo, hi):
    """Best utilitarian value over every integer allocation in the box with c @ n <= B."""
    axes = [np.arange(lo[i], hi[i] + 1) for i in range(len(curves))]
    N = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    N = N[N @ c <= B + 1e-9]
    vals = sum(w[i] * power_law(N[:, i], **curves[i]) for i in range(len(curves)))
    return float(vals.min())


@pytest.mark.parametrize("seed", range(20))
def test_integer_utilitarian_is_exactly_optimal_with_unequal_costs(seed):
    """Regression (issue 17): with unequal costs the integer allocation was only a local
    optimum of single-sample moves; it is now the exact optimum (brute force over every
    integer allocation of 2 to 4 groups)."""
    rng = np.random.default_rng(2024 + seed)
    G = int(rng.integers(2, 5))
    curves = [dict(a=float(rng.uniform(0.2, 5)), b=float(rng.uniform(0.1, 1.5)),
                   e=float(rng.uniform(0, 0.3))) for _ in range(G)]  # fmt: skip
    w = rng.dirichlet(np.ones(G))
    c = rng.choice([1.0, 1.5, 2.0, 3.0, 4.5, 7.0], size=G)
    lo = rng.integers(1, 4, size=G)
    B = float(c @ lo) + float(rng.uniform(5, {2: 120, 3: 60, 4: 30}[G]))
    hi = lo + np.floor((B - c @ lo) / c).astype(int)
    res = allocate(curves, c, B, weights=w, lower=lo)
    assert res.cost <= B + 1e-9 and np.all(res.n >= lo)
    assert res.value == pytest.approx(_brute_unequal(curves, w, c, B, lo, hi), rel=1e-12, abs=0)


def test_integer_utilitarian_beats_single_sample_moves():
    """A sweep of budgets on one 3-group instance with unequal costs: the old rounding
    (single-sample moves from the floored continuous optimum) missed the optimum at
    some of these budgets; every answer must now equal the brute-force optimum."""
    curves = [dict(a=3.0, b=0.5, e=0.0), dict(a=9.0, b=0.5, e=0.0), dict(a=1.0, b=0.5, e=0.0)]
    w = np.array([0.3, 0.5, 0.2])
    c = np.array([2.0, 1.0, 3.0])
    for B in range(60, 200):
        res = allocate(curves, c, float(B), weights=w)
        best = _brute_unequal(curves, w, c, B, [1, 1, 1], [B // 2, B, B // 3])
        assert res.value == pytest.approx(best, rel=1e-12, abs=0)


@pytest.mark.parametrize("seed", range(15))
def test_fast_greedy_equals_one_at_a_time_greedy(seed):
    """The power-law fast path jumps to a threshold state and finishes one step at a
    time; it must return exactly the allocation of the plain greedy loop."""
    from sciddm.equitable._integer import greedy_steps

    rng = np.random.default_rng(500 + seed)
    G = int(rng.integers(1, 5))
    curves = [dict(a=float(rng.uniform(0.1, 5)), b=float(rng.uniform(0.05, 2)),
                   e=float(rng.uniform(0, 0.3))) for _ in range(G)]  # fmt: skip
    if seed % 5 == 0 and G > 1:
        curves[1] = dict(curves[0])  # identical groups: ties broken by index
    w = rng.dirichlet(np.ones(G))
    c = rng.choice([1.0, 2.0, 2.5, 3.0, 10.0], size=G)
    lo = rng.integers(1, 5, size=G)
    hi = np.where(rng.random(G) < 0.3, lo + rng.integers(0, 50, size=G), np.inf)
    B = float(c @ lo) + float(rng.uniform(0, 3000))
    res = greedy_allocate(curves, c, B, weights=w / w.sum(), lower=lo, upper=hi)
    wn = w / w.sum()

    def gain(j, k):
        kk = k.astype(float)
        a, b = curves[j]["a"], curves[j]["b"]
        return wn[j] * a * kk ** (-b) * -np.expm1(-b * np.log1p(1.0 / kk)) / c[j]

    ref = greedy_steps(lo.astype(np.int64).copy(), gain, c, B, hi)
    np.testing.assert_array_equal(res.n, ref)


def test_greedy_with_a_huge_budget_is_fast_and_general_curves_are_guarded():
    """Regression (issue 17): greedy_allocate(curves, costs, 1e6) took a step per sample."""
    import time

    curves = [dict(a=1.0, b=0.5, e=0.0), dict(a=2.0, b=0.7, e=0.1)]
    t0 = time.perf_counter()
    res = greedy_allocate(curves, [1.0, 3.0], 1e9)
    assert time.perf_counter() - t0 < 5.0
    assert 1e9 - 3 < res.cost <= 1e9
    # the greedy's gains are equal at the end: within one step of the Lagrange condition
    g = [0.5 * 1.0 * 0.5 * res.n[0] ** -1.5 / 1.0, 0.5 * 2.0 * 0.7 * res.n[1] ** -1.7 / 3.0]
    assert g[0] == pytest.approx(g[1], rel=1e-3)
    with pytest.raises(ValueError, match=r"`budget` affords about .* pass power-law curves"):
        greedy_allocate([lambda n: 1.0 / n, lambda n: 2.0 / n], [1, 1], 1e9)
