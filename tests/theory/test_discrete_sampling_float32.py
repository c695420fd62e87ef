"""theory/75: float32 Gumbel-max truncation (exact enumeration of the float32 uniforms)."""

import numpy as np
import torch

from sciddm.discrete._sampling import gumbel_argmax32, gumbel_norm32
from sciddm.discrete.toys import (
    float32_chain_token_probability,
    float32_win_probability,
)


def test_float32_noise_floor():
    # every float32 uniform torch.rand can return: k * 2**-24, k = 0 .. 2**24 - 1
    u = torch.arange(2**24 - 4, 2**24, dtype=torch.float64).to(torch.float32) * 2.0**-24
    e = gumbel_norm32(u).to(torch.float64).numpy()
    e_min = e[-1]
    assert abs(e_min - 2.0**-24) / 2.0**-24 < 0.01  # E >= ~5.96e-8: the noise floor
    assert np.all(np.diff(e) < 0)
    # a weight below e_min times the competitor's can only win against E_o < ~q_o E_min / q_i
    p = torch.tensor([[1.0, 1e-9]])
    worst = torch.tensor([[0.5, 1 - 2.0**-24]], dtype=torch.float32)  # best noise for the tail
    assert gumbel_argmax32(p, worst).item() == 0


def test_float32_win_probability_deficit():
    r = np.array([1e-8, 1e-7, 1e-6, 1e-4])
    ratio = float32_win_probability(r) / (r / (1 + r))
    assert ratio[0] < 0.05  # 1e-8: almost never
    assert 0.6 < ratio[1] < 0.8  # 1e-7: a quarter missing
    assert 0.95 < ratio[2] < 0.99
    assert ratio[3] > 0.999
    # independent check of the grid sum at r = 1e-7 with the closed form of a
    # geometric sum: E_k ~ k 2**-24 for the top of the grid (first order in 2**-24)
    d = 2.0**-24
    approx = d * np.exp(-d / 1e-7) / (1 - np.exp(-d / 1e-7))
    assert abs(float32_win_probability(1e-7)[0] - approx) / approx < 0.01


def test_float32_chain_deficit_grows_with_steps():
    # a token of model probability 2e-5: fine with 100 steps, a half missing with 1000
    f100, exact = float32_chain_token_probability(2e-5, 1 - 2e-5, 100)
    f1000, _ = float32_chain_token_probability(2e-5, 1 - 2e-5, 1000)
    assert 0.9 < f100 / exact < 1.0
    assert 0.4 < f1000 / exact < 0.6
