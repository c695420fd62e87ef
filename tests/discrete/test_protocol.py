"""The denoiser protocol: FunctionModel, model_info, output checks, SUBS projection."""

import numpy as np
import pytest
import torch

from sciddm.discrete import Denoiser, FunctionModel, LogLinearSchedule, model_info
from sciddm.discrete._protocol import call_model, subs_probs


def _const(logits):
    t = torch.as_tensor(logits, dtype=torch.float64)
    return lambda x: t.expand(*x.shape, t.shape[-1])


def test_function_model_satisfies_protocol():
    m = FunctionModel(_const([0.0, 1.0, 2.0]), vocab_size=3, mask_id=2, length=4)
    assert isinstance(m, Denoiser)
    info = model_info(m)
    assert (info.vocab_size, info.mask_id, info.length, info.time_conditioned) == (3, 2, 4, False)
    assert info.banned == (2,)
    out = m(torch.full((2, 4), 2))
    assert out.shape == (2, 4, 3)
    # numpy output is converted
    m2 = FunctionModel(lambda x: np.zeros((*x.shape, 3)), vocab_size=3, mask_id=2)
    assert isinstance(m2(torch.full((1, 2), 2)), torch.Tensor)
    assert "FunctionModel(vocab_size=3" in repr(m)


def test_time_conditioned_function_gets_t():
    seen = []

    def fn(x, t):
        seen.append(t)
        return torch.zeros(*x.shape, 3)

    m = FunctionModel(fn, vocab_size=3, mask_id=0, time_conditioned=True)
    info = model_info(m)
    call_model(m, info, torch.zeros(2, 3, dtype=torch.long), torch.tensor([0.5, 0.25]))
    assert seen[0].tolist() == [0.5, 0.25]


def test_subs_projection_zeroes_mask_and_forbidden():
    m = FunctionModel(_const([5.0, 0.0, 0.0, 3.0]), vocab_size=4, mask_id=3, forbidden_ids=[2])
    info = model_info(m)
    p = subs_probs(torch.tensor([[5.0, 0.0, 0.0, 3.0]]), info)
    e = np.exp([5.0, 0.0])
    assert p[0].tolist() == pytest.approx([e[0] / e.sum(), e[1] / e.sum(), 0.0, 0.0])
    # probabilities are renormalised after the projection
    mp = FunctionModel(lambda x: None, vocab_size=3, mask_id=2, output="probs")
    pp = subs_probs(torch.tensor([[0.2, 0.6, 0.2]]), model_info(mp))
    assert pp[0].tolist() == pytest.approx([0.25, 0.75, 0.0])


@pytest.mark.parametrize(
    ("output", "values", "match"),
    [
        ("logits", [float("nan"), 0.0, 0.0], "NaN"),
        ("logits", [float("inf"), 0.0, 0.0], r"\+inf logits"),
        ("probs", [0.5, 0.6, 0.0], "unnormalised probabilities"),
        ("probs", [1.5, -0.5, 0.0], "negative probabilities"),
        ("probs", [float("inf"), 0.0, 0.0], "non-finite probabilities"),
        ("log_probs", [0.0, 0.0, -1.0], "unnormalised log-probabilities"),
    ],
)
def test_bad_model_output_raises(output, values, match):
    m = FunctionModel(_const(values), vocab_size=3, mask_id=2, output=output)
    with pytest.raises(ValueError, match=match):
        call_model(m, model_info(m), torch.full((1, 2), 2), None)


def test_wrong_shape_and_no_allowed_token():
    m = FunctionModel(lambda x: torch.zeros(x.shape[0], 3), vocab_size=3, mask_id=2)
    with pytest.raises(ValueError, match=r"must return shape \(1, 2, 3\)"):
        call_model(m, model_info(m), torch.full((1, 2), 2), None)
    m2 = FunctionModel(_const([float("-inf"), float("-inf"), 0.0]), vocab_size=3, mask_id=2)
    with pytest.raises(ValueError, match="zero probability to every allowed token"):
        subs_probs(torch.tensor([[float("-inf"), float("-inf"), 0.0]]), model_info(m2))


def test_model_info_errors():
    with pytest.raises(TypeError, match="denoiser protocol"):
        model_info(object())
    with pytest.raises(ValueError, match="`mask_id` must be an integer in"):
        FunctionModel(_const([0.0]), vocab_size=3, mask_id=3)
    with pytest.raises(ValueError, match="`output` must be one of"):
        FunctionModel(_const([0.0]), vocab_size=3, mask_id=2, output="scores")
    with pytest.raises(TypeError, match="`fn` must be callable"):
        FunctionModel(3, vocab_size=3, mask_id=2)

    class Bad:
        vocab_size, mask_id, forbidden_ids = 3, 2, [0, 1]

        def __call__(self, x):
            return x

    with pytest.raises(ValueError, match="leave no token"):
        model_info(Bad())
    Bad.forbidden_ids = [7]
    with pytest.raises(ValueError, match="forbidden_ids"):
        model_info(Bad())


def test_log_linear_schedule():
    s = LogLinearSchedule(1e-3)
    t = np.linspace(0, 1, 11)
    assert np.allclose(s.alpha_inv(s.alpha(t)), t)
    assert s.alpha(0.0) == 1.0 and s.alpha(1.0) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="`eps` must be in"):
        LogLinearSchedule(1.0)
