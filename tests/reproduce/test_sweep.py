import joblib
import numpy as np
import pytest

from sciddm.reproduce import expand_grid, run_sweep


def noisy_mean(n, method, seed, rng):
    x = rng.normal(size=n)
    return {"mean": float(x.mean()) + (0.0 if method == "a" else 1.0)}


GRID = {"seed": list(range(6)), "n": [5, 50], "method": ["a", "b"]}


def test_grid_expansion_order_and_errors():
    cells = expand_grid(GRID)
    assert len(cells) == 24 and cells[1] == {"seed": 0, "n": 5, "method": "b"}
    with pytest.raises(ValueError, match="grid\\['n'\\]"):
        expand_grid({"n": 5})
    with pytest.raises(ValueError, match="'rng'"):
        run_sweep(noisy_mean, [{"n": 1, "method": "a", "rng": 0}])


def test_results_independent_of_n_jobs_and_backend():
    ref = run_sweep(noisy_mean, GRID, rng=123, n_jobs=1).records
    assert run_sweep(noisy_mean, GRID, rng=123, n_jobs=2).records == ref
    with joblib.parallel_config(backend="threading"):
        assert run_sweep(noisy_mean, GRID, rng=123, n_jobs=2).records == ref
    with joblib.parallel_config(backend="loky"):
        assert run_sweep(noisy_mean, GRID, rng=123, n_jobs=2, progress=True).records == ref
    other = run_sweep(noisy_mean, GRID, rng=124, n_jobs=1).records
    assert other != ref
    # every cell had its own stream
    assert len({r["mean"] for r in ref}) == len(ref)


def test_summarize_and_column():
    res = run_sweep(noisy_mean, GRID, rng=0)
    rows = res.summarize("mean", by=["method"])
    assert [r["method"] for r in rows] == ["a", "b"]
    assert rows[1]["mean"] - rows[0]["mean"] == pytest.approx(1.0, abs=1.0)
    assert rows[0]["count"] == 12
    # a grid parameter called n keeps its values (it used to be overwritten by the count)
    by_n = run_sweep(noisy_mean, {"n": [3, 5], "method": ["a"], "seed": range(4)}, rng=0)
    by_n = by_n.summarize("mean", ["n"])
    assert [(r["n"], r["count"]) for r in by_n] == [(3, 4), (5, 4)]
    with pytest.raises(ValueError, match="`by` must not contain \\['count'\\]"):
        res.summarize("mean", by=["count"])
    assert res.column("n").shape == (24,)
    with pytest.raises(KeyError):
        res.column("nope")


def test_non_dict_output_and_clash():
    res = run_sweep(lambda k, rng: k * 2, {"k": [1, 2]}, rng=0)
    np.testing.assert_array_equal(res.column("value"), [2, 4])
    with pytest.raises(ValueError, match="clash"):
        run_sweep(lambda k, rng: {"k": 1}, {"k": [1]}, rng=0)


@pytest.mark.distributed
def test_dask_backend_matches():
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    ref = run_sweep(noisy_mean, GRID, rng=5).records
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cl:
        with Client(cl), joblib.parallel_config(backend="dask"):
            got = run_sweep(noisy_mean, GRID, rng=5, n_jobs=2).records
    assert got == ref
