import math

import numpy as np
import pytest
import torch

from sciddm._core.io import CheckpointError
from sciddm.discrete import (
    MDLM,
    DnaTokenizer,
    FunctionModel,
    LogLinearSchedule,
    MDLMConfig,
    evaluate_nelbo,
    exact_nelbo,
    load_model,
    nelbo,
    sample_training_noise,
    save_model,
    unigram_bits_per_token,
)


def _model(**kw):
    torch.manual_seed(0)
    return MDLM(MDLMConfig(vocab_size=5, length=6, d_model=16, n_layers=1, n_heads=2, **kw))


def test_protocol_attributes_and_subs():
    m = _model()
    assert (m.vocab_size, m.mask_id, m.length, m.time_conditioned) == (5, 4, 6, False)
    assert m.forbidden_ids == (4,) and m.tokenizer is None
    x = torch.tensor([[0, 1, 4, 4, 2, 3]])
    out = m(x)
    assert out.shape == (1, 6, 5) and torch.isinf(out[..., 4]).all()
    assert torch.isfinite(out[..., :4]).all()
    assert m(x, torch.tensor([0.3])).equal(out)  # time-agnostic: t is ignored


def test_model_is_bidirectional():
    m = _model()
    x = torch.tensor([[0, 1, 2, 3, 0, 1]])
    y = x.clone()
    y[0, 5] = 3  # changing the last token changes the first position's logits
    assert not torch.allclose(m(x)[0, 0], m(y)[0, 0])


def test_time_conditioned_model_uses_t():
    m = _model(time_conditioned=True)
    x = torch.full((2, 6), 4)
    a, b = m(x, torch.tensor([0.1, 0.1])), m(x, torch.tensor([0.1, 0.9]))
    assert torch.equal(a[0], b[0]) and not torch.allclose(a[1], b[1])
    with pytest.raises(ValueError, match="time-conditioned: pass `t`"):
        m(x)
    with pytest.raises(ValueError, match="time-agnostic"):
        exact_nelbo(m, torch.zeros(1, 6, dtype=torch.long))


@torch.no_grad()
def test_nelbo_matches_hand_computation():
    m = _model()
    x0 = torch.tensor([[0, 1, 2, 3, 0, 1], [3, 3, 2, 2, 1, 0]])
    t = torch.tensor([0.5, 0.25])
    u = torch.tensor([[0.1, 0.9, 0.2, 0.9, 0.9, 0.9], [0.9, 0.1, 0.9, 0.9, 0.9, 0.24]])
    got = nelbo(m, x0, t=t, u=u)
    sched = LogLinearSchedule()
    want = []
    for r in range(2):
        masked = u[r] < sched.mask_prob(float(t[r]))
        xt = torch.where(masked, 4, x0[r])[None]
        lp = torch.log_softmax(m(xt)[0], -1)
        want.append(sum(-float(lp[i, x0[r, i]]) for i in range(6) if masked[i]) / float(t[r]))
    assert masked.tolist() == [False, True, False, False, False, True]  # 0.24 < m_t = 0.2498
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5)


def test_antithetic_times_are_stratified():
    g = torch.Generator().manual_seed(3)
    for n in (1, 7, 64):
        t, u = sample_training_noise(n, 5, rng=g)
        assert t.shape == (n,) and u.shape == (n, 5)
        assert ((t > 0) & (t <= 1)).all()
        assert sorted(torch.ceil(t.double() * n).long().tolist()) == list(range(1, n + 1))


def test_untrained_model_is_near_uniform_and_unigram_is_exact():
    m = _model()
    x = torch.randint(0, 4, (64, 6), generator=torch.Generator().manual_seed(0))
    # exact NELBO of a uniform model over 4 symbols: log 4 per position times (1 - eps) share
    res = evaluate_nelbo(m, x, n_repeats=2, rng=1)
    assert abs(res.bits_per_token - 2.0) < 0.2 and res.n_sequences == 64
    ex = exact_nelbo(m, x[:2]) / (6 * math.log(2))
    assert np.all(np.abs(ex - 2.0) < 0.2)
    ids = np.array([[0, 0, 1, 2]])
    p = np.array([3, 2, 2, 1]) / 8  # add-one counts of 0,1,2,3
    assert unigram_bits_per_token(ids, ids, 5) == pytest.approx(-np.log2(p[[0, 0, 1, 2]]).mean())


def test_save_load_roundtrip_and_errors(tmp_path):
    tok = DnaTokenizer(length=6)
    m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=6), tokenizer=tok)
    p = save_model(m, tmp_path / "m.pt")
    back = load_model(p)
    x = torch.randint(0, 4, (3, 6))
    torch.testing.assert_close(back(x), m.eval()(x))
    assert back.tokenizer == tok
    torch.save({"format": "other"}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="discrete model file .it was not written by sciddm"):
        load_model(tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="no such file"):
        load_model(tmp_path / "missing.pt")
    (tmp_path / "sub").mkdir()
    with pytest.raises(CheckpointError, match="without model.pt or checkpoint.pt"):
        load_model(tmp_path / "sub")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"not a torch file at all", ""),
        (None, "truncated or not a torch file"),  # a good file cut in half
    ],
)
def test_load_model_on_a_damaged_file_says_why(tmp_path, content, reason):
    p = tmp_path / "m.pt"
    if content is None:
        save_model(MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=6), rng=0), p)
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    else:
        p.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_model(p)
    msg = str(info.value)
    assert msg.startswith(f"{str(p)!r} is not a readable sciddm discrete model file")
    assert reason in msg and "weights_only=False" not in msg


def test_model_files_get_the_umask_mode_and_a_foreign_kind_is_refused(tmp_path):
    import os

    from sciddm._core.io import save_checkpoint

    m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=6), rng=0)
    p = tmp_path / "m.pt"
    save_model(m, p)
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == 0o666 & ~mask
    save_checkpoint({"x": 1}, tmp_path / "other.pt", kind="value model")
    with pytest.raises(CheckpointError, match="it is a sciddm 'value model' file"):
        load_model(tmp_path / "other.pt")


def test_bad_input():
    with pytest.raises(ValueError, match="multiple of `n_heads`"):
        MDLMConfig(vocab_size=5, length=4, d_model=10, n_heads=3)
    with pytest.raises(ValueError, match="`size` must be one of"):
        MDLMConfig.preset("huge", vocab_size=5, length=4)
    with pytest.raises(ValueError, match="`mask_id` must be an integer in"):
        MDLMConfig(vocab_size=5, length=4, mask_id=7)
    with pytest.raises(ValueError, match="`tokenizer` has vocab_size 5"):
        MDLM(MDLMConfig(vocab_size=7, length=4), tokenizer=DnaTokenizer())
    with pytest.raises(TypeError, match="`config` must be an MDLMConfig"):
        MDLM({"vocab_size": 5})
    m = _model()
    with pytest.raises(ValueError, match="longer than the model's 6"):
        m(torch.zeros(1, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="must not contain the \\[MASK\\] id"):
        nelbo(m, torch.full((1, 6), 4))
    with pytest.raises(ValueError, match="`t` must lie in"):
        nelbo(m, torch.zeros(1, 6, dtype=torch.long), t=torch.zeros(1), u=torch.rand(1, 6))
    free = FunctionModel(lambda x: torch.zeros(*x.shape, 5), vocab_size=5, mask_id=4)
    with pytest.raises(ValueError, match="exact enumeration needs L <= 20"):
        exact_nelbo(free, torch.zeros(1, 21, dtype=torch.long))
    with pytest.raises(ValueError, match="`eps` must be in"):
        LogLinearSchedule(eps=1.0)
    with pytest.raises(ValueError, match="`ids` must have shape"):
        evaluate_nelbo(m, torch.zeros(0, 6, dtype=torch.long))
    with pytest.raises(ValueError, match="must not be empty"):
        unigram_bits_per_token([], [1], 5)


def test_satisfies_the_samplers_protocol():
    from sciddm.discrete import model_info, sample

    m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=6), tokenizer=DnaTokenizer(length=6))
    info = model_info(m)
    assert (info.vocab_size, info.mask_id, info.length, info.time_conditioned) == (5, 4, 6, False)
    out = sample(m, 3, method="fhs", seeds=[0, 1, 2])
    assert out.tokens.shape == (3, 6) and (out.tokens < 4).all()
    assert all(len(s) == 6 and set(s) <= set("ACGT") for s in m.tokenizer.decode_batch(out.tokens))
