"""Benchmark sciddm.ambient against references, printing ratios of median times.

1. ``NoisyGaussianMixture`` on clean data versus scikit-learn's ``GaussianMixture``
   (same model when every sigma_n is 0): time and mean log-likelihood.
2. ``heteroscedastic_gaussian_mle`` (EM) versus direct maximisation of the same
   likelihood with ``scipy.optimize.minimize`` (L-BFGS-B on a Cholesky parametrisation).

Run ``python benchmarks/bench_ambient.py`` (a minute or so) or with ``--big``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import median_time_with_result
from scipy.optimize import minimize
from sklearn.mixture import GaussianMixture

from sciddm.ambient import NoisyGaussianMixture, heteroscedastic_gaussian_mle, noisy_log_likelihood


def _scipy_mle(y, s):
    d = y.shape[1]
    tril = np.tril_indices(d)

    def unpack(p):
        L = np.zeros((d, d))
        L[tril] = p[d:]
        return p[:d], L @ L.T

    def nll(p):
        m, c = unpack(p)
        return -noisy_log_likelihood(y, s, [1.0], m[None], c[None]).mean()

    p0 = np.r_[y.mean(0), np.eye(d)[tril]]
    r = minimize(nll, p0, method="L-BFGS-B")
    return unpack(r.x), -r.fun


def main(big: bool = False) -> None:
    rng = np.random.default_rng(0)
    n, d, k = (20000, 8, 5) if big else (4000, 4, 3)
    means = 4 * rng.normal(size=(k, d))
    comp = rng.choice(k, size=n)
    x = means[comp] + rng.normal(size=(n, d))
    t_ours, ours = median_time_with_result(
        lambda: NoisyGaussianMixture(k, tol=1e-6, random_state=0).fit(x), 3
    )
    t_ref, ref = median_time_with_result(
        lambda: GaussianMixture(k, tol=1e-6, random_state=0, max_iter=1000).fit(x), 3
    )
    print(f"mixture (clean data, n={n}, d={d}, k={k})")
    print(f"  loglik sciddm {ours.lower_bound_:.5f}  sklearn {ref.score(x):.5f}")
    print(f"  time ratio sciddm/sklearn = {t_ours / t_ref:.2f}  ({t_ours:.3f}s vs {t_ref:.3f}s)")

    n2, d2 = (20000, 6) if big else (3000, 3)
    y = rng.normal(size=(n2, d2)) @ rng.normal(size=(d2, d2))
    s = rng.choice([0.0, 0.5, 2.0], size=n2)
    y = y + s[:, None] * rng.normal(size=(n2, d2))
    t_em, fit = median_time_with_result(lambda: heteroscedastic_gaussian_mle(y, s), 3)
    t_sp, ((m_sp, c_sp), ll_sp) = median_time_with_result(lambda: _scipy_mle(y, s), 3)
    print(f"heteroscedastic Gaussian MLE (n={n2}, d={d2})")
    print(f"  loglik EM {fit.log_likelihood:.6f}  scipy {ll_sp:.6f}")
    print(f"  max |cov diff| {np.abs(fit.covariance - c_sp).max():.2e}")
    print(f"  time ratio EM/scipy = {t_em / t_sp:.2f}  ({t_em:.3f}s vs {t_sp:.3f}s)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--big", action="store_true", help="larger problem sizes")
    main(ap.parse_args().big)
