"""Property-based tests of the learned few-step samplers (LSD / LSD+, issue 21).

``COVERED`` lists the names this file exercises; with ``tests/discrete/test_properties.py``
and ``tests/discrete/test_properties_molecules.py`` they cover ``sciddm.discrete.__all__``
and ``sciddm.discrete.toys.__all__``. Generated inputs (NaN/inf, empty, wrong shapes,
non-decreasing grids, out-of-range scales and sizes, wrong types, bad random sources)
give either a valid result or a ValueError/TypeError that names the offending argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import sciddm.discrete as D
import sciddm.discrete.toys as T
from tests.discrete.test_properties import finite, ints, outcome, rngs, scalars

COVERED = frozenset({"LSDSampler", "DistillResult", "distill_sampler", "lsd_law"})

PROB = T.toy_problem(length=3, n_tokens=2, rng=0)


def test_covered_names_exist():
    assert COVERED <= set(D.__all__) | set(T.__all__)


vectors = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=4),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4),
    st.sampled_from([None, "1.0", [[1.0, 0.5]], 3.0, [True, False], np.ones((2, 2))]),
)


@given(times=vectors, scales=vectors, name=st.sampled_from(["lsd", "", 3, None]))
def test_lsd_sampler(times, scales, name):
    s = outcome(
        lambda: D.LSDSampler(times, scales, name=name), "times", "logit_scales", "name", "t_min"
    )
    if s is None:
        return
    assert s.steps == len(s.logit_scales) == len(s.times) - 1
    assert (np.diff(s.times) < 0).all() and s.times[0] == 1.0
    pi = s.unmask_probs
    assert finite(pi) and ((pi >= 0) & (pi <= 1 + 1e-12)).all()
    law = T.lsd_law(PROB, s)
    assert finite(law) and law.sum() == pytest.approx(1.0) and (law >= 0).all()


@given(steps=ints, t_min=scalars)
def test_lsd_sampler_identity_and_law(steps, t_min):
    if isinstance(steps, int) and not isinstance(steps, bool) and steps > 20:
        steps = 20
    s = outcome(lambda: D.LSDSampler.identity(steps, t_min=t_min), "steps", "t_min")
    if s is None:
        return
    assert (s.logit_scales == 1).all()
    law = T.lsd_law(PROB, s)
    ref = T.exact_law(PROB, "ancestral", steps=s.steps, t_min=max(s.t_min, 1e-12))
    if s.t_min > 0:
        np.testing.assert_allclose(law, ref, atol=1e-10)


@given(prob=st.sampled_from([None, "toy", 3]), sampler=st.sampled_from([None, "lsd", 2.0]))
def test_lsd_law_rejects_what_is_not_a_problem_or_a_sampler(prob, sampler):
    p = PROB if prob == "toy" else prob
    assert outcome(lambda: T.lsd_law(p, sampler), "prob", "sampler") is None


@settings(max_examples=15)
@given(
    field=st.sampled_from(
        ["steps", "iterations", "batch_size", "lr", "n_teacher", "teacher_steps", "t_min",
         "bandwidths", "learn_schedule", "length"]
    ),
    value=st.one_of(ints, scalars, st.sampled_from([[], [-1.0], [float("nan")], (1.0, 4.0)])),
    rng=rngs,
)  # fmt: skip
def test_distill_sampler(field, value, rng):
    kw = dict(steps=2, iterations=2, batch_size=4, n_teacher=8, teacher_steps=20)
    kw[field] = value
    if field in ("iterations", "n_teacher", "teacher_steps", "batch_size") and isinstance(
        value, (int, np.integer)
    ):
        kw[field] = min(int(value), 64) if not isinstance(value, bool) else value
    steps = kw.pop("steps")
    res = outcome(lambda: D.distill_sampler(PROB.model(), steps, rng=rng, **kw), field, "rng")
    if res is None:
        return
    assert isinstance(res, D.DistillResult) and isinstance(res.sampler, D.LSDSampler)
    assert finite(res.losses) and res.losses.shape == (res.iterations,)
    assert finite(res.logit_scales_trace) and finite(res.times_trace)
    assert res.n_calls >= res.teacher_calls >= 0 and res.nfe >= res.n_calls
    law = T.lsd_law(PROB, res.sampler)
    assert finite(law) and law.sum() == pytest.approx(1.0)


@given(
    data=st.one_of(
        st.lists(st.lists(st.integers(-1, 3), min_size=3, max_size=3), min_size=0, max_size=3),
        st.sampled_from(["ACG", ["ab", "cd"], 7, [[0.5, 0.0, 1.0]] * 2, [[0, 1]] * 3]),
    )
)
def test_distill_sampler_data(data):
    res = outcome(
        lambda: D.distill_sampler(PROB.model(), 2, data=data, iterations=2, batch_size=4, rng=0),
        "data",
    )
    if res is not None:
        assert res.teacher_calls == 0 and finite(res.losses)


@settings(max_examples=5)
@given(seed=st.integers(0, 2**40))
def test_distillation_is_reproducible(seed):
    kw = dict(iterations=3, batch_size=4, n_teacher=8, teacher_steps=20)
    a = D.distill_sampler(PROB.model(), 2, rng=seed, **kw)
    b = D.distill_sampler(PROB.model(), 2, rng=np.random.default_rng(seed), **kw)
    c = D.distill_sampler(PROB.model(), 2, rng=torch.Generator().manual_seed(seed), **kw)
    assert np.array_equal(a.logit_scales_trace, b.logit_scales_trace)
    assert np.array_equal(a.times_trace, b.times_trace) and np.array_equal(a.losses, b.losses)
    assert c.losses.shape == a.losses.shape
