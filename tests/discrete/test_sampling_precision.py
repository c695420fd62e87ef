"""float64 sampling removes the float32 Gumbel truncation effect.

Model: a time-agnostic unigram model with one head token and K tail tokens of
probability ``p`` each, sampled by the 1000-step ancestral sampler. At every
step a tail token competes with weight ``p / (1000 t)`` against [MASK]; below
~1e-7 the float32 Gumbel noise floor makes it lose (theory/75).
"""

import math

import numpy as np
import pytest
import torch

from sciddm.discrete import FunctionModel, sample
from sciddm.discrete._sampling._chains import band_draw
from sciddm.discrete.toys import float32_chain_token_probability


def _tail_model(k, p, length):
    probs = np.append(np.append(1 - k * p, np.full(k, p)), 0.0)
    logits = torch.log(torch.as_tensor(probs))
    return FunctionModel(lambda x: logits.expand(*x.shape, k + 2), k + 2, k + 1, length=length)


def test_float64_draw_reaches_tiny_weights():
    # the band inverse CDF gives a token of weight 1e-13 exactly its interval of uniforms
    p = torch.tensor([[1 - 1e-13, 1e-13, 0.0]], dtype=torch.float64)
    cdf = p.cumsum(-1).expand(3, 3)
    pre = cdf[:, 1]  # mask id 2 is last: all token mass is below it
    move, stay = 1e-3, 1 - 1e-3
    edge = move * (1 - 1e-13)
    u = torch.tensor([edge * (1 - 1e-9), edge + 0.5e-16, edge + 2e-16], dtype=torch.float64)
    assert band_draw(cdf, None, pre, u, move, stay, 2).tolist() == [0, 1, 2]


def test_float32_deficit_is_predicted_exactly():
    f32, exact = float32_chain_token_probability(2e-5, 1 - 2e-5, 1000)
    assert f32 / exact < 0.6  # float32 loses almost half of this token's probability


@pytest.mark.slow
def test_float32_tail_deficit_measured_float64_unbiased():
    k, p, length, n = 1023, 1e-5, 64, 64  # ~2e9 float32 Gumbel draws
    m = _tail_model(k, p, length)
    n_tok = n * length
    f32, exact = float32_chain_token_probability(p, 1 - p, 1000)
    tail = {}
    for prec in ("float64", "float32"):
        # cached: the ancestral chain with p_theta reused (same tokens, fewer calls)
        r = sample(m, n, method="cached", steps=1000, precision=prec, seeds=np.arange(n))
        tail[prec] = int(((r.tokens >= 1) & (r.tokens <= k)).sum())
    mu64, mu32 = n_tok * k * exact, n_tok * k * f32
    # two-sided 4-sigma Poisson bands (false-alarm rate ~1e-4 each)
    assert abs(tail["float64"] - mu64) < 4 * math.sqrt(mu64)
    assert abs(tail["float32"] - mu32) < 4 * math.sqrt(mu32)
    assert tail["float32"] < mu64 - 3 * math.sqrt(mu64)
