import numpy as np

from sciddm.reproduce import get_registry, run_experiment
from sciddm.reproduce.equitable import FastKNN, FastRidge


def test_fast_estimators_match_scikit_learn():
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=80)
    np.testing.assert_allclose(
        FastRidge(3.0).fit(X, y).predict(X), Ridge(3.0).fit(X, y).predict(X), rtol=1e-10
    )
    labels = (y > 0).astype(int) + (y > 2)
    knn = KNeighborsClassifier(3).fit(X[:60], labels[:60]).predict(X[60:])
    np.testing.assert_array_equal(FastKNN(3).fit(X[:60], labels[:60]).predict(X[60:]), knn)


def test_experiment_runs_at_tiny_size():
    exp = get_registry()["equitable.adaptive-vs-baselines"]
    tiny = {"seeds": 2, "truth_repeats": 2, "rounds": 2, "repeats": 1, "prs_pool": 400,
            "prs_test": 200, "digits_test": 100, "prs_budget": 300, "digits_budget": 150,
            "bootstrap": 50}  # fmt: skip
    run = run_experiment(exp, mode="quick", params=tiny, raise_errors=True)
    assert run.status == "ok"
    assert len(run.claims) == 2 * 3 * 3  # datasets x objectives x (equal, proportional, oracle)
    assert all(c.ci is not None for c in run.claims)
    assert {t for t, _ in run.tables} == {
        "prs: objective value (lower is better), mean and 95% CI",
        "digits: objective value (lower is better), mean and 95% CI",
    }
    assert "per_group_error_vs_budget" in run.figures


def test_demo_runs_one_dataset_and_objective(tmp_path):
    exp = get_registry()["equitable.adaptive-vs-baselines"]
    assert exp.in_demo and exp.params("demo")["objectives"] == ["utilitarian"]
    tiny = {"seeds": 2, "truth_repeats": 2, "rounds": 2, "repeats": 1, "prs_pool": 400,
            "prs_test": 200, "prs_budget": 300, "bootstrap": 50, "datasets": ["prs"],
            "objectives": ["utilitarian"]}  # fmt: skip
    run = run_experiment(exp, mode="quick", params=tiny, figure_dir=tmp_path, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 3
    assert "per_group_error_vs_budget" in run.figures
