"""sample(): API, per-seed reproducibility, NFE, validation, single-step primitives."""

import math

import numpy as np
import pytest
import torch

from sciddm.discrete import (
    FunctionModel,
    LogLinearSchedule,
    RowGenerator,
    categorical,
    denoiser_probs,
    merge_rank_results,
    predict_x0,
    sample,
    sample_distributed,
    sample_transition,
    split_seeds,
    transition_probs,
)
from sciddm.discrete.toys import RandomDenoiser, toy_problem
from sciddm.reproduce import chisquare_gof

ALL = [("ancestral", 6, 1), ("cached", 6, 1), ("fhs", None, 1), ("fhs-parallel", None, 3)]


class Counting:
    """A denoiser that counts its calls and depends on the whole sequence."""

    def __init__(self, fn=None, vocab_size=5, mask_id=4, output="logits"):
        self.vocab_size, self.mask_id, self.output, self.calls = vocab_size, mask_id, output, 0
        self.fn = fn

    def __call__(self, x, t=None):
        self.calls += 1
        if self.fn is not None:
            return self.fn(x)
        h = torch.nn.functional.one_hot(x, self.vocab_size).double().cumsum(1)
        return torch.sin(
            h
            @ torch.arange(1.0, self.vocab_size + 1, dtype=torch.float64)[:, None]
            * torch.arange(1.0, self.vocab_size + 1, dtype=torch.float64)
        )


@pytest.mark.parametrize(("method", "steps", "k"), ALL)
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_sample_depends_only_on_seed(method, steps, k, precision):
    m = Counting()
    seeds = [5, 17, 2**62, 0, 3, 8, 9]
    kw = dict(length=7, method=method, steps=steps, k=k, precision=precision)
    full = sample(m, 7, seeds=seeds, **kw)
    chunked = sample(m, 7, seeds=seeds, batch_size=3, **kw)
    alone = sample(m, 1, seeds=[seeds[3]], **kw)
    assert np.array_equal(full.tokens, chunked.tokens)
    assert np.array_equal(full.tokens[3], alone.tokens[0])
    assert np.array_equal(full.unmask_times[3], alone.unmask_times[0])
    assert len({tuple(r) for r in full.tokens.tolist()}) > 3  # different seeds differ
    assert not (full.tokens == 4).any()
    # a generator gives reproducible seeds
    a = sample(m, 3, rng=np.random.default_rng(1), **kw)
    b = sample(m, 3, rng=1, **kw)
    assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.seeds, b.seeds)
    c = sample(m, 2, rng=torch.Generator().manual_seed(3), **kw)
    assert c.tokens.shape == (2, 7)


def test_result_fields_and_nfe():
    m = Counting()
    r = sample(m, 4, length=8, method="ancestral", steps=5, seeds=range(4))
    assert r.tokens.dtype == np.int64 and r.tokens.shape == (4, 8)
    assert r.n_calls in (5, 6) and np.all(r.nfe <= 6) and r.wall_time > 0
    assert r.time_per_sample == pytest.approx(r.wall_time / 4)
    assert np.all((r.unmask_times >= 0) & (r.unmask_times < 1))
    f = sample(m, 4, length=8, method="fhs", seeds=range(4))
    assert f.n_calls == 8 and np.all(f.nfe == 8) and f.mean_nfe == 8.0
    p = sample(m, 4, length=8, method="fhs-parallel", k=3, seeds=range(4))
    assert p.n_calls == math.ceil(8 / 3)
    assert "SampleResult(tokens=array(shape=(4, 8)" in repr(r)


def test_cached_uses_at_most_L_calls_and_matches_ancestral():
    m = RandomDenoiser(12, 10, width=8, rng=0)
    anc = sample(m, 6, method="ancestral", steps=300, seeds=range(6))
    cac = sample(m, 6, method="cached", steps=300, seeds=range(6))
    # same chain, same random numbers, p_theta reused only where x did not change
    assert np.array_equal(anc.tokens, cac.tokens)
    assert np.all(cac.nfe <= 10) and anc.n_calls >= 300 and np.all(anc.nfe > 10 * cac.nfe)
    r = sample(Counting(), 3, length=5, method="cached", steps=1000, seeds=range(3))
    assert np.all(r.nfe <= 5)
    kw = dict(steps=50, seeds=range(4), precision="float32")
    a32 = sample(m, 4, method="ancestral", **kw)
    c32 = sample(m, 4, method="cached", **kw)
    assert np.array_equal(a32.tokens, c32.tokens)


def test_time_conditioned_models_receive_times():
    seen = []

    def fn(x, t):
        seen.append(t.clone())
        return torch.zeros(*x.shape, 3)

    m = FunctionModel(fn, vocab_size=3, mask_id=2, length=6, time_conditioned=True)
    sample(m, 2, method="ancestral", steps=4, seeds=[1, 2])
    grid = np.linspace(1, 1e-5, 5)
    for i, t in enumerate(seen):
        assert np.allclose(t.numpy(), grid[i], atol=1e-6)
    seen.clear()
    r = sample(m, 2, method="fhs", seeds=[1, 2])
    ts = torch.stack(seen).numpy()  # (L, n): first-hitting times, decreasing in (0, 1]
    assert np.all(np.diff(ts, axis=0) < 0) and np.all((ts > 0) & (ts <= 1))
    assert np.allclose(np.sort(r.unmask_times, 1)[:, ::-1].T, ts, atol=1e-6)
    with pytest.raises(ValueError, match="needs a time-agnostic model"):
        sample(m, 2, method="cached", steps=3)


def test_forbidden_ids_tokenizer_and_noise_removal():
    class Tok:
        def decode_batch(self, ids):
            return ["".join("abcd"[i] for i in row) for row in ids]

    m = FunctionModel(
        lambda x: torch.zeros(*x.shape, 5),
        vocab_size=5,
        mask_id=4,
        forbidden_ids=[0],
        tokenizer=Tok(),
    )
    for method, steps, k in ALL:
        r = sample(m, 20, length=6, method=method, steps=steps, k=k, seeds=range(20))
        assert not np.isin(r.tokens, [0, 4]).any()
        assert r.texts is not None and r.texts[0] == "".join("abcd"[i] for i in r.tokens[0])
    logits = torch.log(torch.tensor([0.6, 0.4, 0.0]))
    m2 = FunctionModel(lambda x: logits.expand(*x.shape, 3), vocab_size=3, mask_id=2)
    r = sample(
        m2,
        200,
        length=6,
        method="ancestral",
        steps=1,
        t_min=0.5,
        noise_removal="argmax",
        seeds=range(200),
    )
    last = r.unmask_times == 0.0
    assert last.sum() > 100 and np.all(r.tokens[last] == 0)
    assert 0 < (r.tokens[~last] == 1).mean() < 0.6


def test_bad_inputs_raise_before_the_model_is_called():
    m = Counting()
    cases = [
        (dict(n=0), r"`n` must be an integer in \[1, 67108864\], got 0"),
        (dict(n=-3), r"`n` must be an integer in \[1, "),
        (dict(k=9, method="fhs-parallel"), r"`k` must be an integer in \[1, 8\], got 9"),
        (dict(k=2, method="fhs"), "use 'fhs-parallel'"),
        (
            dict(steps=0, method="ancestral"),
            r"`steps` must be an integer in \[1, 10000000\], got 0",
        ),
        (dict(steps=0, method="fhs"), r"`steps` must be an integer >= 1"),
        (dict(method="euler"), "`method` must be one of"),
        (dict(precision="bf16"), "`precision` must be one of"),
        (dict(length=None), "`length` is required"),
        (dict(seeds=[1, 2]), "`seeds` must have n = 3 entries"),
        (dict(seeds=[1, 2, 3], rng=0), "either `seeds` or `rng`"),
        (dict(batch_size=0), "`batch_size` must be an integer >= 1"),
        (dict(noise_removal="none"), "`noise_removal` must be one of"),
    ]
    for kw, match in cases:
        args = dict(n=3, length=8, method="fhs") | kw
        with pytest.raises(ValueError, match=match):
            sample(m, args.pop("n"), **args)
    assert m.calls == 0
    fixed = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2, length=4)
    with pytest.raises(ValueError, match="`length` must equal model.length = 4"):
        sample(fixed, 1, length=5)


@pytest.mark.parametrize("method", ["ancestral", "cached", "fhs", "fhs-parallel"])
@pytest.mark.parametrize(
    ("output", "value", "match"),
    [
        ("logits", float("nan"), "NaN"),
        ("logits", float("inf"), r"\+inf"),
        ("probs", 0.5, "unnormalised probabilities"),
        ("log_probs", 0.0, "unnormalised log"),
    ],
)
def test_bad_model_output_fails_at_first_call(method, output, value, match):
    m = Counting(fn=lambda x: torch.full((*x.shape, 5), value), output=output)
    with pytest.raises(ValueError, match=match):
        sample(m, 2, length=4, method=method, steps=3, k=2 if method == "fhs-parallel" else 1)
    assert m.calls == 1


def test_distributed_split_reassembles_single_process_result():
    m = Counting()
    seeds = np.arange(11) * 7 + 1
    whole = sample(m, 11, length=6, seeds=seeds, method="ancestral", steps=4)
    parts = [
        sample_distributed(m, seeds, rank=r, world_size=4, length=6, method="ancestral", steps=4)
        for r in range(4)
    ]
    assert [len(p.tokens) for p in parts] == [3, 3, 3, 2]
    merged = merge_rank_results(parts)
    assert np.array_equal(merged.tokens, whole.tokens) and np.array_equal(merged.seeds, seeds)
    assert split_seeds(seeds, 3, 4).tolist() == seeds[3::4].tolist()
    single = sample_distributed(m, seeds[:2], length=6)  # no process group: everything here
    assert len(single.tokens) == 2
    with pytest.raises(ValueError, match="`rank` must be an integer in"):
        split_seeds(seeds, 4, 4)
    with pytest.raises(ValueError, match="exceeds the number of seeds"):
        sample_distributed(m, [1, 2], rank=0, world_size=3, length=6)


def test_transition_probs_formula_and_normalisation():
    sch = LogLinearSchedule()
    m = Counting()
    x = torch.tensor([[4, 1, 4], [0, 4, 4]])
    p = denoiser_probs(m, x)
    assert torch.allclose(p.sum(-1), torch.ones(2, 3, dtype=torch.float64))
    assert p[0, 1].tolist() == [0, 1, 0, 0, 0] and (p[x == 4][:, 4] == 0).all()
    t, s = 0.8, 0.3
    q = transition_probs(p, x, t, s, mask_id=4)
    assert torch.allclose(q.sum(-1), torch.ones(2, 3, dtype=torch.float64))
    a_t, a_s = sch.alpha(t), sch.alpha(s)
    mv = (a_s - a_t) / (1 - a_t)
    assert torch.allclose(q[0, 0, :4], p[0, 0, :4] * mv)
    assert q[0, 0, 4].item() == pytest.approx((1 - a_s) / (1 - a_t))
    assert q[0, 1].tolist() == [0, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="0 <= s < t <= 1"):
        transition_probs(p, x, 0.3, 0.3, mask_id=4)


def test_sample_transition_candidates_follow_q_and_predict_x0():
    m = Counting()
    x = torch.full((1, 3), 4)
    n_cand = 30000
    tr = sample_transition(m, x, 0.9, 0.4, n_candidates=n_cand, rng=RowGenerator([4]))
    assert tr.candidates.shape == (1, n_cand, 3) and tr.probs.shape == (1, 3, 5)
    for pos in range(3):
        counts = np.bincount(tr.candidates[0, :, pos].numpy(), minlength=5)
        assert chisquare_gof(counts, tr.probs[0, pos].numpy()) > 1e-3  # false alarm 1e-3 each
    # per-row streams: row 1 of a two-row call equals the one-row call with its seed
    two = sample_transition(m, x.expand(2, 3), 0.9, 0.4, n_candidates=4, rng=RowGenerator([9, 4]))
    one = sample_transition(m, x, 0.9, 0.4, n_candidates=4, rng=RowGenerator([4]))
    assert torch.equal(two.candidates[1], one.candidates[0])
    xt = torch.tensor([[4, 2, 4]])
    p = denoiser_probs(m, xt)
    xa = predict_x0(p, xt, mask_id=4)
    assert xa[0, 1] == 2 and torch.equal(xa[0, [0, 2]], p[0, [0, 2]].argmax(-1))
    xs = predict_x0(
        p.expand(500, 3, 5),
        xt.expand(500, 3),
        mask_id=4,
        mode="sample",
        rng=RowGenerator(range(500)),
    )
    assert (xs[:, 1] == 2).all() and (xs != 4).all() and len(set(xs[:, 0].tolist())) > 1
    with pytest.raises(ValueError, match="`n_candidates` must be an integer in \\[1, "):
        sample_transition(m, x, 0.9, 0.4, n_candidates=0)
    tc = FunctionModel(lambda x, t: torch.zeros(*x.shape, 3), 3, 2, time_conditioned=True)
    with pytest.raises(ValueError, match="`t` is required"):
        denoiser_probs(tc, torch.full((1, 2), 2))


def test_toy_problem_tables_are_conditionals():
    prob = toy_problem(length=3, n_tokens=2, rng=3)
    # fully unmasked state: the conditional is one-hot at the state
    s = prob.encode([1, 0, 1])
    assert np.allclose(prob.table[s], np.eye(2)[[1, 0, 1]])
    # all masked: the marginals of the joint
    seqs = np.array(np.meshgrid(*[range(2)] * 3, indexing="ij")).reshape(3, -1).T
    marg = np.array([[prob.joint[seqs[:, j] == v].sum() for v in range(2)] for j in range(3)])
    assert np.allclose(prob.table[prob.base**3 - 1], marg)


@pytest.mark.parametrize("time_conditioned", [False, True])
def test_real_mdlm_model_with_every_sampler(time_conditioned):
    from sciddm.discrete import MDLM, DnaTokenizer, MDLMConfig

    tok = DnaTokenizer()
    cfg = MDLMConfig(
        vocab_size=tok.vocab_size,
        length=12,
        d_model=16,
        n_layers=1,
        n_heads=2,
        mask_id=tok.mask_id,
        time_conditioned=time_conditioned,
    )
    torch.manual_seed(0)
    model = MDLM(cfg, tokenizer=tok).eval()
    for method, steps, k in ALL:
        if method == "cached" and time_conditioned:
            continue
        r = sample(model, 5, method=method, steps=steps, k=k, seeds=range(5), batch_size=2)
        alone = sample(model, 1, method=method, steps=steps, k=k, seeds=[3])
        assert np.array_equal(r.tokens[3], alone.tokens[0])
        assert not np.isin(
            r.tokens, list({tok.mask_id, *getattr(model, "forbidden_ids", ())})
        ).any()
        assert r.texts is not None and all(set(s) <= set("ACGT") and len(s) == 12 for s in r.texts)


@pytest.mark.gpu
def test_cuda_streams_and_samples_equal_cpu():
    for dt in (torch.float64, torch.float32):
        a = RowGenerator([1, 2**40], device="cpu").uniform(3, 5, dtype=dt)
        b = RowGenerator([1, 2**40], device="cuda").uniform(3, 5, dtype=dt)
        assert torch.equal(a, b.cpu())
    logits = torch.log(torch.tensor([0.5, 0.25, 0.25, 0.0], dtype=torch.float64))
    m = FunctionModel(lambda x: logits.to(x.device).expand(*x.shape, 4), 4, 3, length=9)
    for method, steps, k in ALL:
        kw = dict(method=method, steps=steps, k=k, seeds=range(6))
        assert np.array_equal(sample(m, 6, **kw).tokens, sample(m, 6, device="cuda", **kw).tokens)


# -- the random-source contract -------------------------------------------------


def test_rng_accepts_every_documented_kind_and_rejects_others():
    m = FunctionModel(lambda x: torch.zeros(*x.shape, 5), vocab_size=5, mask_id=4, length=6)
    kinds = [None, 3, np.random.default_rng(3), torch.Generator().manual_seed(3)]
    for rng in kinds:
        assert sample(m, 2, rng=rng).tokens.shape == (2, 6)
    # per-row torch generators: row i depends only on generator i
    gens = [torch.Generator().manual_seed(s) for s in (7, 8, 9)]
    a = sample(m, 3, rng=gens)
    b = sample(m, 1, rng=[torch.Generator().manual_seed(8)])
    assert np.array_equal(a.tokens[1], b.tokens[0])
    with pytest.raises(ValueError, match="one per row needs 3"):
        sample(m, 3, rng=gens[:2])
    with pytest.raises(TypeError, match="`rng` must be"):
        sample(m, 2, rng="0")
    with pytest.raises(TypeError, match="RandomState"):
        sample(m, 2, rng=np.random.RandomState(0))


def test_old_generator_keyword_is_deprecated_but_works():
    m = FunctionModel(lambda x: torch.zeros(*x.shape, 5), vocab_size=5, mask_id=4, length=6)
    with pytest.warns(DeprecationWarning, match="`generator` is deprecated in sample"):
        old = sample(m, 3, generator=5)
    assert np.array_equal(old.tokens, sample(m, 3, rng=5).tokens)
    with pytest.raises(TypeError, match="both `rng` and its deprecated spelling"):
        sample(m, 3, rng=1, generator=5)
    p = torch.tensor([[0.2, 0.8]])
    with pytest.warns(DeprecationWarning, match="categorical"):
        old = categorical(p.expand(50, 2), generator=torch.Generator().manual_seed(1))
    new = categorical(p.expand(50, 2), rng=torch.Generator().manual_seed(1))
    assert torch.equal(old, new)
    x = torch.full((1, 6), 4)
    with pytest.warns(DeprecationWarning, match="sample_transition"):
        tr = sample_transition(m, x, 1.0, 0.0, generator=RowGenerator([2]))
    assert tr.candidates.shape == (1, 1, 6)
    with pytest.warns(DeprecationWarning, match="predict_x0"):
        predict_x0(tr.p_x0, x, mask_id=4, mode="sample", generator=RowGenerator([2]))
