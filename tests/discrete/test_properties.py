"""Property-based tests of every public name of sciddm.discrete and sciddm.discrete.toys.

Generated inputs, good and bad (NaN/inf, empty, wrong ndim/shape, negative/zero/huge
sizes, wrong types, out-of-range ids and scalars, non-ACGT text, invalid SMILES,
non-strings), must give either a finite valid result or a ``ValueError``/``TypeError``
whose message names the offending argument: never another exception type, a hang, a
NaN, or a silent fallback. Sizes are tiny; the file runs in a few seconds.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import sciddm.discrete as D
import sciddm.discrete.toys as T

COVERED = frozenset(
    {
        # schedule, protocol, model, NELBO
        "DEFAULT_EPS",
        "LogLinearSchedule",
        "Denoiser",
        "FunctionModel",
        "ModelInfo",
        "model_info",
        "MDLM",
        "MDLMConfig",
        "save_model",
        "load_model",
        "nelbo",
        "exact_nelbo",
        "evaluate_nelbo",
        "NelboResult",
        "sample_training_noise",
        "unigram_bits_per_token",
        # sampling
        "METHODS",
        "RowGenerator",
        "categorical",
        "sample",
        "SampleResult",
        "denoiser_probs",
        "transition_probs",
        "sample_transition",
        "Transition",
        "predict_x0",
        "split_seeds",
        "merge_rank_results",
        "sample_distributed",
        "unigram_distribution",
        "sequence_entropy",
        "sample_diagnostics",
        "SampleDiagnostics",
        # guidance
        "best_of_n",
        "svdd",
        "smc",
        "GuidanceResult",
        "ValueModel",
        "ValueFit",
        "train_value_model",
        "save_value_model",
        "load_value_model",
        # training
        "TrainConfig",
        "TrainResult",
        "train",
        # data
        "DnaTokenizer",
        "SmilesTokenizer",
        "split_smiles",
        "tokenizer_from_dict",
        "SequenceData",
        "prepare_smiles",
        "prepare_dna",
        "load_sequences",
        "read_sequence_file",
        "load_nci_smiles",
        "load_moses_smiles",
        "load_ars_sequences",
        "Split",
        "train_val_split",
        "TokenDataset",
        # toys
        "ToyProblem",
        "toy_problem",
        "exact_law",
        "toy_reward",
        "ExactTilt",
        "exact_tilt",
        "svdd_law",
        "svdd_argmax_law",
        "best_of_n_law",
        "float32_win_probability",
        "float32_chain_token_probability",
        "RandomDenoiser",
    }
)


def _covered_elsewhere() -> frozenset[str]:
    """``COVERED`` of the other property-test files of the family (read, not imported:
    the molecules file skips without rdkit)."""
    import ast
    import pathlib

    names: set[str] = set()
    for name in ("test_properties_molecules.py", "test_properties_lsd.py"):
        tree = ast.parse((pathlib.Path(__file__).parent / name).read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COVERED":
                names |= set(ast.literal_eval(node.value.args[0]))  # frozenset({...})
    return frozenset(names)


def test_covered_is_every_public_name():
    others = _covered_elsewhere()
    assert not COVERED & others  # each name has one home
    assert set(D.__all__) | set(T.__all__) == COVERED | others


# -- helpers --------------------------------------------------------------------------

# values that a size or an integer knob can receive
ints = st.one_of(
    st.integers(-3, 6),
    st.sampled_from([2**40, 2**70, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([None, True, "3", [2], 2.5, np.int64(3)]),
)
scalars = st.one_of(
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, 1.0, 1e300]),
    st.sampled_from([None, "0.5", [0.1], True]),
)
rngs = st.one_of(
    st.integers(0, 2**32),
    st.just(None),
    st.sampled_from(["rng", -1, 1.5, np.random.RandomState(0), object()]),
)


def outcome(fn, *names):
    """Run ``fn``: return its value, or None after a ValueError/TypeError that names one
    of ``names`` (any other exception fails the test)."""
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        named = (f"`{n}" in msg or f"{n} " in msg or f"'{n}" in msg or ("." in n and n in msg)
                 for n in names)  # fmt: skip
        assert any(named), f"the message does not name any of {names}: {type(exc).__name__}: {msg}"
        return None


def finite(a):
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)
    return bool(np.isfinite(a).all())


def uniform_model(v=4, length=None, output="logits", forbidden=()):
    return D.FunctionModel(
        lambda x: torch.zeros(*x.shape, v),
        vocab_size=v,
        mask_id=v - 1,
        length=length,
        output=output,
        forbidden_ids=forbidden,
    )


def token_arrays(v=4, length=3):
    good = st.lists(
        st.lists(st.integers(0, v - 2), min_size=length, max_size=length), min_size=1, max_size=3
    )
    bad = st.one_of(
        st.lists(st.lists(st.integers(-2, v + 2), min_size=1, max_size=4), min_size=1, max_size=3),
        st.lists(st.floats(allow_nan=True), min_size=1, max_size=3),
        st.sampled_from(["ACG", None, [], [[]], [[0.5] * length], 7]),
    )
    return st.one_of(good, bad)


# -- schedule, protocol ------------------------------------------------------------------


@given(eps=scalars, t=st.floats(0, 1))
def test_schedule(eps, t):
    s = outcome(lambda: D.LogLinearSchedule(eps), "eps")
    if s is None:
        return
    a = s.alpha(t)
    assert s.eps <= a <= 1 and math.isfinite(s.loss_weight(max(t, 1e-3)))
    assert s.time_of_alpha(a) == pytest.approx(t, abs=1e-9)
    assert D.LogLinearSchedule().eps == D.DEFAULT_EPS


@given(
    v=ints,
    mask=ints,
    output=st.sampled_from(["logits", "probs", "log_probs", "scores", 3]),
    forbidden=st.one_of(st.lists(st.integers(-1, 6), max_size=3), st.just("ab")),
)
def test_function_model_and_model_info(v, mask, output, forbidden):
    names = ("vocab_size", "mask_id", "output", "forbidden_ids")
    m = outcome(
        lambda: D.FunctionModel(
            lambda x: torch.zeros(*x.shape, 2),
            vocab_size=v,
            mask_id=mask,
            output=output,
            forbidden_ids=forbidden,
        ),
        *names,
    )
    if m is None:
        return
    assert isinstance(m, D.Denoiser)
    info = D.model_info(m)
    assert isinstance(info, D.ModelInfo) and info.mask_id in info.banned
    assert len(info.banned) < info.vocab_size
    outcome(lambda: D.model_info(lambda x: x), "model")


# -- sampling --------------------------------------------------------------------------------


@given(
    n=ints,
    method=st.sampled_from([*D.METHODS, "euler"]),
    steps=st.one_of(st.none(), ints),
    k=ints,
    precision=st.sampled_from(["float64", "float32", "float16"]),
    seeds=st.one_of(st.none(), st.lists(st.integers(-2, 2**64), max_size=4), st.just("12")),
    rng=rngs,
    t_min=scalars,
)
def test_sample(n, method, steps, k, precision, seeds, rng, t_min):
    m = uniform_model(5, length=3)
    res = outcome(
        lambda: D.sample(
            m, n, method=method, steps=steps, k=k, precision=precision, seeds=seeds, rng=rng,
            t_min=t_min,
        ),
        "n", "method", "steps", "k", "precision", "seeds", "rng", "t_min",
    )  # fmt: skip
    if res is None:
        return
    assert isinstance(res, D.SampleResult) and res.tokens.shape == (n, 3)
    assert ((res.tokens >= 0) & (res.tokens < 4)).all() and (res.nfe >= 1).all()
    assert finite(res.unmask_times) and res.wall_time >= 0


@given(
    probs=st.lists(
        st.one_of(st.floats(0, 10), st.sampled_from([float("nan"), -1.0, float("inf")])),
        min_size=0,
        max_size=4,
    ),
    seeds=st.lists(st.one_of(st.integers(-1, 2**64), st.floats(0, 2)), min_size=1, max_size=3),
    precision=st.sampled_from(["float64", "float32", "half"]),
    rng=rngs,
)
def test_categorical_and_row_generator(probs, seeds, precision, rng):
    gen = outcome(lambda: D.RowGenerator(seeds), "seeds")
    if gen is not None:
        u = gen.uniform(2)
        assert u.shape == (len(seeds), 2) and bool(((u > 0) & (u < 1)).all())
    p = torch.tensor(probs, dtype=torch.float64).expand(3, len(probs)) if probs else probs
    x = outcome(lambda: D.categorical(p, rng=rng, precision=precision), "probs", "rng", "precision")
    if x is not None:
        assert x.shape == (3,) and all(probs[i] > 0 for i in x.tolist())


@given(x=token_arrays(5, 3), t=scalars, s=scalars, mode=st.sampled_from(["argmax", "sample", "x"]))
def test_single_steps(x, t, s, mode):
    m = uniform_model(5, length=3)
    p = outcome(lambda: D.denoiser_probs(m, x), "x_t")
    if p is not None:
        assert finite(p) and torch.allclose(p.sum(-1), torch.ones(()).double())
    xt = torch.full((2, 3), 4)
    q = outcome(lambda: D.transition_probs(D.denoiser_probs(m, xt), xt, t, s, mask_id=4), "t", "s")
    if q is not None:
        assert finite(q) and torch.allclose(q.sum(-1), torch.ones(()).double())
    tr = outcome(lambda: D.sample_transition(m, xt, t, s, n_candidates=2, rng=0), "t", "s")
    if tr is not None:
        assert isinstance(tr, D.Transition) and tr.candidates.shape == (2, 2, 3)
    x0 = outcome(lambda: D.predict_x0(D.denoiser_probs(m, xt), xt, mask_id=4, mode=mode), "mode")
    if x0 is not None:
        assert ((x0 >= 0) & (x0 < 4)).all()


@given(
    seeds=st.one_of(st.lists(st.integers(0, 50), min_size=1, max_size=6), st.just("abc")),
    rank=ints,
    world=ints,
)
def test_distributed_helpers(seeds, rank, world):
    part = outcome(lambda: D.split_seeds(seeds, rank, world), "seeds", "rank", "world_size")
    if part is None:
        return
    m = uniform_model(4, length=2)
    parts = outcome(
        lambda: [D.sample_distributed(m, seeds, rank=r, world_size=world) for r in range(world)],
        "world_size",
    )
    if parts is None:
        assert world > len(seeds)
        return
    whole = D.merge_rank_results(parts)
    assert whole.seeds.tolist() == list(seeds)
    np.testing.assert_array_equal(whole.tokens, D.sample(m, len(seeds), seeds=seeds).tokens)
    outcome(lambda: D.merge_rank_results(parts[::-1] + [3]), "results")


@given(
    tokens=token_arrays(6, 4),
    v=ints,
    exclude=st.one_of(st.lists(st.integers(-1, 8), max_size=2), st.just(1)),
)
def test_diagnostics(tokens, v, exclude):
    u = outcome(
        lambda: D.unigram_distribution(tokens, v, exclude=exclude),
        "tokens",
        "vocab_size",
        "exclude",
    )
    if u is not None:
        assert finite(u) and (u.sum() == pytest.approx(1) or u.sum() == 0)
    h = outcome(lambda: D.sequence_entropy(tokens, exclude=exclude), "tokens", "exclude")
    if h is not None:
        assert finite(h) and (h >= 0).all()
    d = outcome(lambda: D.sample_diagnostics(tokens, 6, reference=[[0, 1]]), "samples", "tokens")
    if d is not None:
        assert isinstance(d, D.SampleDiagnostics) and finite(d.unigram_tv)


# -- guidance ----------------------------------------------------------------------------------


def _rewards():
    good = lambda x: np.asarray(x).sum(1).astype(float)  # noqa: E731
    return st.sampled_from(
        [
            good,
            lambda x: np.full(len(x), np.nan),
            lambda x: np.full(len(x), np.inf),
            lambda x: np.zeros((len(x), 2)),
            lambda x: "bad",
            3.0,
        ]
    )


@given(
    n=ints,
    knob=ints,
    alpha=scalars,
    reward=_rewards(),
    which=st.sampled_from(["bon", "svdd", "smc"]),
)
def test_guidance(n, knob, alpha, reward, which):
    m = uniform_model(4, length=3)
    names = ("n", "reward", "N", "M", "K", "alpha")
    if which == "bon":
        fn = lambda: D.best_of_n(m, reward, n, N=knob, seeds=None, rng=0)  # noqa: E731
    elif which == "svdd":
        fn = lambda: D.svdd(m, reward, n, M=knob, alpha=alpha, steps=3, rng=0)  # noqa: E731
    else:
        fn = lambda: D.smc(m, reward, n, K=knob, alpha=alpha, steps=3, rng=0)  # noqa: E731
    res = outcome(fn, *names)
    if res is not None:
        assert isinstance(res, D.GuidanceResult) and res.tokens.shape == (n, 3)
        assert finite(res.rewards) and (res.reward_calls >= 1).all()


@settings(max_examples=8)
@given(width=ints, lr=scalars, n_traj=ints, rng=rngs)
def test_value_models(width, lr, n_traj, rng):
    vm = outcome(lambda: D.ValueModel(4, 3, width=width, rng=rng), "width", "rng")
    if vm is not None:
        out = vm(torch.zeros(2, 3, dtype=torch.long), torch.rand(2))
        assert out.shape == (2,) and finite(out)
        outcome(lambda: vm(torch.full((1, 3), 9), torch.rand(1)), "x")
        d = tempfile.mkdtemp()
        p = D.save_value_model(vm, os.path.join(d, "v.pt"))
        assert torch.equal(D.load_value_model(p).pos, vm.pos)
        with open(p, "r+b") as fh:
            fh.truncate(100)
        outcome(lambda: D.load_value_model(p), "value model")
    m = uniform_model(4, length=3)
    fit = outcome(
        lambda: D.train_value_model(
            m, lambda x: np.asarray(x).sum(1), n_trajectories=n_traj, lr=lr, epochs=1, width=4,
            rng=rng, val_fraction=0.0,
        ),
        "n_trajectories", "lr", "rng", "val_fraction",
    )  # fmt: skip
    if fit is not None:
        assert isinstance(fit, D.ValueFit) and fit.n_skipped >= 0
        assert finite(fit.losses) or fit.n_skipped > 0


# -- model, NELBO ------------------------------------------------------------------------------


@settings(max_examples=10)
@given(d=ints, heads=ints, layers=ints, dropout=scalars, rng=rngs, junk=st.binary(max_size=40))
def test_mdlm_config_and_files(d, heads, layers, dropout, rng, junk):
    cfg = outcome(
        lambda: D.MDLMConfig(vocab_size=4, length=3, d_model=d, n_heads=heads, n_layers=layers,
                             dropout=dropout),
        "d_model", "n_heads", "n_layers", "dropout",
    )  # fmt: skip
    if cfg is not None and cfg.d_model <= 8:
        model = outcome(lambda: D.MDLM(cfg, rng=rng), "rng")
        if model is not None:
            assert finite(model(torch.full((1, 3), 3))[..., :3])
            path = os.path.join(tempfile.mkdtemp(), "m.pt")
            D.save_model(model, path)
            assert torch.equal(D.load_model(path).pos_emb, model.pos_emb)
    p = os.path.join(tempfile.mkdtemp(), "junk.pt")
    with open(p, "wb") as fh:
        fh.write(junk)
    outcome(lambda: D.load_model(p), "discrete model")


@given(x0=token_arrays(4, 3), rng=rngs, n=ints, length=ints)
def test_nelbo_family(x0, rng, n, length):
    probs = torch.tensor([0.5, 0.25, 0.25, 0.0])
    m = D.FunctionModel(lambda x: probs.expand(*x.shape, 4), 4, 3, output="probs")
    est = outcome(lambda: D.nelbo(m, x0, rng=rng), "x0", "rng")
    if est is not None:
        assert finite(est) and (est >= 0).all()
        exact = D.exact_nelbo(m, x0)
        want = -np.log(np.array([0.5, 0.25, 0.25])[np.asarray(x0)]).sum(1)  # independent
        np.testing.assert_allclose(exact, want, rtol=1e-6)
        res = D.evaluate_nelbo(m, x0, rng=0)
        assert isinstance(res, D.NelboResult) and finite(res.nelbo)
    noise = outcome(lambda: D.sample_training_noise(n, length, rng=0), "n", "length")
    if noise is not None:
        t, u = noise
        assert ((t > 0) & (t <= 1)).all() and ((u >= 0) & (u < 1)).all()
    b = outcome(lambda: D.unigram_bits_per_token(x0, x0, 4), "train_ids", "val_ids")
    if b is not None:
        assert math.isfinite(b) and b >= 0


# -- training ----------------------------------------------------------------------------------

DNA = ["".join(np.random.default_rng(i).choice(list("ACGT"), 6)) for i in range(24)]


@settings(max_examples=6)
@given(
    field=st.sampled_from(
        ["steps", "lr", "batch_size", "grad_clip", "ema", "val_fraction", "model", "data",
         "dropout", "on_nonfinite", "seed", "warmup_steps"]
    ),
    value=st.one_of(ints, scalars, st.sampled_from(["tiny", "x", (), ("AC",), 3])),
    rng=rngs,
)  # fmt: skip
def test_train(field, value, rng):
    kw = dict(data=tuple(DNA), d_model=8, n_heads=2, n_layers=1, batch_size=4, steps=2,
              warmup_steps=0, val_fraction=0.25, eval_max=4, log_every=0)  # fmt: skip
    cfg = outcome(lambda: D.TrainConfig(**{**kw, field: value}), field)
    if cfg is None:
        return
    res = outcome(lambda: D.train(cfg, rng=rng), "rng", "batch_size", "data", "dataset")
    if res is not None:
        assert isinstance(res, D.TrainResult) and res.losses.shape == (cfg.steps,)
        assert finite(res.losses) or len(res.skipped_steps)
        assert all(finite(p) for p in res.model.parameters())


@settings(max_examples=2)
@given(seed=st.integers(0, 2**40))
def test_train_runs_are_reproducible(seed):
    kw = dict(data=tuple(DNA), d_model=8, n_heads=2, n_layers=1, batch_size=4, steps=2,
              warmup_steps=0, val_fraction=0.25, eval_max=4, log_every=0)  # fmt: skip
    a, b = D.train(kw, rng=seed), D.train(kw, rng=seed)
    assert isinstance(a, D.TrainResult) and finite(a.losses) and a.wall_time > 0
    np.testing.assert_array_equal(a.losses, b.losses)


# -- data --------------------------------------------------------------------------------------

texts = st.one_of(
    st.text(alphabet="ACGTNacgtX-", max_size=6),
    st.text(alphabet="CNOc1()=#[]+Cl%0", max_size=8),
    st.text(max_size=5),
)
seq_lists = st.one_of(
    st.lists(texts, max_size=4),
    st.sampled_from(["ACGT", None, 3, [b"AC"], [1, 2]]),
)


@given(text=st.one_of(texts, st.just(None), st.just(3)))
def test_tokenizers(text):
    toks = outcome(lambda: D.split_smiles(text), "smiles", "SMILES")
    if toks is not None:
        assert "".join(toks) == text
        tok = D.SmilesTokenizer.from_smiles([text or "C"], length=max(len(toks), 1))
        assert tok.decode(tok.encode(text)) == text
        back = D.tokenizer_from_dict(tok.to_dict())
        assert back == tok
    dna = D.DnaTokenizer()
    ids = outcome(lambda: dna.encode(text), "text", "symbol")
    if ids is not None:
        assert dna.decode(ids) == text.upper()
    outcome(lambda: D.tokenizer_from_dict({"kind": text}), "d")


@settings(max_examples=15)
@given(
    seqs=seq_lists,
    values=st.one_of(st.none(), st.lists(st.floats(allow_nan=True), max_size=4)),
    invalid=st.sampled_from(["skip", "error", "keep", "oops"]),
    junk=st.binary(max_size=30),
    frac=scalars,
)
def test_data(seqs, values, invalid, junk, frac):
    d = outcome(
        lambda: D.prepare_dna(seqs, values=values, invalid=invalid),
        "sequences", "values", "invalid", "DNA",
    )  # fmt: skip
    if d is not None:
        assert isinstance(d, D.SequenceData) and all(set(s) <= set("ACGT") for s in d)
        if d.values is not None:
            assert finite(d.values)
    s = outcome(lambda: D.prepare_smiles(seqs, invalid=invalid), "smiles", "invalid", "SMILES")
    if s is not None:
        assert all(isinstance(x, str) and x for x in s)
    outcome(lambda: D.load_sequences(seqs, invalid=invalid), "source", "invalid", "kind", "DNA",
            "SMILES", "dataset")  # fmt: skip
    path = os.path.join(tempfile.mkdtemp(), "seqs.txt")
    with open(path, "wb") as fh:
        fh.write(junk)
    lines = outcome(lambda: D.read_sequence_file(path), "seqs.txt")
    if lines is not None:
        assert all(isinstance(x, str) and x for x in lines)
    sp = outcome(lambda: D.train_val_split(seqs, val_fraction=frac, rng=0), "items", "val_fraction")
    if sp is not None:
        assert isinstance(sp, D.Split) and len(sp.train) + len(sp.val) == len(seqs)
    ds = outcome(lambda: D.TokenDataset(seqs, D.DnaTokenizer()), "sequences", "symbol", "sequence")
    if ds is not None:
        assert len(ds) == len(seqs)


@settings(max_examples=5)
@given(limit=ints, max_length=ints)
def test_named_datasets_check_their_options_first(limit, max_length):
    pytest.importorskip("rdkit")
    if isinstance(max_length, int) and not isinstance(max_length, bool) and max_length >= 1:
        max_length = 0  # keep these calls from reading the whole NCI file
    outcome(lambda: D.load_nci_smiles(max_length=max_length), "max_length")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1:
        limit = 0  # the ARS file takes seconds to read; only the checks are exercised here
    outcome(lambda: D.load_ars_sequences(limit=limit), "limit")
    res = outcome(lambda: D.load_moses_smiles("test", limit=3, max_length=max_length), "max_length")
    assert res is None


def test_moses_loads_when_options_are_valid():
    pytest.importorskip("rdkit")
    d = D.load_moses_smiles("test", limit=3)
    assert len(d) == 3 and all(isinstance(s, str) for s in d)


# -- toys --------------------------------------------------------------------------------------


@settings(max_examples=15)
@given(
    length=ints,
    n_tokens=ints,
    method=st.sampled_from(["fhs", "ancestral", "cached", "fhs-parallel", "x"]),
    steps=st.one_of(st.none(), ints),
    alpha=scalars,
    m=st.one_of(st.none(), ints),
)
def test_toys(length, n_tokens, method, steps, alpha, m):
    prob = outcome(lambda: T.toy_problem(length, n_tokens, rng=1), "length", "n_tokens")
    if prob is None:
        return
    assert isinstance(prob, T.ToyProblem)
    law = outcome(lambda: T.exact_law(prob, method, steps=steps), "method", "steps", "k")
    if law is not None:
        assert finite(law) and law.sum() == pytest.approx(1.0)
    r = np.arange(prob.n_tokens**prob.length, dtype=float)
    assert T.toy_reward(prob, r)(np.zeros((1, prob.length), dtype=int)).tolist() == [0.0]
    tilt = outcome(lambda: T.exact_tilt(prob, r, alpha, steps=2), "alpha")
    if tilt is not None and prob.base**prob.length <= 64:
        assert isinstance(tilt, T.ExactTilt) and tilt.tilted.sum() == pytest.approx(1.0)
        for f in (T.svdd_law, T.svdd_argmax_law):
            out = outcome(lambda f=f: f(tilt, m), "M")
            if out is not None:
                assert finite(out) and out.sum() == pytest.approx(1.0)
    bon = outcome(lambda: T.best_of_n_law([0.5, 0.5], [0.0, 1.0], m), "N")
    if bon is not None:
        assert bon.sum() == pytest.approx(1.0)


@given(r=st.one_of(scalars, st.lists(st.floats(-1, 1e-3), max_size=3)), steps=ints, p=scalars)
def test_float32_references_and_random_denoiser(r, steps, p):
    w = outcome(lambda: T.float32_win_probability(r), "r")
    if w is not None:
        assert finite(w) and ((w >= 0) & (w <= 1)).all()
    if isinstance(steps, int) and not isinstance(steps, bool) and steps > 50:
        steps = 50
    c = outcome(lambda: T.float32_chain_token_probability(p, 0.5, steps), "p_token", "steps")
    if c is not None:
        assert 0 <= c[0] <= c[1] + 1e-9
    den = outcome(lambda: T.RandomDenoiser(4, 3, width=steps, rng=0), "width")
    if den is not None:
        assert finite(den(torch.full((2, 3), 3)))
