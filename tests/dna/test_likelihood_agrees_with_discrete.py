"""`sciddm.dna.approx_log_likelihood` delegates to the discrete package's MDLM bound
(`sciddm.discrete.evaluate_nelbo`): its per-sequence estimates agree with the exact bound
computed by enumerating every mask (`sciddm.discrete.exact_nelbo`), within their own
standard errors, for token ids and for DNA strings alike."""

import numpy as np
import torch

from sciddm.discrete import MDLM, MDLMConfig, exact_nelbo
from sciddm.dna import approx_log_likelihood, decode_dna


def test_dna_likelihood_matches_the_exact_discrete_bound():
    torch.manual_seed(0)
    length = 8
    model = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=length)).eval()
    ids = torch.randint(0, 4, (6, length), generator=torch.Generator().manual_seed(1))
    exact = exact_nelbo(model, ids)  # nats per sequence
    est = approx_log_likelihood(model, ids, n_samples=1500, rng=0)
    # 1/t-weighted estimates are heavy-tailed, and the standard errors are conservative
    # (stratified times); 4 SE per sequence fails with probability < 1e-3 per sequence
    assert np.all(np.abs(-est.log_likelihood - exact) <= 4 * est.std_error)
    assert np.all(est.std_error < 0.08 * exact)
    bits = float(exact.mean() / np.log(2) / length)
    assert abs(est.bits_per_token - bits) < 0.05
    # DNA strings (A, C, G, T -> 0..3) give the same estimate as their ids, draw for draw
    strings = decode_dna(ids.numpy())
    again = approx_log_likelihood(model, strings, n_samples=1500, rng=0)
    np.testing.assert_array_equal(again.log_likelihood, est.log_likelihood)
