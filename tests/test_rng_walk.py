"""The random-source contract, walked over every public callable that takes ``rng``.

Issue 16, "Must reach", and the contract in ``sciddm/_core/rng.py``: every public
parameter called ``rng`` accepts ``None``, an ``int`` and a
:class:`numpy.random.Generator`; anything else raises a ``TypeError`` naming ``rng``
(a negative seed a ``ValueError``); the same integer seed gives the same result twice
and a different seed a different one; an integer seed leaves numpy's and torch's global
generators alone; a Generator is advanced in place; a :class:`torch.Generator` is
accepted exactly where ``TORCH_GENERATOR`` says so. ``CASES`` holds one minimal call
per callable (tiny sizes); ``test_cases_cover_every_rng_callable`` keeps it in step with
the public API, so that a new public function with ``rng`` fails until a case is
written for it.

The last part checks that trained weights are reproducible from ``rng`` alone,
whatever torch's global generator is seeded with.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from tests.test_contracts import _public_callables

# ---------------------------------------------------------------------------------
# comparing results
# ---------------------------------------------------------------------------------


def _is_timing(name: str) -> bool:
    return name.endswith(("_time", "seconds", "per_second", "elapsed"))


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether two results are equal: arrays/tensors exactly (NaN == NaN), numbers,
    strings, modules' state_dicts, and recursively the fields of dataclasses and other
    objects, mappings and sequences (timings excluded: they measure the run, not its
    result). Functions and objects nested more than 6 levels deep compare as equal:
    there is nothing to compare in a function, and the numbers of a result sit in its
    first levels."""
    if depth > 6 or inspect.isroutine(a) or isinstance(a, functools.partial):
        return True
    if isinstance(a, torch.nn.Module):
        return type(a) is type(b) and _same(dict(a.state_dict()), dict(b.state_dict()), depth)
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        nan_a, nan_b = a.isnan(), b.isnan()
        return torch.equal(nan_a, nan_b) and torch.equal(a[~nan_a], b[~nan_b])
    if isinstance(a, np.ndarray):
        b = np.asarray(b)
        nan_ok = a.dtype.kind in "fc"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan_ok))
    if isinstance(a, float | np.floating):
        return bool(a == b or (np.isnan(a) and np.isnan(b)))
    if isinstance(a, int | str | bytes | np.integer | np.bool_ | type) or a is None:
        return type(a) is type(b) and bool(a == b)
    if isinstance(a, dict):
        keys = {k for k in a if not _is_timing(str(k))}
        return keys == {k for k in b if not _is_timing(str(k))} and all(
            _same(a[k], b[k], depth + 1) for k in keys
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):
        names = [f.name for f in dataclasses.fields(a)]
    else:
        names = list(getattr(a, "__dict__", {}))
    return all(_same(getattr(a, n), getattr(b, n), depth + 1) for n in names if not _is_timing(n))


def test_same_compares_what_it_should():
    @dataclasses.dataclass
    class R:
        x: np.ndarray
        wall_time: float

    assert _same(R(np.array([1.0, np.nan]), 1.0), R(np.array([1.0, np.nan]), 2.0))
    assert not _same(R(np.array([1.0]), 1.0), R(np.array([1.5]), 1.0))
    assert not _same([torch.zeros(2)], [torch.ones(2)])
    assert not _same({"a": 1.0}, {"a": 2.0})
    assert not _same(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))

    class Plain:
        def __init__(self, v: float) -> None:
            self.v, self.f = np.array([v]), lambda: v

    assert _same(Plain(1.0), Plain(1.0)) and not _same(Plain(1.0), Plain(2.0))


# ---------------------------------------------------------------------------------
# shared tiny inputs (built once)
# ---------------------------------------------------------------------------------

X2 = np.random.default_rng(0).normal(size=(16, 2))
DNA = ["".join(np.random.default_rng(i).choice(list("ACGT"), 8)) for i in range(16)]
SMILES = ["CCO", "c1ccccc1", "CCN", "CC(=O)O", "OCC"]


def _reward(x: Any) -> Any:
    return x.sum(1) * 1.0


@functools.cache
def _tensor_basis() -> Any:
    from sciddm.leastsquares import Legendre, TensorBasis, total_degree

    return TensorBasis(Legendre(), total_degree(1, 2))


@functools.cache
def _discrete_basis() -> Any:
    from sciddm.leastsquares import DiscreteBasis, DiscreteMeasure

    # {1, x} is orthonormal under the uniform law on these nodes (mean 0, mean square 1)
    a, b = np.sqrt(1.5), np.sqrt(0.5)
    nodes = np.array([[-a], [-b], [b], [a]])
    return DiscreteBasis(
        lambda x: np.column_stack([np.ones(len(x)), x[:, 0]]), DiscreteMeasure(nodes)
    )


@functools.cache
def _gaussian() -> Any:
    from sciddm.diffusion import GaussianDenoiser

    return GaussianDenoiser([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]])


def _x_t() -> torch.Tensor:
    return torch.full((2, 2), 5.0, dtype=torch.float64)


def _sigmas(n: int = 3) -> np.ndarray:
    from sciddm.diffusion import karras_sigmas

    return karras_sigmas(n, sigma_max=5.0)


@functools.cache
def _uniform_model() -> Any:
    from sciddm.discrete import FunctionModel

    return FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)


@functools.cache
def _schedule_search() -> Any:
    from sciddm.diffusion import search_schedule

    return search_schedule(_gaussian(), 2, sampler="ancestral", budget=60, population=4, rng=0)


@functools.cache
def _trained_sampler() -> Any:
    from sciddm.hallucination import Recipe, mixture_1d, train_sampler

    recipe = Recipe(steps=1, batch_size=8, sample_steps=2, window=2, hidden=4, depth=1)
    return train_sampler(mixture_1d().sample(16, rng=0), recipe, rng=0)


@functools.cache
def _breast_cancer() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[::3, :4], y[::3]
    return X, y, (X[:, 0] > 14).astype(int)


@functools.cache
def _noisy_mixture() -> Any:
    from sciddm.ambient import NoisyGaussianMixture

    y = np.random.default_rng(0).normal(size=(20, 1))
    return NoisyGaussianMixture(1, random_state=0).fit(y, sigma_n=0.5)


@functools.cache
def _ars() -> Any:
    pytest.importorskip("logomaker", reason="the ARS data ship with logomaker")
    from sciddm.dna import read_ars

    return read_ars(limit=200)  # enough for 40 + 20 sequences, half the load time


def _leastsquares(name: str) -> Callable[[Any], Any]:
    import sciddm.leastsquares as L

    b = _tensor_basis
    f = lambda x: np.exp(x[:, 0])  # noqa: E731
    table: dict[str, Callable[[Any], Any]] = {
        "weighted_least_squares": lambda r: L.weighted_least_squares(f, b(), 4, rng=r),
        "sample_best_of": lambda r: L.sample_best_of(b(), 4, n_draws=2, rng=r),
        "sample_conditioned": lambda r: L.sample_conditioned(b(), 8, delta=0.9, rng=r),
        "sample_design": lambda r: L.sample_design(b(), 3, rng=r),
        "sample_generalized_volume": lambda r: L.sample_generalized_volume(b(), 4, rng=r),
        "sample_optimal": lambda r: L.sample_optimal(b(), 3, rng=r),
        "sample_projection_dpp": lambda r: L.sample_projection_dpp(b(), rng=r),
        "sample_repeated_dpp": lambda r: L.sample_repeated_dpp(b(), 2, rng=r),
        "sample_volume": lambda r: L.sample_volume(b(), 3, rng=r),
        # abstract base: its contract is the one its subclasses implement
        "Basis.sample_optimal_points": lambda r: b().sample_optimal_points(3, rng=r),
        "TensorBasis.sample_optimal_points": lambda r: b().sample_optimal_points(3, rng=r),
        "DiscreteBasis.sample_optimal_points": (
            lambda r: _discrete_basis().sample_optimal_points(3, rng=r)
        ),
        "DiscreteBasis.sample_optimal_nodes": (
            lambda r: _discrete_basis().sample_optimal_nodes(3, rng=r)
        ),
        "BetaMeasure.sample": lambda r: L.BetaMeasure(1.0, 2.0).sample(3, rng=r),
        "DiscreteMeasure.sample": lambda r: L.DiscreteMeasure([0.0, 1.0, 2.0]).sample(3, rng=r),
        "GammaMeasure.sample": lambda r: L.GammaMeasure(1.0).sample(3, rng=r),
        "GaussianMeasure.sample": lambda r: L.GaussianMeasure().sample(3, rng=r),
        "UniformMeasure.sample": lambda r: L.UniformMeasure().sample(3, rng=r),
        # abstract base: exercised through a concrete measure
        "Measure.sample": lambda r: L.UniformMeasure(0.0, 2.0).sample(3, rng=r),
        "ProductMeasure.sample": (
            lambda r: L.ProductMeasure([L.UniformMeasure(), L.GaussianMeasure()]).sample(3, rng=r)
        ),
    }
    families: dict[str, Callable[[], Any]] = {
        "Chebyshev": L.Chebyshev,
        "Family": L.Legendre,  # abstract base: Family's own implementation, via Legendre
        "Hermite": L.Hermite,
        "Jacobi": lambda: L.Jacobi(0.5, 1.5),
        "Laguerre": L.Laguerre,
        "Legendre": L.Legendre,
        "Trigonometric": L.Trigonometric,
    }

    def squared(make: Callable[[], Any]) -> Callable[[Any], Any]:
        return lambda r: make().sample_squared(2, 3, rng=r)

    def squared_many(make: Callable[[], Any]) -> Callable[[Any], Any]:
        return lambda r: make().sample_squared_many([0, 2, 2], rng=r)

    for fam, make in families.items():
        table[f"{fam}.sample_squared"] = squared(make)
        table[f"{fam}.sample_squared_many"] = squared_many(make)
    return table[name]


def _sensitivity() -> dict[str, Callable[[Any], Any]]:
    import sciddm.sensitivity as S

    A = np.random.default_rng(0).standard_normal((30, 2))
    b = A @ np.ones(2) + np.random.default_rng(1).standard_normal(30)
    idx = np.arange(30)
    return {
        "embedding_distortion": lambda r: S.embedding_distortion(
            A, (idx, np.ones(30)), p=1, n_directions=4, n_local=1, n_maximisers=1, rng=r
        ),
        "gaussian_matrix": lambda r: S.gaussian_matrix(3, 2, rng=r),
        "heavy_tailed_matrix": lambda r: S.heavy_tailed_matrix(3, 2, rng=r),
        "heavy_tailed_regression": lambda r: S.heavy_tailed_regression(5, 2, rng=r),
        "leverage_scores": lambda r: S.leverage_scores(A, method="sketch", sketch_size=8, rng=r),
        "lewis_weights": lambda r: S.lewis_weights(A, 1, method="sketch", sketch_size=8, rng=r),
        "lp_regression": lambda r: S.lp_regression(A, b, 1, method="sketch", sample_size=10, rng=r),
        "lp_sensitivities": lambda r: S.lp_sensitivities(A, 1, rng=r),
        "sample_rows": lambda r: S.sample_rows(A, 1, size=5, rng=r),
    }


def _diffusion() -> dict[str, Callable[[Any], Any]]:
    import sciddm.diffusion as D
    from sciddm.diffusion.toys import ring_mixture

    g = _gaussian

    def features(r: Any) -> Any:
        y = np.arange(12) % 2
        f = D.ClassifierFeatures(hidden=4, n_features=2, epochs=1, rng=r).fit(X2[:12], y)
        return f(X2[:3])

    def mlp(r: Any) -> Any:
        return D.MLPDenoiser(2, hidden=4, depth=1, emb_dim=4, rng=r)

    return {
        "ClassifierFeatures": features,
        "explained_variance": lambda r: D.explained_variance(
            g(), {"iso": D.GaussianDenoiser([0.0, 0.0], np.eye(2))}, X2, [0.5], n=4, rng=r
        ),
        "sliced_wasserstein": lambda r: D.sliced_wasserstein(X2, X2 + 1, n_projections=3, rng=r),
        "EpsMLP": lambda r: D.EpsMLP(2, hidden=4, depth=1, emb_dim=4, rng=r),
        "GaussianDenoiser.sample": lambda r: g().sample(3, rng=r),
        "MLPDenoiser": mlp,
        "UNetDenoiser": lambda r: D.UNetDenoiser(base=4, emb_dim=4, rng=r),
        "fit_gaussian_mixture": lambda r: D.fit_gaussian_mixture(X2, 2, rng=r),
        "randn_like": lambda r: D.randn_like(torch.zeros(2, 3), rng=r),
        "sample": lambda r: D.sample(g(), _x_t(), _sigmas(), sampler="ancestral", rng=r),
        "sample_ancestral": lambda r: D.sample_ancestral(g(), _x_t(), _sigmas(), rng=r),
        "sample_ddim": lambda r: D.sample_ddim(g(), _x_t(), _sigmas(), eta=1.0, rng=r),
        "sample_ddpm": lambda r: D.sample_ddpm(
            lambda x, t: 0 * x, torch.zeros(2, 1), D.ddpm_betas(3), rng=r
        ),
        "sample_dpmpp_2m": lambda r: D.sample_dpmpp_2m(g(), _x_t(), _sigmas(), rng=r),
        "sample_euler": lambda r: D.sample_euler(g(), _x_t(), _sigmas(), s_churn=1.0, rng=r),
        "sample_heun": lambda r: D.sample_heun(g(), _x_t(), _sigmas(), s_churn=1.0, rng=r),
        "train_denoiser": lambda r: D.train_denoiser(mlp(0), X2, steps=2, batch_size=4, rng=r),
        "ScheduleSearchResult.sample": lambda r: _schedule_search().sample(g(), _x_t(), rng=r),
        "sample_mixed": lambda r: D.sample_mixed(g(), _x_t(), _sigmas(), rng=r),
        "search_schedule": lambda r: D.search_schedule(
            g(), 2, sampler="euler", budget=60, population=4, n_samples=8, rng=r
        ),
        "toys.ring_mixture": lambda r: ring_mixture(5, rng=r),
    }


def _hallucination() -> dict[str, Callable[[Any], Any]]:
    import sciddm.hallucination as H

    tiny = H.Recipe(steps=1, batch_size=8, sample_steps=2, window=2, hidden=4, depth=1)
    return {
        "ModeMixture.sample": lambda r: H.mixture_1d().sample(3, rng=r),
        "exact_score_sample": lambda r: H.exact_score_sample(H.mixture_1d(), 3, steps=2, rng=r),
        "generate": lambda r: H.generate(_trained_sampler(), 3, rng=r, batch_size=2),
        "recursive_training": lambda r: H.recursive_training(
            H.mixture_1d(), tiny, generations=1, n_samples=10, rng=r
        ),
        "simple_shapes": lambda r: H.simple_shapes(2, size=12, rng=r),
        "train_sampler": lambda r: H.train_sampler(H.mixture_1d().sample(16, rng=0), tiny, rng=r),
    }


def _equitable() -> dict[str, Callable[[Any], Any]]:
    from sklearn.naive_bayes import GaussianNB

    import sciddm.equitable as E

    def collector(r: Any) -> Any:
        X, y, g = _breast_cancer()
        col = E.AdaptiveCollector(GaussianNB(), costs=[1, 1], budget=60, n_rounds=1, pilot=10)
        return col.run(E.PoolSource(X, y, g), rng=r)

    def curves(r: Any) -> Any:
        X, y, g = _breast_cancer()
        return E.learning_curve_by_group(GaussianNB(), X, y, g, [10, 20], n_repeats=1, rng=r)

    return {
        "AdaptiveCollector.run": collector,
        "learning_curve_by_group": curves,
        "simulate_prs": lambda r: E.simulate_prs(
            [10, 10], n_snps=10, n_causal=2, block_size=5, rng=r
        ),
    }


def _ambient() -> dict[str, Callable[[Any], Any]]:
    import sciddm.ambient as A
    from sciddm.ambient.toys import (
        heterogeneous_mixture,
        mixture_scenario_errors,
        sample_heterogeneous_mixture,
    )

    def D(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return 0.5 * x

    y = torch.linspace(-1, 1, 8).reshape(4, 2)
    return {
        "NoisyGaussianMixture.sample": lambda r: _noisy_mixture().sample(3, rng=r),
        "ambient_loss": lambda r: A.ambient_loss(D, y, torch.full((4,), 0.3), rng=r),
        "ambient_sample": lambda r: A.ambient_sample(D, (2, 2), 0.3, steps=2, rng=r),
        "corrupt": lambda r: A.corrupt(np.zeros((4, 2)), [0.0, 0.0, 1.0, 1.0], rng=r),
        "make_clean_noisy": lambda r: A.make_clean_noisy(
            np.zeros((10, 1)), clean_fraction=0.3, sigma=0.2, rng=r
        ),
        "mixture_fisher_value": lambda r: A.mixture_fisher_value(
            [1.0], [[0.0]], [[[2.0]]], 1.0, n_mc=100, rng=r
        ),
        "paper_scenarios": lambda r: A.paper_scenarios(np.zeros((20, 2)), sigma=0.5, rng=r),
        "truncated_lognormal_sigma": lambda r: A.truncated_lognormal_sigma(
            torch.full((4,), 0.8), rng=r
        ),
        "toys.mixture_scenario_errors": lambda r: mixture_scenario_errors(60, 0.5, k=2, rng=r),
        "toys.sample_heterogeneous_mixture": lambda r: sample_heterogeneous_mixture(
            heterogeneous_mixture(), 3, rng=r
        ),
    }


def _discrete() -> dict[str, Callable[[Any], Any]]:
    import sciddm.discrete as Q
    from sciddm.discrete.toys import RandomDenoiser, toy_problem

    m = _uniform_model
    probs = torch.tensor([[0.2, 0.8, 0.0], [0.5, 0.5, 0.0]]).repeat(8, 1)

    def moses(r: Any) -> Any:
        pytest.importorskip("rdkit")
        pytest.importorskip("selfies")
        tok = Q.SelfiesTokenizer.from_smiles(SMILES, length=6)
        cfg = Q.MDLMConfig.preset("tiny", vocab_size=tok.vocab_size, length=6)
        model = Q.MDLM(cfg, tokenizer=tok, rng=0)
        return Q.moses_benchmark(
            model, n=4, batch_size=4, reference=SMILES[:3], train=SMILES[:1],
            data_row=False, fcd=False, rng=r,
        )  # fmt: skip

    return {
        "MDLM": lambda r: Q.MDLM(Q.MDLMConfig.preset("tiny", vocab_size=5, length=4), rng=r),
        "ValueModel": lambda r: Q.ValueModel(5, 4, width=4, rng=r),
        "best_of_n": lambda r: Q.best_of_n(m(), _reward, 2, N=2, length=4, rng=r),
        "categorical": lambda r: Q.categorical(probs, rng=r),
        "distill_sampler": lambda r: Q.distill_sampler(
            toy_problem(length=2, n_tokens=2, rng=0).model(),
            2,
            teacher_steps=10,
            iterations=2,
            batch_size=4,
            n_teacher=8,
            rng=r,
        ),  # fmt: skip
        "evaluate_nelbo": lambda r: Q.evaluate_nelbo(
            m(), torch.zeros(4, 4, dtype=torch.long), rng=r
        ),
        "nelbo": lambda r: Q.nelbo(m(), torch.zeros(4, 4, dtype=torch.long), rng=r),
        "predict_x0": lambda r: Q.predict_x0(
            probs[None], torch.full((1, 16), 2), mask_id=2, mode="sample", rng=r
        ),
        "sample": lambda r: Q.sample(m(), 3, length=4, rng=r),
        "sample_training_noise": lambda r: Q.sample_training_noise(4, 3, rng=r),
        "sample_transition": lambda r: Q.sample_transition(
            m(), torch.full((2, 4), 2), 1.0, 0.5, n_candidates=2, rng=r
        ),
        "smc": lambda r: Q.smc(m(), _reward, 2, K=2, length=4, steps=2, rng=r),
        "svdd": lambda r: Q.svdd(m(), _reward, 2, M=2, length=4, steps=2, rng=r),
        "train": lambda r: Q.train(
            data=tuple(DNA),
            d_model=16,
            n_layers=1,
            n_heads=2,
            batch_size=4,
            steps=1,
            warmup_steps=0,
            val_fraction=0.25,
            eval_max=4,
            rng=r,
        ),  # fmt: skip
        "train_val_split": lambda r: Q.train_val_split(list("abcdef"), val_fraction=0.34, rng=r),
        "train_value_model": lambda r: Q.train_value_model(
            m(),
            _reward,
            n_trajectories=8,
            states_per_trajectory=2,
            length=4,
            epochs=1,
            width=4,
            batch_size=8,
            rng=r,
        ),  # fmt: skip
        "moses_benchmark": moses,
        "toys.RandomDenoiser": lambda r: RandomDenoiser(5, 4, width=4, rng=r),
        "toys.toy_problem": lambda r: toy_problem(length=2, n_tokens=2, rng=r),
    }


def _chem() -> dict[str, Callable[[Any], Any]]:
    import sciddm.chem as C

    def needs_rdkit(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(r: Any) -> Any:
            pytest.importorskip("rdkit")
            return fn(r)

        return call

    return {
        "internal_diversity": needs_rdkit(
            lambda r: C.internal_diversity(SMILES, max_molecules=3, rng=r)
        ),
        "load_moses_test": lambda r: C.load_moses_test(3, rng=r),
        "molecule_report": needs_rdkit(
            lambda r: C.molecule_report(SMILES, SMILES[:2], max_molecules=3, fcd=False, rng=r)
        ),
        "nearest_neighbour_similarity": needs_rdkit(
            lambda r: C.nearest_neighbour_similarity(SMILES, SMILES[:2], max_molecules=2, rng=r)
        ),
    }


class _Uniform:
    """p(x0 | x_t) uniform over A, C, G, T ([MASK] = 4)."""

    vocab_size, mask_id = 5, 4

    def __call__(self, x_t: torch.Tensor, t: Any = None) -> torch.Tensor:
        logits = torch.zeros(*x_t.shape, 5)
        logits[..., 4] = -torch.inf
        return logits


def _dna() -> dict[str, Callable[[Any], Any]]:
    import sciddm.dna as N

    def ars_oracles(r: Any) -> Any:
        from sklearn.exceptions import ConvergenceWarning

        data = _ars()
        with warnings.catch_warnings():
            # one epoch on 40 sequences may leave an oracle constant (it warns so): the
            # random source is what is checked here, not the fit
            warnings.simplefilter("ignore", ConvergenceWarning)
            return N.train_ars_oracles(
                n_train=40, n_test=20, epochs=1, channels=2, batch_size=32, data=data, rng=r
            )

    return {
        "ArsOracle": lambda r: N.ArsOracle(2, rng=r),
        "approx_log_likelihood": lambda r: N.approx_log_likelihood(
            _Uniform(), DNA[:2], n_samples=2, rng=r
        ),
        "hamming_diversity": lambda r: N.hamming_diversity(DNA[:4], max_pairs=3, rng=r),
        "sequence_report": lambda r: N.sequence_report(
            DNA[:4], DNA[4:8], model=_Uniform(), n_samples=2, rng=r
        ),
        "train_ars_oracles": ars_oracles,
    }


_BUILDERS: dict[str, Callable[[], dict[str, Callable[[Any], Any]]]] = {
    "sensitivity": _sensitivity,
    "diffusion": _diffusion,
    "hallucination": _hallucination,
    "equitable": _equitable,
    "ambient": _ambient,
    "discrete": _discrete,
    "chem": _chem,
    "dna": _dna,
}

_LEASTSQUARES = [
    "weighted_least_squares", "sample_best_of", "sample_conditioned", "sample_design",
    "sample_generalized_volume", "sample_optimal", "sample_projection_dpp",
    "sample_repeated_dpp", "sample_volume", "Basis.sample_optimal_points",
    "TensorBasis.sample_optimal_points", "DiscreteBasis.sample_optimal_points",
    "DiscreteBasis.sample_optimal_nodes", "BetaMeasure.sample", "DiscreteMeasure.sample",
    "GammaMeasure.sample", "GaussianMeasure.sample", "UniformMeasure.sample",
    "Measure.sample", "ProductMeasure.sample",
] + [
    f"{fam}.{meth}"
    for fam in ("Chebyshev", "Family", "Hermite", "Jacobi", "Laguerre", "Legendre", "Trigonometric")
    for meth in ("sample_squared", "sample_squared_many")
]  # fmt: skip

#: Qualified name -> the family and the name inside it (the inputs are built at test
#: time; the shared ones once, by the cached helpers above).
CASES: dict[str, tuple[str, str]] = {
    f"sciddm.leastsquares.{n}": ("leastsquares", n) for n in _LEASTSQUARES
}
for _fam, _build in _BUILDERS.items():
    for _name in _build():
        CASES[f"sciddm.{_fam}.{_name}"] = (_fam, _name)

#: Callables whose ``rng`` is a deprecated spelling: every value passed warns.
DEPRECATED = {
    "sciddm.diffusion.ClassifierFeatures": (
        "a scikit-learn estimator: `random_state` is its random source, `rng` its old name"
    ),
    "sciddm.sensitivity.lp_sensitivities": (
        "the sensitivities are deterministic: `rng` is ignored and will be removed"
    ),
}

#: Callables whose int-seeded results are not compared, and why (none so far: `_same`
#: compares every result, falling back to the fields of plain objects).
NOT_COMPARED: dict[str, str] = {}

#: Callables whose result may not change with the seed (rng=0 and rng=1), and why. For
#: every other case a different seed must give a different result: a parameter that
#: ignores its rng is a bug.
SEED_FREE: dict[str, str] = {
    "sciddm.diffusion.sample_dpmpp_2m": "deterministic solver; rng kept for the common "
    "sampler signature and checked (documented)",
    "sciddm.diffusion.sample_mixed": "deterministic solvers; rng kept for the common sampler "
    "signature and checked (documented)",
    "sciddm.sensitivity.lp_sensitivities": DEPRECATED["sciddm.sensitivity.lp_sensitivities"],
    "sciddm.hallucination.recursive_training": "the result holds only per-generation "
    "summaries (hallucination rate, modes covered), equal at this tiny size for any seed; "
    "the seed's effect on the trained samplers is checked through train_sampler/generate",
}

#: Public callables with `rng` that have no case here, and why. Keep it empty: optional
#: data or dependencies skip inside the case (pytest.importorskip), they are not excluded.
EXCLUDED: dict[str, str] = {}


def _call(qual: str) -> Callable[[Any], Any]:
    fam, name = CASES[qual]
    if fam == "leastsquares":
        return _leastsquares(name)
    return _BUILDERS[fam]()[name]


def _rng_callables() -> set[str]:
    out = set()
    for qual, _cls, fn, _init in _public_callables():
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins
            continue
        if "rng" in params:
            out.add(qual)
    return out


def test_cases_cover_every_rng_callable():
    public = _rng_callables()
    missing = public - set(CASES) - set(EXCLUDED)
    stale = (set(CASES) | set(EXCLUDED)) - public
    assert not missing, f"public callables with `rng` and no case in CASES: {sorted(missing)}"
    assert not stale, (
        f"CASES/EXCLUDED name callables that are not public with `rng`: {sorted(stale)}"
    )
    assert not set(CASES) & set(EXCLUDED)
    for table in (DEPRECATED, NOT_COMPARED, SEED_FREE):
        assert set(table) <= set(CASES), sorted(set(table) - set(CASES))


def _run(qual: str, call: Callable[[Any], Any], rng: Any) -> Any:
    if qual in DEPRECATED:
        with pytest.warns(DeprecationWarning, match="rng"):
            return call(rng)
    return call(rng)


@pytest.mark.parametrize("qual", sorted(CASES))
def test_rng_accepts_none_int_generator_and_rejects_the_rest(qual):
    """The contract of ``sciddm._core.rng``, points 2 and 4: None, an int and a numpy
    Generator are accepted; an int gives a fresh, reproducible stream and leaves numpy's
    and torch's global generators alone; a Generator is used and advanced in place;
    anything else is a TypeError naming ``rng``."""
    call = _call(qual)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lp_sensitivities(rng=None)
        call(None)
    # the global generators are read here only to check that they are left alone
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()  # noqa: NPY002
    a = _run(qual, call, 0)
    assert torch.equal(torch.random.get_rng_state(), torch_state), f"{qual} drew from torch's"
    assert _same(np.random.get_state(), numpy_state), f"{qual} drew from numpy's"  # noqa: NPY002
    b = _run(qual, call, 0)
    g = np.random.default_rng(0)
    x, y = _run(qual, call, g), _run(qual, call, g)
    z = _run(qual, call, np.random.default_rng(0))
    if qual not in NOT_COMPARED:
        assert _same(a, b), f"{qual}: two calls with rng=0 differ"
        assert _same(x, z), f"{qual}: two calls with rng=default_rng(0) differ"
        if qual not in SEED_FREE:
            assert not _same(a, _run(qual, call, 1)), f"{qual}: rng=0 and rng=1 give one result"
            assert not _same(x, y), f"{qual}: the Generator passed is not advanced"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeError, match="rng"):
            call("bad")
        with pytest.raises(TypeError, match="rng"):
            call(1.5)
        with pytest.raises(ValueError, match="rng"):
            call(-1)


#: Callables where torch draws the numbers and a torch.Generator is accepted (contract
#: point 2). Every other callable must refuse one with a TypeError naming `rng`. Not
#: listed although torch draws some of their numbers: the hallucination pipeline
#: (train_sampler, generate, exact_score_sample, recursive_training), the ARS oracles'
#: training and dna.approx_log_likelihood, diffusion.explained_variance: they take one
#: numpy source and derive their torch streams from it.
TORCH_GENERATOR = frozenset(
    {f"sciddm.ambient.{n}" for n in ("ambient_loss", "ambient_sample", "truncated_lognormal_sigma")}
    | {
        f"sciddm.diffusion.{n}"
        for n in (
            "EpsMLP", "MLPDenoiser", "UNetDenoiser", "ScheduleSearchResult.sample", "randn_like",
            "sample", "sample_ancestral", "sample_ddim", "sample_ddpm", "sample_dpmpp_2m",
            "sample_euler", "sample_heun", "sample_mixed", "train_denoiser",
        )
    }
    | {
        f"sciddm.discrete.{n}"
        for n in (
            "MDLM", "ValueModel", "best_of_n", "categorical", "distill_sampler",
            "evaluate_nelbo", "nelbo",
            "predict_x0", "sample", "sample_training_noise", "sample_transition", "smc", "svdd",
            "toys.RandomDenoiser", "train", "train_value_model",
        )
    }
    | {"sciddm.dna.ArsOracle"}
)  # fmt: skip


def test_torch_generator_table_names_cases():
    assert TORCH_GENERATOR <= set(CASES), sorted(TORCH_GENERATOR - set(CASES))


@pytest.mark.parametrize("qual", sorted(CASES))
def test_torch_generator_accepted_where_torch_draws(qual):
    call = _call(qual)

    def gen(seed: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    if qual not in TORCH_GENERATOR:
        with warnings.catch_warnings(), pytest.raises(TypeError, match="rng"):
            warnings.simplefilter("ignore", DeprecationWarning)
            call(gen(3))
        return
    a, b = _run(qual, call, gen(3)), _run(qual, call, gen(3))
    assert _same(a, b), f"{qual}: two same-seeded torch.Generators give different results"
    if qual not in SEED_FREE:
        assert not _same(a, _run(qual, call, gen(4))), f"{qual}: the torch.Generator is ignored"


# ---------------------------------------------------------------------------------
# trained weights from `rng` alone
# ---------------------------------------------------------------------------------
# Already covered elsewhere, with torch's global generator moved between the runs:
# - sciddm.discrete.train: tests/discrete/test_train.py::
#   test_same_rng_gives_bit_identical_weights_without_touching_torch_global_state
#   (torch.manual_seed(123) / (456) before the two runs);
# - sciddm.dna.train_ars_oracles: tests/dna/test_oracle.py::test_training_reproducible_by_seed
#   (torch.manual_seed(123), then torch.rand(1000) between the runs);
# - sciddm.diffusion.train_denoiser: tests/diffusion/test_training.py::
#   test_same_rng_gives_bit_identical_weights_without_global_seeding, which checks that the
#   global stream is untouched but never reseeds it; the test below adds that.


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_train_denoiser_weights_do_not_depend_on_torch_global_seed():
    from sciddm.diffusion import MLPDenoiser, train_denoiser

    before = torch.random.get_rng_state()
    runs = []
    try:
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            net = MLPDenoiser(2, hidden=8, depth=1, emb_dim=4, rng=0)
            runs.append(train_denoiser(net, X2, steps=3, batch_size=4, rng=0))
    finally:
        torch.random.set_rng_state(before)
    a, b = (_state(r.model) for r in runs)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert _same(_state(runs[0].net), _state(runs[1].net))
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    # and the weights do depend on `rng` (the test above could not fail otherwise)
    other = train_denoiser(MLPDenoiser(2, hidden=8, depth=1, emb_dim=4, rng=0), X2, steps=3,
                           batch_size=4, rng=1)  # fmt: skip
    assert not _same(_state(runs[0].model), _state(other.model))
